"""Write PDFs: simple text pages (the examples' evidence, test fixtures) and documents with headings,
inline styles and links (the PDF export, the clinician letter).

A Unicode TrueType font is used when one is found (French typography needs œ, ’, €, « »). Simple
text pages fall back to the PDF core font (characters outside Latin-1 replaced); documents refuse
to be written without one (`PdfFontError`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import PdfFontError

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
)


def unicode_font() -> Path | None:
    for candidate in FONT_CANDIDATES:
        if Path(candidate).exists():
            return Path(candidate)
    return None


def text_pdf(pages: list[str], out: Path, title: str = "") -> Path:
    """One PDF page per string, with a page number in the footer."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=False)
    font = unicode_font()
    if font:
        pdf.add_font("Body", "", str(font))
        family = "Body"
    else:
        family = "Helvetica"

    def safe(text: str) -> str:
        return text if font else text.encode("latin-1", "replace").decode("latin-1")

    if title:
        pdf.set_title(safe(title))
    for number, body in enumerate(pages, start=1):
        pdf.add_page()
        pdf.set_font(family, size=11)
        pdf.set_xy(20, 20)
        pdf.multi_cell(170, 6, safe(body))
        pdf.set_xy(20, 280)
        pdf.set_font(family, size=8)
        pdf.cell(170, 5, safe(f"Page {number}/{len(pages)}"), align="C")
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(out))
    return out


# -- documents with headings, inline styles and links (the PDF export, the clinician letter) ------


@dataclass(frozen=True)
class Run:
    text: str
    bold: bool = False
    italic: bool = False
    link: str = ""
    mark: bool = False  # a gap to fill: shown bold and in colour


@dataclass(frozen=True)
class Block:
    style: str  # title | h1 | h2 | p | meta | small | bullet | space | pagebreak
    runs: tuple[Run, ...] = ()

    @classmethod
    def of(cls, style: str, *parts: str | Run) -> Block:
        return cls(style, tuple(p if isinstance(p, Run) else Run(p) for p in parts))


def _font_variants(regular: Path) -> dict[str, Path]:
    """Bold and italic files next to the regular one (DejaVuSans-Bold.ttf …), when present."""
    stem = regular.stem.removesuffix("-Regular")
    variants = {"": regular}
    for style, suffixes in (("B", ("-Bold",)), ("I", ("-Oblique", "-Italic")), ("BI", ("-BoldOblique", "-BoldItalic"))):
        for suffix in suffixes:
            candidate = regular.with_name(f"{stem}{suffix}.ttf")
            if candidate.exists():
                variants[style] = candidate
                break
    return variants


_SIZES = {"title": 17, "h1": 13, "h2": 11.5, "p": 10.5, "meta": 10, "small": 8.5, "bullet": 10.5}


def write_document(blocks: list[Block], out: Path, title: str = "", footer: str = "") -> Path:
    """Write `blocks` as an A4 PDF with a Unicode font; `PdfFontError` if none is installed."""
    from fpdf import FPDF

    font = unicode_font()
    if font is None:
        raise PdfFontError(
            "no Unicode TrueType font found (looked for DejaVu Sans or Liberation Sans): install fonts-dejavu-core "
            "(Debian/Ubuntu) or the DejaVu fonts, then export again"
        )
    variants = _font_variants(font)

    class _Doc(FPDF):
        def footer(self) -> None:
            self.set_y(-14)
            self.set_font("Body", "", 8)
            self.set_text_color(110, 110, 110)
            left = f"{footer} — " if footer else ""
            self.cell(0, 5, f"{left}{self.page_no()}/{{nb}}", align="C")

    pdf = _Doc(format="A4")
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(auto=True, margin=20)
    for style, path in variants.items():
        pdf.add_font("Body", style, str(path))
    if title:
        pdf.set_title(title)
    pdf.add_page()

    def set_font(run: Run, size: float, bold: bool = False) -> None:
        style = ("B" if run.bold or run.mark or bold else "") + ("I" if run.italic else "")
        if style not in variants:
            style = "B" if "B" in style and "B" in variants else ""
        pdf.set_font("Body", style, size)
        if run.mark:
            pdf.set_text_color(176, 74, 0)
        elif run.link:
            pdf.set_text_color(31, 78, 121)
        else:
            pdf.set_text_color(20, 20, 20)

    for block in blocks:
        if block.style == "pagebreak":
            pdf.add_page()
            continue
        if block.style == "space":
            pdf.ln(4)
            continue
        size = _SIZES.get(block.style, 10.5)
        height = size * 0.5
        heading = block.style in ("title", "h1", "h2")
        if heading:
            pdf.ln(3 if block.style != "title" else 0)
            if pdf.get_y() > pdf.h - 45:
                pdf.add_page()
        indent = 6 if block.style == "bullet" else 0
        if indent:
            pdf.set_left_margin(20 + indent)
            pdf.set_x(20 + indent - 4)
            pdf.set_font("Body", "", size)
            numbered = bool(block.runs) and re.match(r"\d+\.\s", block.runs[0].text) is not None
            pdf.cell(4, height, "" if numbered else "•")  # a numbered item carries its number, not a bullet too
        for run in block.runs:
            set_font(run, size, bold=heading)
            pdf.write(height, run.text, link=run.link or "")
        if indent:
            pdf.set_left_margin(20)
        pdf.ln(height)
        pdf.ln({"title": 4, "h1": 2, "h2": 1.5, "meta": 0.5, "bullet": 1}.get(block.style, 2.5))
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(out))
    return out
