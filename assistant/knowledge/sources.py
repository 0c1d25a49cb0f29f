"""Sources of the knowledge base: the project's own notes and the official texts a user adds
(Markdown, HTML, PDF), turned into chunks with their structure as metadata."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

import yaml

from assistant.case.evidence import PagesOf
from assistant.case.model import Case
from assistant.case.profile import Lang, Profile
from assistant.config import package_folder
from assistant.errors import CorpusError
from assistant.knowledge.chunking import Chunk, chunk_text, citation_label
from assistant.knowledge.guidance import GROUP_LETTERHEAD, document_number, document_title, sections
from assistant.knowledge.superseded import BASE_ACT

NOTES_DIR = package_folder("assistant.corpus") / "notes"
SUFFIXES = {".md", ".markdown", ".html", ".htm", ".pdf"}
SKIP_NAMES = {"readme.md", "_index.yaml"}
URLS_FILE = Path(__file__).with_name("urls.yaml")
TITLES_FILE = Path(__file__).with_name("titles.yaml")
LABEL_WIDTH = 70  # a guidance document without a number or a name in titles.yaml: its citation's length


@lru_cache(maxsize=1)
def _urls() -> dict:
    return yaml.load(URLS_FILE.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) or {}


@lru_cache(maxsize=1)
def _titles() -> dict:
    return (yaml.load(TITLES_FILE.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) or {}).get("documents") or {}


def _stem(file_name: str) -> str:
    """A document's key in urls.yaml and titles.yaml: its name without extension and without the
    EC's re-upload suffix, so a Markdown conversion and the PDF a user adds both match."""
    return re.sub(r"_[01]$", "", Path(file_name).stem) if file_name else ""


def document_name(file_name: str, number: str, title: str) -> tuple[str, str]:
    """What a guidance document is cited as (before "§") and its title: its name in titles.yaml,
    else its number, else its first title lines cut at a word (never mid-word). titles.yaml comes
    first: a number read from a page can be another document's (the Commission's list of MEDDEVs
    starts with MEDDEV 2.1/1)."""
    named = _titles().get(_stem(file_name))
    if named:
        return str(named["label"]), str(named["title"])
    if number or len(title) <= LABEL_WIDTH:
        return (number or title), title
    return title[: LABEL_WIDTH - 1].rsplit(" ", 1)[0].rstrip(" ,;:–-") + " …", title


def official_url(instrument: str, article: str = "", file_name: str = "") -> str:
    """The official URL of a document (urls.yaml): a guidance document's own file, or the act with
    the provision's anchor; "" when none is known (never a generic page)."""
    stem = _stem(file_name)
    data = _urls()
    if stem and stem in (data.get("documents") or {}):
        return str(data["documents"][stem])
    template = str((data.get("instruments") or {}).get(instrument, ""))
    if not template:
        return ""
    anchor = ""
    if article.startswith("Annex "):
        anchor = "anx_" + article[6:]
    elif re.fullmatch(r"\d+[a-z]?", article):
        anchor = "art_" + article
    return template.replace("{anchor}", anchor) if anchor else template.replace("#{anchor}", "").replace("{anchor}", "")


GUIDANCE_FAMILIES = {"MDCG", "MEDDEV", "GUIDANCE"}


@dataclass(frozen=True)
class SourceChunk:
    """A chunk ready for the store: the text to embed and search, and its metadata."""

    text: str
    metadata: dict[str, str | int]


def split_front_matter(text: str) -> tuple[dict, str]:
    if text.startswith("---"):
        end = text.find("\n---", 3)
        if end != -1:
            try:
                meta = yaml.load(text[3:end], Loader=yaml.CSafeLoader) or {}
            except yaml.YAMLError:
                meta = {}
            if isinstance(meta, dict):
                return meta, text[end + 4 :].lstrip("\n")
    return {}, text


_MDCG_NUMBER = re.compile(
    r"mdcg[\s_\-]*(\d{4})[\s_\-]+(\d{1,3})(?:[\s_\-]*(?:rev\.?[\s_\-]*\d+))?(?:[\s_\-]*add(?:endum)?[\s_\-.]*(\d))?")
_MDCG_LINE = re.compile(rf"^[\s|]*(medical\s+devices?\s+)?({GROUP_LETTERHEAD}\s+)?mdcg[\s_\-]*\d{{4}}", re.I)


def guess_instrument(name: str, text: str) -> str:
    """The instrument of a file without front matter, from its name and first lines."""
    head = (name + " " + text[:3000]).lower()
    # an MDCG number in the file's name, or on a line of its own at the top of a page (after the
    # group's letterhead): not one the text refers to ("… defined in MDCG 2019-11", a footnote
    # "1 MDCG 2018-2"), which made the Commission's note on the CND nomenclature "MDCG 2018-2"
    m = _MDCG_NUMBER.search(name.lower()) or _MDCG_NUMBER.search(
        "\n".join(line for line in text[:3000].lower().splitlines() if _MDCG_LINE.match(line)))
    if m:
        number = f"{m.group(1)}-{int(m.group(2))}"
        # a part of a series: MDCG 2024-1-1 … -5 (the vigilance guidance per device type), printed
        # "MDCG 2020-10/1" where the document's own pages write it so
        part = re.search(rf"mdcg[\s_\-]*{m.group(1)}[\s_\-]+0?{int(m.group(2))}-(\d{{1,2}})(?=[_\-.\s]|$)", name.lower())
        if part:
            slash = f"{number}/{part.group(1)}" in re.sub(r"\s+", "", text[:3000].lower())
            number += ("/" if slash else "-") + part.group(1)
        return f"MDCG-{number}" + (f"-ADD{m.group(3)}" if m.group(3) else "")
    if "2023/607" in head or "extension-q-n-a" in head:
        return "REG-2023/607"
    if "2017/746" in head or "ivdr" in head or "in vitro diagnostic medical devices" in head[:600]:
        return "IVDR"
    if "2017/745" in head or re.search(r"\bmdr\b", head):
        return "MDR"
    if "santé publique" in head or "sante publique" in head or re.search(r"\bl\.\s*52\d\d", head):
        return "CSP"
    if "ansm" in head:
        return "ANSM"
    if "2020/c 171" in head or "52020xc0519" in head:
        return "COM-2020/C171"
    return "OTHER"


def _article_from_chunk_id(chunk_id: str) -> str:
    m = re.match(r"(?:Article)\s+(\S+)", chunk_id or "")
    if m:
        return m.group(1)
    m = re.match(r"(?:ANNEX|Annex)\s+([IVXLC]+)", chunk_id or "")
    return f"Annex {m.group(1).upper()}" if m else ""


class _HtmlText(HTMLParser):
    """HTML to Markdown-ish text: headings, paragraphs and table rows survive."""

    BLOCK = {"p", "div", "li", "br", "section", "article", "table"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        elif re.fullmatch(r"h[1-6]", tag):
            self.parts.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = []
        elif tag in self.BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        elif re.fullmatch(r"h[1-6]", tag):
            self.parts.append("\n\n")
        elif tag in ("td", "th") and self.row is not None and self.cell is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.parts.append("\n| " + " | ".join(self.row) + " |")
            self.row = None

    def handle_data(self, data):
        if self.skip:
            return
        if self.cell is not None:
            self.cell.append(data)
        else:
            self.parts.append(data)


def html_to_text(raw: str) -> str:
    parser = _HtmlText()
    parser.feed(raw)
    text = html.unescape("".join(parser.parts))
    text = re.sub(r"[ \t]+", " ", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


_CELEX = re.compile(r"CELEX[_:]?(\d{5}R\d{4}(?:-\d{8})?)", re.I)  # the EUR-Lex file a reference text was converted from


def _chunk_metadata(chunk: Chunk, base: dict, lang: str, citation: str | None = None) -> dict:
    meta = {
        **base,
        "instrument": chunk.instrument or base.get("instrument", ""),
        "article": chunk.article,
        "paragraph": chunk.paragraph,
        "heading": chunk.heading[:200],
        "page": chunk.page or 0,
        "language": lang,
    }
    meta["citation"] = citation or citation_label(meta["instrument"], chunk.article, chunk.paragraph, lang)
    return meta


def _with_header(meta: dict, text: str) -> str:
    """Prefix what the chunk is about, so both BM25 and the embedder see it."""
    header = meta["citation"]
    if meta.get("title"):
        header += f" — {meta['title']}"
    elif meta.get("heading"):
        header += f" — {meta['heading']}"
    return f"{header}\n{text}"


def chunks_of_file(path: Path) -> list[SourceChunk]:
    """Every chunk of one source file, or `CorpusError` saying why it cannot be used."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise CorpusError(f"{path.name}: unsupported file type (Markdown, HTML or PDF)")
    base = {"source": str(path.resolve()), "kind": "official", "url": "", "title": ""}
    if suffix == ".pdf":
        from assistant.case.evidence import EvidenceError, read_pdf

        try:
            _, pdf = read_pdf(path)
        except EvidenceError as exc:
            raise CorpusError(str(exc)) from None
        if pdf.text_pages == 0:
            raise CorpusError(f"{path.name}: no text layer (a scan?): nothing can be indexed; add a text version")
        full = "\n".join(pdf.pages[:3])
        instrument = guess_instrument(path.name, full)
        base.update(instrument=instrument, url=official_url(instrument, "", path.name))
        lang = _language(full)
        out = []
        for number, page_text in enumerate(pdf.pages, start=1):
            for chunk in chunk_text(page_text, instrument=instrument, page=number):
                meta = _chunk_metadata(chunk, base, lang)
                meta["citation"] += f" (p. {number})"
                out.append(SourceChunk(_with_header(meta, chunk.text), meta))
        return out
    try:
        raw = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise CorpusError(f"{path.name}: cannot read ({exc.strerror})") from None
    if suffix in (".html", ".htm"):
        text, meta_in = html_to_text(raw), {}
    else:
        meta_in, text = split_front_matter(raw)
    if not text.strip():
        raise CorpusError(f"{path.name}: the file has no text")
    if "id" in meta_in and "citation" in meta_in:  # a note written by the project
        lang = str(meta_in.get("language", "en"))
        base.update(
            kind="note", instrument=str(meta_in.get("instrument", "")), url=str(meta_in.get("url", "")),
            title=str(meta_in.get("title", "")), note_id=str(meta_in["id"]),
        )
        article, paragraph = str(meta_in.get("article", "")), str(meta_in.get("paragraph", ""))
        chunks = chunk_text(text, instrument=base["instrument"], article=article, paragraph=paragraph, title=base["title"])
        out = []
        for chunk in chunks:  # a note is about one provision: keep its own article and label
            chunk.article, chunk.paragraph = article, paragraph
            meta = _chunk_metadata(chunk, base, lang, citation=str(meta_in["citation"]))
            out.append(SourceChunk(_with_header(meta, chunk.text), meta))
        return out
    source = meta_in.get("source") if isinstance(meta_in.get("source"), dict) else {}
    instrument = str(source.get("instrument") or "") or guess_instrument(path.name + " " + str(source.get("title", "")), text)
    article = _article_from_chunk_id(str(source.get("chunk_id", "")))
    lang = _language(text)
    if not article and str(source.get("family", "")).upper() in GUIDANCE_FAMILIES:
        return _guidance_chunks(path, text, instrument, base, lang)
    base.update(instrument=instrument, url=official_url(instrument, article, path.name),
                title=str(source.get("chunk_title", "") or "")[:120])
    if act := _CELEX.search(str(source.get("source_file", ""))):  # the act as adopted or a consolidation
        base[BASE_ACT] = act.group(1)
    out = []
    for c in chunk_text(text, instrument=instrument, article=article):
        meta = _chunk_metadata(c, base, lang)
        if c.article != article:  # an annex file's own headings
            meta["url"] = official_url(instrument, c.article, path.name)
        out.append(SourceChunk(_with_header(meta, c.text), meta))
    return out


def _guidance_chunks(path: Path, text: str, instrument: str, base: dict, lang: str) -> list[SourceChunk]:
    """A guidance document cut by its own numbered headings: every chunk carries the document's
    number and title and its section's number and title ("MDCG 2022-18 § III — …")."""
    if instrument in ("MDR", "IVDR", "CSP", "ANSM", "OTHER"):  # a Commission Q&A or MEDDEV that names the
        instrument = "GUIDANCE"  # act it explains is not that act: filters and exclusions must not catch it
    number = citation_label(instrument, "") if instrument.startswith("MDCG") else document_number(text)
    label, title = document_name(path.name, number, document_title(text, number))
    # its own URL only (urls.yaml documents), never the page of the act it explains: the Commission's
    # Q&A on Annex XVI products, filed under Regulation 2023/607, is not that regulation
    base = {**base, "instrument": instrument, "url": official_url("", "", path.name),
            "title": title[:240], "kind": "guidance"}
    out = []
    for section in sections(text):
        cite = f"{label} § {section.number}" if section.number else label
        for c in _without_crumbs(chunk_text(section.body, instrument=instrument)):
            if _is_crumb(c):  # a section whose body is only its heading's tail: its text is in its subsections
                continue
            c.article, c.paragraph = "", ""
            c.heading = f"{section.number} {section.title}".strip() if section.number else ""
            meta = _chunk_metadata(c, base, lang, citation=cite)
            meta["section"] = section.number
            head = f"{cite} — {title}" + (f" — {section.title}" if section.title else "")
            out.append(SourceChunk(f"{head}\n{c.text}", meta))
    return out


def _is_crumb(chunk: Chunk) -> bool:
    """Fewer than six words: a heading's tail, a page of index letters, not a passage."""
    return len(re.findall(r"[^\W\d_]{2,}", chunk.text)) < 6


def _without_crumbs(chunks: list[Chunk]) -> list[Chunk]:
    """A section's chunks with each crumb joined to its neighbour: a heading's second line ("74(1)
    of the MDR?") cut off by a paragraph that opens with "Article …", which alone made a passage
    that says nothing and, in a review pack, a consulted source reading « of the MDR? »."""
    out: list[Chunk] = []
    for chunk in chunks:
        if out and (_is_crumb(out[-1]) or _is_crumb(chunk)):
            out[-1].text = f"{out[-1].text}\n\n{chunk.text}"
        else:
            out.append(chunk)
    return out


def _language(text: str) -> str:
    sample = f" {text[:4000].lower()} "
    fr = sum(sample.count(w) for w in (" le ", " la ", " les ", " des ", " du ", " est ", " une "))
    en = sum(sample.count(w) for w in (" the ", " of ", " and ", " is ", " shall ", " which "))
    return "fr" if fr > en else "en"


def source_files(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """The ingestible files under `paths` (files and folders), and one message per path refused."""
    files: list[Path] = []
    problems: list[str] = []
    for path in paths:
        if path.is_dir():
            files += sorted(
                p for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in SUFFIXES and p.name.lower() not in SKIP_NAMES
            )
        elif path.is_file():
            files.append(path)
        else:
            problems.append(f"{path}: no such file or folder")
    return files, problems


def evidence_chunks(profile: Profile, case: Case, pages_of: PagesOf, lang: Lang) -> list[SourceChunk]:
    """A case's documents as searchable chunks, cited by kind, file name and page."""
    out: list[SourceChunk] = []
    for ev in case.evidence:
        name = profile.evidence_kind(ev.kind).name.get(lang)
        for number, text in enumerate(pages_of(ev.sha256), start=1):
            if not text.strip():
                continue
            for chunk in chunk_text(text, page=number):
                citation = f"{name} – {ev.filename} (p. {number})"
                meta = {
                    "source": f"evidence:{ev.id}", "kind": "evidence", "case_id": case.id,
                    "evidence_id": ev.id, "evidence_kind": ev.kind, "filename": ev.filename,
                    "page": number, "citation": citation, "language": lang, "instrument": "", "article": "",
                    "paragraph": "", "url": "",
                }
                out.append(SourceChunk(f"{citation}\n{chunk.text}", meta))
    return out
