"""A retrieved passage: the unit of grounding shared by retrieval, drafters, checks and the UI."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

from assistant.text import plain


class Passage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str  # stable citation id, e.g. "note:mdr-59-1.fr#0", "eu:mdr/article-059.md#2", "ev:<evidence id>:p2#0"
    citation: str  # the label a reader sees: "MDR Art. 59(1)", "Certificat CE (p. 2)"
    text: str
    source: str = ""  # the file it comes from (a note, an official text, an evidence file name)
    instrument: str = ""
    article: str = ""
    paragraph: str = ""
    page: int | None = None
    language: str = ""
    url: str = ""  # the official URL of the document (sources.py: urls.yaml), "" when none is known
    title: str = ""  # the document's title (a guidance document's, a note's), for a reader
    case_id: str = ""  # set for a case's own evidence
    evidence_kind: str = ""  # and what that document is (the profile's evidence kind id)
    kind: str = ""  # "note" (the project's own summary), "official", "guidance", "evidence"
    # The provisions of this passage's text refused as superseded (superseded.PARTIAL): the passage is
    # what is left of a 2017 article amended since, shown flagged by a search and never grounding a section
    superseded: str = ""
    # The 2017 provision this passage holds when it was re-worded since (superseded.AMENDED, e.g.
    # "MDR Art. 34, 2017 wording (amended by Regulation (EU) 2024/1860)"): shown flagged, never grounding a section
    amended: str = ""
    # The citations of the passages holding the same text that were merged into this hit (a section a
    # series of guidance documents repeats word for word: search.SearchSettings.near_duplicate)
    same_text_in: tuple[str, ...] = ()
    excerpt: str = ""  # one line of the text, the sentence that best matches the query (search results)
    score: float = 0.0  # the fused rank score
    similarity: float | None = None  # cosine similarity to the query, for relevance thresholds


    @property
    def is_note(self) -> bool:
        """The project's own note: a summary to draft from, not a source to cite to an authority."""
        return self.kind == "note"


def excerpt(text: str, terms: set[str], width: int = 160) -> str:
    """One line of `text`: its sentence holding most of the query's `terms` (BM25 tokens), cut at
    `width` characters around the first of them."""
    from assistant.knowledge.bm25 import tokens

    flat = plain(text)  # a note's Markdown emphasis and list dashes are not shown
    sentences = [s for s in re.split(r"(?<=[.;:!?])\s+", flat) if s.strip()] or [flat]
    best = max(sentences, key=lambda s: (len(terms & set(tokens(s))), -abs(len(s) - width)))
    if len(best) <= width:
        return best
    words = best.split(" ")
    first = next((i for i, w in enumerate(words) if set(tokens(w)) & terms), 0)
    start = max(0, first - 6)
    line = " ".join(words[start:])
    line = ("… " if start else "") + line
    return line[: width - 1].rsplit(" ", 1)[0] + " …" if len(line) > width else line
