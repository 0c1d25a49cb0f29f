"""The prompts, one file per purpose of the language model (package data)."""
