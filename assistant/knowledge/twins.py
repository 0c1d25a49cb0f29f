"""Which of two twin regulations (the MDR and the IVDR) a question is about, from its words (data:
twins.yaml). Their parallel articles are worded alike, so the search cannot tell them apart by their
text; the question's own words can ("in vitro", "performance study", "sur mesure", "MDR")."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import yaml

__all__ = ["TWINS", "about", "general", "twin_instruments"]

TWINS = Path(__file__).with_name("twins.yaml")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in text if not unicodedata.combining(c)).replace("’", "'")


@lru_cache(maxsize=1)
def _data() -> tuple[frozenset[str], dict[str, re.Pattern[str]], str]:
    raw = yaml.load(TWINS.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) or {}
    patterns = {
        instrument: re.compile(r"(?<![\w/])(?:" + "|".join(re.escape(_fold(t)) for t in sorted(terms, key=len, reverse=True))
                               + r")(?![\w/])")
        for instrument, terms in (raw.get("terms") or {}).items() if terms
    }
    return frozenset(raw.get("twins") or ()), patterns, str(raw.get("general") or "")


def twin_instruments() -> frozenset[str]:
    return _data()[0]


def general() -> str:
    """The twin a question naming neither is taken to be about (empty: neither)."""
    return _data()[2]


def about(query: str) -> str | None:
    """The one twin regulation the question names or uses words of only that one; None when it
    names neither or both."""
    text = _fold(query)
    named = [instrument for instrument, pattern in _data()[1].items() if pattern.search(text)]
    return named[0] if len(named) == 1 else None
