"""Inputs that are locked or go round in circles (issue 12): an AES-encrypted PDF is read when it opens
without a password and is called password-protected when it needs one; a symbolic-link loop given to
`corpus add` is one clear line."""

from __future__ import annotations

import pytest
from pypdf import PdfReader, PdfWriter

from assistant.errors import AssistantError


def encrypted(make_pdf, tmp_path, user_password: str, name: str):
    plain = make_pdf(["Certificat CE n° CM-734215, valable jusqu'au 26/05/2024."], f"plain-{name}")
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-256")
    out = tmp_path / name
    with open(out, "wb") as fh:
        writer.write(fh)
    return out


def test_an_aes_pdf_that_opens_without_a_password_is_read(svc, actor, make_pdf, tmp_path):
    case_id = svc.new_case("ansm", "individual", "Valvix TMV-28", actor).id
    pdf = encrypted(make_pdf, tmp_path, "", "aes-open.pdf")
    attached = svc.attach(case_id, pdf, actor, kind="previous_ce_certificate")
    assert "CM-734215" in "\n".join(svc.pages(case_id)(attached.file.sha256))


def test_an_aes_pdf_that_needs_a_password_is_called_password_protected(svc, actor, make_pdf, tmp_path):
    case_id = svc.new_case("ansm", "individual", "Valvix TMV-28", actor).id
    pdf = encrypted(make_pdf, tmp_path, "the-user-password", "aes-locked.pdf")
    with pytest.raises(AssistantError, match="password-protected"):
        svc.attach(case_id, pdf, actor, kind="previous_ce_certificate")
    assert svc.case(case_id).evidence == []


def test_corpus_add_of_a_symlink_loop_is_one_clear_line(cli, tmp_path):
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    done = cli("corpus", "add", str(loop))
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "loop of symbolic links" in done.stderr
