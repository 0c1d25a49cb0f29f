"""The knowledge notes written by the project (package data: notes/fr, notes/en)."""
