"""Helpers every page shares."""

from __future__ import annotations

from dataclasses import dataclass

from ui.state import save_upload


@dataclass
class Upload:
    name: str
    data: bytes

    def getvalue(self) -> bytes:
        return self.data


def test_an_upload_with_a_hostile_or_overlong_name_is_saved_inside_the_folder(tmp_path):
    for name in ["../../evil.pdf", "é" * 200 + ".pdf", "a\nb\x00c.pdf", ""]:
        path = save_upload(Upload(name, b"%PDF-1.4"), tmp_path)
        assert path.parent == tmp_path and path.read_bytes() == b"%PDF-1.4"
        assert len(path.name.encode()) <= 120 and "\n" not in path.name
    assert save_upload(Upload("é" * 200 + ".pdf", b"x"), tmp_path).suffix == ".pdf"
