"""Export never destroys anything (issue 12): only a new file or one an export wrote, never inside a case
folder or onto a folder, a link or a special file, atomically; and every format carries any answer
(long names, characters XML cannot hold, bidirectional overrides)."""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path

import pytest

from assistant.service import ServiceError

RLO = "\u202e"


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_the_cases_own_journal_is_refused_and_the_case_survives(svc, complete_case_id):
    journal = svc.store.folder(complete_case_id) / "journal.jsonl"
    before = journal.read_bytes()
    with pytest.raises(ServiceError, match="inside the product's own data"):
        svc.export(complete_case_id, "md", journal)
    with pytest.raises(ServiceError, match="inside the product's own data"):
        svc.export(complete_case_id, "md", svc.store.folder(complete_case_id) / "new-file.md")
    assert journal.read_bytes() == before
    assert complete_case_id in [c.id for c in svc.cases()]
    assert leftovers(journal.parent) == []


def test_a_device_node_a_fifo_a_folder_and_links_are_refused_and_left_as_they_were(svc, complete_case_id, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    device = tmp_path / "null"  # a copy of /dev/null's node: never the machine's own (a failing export would replace it)
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        device = fifo  # no right to make a device node here: the pipe stands for it
    folder = tmp_path / "folder"
    folder.mkdir()
    elsewhere = tmp_path / "precious.txt"
    elsewhere.write_text("keep me")
    link = tmp_path / "link.md"
    link.symlink_to(elsewhere)
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    cases = {
        device: "special file",
        fifo: "special file",
        folder: "folder; give a file name",
        link: "symbolic link",
        loop / "request.md": "loop of symbolic links",
        a_file / "request.md": "is a file, not a folder",
        tmp_path / ("n" * 300 + ".md"): "too long",
        tmp_path / "precious.txt": "not written by an export",
    }
    for target, message in cases.items():
        with pytest.raises(ServiceError, match=message):
            svc.export(complete_case_id, "md", target)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert device == fifo or stat.S_ISCHR(os.lstat(device).st_mode)
    assert elsewhere.read_text() == "keep me" and link.is_symlink() and a_file.read_text() == "x"
    assert list(folder.iterdir()) == [] and leftovers(tmp_path) == []


def test_an_export_replaces_its_own_file_but_not_one_changed_since(svc, complete_case_id, tmp_path):
    out = tmp_path / "out" / "request.md"
    svc.export(complete_case_id, "md", out)
    first = out.read_text()
    svc.export(complete_case_id, "md", out)  # the same path again: it is the export's own file
    assert out.read_text() == first
    out.write_text(first + "\nmy notes")
    with pytest.raises(ServiceError, match="not written by an export"):
        svc.export(complete_case_id, "md", out)
    assert out.read_text().endswith("my notes") and leftovers(out.parent) == []


def test_a_failing_writer_leaves_no_half_file_and_no_temporary(svc, complete_case_id, tmp_path, monkeypatch):
    from assistant.documents import submission

    def broken(*_args):
        raise ValueError("the writer broke")

    monkeypatch.setattr(submission, "to_docx", broken)
    out = tmp_path / "request.docx"
    with pytest.raises(ServiceError, match="DOCX file could not be made"):
        svc.export(complete_case_id, "docx", out)
    assert not out.exists() and leftovers(tmp_path) == []


def docx_text(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read("word/document.xml").decode() + z.read("docProps/core.xml").decode()


def test_every_format_carries_a_long_name_odd_characters_and_a_bidi_override(svc, actor, complete_case_id, tmp_path):
    long_name = "Valvix Medical " + "Très Longue Raison Sociale " * 12  # > 255 characters
    svc.answer(complete_case_id, "applicant_name", long_name, actor, replace=True)
    svc.answer(complete_case_id, "urgency", f"Urgence vitale\ufffe\uffff sous 4 semaines {RLO}cod.exe{RLO} confirmée "
               "par l'équipe de cardiologie, avec trois hospitalisations en dix mois.", actor, replace=True)
    for fmt in ("md", "docx", "pdf"):
        svc.export(complete_case_id, fmt, tmp_path / f"request.{fmt}")
    md = (tmp_path / "request.md").read_text(encoding="utf-8")
    xml = docx_text(tmp_path / "request.docx")
    from pypdf import PdfReader

    pdf = "".join(page.extract_text() for page in PdfReader(tmp_path / "request.pdf").pages)
    for text in (md, xml, pdf):
        assert RLO not in text and "\ufffe" not in text and "\uffff" not in text
    assert "Urgence vitale sous 4 semaines" in md and "Très Longue Raison Sociale" in xml
    assert "cod.exe" in md
