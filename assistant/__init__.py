"""Derogation request assistant: the domain core (no UI imports)."""

__version__ = "0.1.0"
