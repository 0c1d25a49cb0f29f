"""Walking a paragraph's spans: the one place that knows their kinds and the space before a bracket.

Every rendering of a paragraph (the editable source, the text a model reviews, the evaluation's
reading, the Markdown, DOCX and PDF exports, the app's preview) walks the same spans. Each used to
carry its own loop, and three of them their own rule for the space before "[", so the same draft
read "texte ([…" in one format and "texte ( […" in another. A renderer now says only what each
kind of span becomes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from assistant.drafting.model import Paragraph, Span

T = TypeVar("T")
_NO_GAP_AFTER = (" ", "\u00a0", "(", "«")


def gap(before: str) -> str:
    """The space before a bracketed citation or placeholder, unless the text already ends with one
    (or opens a parenthesis or a French quotation), or nothing comes before it."""
    return "" if not before or before.endswith(_NO_GAP_AFTER) else " "


def render(
    paragraph: Paragraph,
    on_text: Callable[[str], T],
    on_cite: Callable[[Span, str], T],
    on_placeholder: Callable[[Span, str], T],
) -> list[T]:
    """What each span of `paragraph` becomes, in order. A citation or placeholder is given the `gap`
    to put before its bracket, decided on what precedes it in the paragraph (a bracket closes it)."""
    out: list[T] = []
    last = ""  # the last character rendered so far, enough for `gap`
    for span in paragraph.spans:
        if span.kind == "text":
            out.append(on_text(span.text))
            last = (last + span.text)[-1:]
        else:
            space = gap(last)
            out.append(on_cite(span, space) if span.kind == "cite" else on_placeholder(span, space))
            last = "]"
    return out


def render_text(
    paragraph: Paragraph,
    on_cite: Callable[[Span, str], str],
    on_placeholder: Callable[[Span, str], str],
    on_text: Callable[[str], str] = str,
) -> str:
    """`render` for the renderings that are one string (the text as written, unless `on_text`)."""
    return "".join(render(paragraph, on_text, on_cite, on_placeholder))


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÀ-Ý«\"“(])")
_NOT_AN_END = re.compile(r"(?:\b(?:art|p|n°|no|dr|pr|cf|seq|e\.g|i\.e|etc|vol)\.|\b[A-Z]\.)$", re.IGNORECASE)


def sentences(paragraph: Paragraph) -> list[tuple[str, list[Span]]]:
    """The paragraph cut into sentences, each with the citations and placeholders inside it (a
    citation closes the sentence it follows). What the review pack traces, sentence by sentence."""
    out: list[tuple[str, list[Span]]] = []
    text, refs = "", []
    for span in paragraph.spans:
        if span.kind != "text":
            refs.append(span)
            if span.kind == "placeholder":
                text += gap(text) + f"[{span.text}]"
            continue
        pos = 0
        for m in _SENTENCE_END.finditer(span.text):
            piece = text + span.text[pos : m.start()]
            if _NOT_AN_END.search(piece):
                continue
            out.append((piece.strip(), refs))
            text, refs, pos = "", [], m.end()
        text += span.text[pos:]
    if text.strip(" .") or refs:
        if out and not text.strip(" .;:") and refs:
            out[-1] = (out[-1][0] + text.rstrip(), out[-1][1] + refs)
        else:
            out.append((text.strip(), refs))
    # where a citation stood, the text keeps no double space nor a space before the punctuation
    return [(re.sub(r" +([.,)])", r"\1", re.sub(r"  +", " ", t)), r) for t, r in out]
