"""The references a question names: "Article 52(8)", "art. 10a", "Annex XVI", "annexe VIII", "MDCG 2022-11".
A passage of a named reference is what a question that names it asks for first (search.py,
SearchSettings.reference_boost); the words around a number are not enough for the ranked lists to
put it first (Article 52 of the MDR against the many chunks that cite it)."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Named", "named"]

_ARTICLE = re.compile(r"\b(?:articles?|art\.?)\s*(\d{1,3}[a-z]?)\b", re.IGNORECASE)
_ANNEX = re.compile(r"\b(?:annex|annexe)\s+([ivxlc]{1,6})\b", re.IGNORECASE)
_DOCUMENT = re.compile(r"\bMDCG\s*(\d{4})\s*[-‐–]\s*(\d{1,3})\b", re.IGNORECASE)


@dataclass(frozen=True)
class Named:
    articles: frozenset[str]  # "52", "10a", "Annex XVI": as the chunks' `article` metadata holds them
    documents: frozenset[str]  # "MDCG-2022-11": as a guidance chunk's `instrument`

    def __bool__(self) -> bool:
        return bool(self.articles or self.documents)

    def holds(self, meta: dict) -> bool:
        """Whether a chunk with this metadata is a passage of a named reference."""
        # a part of a series is held by the series' number: MDCG 2024-1-3 and MDCG 2020-10/1 by a
        # question naming MDCG 2024-1 or MDCG 2020-10
        series = re.sub(r"^(MDCG-\d{4}-\d+)[-/]\d+$", r"\1", str(meta.get("instrument", "")).upper())
        return str(meta.get("article", "")) in self.articles or series in self.documents


def named(query: str) -> Named:
    articles = {m.group(1).lower() for m in _ARTICLE.finditer(query)}
    articles |= {f"Annex {m.group(1).upper()}" for m in _ANNEX.finditer(query)}
    documents = {f"MDCG-{m.group(1)}-{int(m.group(2))}" for m in _DOCUMENT.finditer(query)}
    return Named(frozenset(articles), frozenset(documents))
