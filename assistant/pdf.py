"""Write simple text PDFs (the examples' evidence, test fixtures, and later the PDF export).

A Unicode TrueType font is used when one is found (French typography needs œ, ’, €, « »);
otherwise the PDF core font is used and characters outside Latin-1 are replaced.
"""

from __future__ import annotations

from pathlib import Path

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
