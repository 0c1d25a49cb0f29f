"""Structure-aware chunking of regulation texts, guidance, notes and evidence.

Headings (Article / Annex / Chapter / Section, in English and French) become metadata on every
chunk, numbered paragraphs start their own chunk so a citation can name `Art. 59(2)`, pages are
kept for PDFs, and a table is never cut away from its header row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

MAX_CHARS = 1400
MIN_CHARS = 250

ARTICLE = re.compile(r"^(?:#+\s*)?\**\s*(?:Article|Art\.)\s+(L\.\s*\d[\d\-]*|R\.\s*\d[\d\-]*|\d+[a-z]?)\b", re.I)
ANNEX = re.compile(r"^(?:#+\s*)?\**\s*(?:ANNEX|Annexe?)\s+([IVXLC]+|\d+)\b", re.I)
CHAPTER = re.compile(r"^(?:#+\s*)?\**\s*(?:CHAPTER|Chapitre)\s+([IVXLC]+|\d+)\b", re.I)
SECTION = re.compile(r"^(?:#+\s*)?\**\s*(?:SECTION)\s+([IVXLC]+|\d+|[A-Z])\b", re.I)
MD_HEADING = re.compile(r"^\s*(#{1,6})\s+(.*)$")
NUMBERED = re.compile(r"^\s*(\d{1,2})\.\s+\S")  # "1. By way of derogation…"
ROMAN_PARA = re.compile(r"^\s*(I{1,3}|IV|V|VI{0,3})\.\s*[-–—]?\s*\S")  # CSP "II. - …"
SENTENCE_END = re.compile(r"(?<=[.;:!?])\s+(?=[A-ZÀ-Ý(«\"])")


@dataclass
class Chunk:
    text: str
    instrument: str = ""
    article: str = ""
    paragraph: str = ""
    heading: str = ""
    page: int | None = None
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class _Context:
    article: str = ""
    paragraph: str = ""
    heading: str = ""
    numbered_paragraphs: bool = True


def _strip_md(text: str) -> str:
    return re.sub(r"[*_`]+", "", text).strip()


def _blocks(text: str) -> list[str]:
    """Blank-line separated blocks; a table (consecutive `|` lines) is one block."""
    blocks: list[str] = []
    current: list[str] = []
    in_table = False
    for line in text.splitlines():
        is_row = line.strip().startswith("|")
        starts_block = not is_row and _is_marker(line)  # PDF text has no blank lines between paragraphs
        if not line.strip() or (current and is_row != in_table) or (current and starts_block):
            if current:
                blocks.append("\n".join(current))
            current = [] if not line.strip() else [line]
            in_table = is_row
            continue
        if not current:
            in_table = is_row
        current.append(line)
    if current:
        blocks.append("\n".join(current))
    return [b.strip("\n") for b in blocks if b.strip()]


_LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\([a-z0-9ivx]+\)|[a-z]\))\s")


def _unwrap(block: str) -> str:
    """Join hard-wrapped lines (PDF text); keep tables and list items on their own lines."""
    if block.lstrip().startswith("|"):
        return block
    out: list[str] = []
    for line in block.splitlines():
        if out and line.strip() and not _LIST_ITEM.match(line) and not MD_HEADING.match(line):
            out[-1] = out[-1].rstrip() + " " + line.strip()
        else:
            out.append(line.rstrip())
    return "\n".join(out)


def _is_marker(line: str) -> bool:
    stripped = line.strip()
    return bool(
        MD_HEADING.match(line) or ARTICLE.match(stripped) or ANNEX.match(stripped) or CHAPTER.match(stripped)
        or NUMBERED.match(stripped) or ROMAN_PARA.match(stripped)
    )


def _split_table(block: str, limit: int) -> list[str]:
    rows = [r for r in block.splitlines() if r.strip()]
    header = rows[:2] if len(rows) > 1 and set(rows[1].replace("|", "").strip()) <= set("-: ") else rows[:1]
    body = rows[len(header):]
    parts, current = [], list(header)
    for row in body:
        if len("\n".join(current + [row])) > limit and len(current) > len(header):
            parts.append("\n".join(current))
            current = list(header)
        current.append(row)  # a single oversized row stays whole, with its header
    if len(current) > len(header) or not parts:
        parts.append("\n".join(current))
    return parts


def _split_long(block: str, limit: int) -> list[str]:
    if block.lstrip().startswith("|"):
        return _split_table(block, limit)
    if len(block) <= limit:
        return [block]
    pieces, current = [], ""
    for sentence in SENTENCE_END.split(block):
        if current and len(current) + len(sentence) + 1 > limit:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        pieces.append(current)
    out = []
    for piece in pieces:  # a "sentence" longer than the limit: cut at spaces
        while len(piece) > limit:
            cut = piece.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            out.append(piece[:cut])
            piece = piece[cut:].lstrip()
        out.append(piece)
    return out


def _update_context(block: str, ctx: _Context) -> tuple[_Context, bool]:
    """Follow headings; return the new context and whether the block is only a heading."""
    lines = block.splitlines()
    first = lines[0].strip()
    heading_only = len(lines) == 1 and (MD_HEADING.match(first) is not None or len(first) < 90)
    title = ""
    if len(lines) == 2 and len(lines[1]) < 120 and not lines[1].rstrip().endswith((".", ";", ":")):
        heading_only, title = True, _strip_md(lines[1])  # "Article 59" + its title on the next line
    for pattern, kind in ((ARTICLE, "article"), (ANNEX, "annex"), (CHAPTER, "chapter"), (SECTION, "section")):
        m = pattern.match(_strip_md(first) if kind != "article" else first)
        if not m:
            continue
        value = re.sub(r"\s+", " ", m.group(1)).strip()
        if kind == "article":
            article = value.upper() if value[:2].upper() in ("L.", "R.") else value
            article = re.sub(r"^([LR])\.\s*", r"\1. ", article)
            heading = _strip_md(first) + (f" — {title}" if title else "")
            return replace(ctx, article=article, paragraph="", heading=heading), heading_only
        if kind == "annex":
            heading = _strip_md(first) + (f" — {title}" if title else "")
            return replace(ctx, article=f"Annex {value.upper()}", paragraph="", heading=heading), heading_only
        if kind == "chapter":
            return replace(ctx, paragraph=f"Chapter {value.upper()}", heading=_strip_md(first)), heading_only
        return replace(ctx, heading=_strip_md(first)), heading_only
    if title:
        return ctx, False
    md = MD_HEADING.match(first)
    if md and len(block.splitlines()) == 1:
        return replace(ctx, heading=_strip_md(md.group(2))), True
    return ctx, False


def chunk_text(
    text: str,
    *,
    instrument: str = "",
    article: str = "",
    paragraph: str = "",
    page: int | None = None,
    max_chars: int = MAX_CHARS,
    title: str = "",
) -> list[Chunk]:
    """Chunks of one text (a whole Markdown file, or one PDF page) with their structure."""
    ctx = _Context(article=article, paragraph=paragraph, heading=title)
    chunks: list[Chunk] = []
    buffer: list[str] = []
    buf_ctx = ctx

    def flush() -> None:
        nonlocal buffer
        body = "\n\n".join(buffer).strip()
        if body:
            chunks.append(Chunk(text=body, instrument=instrument, article=buf_ctx.article,
                                paragraph=buf_ctx.paragraph, heading=buf_ctx.heading, page=page))
        buffer = []

    after_heading = False
    for block in _blocks(text):
        lines = block.splitlines()
        if after_heading and len(lines) == 1 and len(block) < 120 and not block.rstrip().endswith((".", ";", ":")):
            ctx = buf_ctx = replace(ctx, heading=f"{ctx.heading} — {_strip_md(block)}")
            after_heading = False
            continue  # the title line under "Article 59"
        new_ctx, heading_only = _update_context(block, ctx)
        after_heading = heading_only and new_ctx.article != ctx.article
        if (new_ctx.article, new_ctx.paragraph) != (ctx.article, ctx.paragraph):
            flush()
            buf_ctx = new_ctx
        ctx = new_ctx
        if heading_only:
            continue
        m = NUMBERED.match(block) or ROMAN_PARA.match(block)
        is_article = bool(ctx.article) and not ctx.article.startswith("Annex")
        if m and is_article:
            flush()
            ctx = replace(ctx, paragraph=m.group(1))
            buf_ctx = ctx
        for piece in _split_long(_unwrap(block), max_chars):
            size = sum(len(b) + 2 for b in buffer)
            if buffer and size + len(piece) > max_chars:
                flush()
                buf_ctx = ctx
            if not buffer:
                buf_ctx = ctx
            buffer.append(piece)
    flush()
    return _merge_small(chunks, max_chars)


def _merge_small(chunks: list[Chunk], max_chars: int) -> list[Chunk]:
    """Glue a tiny chunk to the next one of the same article and paragraph."""
    out: list[Chunk] = []
    for chunk in chunks:
        prev = out[-1] if out else None
        if (
            prev
            and len(prev.text) < MIN_CHARS
            and (prev.article, prev.paragraph, prev.page) == (chunk.article, chunk.paragraph, chunk.page)
            and len(prev.text) + len(chunk.text) + 2 <= max_chars
            and not chunk.text.lstrip().startswith("|")
        ):
            out[-1] = replace(prev, text=prev.text + "\n\n" + chunk.text)
        else:
            out.append(chunk)
    return out


def citation_label(instrument: str, article: str, paragraph: str = "", lang: str = "en") -> str:
    """`MDR Art. 59(1)`, `CSP L. 5211-3 II`, `MDR Annex I, Chapter II`, `MDCG 2022-18`, and an
    addendum as its first page prints it: `MDCG 2022-18 ADD.1` (instrument MDCG-2022-18-ADD1)."""
    inst = instrument
    if instrument.startswith("MDCG"):
        inst = re.sub(r"-ADD(\d+)$", r" ADD.\1", instrument.replace("-", " ", 1))
    if lang == "fr":
        inst = {"MDR": "RDM", "IVDR": "RDIV"}.get(inst, inst)
    if not article:
        return inst
    if article.startswith("Annex"):
        label = f"{inst} {'annexe' + article[5:] if lang == 'fr' else article}"
        return f"{label}, {paragraph}" if paragraph else label
    if article[:2] in ("L.", "R."):
        return f"{inst} {article}" + (f" {paragraph}" if paragraph else "")
    if not re.match(r"^\d", article):
        return f"{inst} — {article}"
    word = "art." if lang == "fr" else "Art."
    return f"{inst} {word} {article}" + (f"({paragraph})" if paragraph else "")
