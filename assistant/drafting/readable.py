"""A section's editable text as a reviewer reads it: references by name, never by id.

The stored *source* form (assistant/drafting/revisions.py) keeps each citation as a marker naming
its id (`[@passage:3f9a…]`, `[@answer:urgency]`) and each gap as `[?urgency: À COMPLÉTER : …]`.
A person edits the *readable* form instead: `[MDR art. 59(1)]`, `[Certificat CE – cert.pdf, p. 2]`,
`[Réponse : urgence de la situation…]`, `[À COMPLÉTER : …]`. A `Legend` holds the one-to-one table
between the two for one section, so saving maps each name back to the stored reference it stood
for: an edit that changes a word keeps every citation.

A bracket whose content is no name of the legend stays as typed (e.g. "[sic]"); a raw marker typed
by hand stays a marker (the stored form's own check then accepts or refuses it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

_SOURCE_MARKER = re.compile(r"\[@([a-z]+:[^\]\s]+)\]|\[\?([a-z0-9_\-]+): ([^\]]*)\]")
_BRACKET = re.compile(r"\[([^\[\]\n]+)\]")


def _clean(name: str) -> str:
    """A name usable inside brackets: no bracket of its own, one space between words."""
    return " ".join(name.replace("[", "(").replace("]", ")").split()) or "?"


@dataclass
class Legend:
    """Stored reference <-> readable name, for one section (every name unique)."""

    cites: dict[str, str] = field(default_factory=dict)  # "passage:3f9a…" -> "MDR art. 59(1)"
    gaps: dict[str, str] = field(default_factory=dict)  # "urgency" -> "À COMPLÉTER : urgence…"
    by_name: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> ("cite"|"gap", ref)
    gap_texts: dict[str, str] = field(default_factory=dict)  # gap ref -> its text in the stored form

    @classmethod
    def build(cls, cites: Mapping[str, str], gaps: Mapping[str, str]) -> Legend:
        """`cites`: citation id -> its name; `gaps`: gap ref -> its text; in the order to number
        duplicates (the first keeps the plain name, the next get " (2)", " (3)"…)."""
        legend = cls(gap_texts=dict(gaps))
        for kind, table, out in (("cite", cites, legend.cites), ("gap", gaps, legend.gaps)):
            for ref, name in table.items():
                base = _clean(name)
                unique, n = base, 1
                while unique in legend.by_name:
                    n += 1
                    unique = f"{base} ({n})"
                legend.by_name[unique] = (kind, ref)
                out[ref] = unique
        return legend

    def to_readable(self, source: str) -> str:
        """The stored text with each marker the legend knows written as its name (a gap's stored
        text is remembered, to be written back as it was)."""

        def name(m: re.Match[str]) -> str:
            cite, gap = m.group(1), m.group(2)
            if cite and cite in self.cites:
                return f"[{self.cites[cite]}]"
            if gap and gap in self.gaps:
                self.gap_texts[gap] = m.group(3)
                return f"[{self.gaps[gap]}]"
            return m.group(0)

        return _SOURCE_MARKER.sub(name, source)

    def to_source(self, readable: str) -> str:
        """The edited text with each name written back as the stored marker it stands for."""

        def marker(m: re.Match[str]) -> str:
            found = self.by_name.get(" ".join(m.group(1).split()))
            if found is None:
                return m.group(0)
            kind, ref = found
            return f"[@{ref}]" if kind == "cite" else f"[?{ref}: {self.gap_texts[ref]}]"

        return _BRACKET.sub(marker, readable)

    def unknown(self, readable: str) -> list[str]:
        """The bracketed names in `readable` that look like a reference but name none (a typo in a
        name, or a citation of another section): "[Réponse : …]", "[… p. 3]", "[@…]"."""
        out = []
        for m in _BRACKET.finditer(readable):
            inner = " ".join(m.group(1).split())
            if inner not in self.by_name and _LOOKS_LIKE_A_REFERENCE.search(inner):
                out.append(inner)
        return out


_LOOKS_LIKE_A_REFERENCE = re.compile(r"^(Réponse|Answer)\s*:|\bp\.\s*\d+$|\b(art|article)\.?\s*\d", re.IGNORECASE)
