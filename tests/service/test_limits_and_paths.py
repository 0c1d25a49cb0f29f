"""Upload limits, files stored by hash, case ids that are never paths, and answers whose Markdown or
HTML stays text in the exports. Every refusal is one clear line and changes nothing on disk."""

from __future__ import annotations

import inspect
import io
from pathlib import Path

import pytest
from docx import Document
from helpers import answer_all, attach_all_mandatory
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from assistant.case import evidence
from assistant.cli import main as cli
from assistant.documents.request import md_escape
from assistant.interview.assisted import FactProposal
from assistant.service import Service, ServiceError
from assistant.text import clean_text


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def pdf_with_blank_pages(n: int, out: Path) -> Path:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(n):
        writer.add_blank_page(200, 200)
    buf = io.BytesIO()
    writer.write(buf)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(buf.getvalue())
    return out


# -- upload limits ---------------------------------------------------------------------------------
def test_a_file_over_the_size_limit_is_refused_before_it_is_read(svc, actor, tmp_path):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    big = tmp_path / "huge scan.pdf"
    with open(big, "wb") as fh:  # sparse: 50 MB + 1 byte without writing them
        fh.write(b"%PDF-1.7\n")
        fh.truncate(evidence.MAX_BYTES + 1)
    with pytest.raises(ServiceError) as err:
        svc.attach(case.id, big, actor, kind="clinical_data")
    assert str(err.value) == "huge scan.pdf: the file is larger than 50 MB"
    assert svc.case(case.id).version == case.version
    assert not svc.store.files_dir(case.id).exists()


def test_a_pdf_over_the_page_limit_is_refused_and_one_at_the_limit_is_not(svc, actor, tmp_path):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    over = pdf_with_blank_pages(evidence.MAX_PAGES + 1, tmp_path / "over.pdf")
    with pytest.raises(ServiceError) as err:
        svc.attach(case.id, over, actor, kind="clinical_data")
    assert str(err.value) == f"over.pdf: the PDF has {evidence.MAX_PAGES + 1} pages (the limit is {evidence.MAX_PAGES})"
    assert svc.case(case.id).version == case.version
    at_limit = pdf_with_blank_pages(evidence.MAX_PAGES, tmp_path / "at-limit.pdf")
    result = svc.attach(case.id, at_limit, actor, kind="clinical_data", lang="en")
    assert result.file.pages == evidence.MAX_PAGES and result.file.text_pages == 0
    assert "no text layer" in result.warnings[0]


# -- files stored by hash ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    ["../../evil.pdf", "journal.jsonl", "case.json", ".lock", "evil\nname\r.pdf", "invoice\u202efdp.exe", "x" * 240 + ".pdf"],
)
def test_an_upload_is_stored_by_its_hash_whatever_its_name(svc, actor, make_pdf, tmp_path, name):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    source = make_pdf(["Certificate No. CM-734215"], "source.pdf")
    upload_dir = tmp_path / "uploads" / "a" / "b"
    upload_dir.mkdir(parents=True)
    upload = upload_dir / name  # "../../evil.pdf" lands two folders up, as a browser could ask
    upload.write_bytes(source.read_bytes())
    home = svc.store.home
    before = tree(home)
    journal = (svc.store.folder(case.id) / "journal.jsonl").read_bytes()

    f = svc.attach(case.id, upload, actor, kind="previous_ce_certificate").file

    assert sorted(p.name for p in svc.store.files_dir(case.id).iterdir()) == [f"{f.sha256}.pages.json", f"{f.sha256}.pdf"]
    assert f.stored_as == f"files/{f.sha256}.pdf"
    assert tree(home) - before == {f"cases/{case.id}/files/{f.sha256}.pdf", f"cases/{case.id}/files/{f.sha256}.pages.json",
                                   f"cases/{case.id}/files"}
    assert (svc.store.folder(case.id) / "journal.jsonl").read_bytes().startswith(journal)  # appended, not replaced
    assert f.filename.isprintable() and "/" not in f.filename and len(f.filename) <= 120
    assert svc.case(case.id).version == case.version + 1


def test_a_file_name_with_line_breaks_still_gives_a_one_line_refusal(svc, actor, make_pdf, tmp_path):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    bad = tmp_path / "not\na pdf\u2028.pdf"
    bad.write_text("Dear ANSM")
    with pytest.raises(ServiceError) as err:
        svc.attach(case.id, bad, actor, kind="clinical_data")
    assert str(err.value) == "nota pdf.pdf: not a PDF file (it does not start with a PDF header)"
    unknown = make_pdf(["Lorem ipsum dolor sit amet"], "x.pdf").rename(tmp_path / "what\nis\u2028this.pdf")
    with pytest.raises(ServiceError) as err:
        svc.attach(case.id, unknown, actor)  # no kind given, none can be guessed
    assert str(err.value).startswith("whatisthis.pdf: cannot tell what this document is: give --kind (one of ")
    assert len(str(err.value).splitlines()) == 1 and svc.case(case.id).version == case.version


# -- case ids are never paths -----------------------------------------------------------------------
BAD_IDS = [
    "../x", "../../etc/passwd", "/tmp/derogation-evil-abs", "a/b", "..", ".", "", "case\x00id", "a" * 5000,
    "ａｎｓｍ-case", "аnsm-case", "ansm-case\n", "ANSM-CASE", "ansm‐case", "ansm-ca\u200bse", "\u212a-case", "ansm-case ",
]


def _arguments(name: str, param: str, svc: Service, actor, pdf: Path, out: Path) -> object:
    values = {
        "actor": actor, "question_id": "applicant_name", "evidence_id": "0123456789abcdef", "text": "some text",
        "section_id": "identification", "lang": "en", "path": pdf, "kind": "clinical_data", "status": "approved",
        "token": "token", "out": out,
        "proposals": [FactProposal("applicant_name", "Applicant", "Valvix", "Valvix", "llm")], "version": 1, "a": 0, "b": 1, "target": "clinician_letter",
        "reason": "a reason in several words", "link_id": "abcd1234", "values": {}, "draft": None, "query": "derogation",
        "fmt": "docx" if name == "letter_file" else "md", "seen": 1,
    }
    if param not in values:
        pytest.fail(f"Service.{name} takes a case id: give tests/service/test_limits_and_paths.py a value for {param!r}")
    return values[param]


def _entry_points() -> list[str]:
    return sorted(
        name for name, fn in inspect.getmembers(Service, inspect.isfunction)
        if not name.startswith("_") and "case_id" in inspect.signature(fn).parameters
    )


def test_every_service_entry_point_that_takes_a_case_id_refuses_a_path(svc, actor, make_pdf, tmp_path):
    pdf = make_pdf(["Certificate No. CM-734215"], "good.pdf")
    out = tmp_path / "out" / "request.md"
    before = tree(tmp_path)
    checked = 0
    for name in _entry_points():
        fn = getattr(svc, name)
        params = [p for p in list(inspect.signature(fn).parameters.values()) if p.name != "case_id"]
        kwargs = {p.name: _arguments(name, p.name, svc, actor, pdf, out) for p in params
                  if p.default is inspect.Parameter.empty and p.kind is not p.VAR_KEYWORD}
        for bad in BAD_IDS:
            try:
                result = fn(case_id=bad, **kwargs)
                if inspect.isgenerator(result):
                    list(result)
            except ServiceError as exc:
                message = str(exc)
                assert "\n" not in message and len(message) < 400, (name, message[:400])
                if name != "search":  # with no knowledge base, search says so first
                    assert "invalid case id" in message, (name, bad, message)
            else:  # entry points that answer instead of raising
                if name == "confirm_facts":
                    assert not result.recorded and "invalid case id" in result.skipped[0], (bad, result)
                else:  # no link for that id; no retrieval without a knowledge base
                    assert name in ("clinician_link", "passages_for") and result is None, (name, bad, result)
            checked += 1
    assert checked >= 40 * len(BAD_IDS)
    assert tree(tmp_path) == before
    assert not Path("/tmp/derogation-evil-abs").exists()


def test_a_well_formed_but_unknown_case_id_is_refused_without_creating_its_folder(svc, actor):
    for change in (
        lambda: svc.set_setting("ansm-20250101-abcdef", actor, language="en"),
        lambda: svc.create_clinician_link("ansm-20250101-abcdef", actor),
        lambda: svc.answer("ansm-20250101-abcdef", "applicant_name", "Valvix", actor),
    ):
        with pytest.raises(ServiceError, match="no case 'ansm-20250101-abcdef'"):
            change()
    assert not (svc.store.root / "ansm-20250101-abcdef").exists()


CLI_CASE_COMMANDS = [
    ["questions", "{id}"], ["answer", "{id}", "applicant_name", "Valvix"], ["attach", "{id}", "{pdf}"],
    ["check", "{id}"], ["draft", "{id}", "--offline"], ["waive", "{id}", "clinician_letter", "--reason", "a b c d"],
    ["approve", "{id}", "identification"], ["export", "{id}", "--format", "md", "--out", "{out}"],
    ["interview", "{id}"], ["history", "{id}"], ["show", "{id}"], ["restore", "{id}", "--version", "1"],
    ["settings", "{id}", "--language", "en"],
]


def test_every_cli_command_refuses_a_path_as_case_id_in_one_line(home, make_pdf, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DEROGATION_RETRIEVAL", "off")
    pdf = make_pdf(["Certificate No. CM-734215"], "good.pdf")
    home.mkdir(parents=True, exist_ok=True)
    before = tree(tmp_path)
    for command in CLI_CASE_COMMANDS:
        for bad in ["../x", "/tmp/derogation-evil-abs", "a" * 300, "ａｎｓｍ-case", "../../" + "x" * 40]:
            argv = [a.format(id=bad, pdf=pdf, out=tmp_path / "out.md") for a in command]
            assert cli.main(argv) == 2, argv
            err = capsys.readouterr().err
            assert err.startswith("error: invalid case id") and err.count("\n") == 1, (argv, err)
    assert tree(tmp_path) == before


def test_the_installed_cli_refuses_a_traversal_id_without_a_traceback(cli, home):
    for args in (["history", "../../etc"], ["show", "/etc"], ["answer", "../x", "applicant_name", "x"]):
        done = cli(*args)
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert done.stderr.startswith("error: invalid case id") and done.stderr.count("\n") == 1


# -- Markdown and HTML in answers stay text ----------------------------------------------------------
MARKUP = (
    "# Heading\n- item\n+ plus\n1. one\n2) two\n> quote\n| a | b |\n|---|---|\n"
    "![img](http://evil.example/x.png) [link](http://evil.example) <http://evil.example/auto>\n"
    "`code` ~~strike~~ $x^2$ &copy; &#169; <b>bold</b> <a href='http://evil.example'>click</a>\n"
    "Setext\n===\n    indented code\n~~~\nfenced\n~~~\n***\n___ trailing\\"
)
RENDERER = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def literal_text(markdown: str) -> tuple[str, set[str]]:
    """What a Markdown reader shows (whitespace collapsed), and the kinds of element it made."""
    kinds, words = set(), []
    for token in RENDERER.parse(markdown):
        kinds.add(token.type)
        for child in token.children or []:
            kinds.add(child.type)
            words.append(child.content if child.type in ("text", "code_inline") else " ")
    return " ".join("".join(words).split()), kinds


@settings(max_examples=150, deadline=None, database=None)
@given(st.text(alphabet=st.sampled_from(list("#-+=*_`~[]()<>!|&;$\\.:)0123456789 \tab\n")) | st.characters(), max_size=80))
def test_md_escape_always_renders_as_the_literal_text(raw):
    text = clean_text(raw)
    shown, kinds = literal_text(md_escape(text))
    assert shown == " ".join(text.split())
    assert kinds <= {"paragraph_open", "paragraph_close", "inline", "text", "softbreak"}, kinds


def test_markup_in_a_section_answer_is_literal_text_in_the_markdown_and_docx_exports(svc, actor, make_pdf, tmp_path):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    answer_all(svc, case.id, actor, {"urgency": MARKUP + "\n" + "Urgence vitale documentée par l'équipe. " * 5})
    attach_all_mandatory(svc, case.id, actor, make_pdf)
    stored = svc.case(case.id).value("urgency")
    assert stored.startswith("# Heading\n- item")  # recorded as typed

    svc.export(case.id, "md", tmp_path / "r.md")
    md = (tmp_path / "r.md").read_text()
    shown, _ = literal_text(md)
    assert " ".join(MARKUP.split()) in shown
    tokens = RENDERER.parse(md)
    for n, token in enumerate(tokens):
        if token.type in ("html_block", "fence", "code_block", "blockquote_open", "hr"):
            pytest.fail(f"the answer made a {token.type}: {token.content[:80]!r}")
        if token.type == "heading_open":
            assert not tokens[n + 1].content.startswith(("Heading", "Setext")), tokens[n + 1].content
        for child in token.children if "Heading" in token.content else []:  # the answer's paragraph
            assert child.type not in ("html_inline", "image", "code_inline", "s_open", "em_open", "strong_open"), child
            assert "evil.example" not in (child.attrs.get("href") or ""), child

    svc.export(case.id, "docx", tmp_path / "r.docx")
    doc = Document(str(tmp_path / "r.docx"))
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "![img](http://evil.example/x.png) [link](http://evil.example)" in body
    assert "<a href='http://evil.example'>click</a>" in body and "&copy;" in body
    rels = [r.target_ref for r in doc.part.rels.values() if r.is_external]
    assert rels and not any("evil.example" in r for r in rels)
    assert not any(p.text.startswith("Heading") and p.style.name.startswith("Heading") for p in doc.paragraphs)
