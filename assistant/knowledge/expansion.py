"""Cross-lingual query expansion for the lexical side of the search, from a FR↔EN glossary (data:
glossary.yaml). BM25 cannot match "organisme notifié" to "notified body"; the dense embedder
can, but less surely for the regulations' exact terms. So a query's glossary terms, in either
language, bring their equivalents in the other language into the BM25 query, at a lower weight
than the words the user typed."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from assistant.knowledge.bm25 import fold, tokens

__all__ = ["GLOSSARY", "expand", "query_language", "render"]

GLOSSARY = Path(__file__).with_name("glossary.yaml")

_FR = {"le", "la", "les", "des", "du", "un", "une", "est", "et", "pour", "dans", "sur", "avec", "par", "qui", "que",
       "peut", "doit", "faut", "quel", "quelle", "quels", "quelles", "au", "aux", "ce", "cette", "nous", "notre", "nos",
       "il", "on", "pas", "ne", "de", "en", "ou", "son", "sa", "ses", "d", "l", "qu", "s", "t"}
_EN = {"the", "of", "and", "is", "are", "to", "for", "in", "on", "with", "by", "which", "what", "who", "does",
       "do", "can", "must", "should", "we", "our", "a", "an", "it", "be", "that", "how", "when", "if", "from", "or"}


def query_language(text: str) -> str:
    """'fr' or 'en' from function words and accents (a query is short: no model needed)."""
    import re

    words = re.findall(r"[a-zà-ÿ]+", text.lower())
    fr = sum(w in _FR for w in words) + 2 * len(re.findall(r"[àâçéèêëîïôûùœ]", text.lower()))
    en = sum(w in _EN for w in words)
    return "fr" if fr > en else "en"


@lru_cache(maxsize=1)
def _entries() -> tuple[tuple[tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...]], ...]:
    """Each entry as (French variants, English variants), every variant as its BM25 tokens."""
    raw = yaml.load(GLOSSARY.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) or []
    out = []
    for entry in raw:
        sides = []
        for lang in ("fr", "en"):
            variants = {tuple(tokens(v)) for v in entry.get(lang, [])}
            sides.append(tuple(v for v in variants if v))
        out.append((sides[0], sides[1]))
    return tuple(out)


@lru_cache(maxsize=1)
def _by_first_token() -> dict[str, list[tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]]]:
    """Each variant with the other side of its entry, under the variant's first token."""
    index: dict[str, list] = {}
    for fr, en in _entries():
        for side, other in ((fr, en), (en, fr)):
            for variant in side:
                index.setdefault(variant[0], []).append((variant, other))
    return index


def _find(seq: tuple[str, ...], words: list[str]) -> int:
    n = len(seq)
    return next((i for i in range(len(words) - n + 1) if tuple(words[i : i + n]) == seq), -1)


def expand(query: str, weight: float = 0.5) -> dict[str, float]:
    """The query's BM25 terms with their weights: the typed words at 1, and the other language's
    equivalents of the glossary terms found in it at `weight` (a longer term wins over the shorter
    ones it contains: "dispositif sur mesure" is not also "dispositif")."""
    words = tokens(query)
    terms = {w: 1.0 for w in words}
    matches = []
    index = _by_first_token()
    for word in set(words):
        for variant, other in index.get(word, ()):
            at = _find(variant, words)
            if at >= 0:
                matches.append((len(variant), at, other))
    covered: set[int] = set()
    for length, at, other in sorted(matches, key=lambda m: -m[0]):
        span = set(range(at, at + length))
        if span <= covered:
            continue
        covered |= span
        for variant in other:
            for t in variant:
                terms.setdefault(t, weight)
    return terms


@lru_cache(maxsize=1)
def _surface() -> dict[tuple[str, tuple[str, ...]], str]:
    """(language, a variant's tokens) -> the first written variant of the entry's other side."""
    raw = yaml.safe_load(GLOSSARY.read_text(encoding="utf-8")) or []
    out: dict[tuple[str, tuple[str, ...]], str] = {}
    for entry in raw:
        for lang, other in (("fr", "en"), ("en", "fr")):
            targets = entry.get(other) or []
            if not targets:
                continue
            for variant in entry.get(lang, []):
                out.setdefault((lang, tuple(tokens(variant))), str(targets[0]))
    return out


def render(query: str, source: str) -> str:
    """The query in the other language, as far as the glossary knows it: each glossary term of the
    `source` language ("organisme notifié") replaced by its first equivalent ("notified body"), the
    longest term first; the words it does not know are kept, their stop words dropped. "" when the
    glossary knows none of its terms. For the dense side of a search over texts in the other
    language: a small multilingual embedder matches "notified body" to the English text more surely
    than "organisme notifié"."""
    import re

    words = [(m.group(0), tuple(tokens(m.group(0)))) for m in re.finditer(r"[^\W_]+(?:['’-][^\W_]+)*", query)]
    seq: list[tuple[int, str]] = [(i, t) for i, (_w, toks) in enumerate(words) for t in toks]
    index = _by_first_token()
    surface = _surface()
    spans: list[tuple[int, int, str]] = []  # (first, last word index, rendering)
    taken: set[int] = set()
    candidates = []
    for at, (_i, tok) in enumerate(seq):
        for variant, _other in index.get(tok, ()):
            n = len(variant)
            if tuple(t for _, t in seq[at : at + n]) == variant and (source, variant) in surface:
                candidates.append((n, at, surface[(source, variant)]))
    for n, at, text in sorted(candidates, key=lambda c: (-c[0], c[1])):
        cover = set(range(at, at + n))
        if cover & taken:
            continue
        taken |= cover
        spans.append((seq[at][0], seq[at + n - 1][0], text))
    if not spans:
        return ""
    starts = {first: (last, text) for first, last, text in spans}
    out, i = [], 0
    while i < len(words):
        if i in starts:
            last, text = starts[i]
            out.append(text)
            i = last + 1
            continue
        if words[i][1]:
            out.append(words[i][0])
        i += 1
    return " ".join(out)


def folded(text: str) -> str:  # re-exported for callers that compare folded text
    return fold(text)
