"""Hostile but small PDFs for the attach/ingest path (red-team report, issue 12).

Python 3 standard library only: every file is written byte by byte (objects, streams, xref,
trailer), so nothing here depends on a PDF library being well behaved.

    make_all(folder) -> list of {"name", "path", "what", "expect"}

`expect` is what attaching the file to a case must do, within the ingest budget (time and
memory), leaving the case intact:
- "refuse":  the file is refused with a clear message (for the encrypted file the message
             must say "password-protected");
- "partial": the file may yield some text, or none, or be refused with a clear message, but
             ingest must stop within the budget (page, character and decompression limits).

Every file is < 2 MB and the whole set is generated in well under 10 s. Run:

    python3 evals/adversarial/pdfs.py /tmp/advpdfs
"""

from __future__ import annotations

import sys
import time
import zlib
from pathlib import Path

MAX_FILE_BYTES = 2 * 1024 * 1024


class _Pdf:
    """A minimal PDF writer: numbered objects, optional streams, classic xref table."""

    def __init__(self) -> None:
        self.objects: dict[int, bytes] = {}

    def add(self, num: int, body: str | bytes) -> None:
        self.objects[num] = body.encode("latin-1") if isinstance(body, str) else body

    def add_stream(self, num: int, data: bytes, *, compress: bool = False, raw_filter: bool = False,
                   extra: str = "") -> None:
        """A stream object; `compress` Flate-encodes `data`, `raw_filter` marks already-deflated data."""
        if compress:
            data = zlib.compress(data, 9)
        filt = " /Filter /FlateDecode" if (compress or raw_filter) else ""
        head = f"<< /Length {len(data)}{filt}{extra} >>\nstream\n".encode("latin-1")
        self.objects[num] = head + data + b"\nendstream"

    def build(self, *, root: int = 1, trailer_extra: str = "", xref_offset_override: dict[int, int] | None = None,
              startxref_override: int | None = None) -> bytes:
        out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        offsets: dict[int, int] = {}
        size = max(self.objects) + 1
        for num in sorted(self.objects):
            offsets[num] = len(out)
            out += f"{num} 0 obj\n".encode("latin-1") + self.objects[num] + b"\nendobj\n"
        if xref_offset_override:
            offsets.update(xref_offset_override)
        xref_at = len(out)
        lines = [f"xref\n0 {size}\n", "0000000000 65535 f \n"]
        for num in range(1, size):
            if num in offsets:
                lines.append(f"{offsets[num]:010d} 00000 n \n")
            else:
                lines.append("0000000000 65535 f \n")
        out += "".join(lines).encode("latin-1")
        out += f"trailer\n<< /Size {size} /Root {root} 0 R{trailer_extra} >>\n".encode("latin-1")
        out += f"startxref\n{startxref_override if startxref_override is not None else xref_at}\n%%EOF\n".encode("latin-1")
        return bytes(out)


_FONT = "<< /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >>"


def _text_line(y: int, text: str) -> bytes:
    return f"BT /F1 9 Tf 36 {y} Td ({text}) Tj ET\n".encode("latin-1")


# -- (a) 2,000 pages sharing one ~20 MB content stream ------------------------------------------
def shared_huge_stream() -> bytes:
    block = b"".join(_text_line(800 - (n % 64) * 12, f"Rapport d'essai - ligne {n:02d} - Valvix TMV-28")
                     for n in range(64))
    target = 20 * 1024 * 1024
    content = block * (target // len(block) + 1)
    pages = 2000
    pdf = _Pdf()
    pdf.add(1, "<< /Type /Catalog /Pages 2 0 R >>")
    first_page = 4
    kids = " ".join(f"{first_page + i} 0 R" for i in range(pages))
    pdf.add(2, f"<< /Type /Pages /Count {pages} /Kids [{kids}] /Resources {_FONT} /MediaBox [0 0 595 842] >>")
    pdf.add_stream(3, content, compress=True)
    for i in range(pages):
        pdf.add(first_page + i, "<< /Type /Page /Parent 2 0 R /Contents 3 0 R >>")
    return pdf.build()


# -- (b) 5,000 tiny pages --------------------------------------------------------------------------
def many_tiny_pages() -> bytes:
    pages = 5000
    pdf = _Pdf()
    pdf.add(1, "<< /Type /Catalog /Pages 2 0 R >>")
    first = 3
    kids = " ".join(f"{first + 2 * i} 0 R" for i in range(pages))
    pdf.add(2, f"<< /Type /Pages /Count {pages} /Kids [{kids}] /Resources {_FONT} /MediaBox [0 0 4 4] >>")
    for i in range(pages):
        page, contents = first + 2 * i, first + 2 * i + 1
        pdf.add(page, f"<< /Type /Page /Parent 2 0 R /Contents {contents} 0 R >>")
        pdf.add_stream(contents, f"BT /F1 1 Tf 0 1 Td (p{i}) Tj ET".encode("latin-1"))
    return pdf.build()


# -- (c) a page tree 500 levels deep -----------------------------------------------------------------
def deep_page_tree() -> bytes:
    depth = 500
    pdf = _Pdf()
    pdf.add(1, "<< /Type /Catalog /Pages 2 0 R >>")
    # Pages nodes 2 .. depth+1, each with one kid, the last one holding the page.
    for level in range(depth):
        num = 2 + level
        parent = f" /Parent {num - 1} 0 R" if level else ""
        res = f" /Resources {_FONT} /MediaBox [0 0 595 842]" if level == 0 else ""
        pdf.add(num, f"<< /Type /Pages /Count 1 /Kids [{num + 1} 0 R]{parent}{res} >>")
    page = 2 + depth
    pdf.add(page, f"<< /Type /Page /Parent {page - 1} 0 R /Contents {page + 1} 0 R >>")
    pdf.add_stream(page + 1, _text_line(800, f"Page au fond d'un arbre de profondeur {depth}"))
    return pdf.build()


# -- (d) a decompression bomb: 100 MB of zeros in one content stream ---------------------------------
def decompression_bomb() -> bytes:
    comp = zlib.compressobj(9)
    chunk = bytes(1024 * 1024)
    parts = [comp.compress(chunk) for _ in range(100)]
    parts.append(comp.flush())
    data = b"".join(parts)
    pdf = _Pdf()
    pdf.add(1, "<< /Type /Catalog /Pages 2 0 R >>")
    pdf.add(2, f"<< /Type /Pages /Count 1 /Kids [3 0 R] /Resources {_FONT} /MediaBox [0 0 595 842] >>")
    pdf.add(3, "<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>")
    pdf.add_stream(4, data, raw_filter=True)
    return pdf.build()


# -- (e) a reference loop in the page tree ------------------------------------------------------------
def kids_loop() -> bytes:
    pdf = _Pdf()
    pdf.add(1, "<< /Type /Catalog /Pages 2 0 R >>")
    pdf.add(2, f"<< /Type /Pages /Count 1 /Kids [3 0 R] /Resources {_FONT} /MediaBox [0 0 595 842] >>")
    # Node 3 claims to be an intermediate node whose only kid is its own parent.
    pdf.add(3, "<< /Type /Pages /Count 1 /Parent 2 0 R /Kids [2 0 R] >>")
    return pdf.build()


# -- (f) 200,000 tiny text operators on one page ------------------------------------------------------
def many_text_operators() -> bytes:
    n = 200_000
    letters = "abcdefghijklmnopqrstuvwxyz"
    ops = [b"BT /F1 1 Tf 10 830 Td\n"]
    for i in range(n):
        ops.append(f"0.01 -0.004 Td ({letters[i % 26]}) Tj\n".encode("latin-1"))
    ops.append(b"ET\n")
    pdf = _Pdf()
    pdf.add(1, "<< /Type /Catalog /Pages 2 0 R >>")
    pdf.add(2, f"<< /Type /Pages /Count 1 /Kids [3 0 R] /Resources {_FONT} /MediaBox [0 0 595 842] >>")
    pdf.add(3, "<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>")
    pdf.add_stream(4, b"".join(ops), compress=True)
    return pdf.build()


# -- (g) an xref that points past the end of the file -------------------------------------------------
def xref_past_end() -> bytes:
    pdf = _Pdf()
    pdf.add(1, "<< /Type /Catalog /Pages 2 0 R >>")
    pdf.add(2, f"<< /Type /Pages /Count 1 /Kids [3 0 R] /Resources {_FONT} /MediaBox [0 0 595 842] >>")
    pdf.add(3, "<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>")
    pdf.add_stream(4, _text_line(800, "Texte accessible seulement en reconstruisant la table xref"))
    far = 9_999_999_999
    return pdf.build(xref_offset_override={2: far - 1000, 3: far - 500, 4: far}, startxref_override=far)


# -- (h) an AES-encrypted-looking PDF -----------------------------------------------------------------
def encrypted_aes() -> bytes:
    import hashlib

    def noise(seed: str, n: int) -> bytes:
        out = b""
        while len(out) < n:
            out += hashlib.sha256((seed + str(len(out))).encode()).digest()
        return out[:n]

    pdf = _Pdf()
    pdf.add(1, "<< /Type /Catalog /Pages 2 0 R >>")
    pdf.add(2, "<< /Type /Pages /Count 1 /Kids [3 0 R] /MediaBox [0 0 595 842] >>")
    pdf.add(3, "<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>")
    # 16-byte IV + ciphertext-looking bytes, as an AESV2 stream would be.
    pdf.add_stream(4, noise("content", 16 + 96))
    o, u = noise("owner", 32).hex(), noise("user", 32).hex()
    pdf.add(5, "<< /Filter /Standard /V 4 /R 4 /Length 128 "
               "/CF << /StdCF << /CFM /AESV2 /AuthEvent /DocOpen /Length 16 >> >> "
               f"/StmF /StdCF /StrF /StdCF /O <{o}> /U <{u}> /P -1028 /EncryptMetadata true >>")
    file_id = noise("id", 16).hex()
    return pdf.build(trailer_extra=f" /Encrypt 5 0 R /ID [<{file_id}> <{file_id}>]")


# -- (i) a huge MediaBox and 10,000 nested q/Q ----------------------------------------------------------
def huge_mediabox_nested_q() -> bytes:
    depth = 10_000
    content = (b"q 1 0 0 1 0 0 cm\n" * depth + _text_line(800, "Au fond de 10000 niveaux q/Q")
               + b"Q\n" * depth)
    pdf = _Pdf()
    pdf.add(1, "<< /Type /Catalog /Pages 2 0 R >>")
    pdf.add(2, f"<< /Type /Pages /Count 1 /Kids [3 0 R] /Resources {_FONT} >>")
    pdf.add(3, "<< /Type /Page /Parent 2 0 R /MediaBox [-1000000000 -1000000000 1000000000 1000000000] "
               "/UserUnit 75000 /Contents 4 0 R >>")
    pdf.add_stream(4, content, compress=True)
    return pdf.build()


SPECS = [
    ("a-2000-pages-shared-20MB-stream.pdf", shared_huge_stream, "partial",
     "2,000 pages all pointing at ONE Flate content stream of ~20 MB decompressed "
     "(~40 GB of text if each page is extracted naively)"),
    ("b-5000-tiny-pages.pdf", many_tiny_pages, "partial",
     "5,000 pages of 4x4 points, each with its own one-word text stream"),
    ("c-page-tree-depth-500.pdf", deep_page_tree, "partial",
     "a page tree nested 500 /Pages levels deep, one page with text at the bottom (recursion)"),
    ("d-decompression-bomb-100MB.pdf", decompression_bomb, "partial",
     "one page whose content stream inflates to 100 MB of zero bytes (no text)"),
    ("e-kids-loop.pdf", kids_loop, "refuse",
     "page tree whose intermediate node lists its own parent in /Kids: an endless loop, no page reachable"),
    ("f-200000-text-operators.pdf", many_text_operators, "partial",
     "one page with 200,000 one-letter Td/Tj operators"),
    ("g-xref-past-end.pdf", xref_past_end, "partial",
     "startxref and xref entries point ~10 GB past the end of a 1-page file (recovery or refusal)"),
    ("h-encrypted-aesv2.pdf", encrypted_aes, "refuse",
     "/Encrypt dictionary /V 4 /R 4 /CFM /AESV2 with random /O /U (no empty user password): "
     "must be refused with a message saying 'password-protected'"),
    ("i-huge-mediabox-10000-nested-q.pdf", huge_mediabox_nested_q, "partial",
     "MediaBox of 2e9 x 2e9 points (UserUnit 75000) and 10,000 nested q/Q operators around one line of text "
     "(rendering, thumbnails or OCR must not allocate a page bitmap)"),
]


def make_all(folder: Path) -> list[dict]:
    """Write every hostile PDF into `folder`; one dict per file: name, path, what, expect."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, build, expect, what in SPECS:
        data = build()
        if len(data) >= MAX_FILE_BYTES:
            raise RuntimeError(f"{name} is {len(data)} bytes, over the {MAX_FILE_BYTES}-byte limit")
        path = folder / name
        path.write_bytes(data)
        out.append({"name": name, "path": str(path), "what": what, "expect": expect})
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} OUTPUT_FOLDER", file=sys.stderr)
        return 2
    start = time.monotonic()
    for item in make_all(Path(argv[1])):
        size = Path(item["path"]).stat().st_size
        print(f"{item['name']:40} {size:>9} bytes  [{item['expect']}]  {item['what']}")
    print(f"generated in {time.monotonic() - start:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
