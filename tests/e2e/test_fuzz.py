"""Property tests of the two ways data comes in: PDF uploads and typed answers.

Whatever arrives, the product either records it faithfully or refuses it with one clear line,
never crashes, and leaves the case and its store whole: the case loads, its snapshot agrees with
a replay of the journal, every journal line parses, and every stored file belongs to a document.
"""

from __future__ import annotations

import functools
import io
import json
import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from assistant.case import evidence
from assistant.case.answers import MAX_ANSWER_CHARS
from assistant.case.model import Event
from assistant.case.store import CaseStore
from assistant.documents.pdf import text_pdf
from assistant.service import Actor, Service, ServiceError
from assistant.text import clean_text

FUZZ = settings(max_examples=100, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
ACTOR = Actor("fuzzer", "manufacturer")


# -- what must hold after every example ----------------------------------------------------------------
def assert_store_intact(svc: Service, case_id: str) -> None:
    folder = svc.store.folder(case_id)
    journal = (folder / "journal.jsonl").read_bytes()
    assert journal.endswith(b"\n")
    events = [Event.model_validate_json(line) for line in journal.splitlines()]
    assert [e.v for e in events] == list(range(1, len(events) + 1))
    now = svc.case(case_id)
    replayed = svc.store.load(case_id, version=events[-1].v)  # from the journal alone
    assert now.version == events[-1].v
    assert now.model_dump() == replayed.model_dump()
    snapshot = json.loads((folder / "case.json").read_text(encoding="utf-8"))
    assert snapshot["version"] == now.version
    files = svc.store.files_dir(case_id)
    stored = sorted(p.name for p in files.iterdir()) if files.exists() else []
    expected = sorted(n for e in now.evidence for n in (f"{e.sha256}.pdf", f"{e.sha256}.pages.json"))
    assert stored == expected, "a file without its document, or a document without its file"
    for e in now.evidence:
        assert evidence.hashlib.sha256((files / f"{e.sha256}.pdf").read_bytes()).hexdigest() == e.sha256


def assert_one_clear_line(message: str) -> None:
    assert message and len(message.splitlines()) == 1 and message.isprintable(), repr(message)
    assert len(message) < 400, message[:400]


@functools.cache
def _case(svc: Service) -> str:
    return svc.new_case("ansm", "individual", "Valve", ACTOR).id


# -- PDF uploads ------------------------------------------------------------------------------------------
@functools.cache
def real_pdf() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        out = text_pdf(["Certificat CE n° CM-734215, organisme notifié 0459", "Valable jusqu'au 26/05/2024",
                        "Annexe — tableau"], Path(tmp) / "real.pdf")
        return out.read_bytes()


def _writer_bytes(pages: int, encrypt: str | None = None, image: bool = False) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    if image:
        from fpdf import FPDF

        pdf = FPDF()
        pdf.add_page()
        pdf.rect(20, 20, 100, 60, style="F")
        writer.append(PdfReader(io.BytesIO(bytes(pdf.output()))))
    else:
        for _ in range(pages):
            writer.add_blank_page(200, 200)
    if encrypt is not None:
        writer.encrypt(user_password=encrypt, owner_password="owner")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


@functools.cache
def special_pdf(kind: str) -> bytes:
    return {
        "zero_pages": lambda: _writer_bytes(0),
        "over_page_limit": lambda: _writer_bytes(evidence.MAX_PAGES + 1),
        "image_only": lambda: _writer_bytes(0, image=True),
        "encrypted": lambda: _writer_bytes(2, encrypt="secret"),
        "encrypted_empty_password": lambda: _writer_bytes(2, encrypt=""),
    }[kind]()


@st.composite
def uploads(draw) -> tuple[str, bytes]:
    how = draw(st.sampled_from(["random", "random_with_header", "truncated", "mutated"]))
    if how == "random":
        return how, draw(st.binary(min_size=0, max_size=3000))
    if how == "random_with_header":
        return how, b"%PDF-1." + draw(st.binary(max_size=3000))
    data = real_pdf()
    if how == "truncated":
        return how, data[: draw(st.integers(0, len(data)))]
    if how == "mutated":
        out = bytearray(data)
        for _ in range(draw(st.integers(1, 12))):
            out[draw(st.integers(0, len(out) - 1))] = draw(st.integers(0, 255))
        return how, bytes(out)


EXPECTED_REFUSAL = {
    "zero_pages": "the PDF has no pages",
    "over_page_limit": f"the PDF has {evidence.MAX_PAGES + 1} pages (the limit is {evidence.MAX_PAGES})",
    "encrypted": "password-protected",
}


@FUZZ
@given(upload=uploads(), name=st.sampled_from(["scan.pdf", "../../evil.pdf", "Certificat CE (v2).PDF", "x\ty.pdf", "a\nb\u2028.pdf"]))
def test_any_upload_is_attached_whole_or_refused_in_one_line(svc, tmp_path, upload, name):
    how, data = upload
    event(f"{how}: {check_upload(svc, tmp_path, how, data, name)}")


@pytest.mark.parametrize("how", ["zero_pages", "over_page_limit", "image_only", "encrypted", "encrypted_empty_password"])
def test_odd_but_well_formed_pdfs_are_attached_or_refused_as_a_reader_would_expect(svc, tmp_path, how):
    check_upload(svc, tmp_path, how, special_pdf(how), "../../Lettre\n du médecin.pdf")


def check_upload(svc: Service, tmp_path: Path, how: str, data: bytes, name: str) -> str:
    case_id = _case(svc)
    before = svc.case(case_id)
    path = tmp_path / "in" / "sub" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    try:
        result = svc.attach(case_id, path, ACTOR, kind="clinical_data")
    except ServiceError as exc:
        message = str(exc)
        assert_one_clear_line(message)
        assert message.startswith(evidence.shown_name(path.name)), message
        if how in EXPECTED_REFUSAL:
            assert EXPECTED_REFUSAL[how] in message
        assert svc.case(case_id).version == before.version
        outcome = "refused"
    else:
        outcome = "attached"
        assert how not in EXPECTED_REFUSAL, f"{how} was accepted"
        f = result.file
        assert f.sha256 == evidence.hashlib.sha256(data).hexdigest() and f.size == len(data)
        assert (svc.store.folder(case_id) / f.stored_as).read_bytes() == data
        assert svc.case(case_id).version == before.version + 1
        assert svc.case(case_id).evidence[-1] == f
        pages = evidence.load_pages(svc.store.files_dir(case_id), f.sha256)
        assert len(pages) == f.pages >= 1 and f.text_pages == sum(1 for p in pages if p.strip())
        if how == "image_only":
            assert f.text_pages == 0 and "aucune couche de texte" in result.warnings[0]  # the case's language
        if how == "encrypted_empty_password":
            assert f.pages == 2  # opened with the empty password, as a reader would
    assert_store_intact(svc, case_id)
    return outcome


# -- typed answers ----------------------------------------------------------------------------------------
TRICKY = [
    "\x00", "\x07", "\x1b[31m", "\r\n", "\t", "\u2028", "\u2029", "\u200b", "\u200f", "\u202e", "\ufeff", "\ufffe",
    "\ud800", "\U000f0000", "שלום עולם", "مرحبا بالعالم", "👩🏽‍⚕️", "🇫🇷", "e\u0301", "ﬁ", "Ａ", "\u00a0", "  ",
    "<script>", "**", "&amp;", "'", '"', "\\", "ǅ", "\U0001d54f",
]
pieces = st.one_of(st.sampled_from(TRICKY), st.text(max_size=20), st.characters(codec=None))


@st.composite
def answer_texts(draw) -> str:
    text = "".join(draw(st.lists(pieces, max_size=12)))
    if draw(st.integers(0, 9)) == 0:  # now and then, very long: around the limit
        unit = draw(st.sampled_from(["ab ", "é😀 ", "\x00x", "مرح "]))
        text = unit * (draw(st.integers(MAX_ANSWER_CHARS - 50, MAX_ANSWER_CHARS + 50)) // len(unit)) + text
    return text


QUESTIONS = {  # question: its type
    "applicant_name": "text", "device_references": "text", "urgency": "long_text",
    "is_ivd": "yes_no", "previous_certificate_expiry": "date", "device_class": "choice",
}


def _visible(text: str) -> bool:
    return any(unicodedata.category(ch) not in {"Cc", "Cf", "Zs", "Zl", "Zp"} for ch in text)


@FUZZ
@given(question=st.sampled_from(sorted(QUESTIONS)), raw=answer_texts())
def test_any_answer_is_recorded_as_typed_or_refused_in_one_line(svc, question, raw):
    case_id = _case(svc)
    if svc.case(case_id).value("previously_ce_marked") is None:
        svc.answer(case_id, "previously_ce_marked", "yes", ACTOR)  # so the expiry date applies
    before = svc.case(case_id)
    kind = QUESTIONS[question]
    cleaned = clean_text(raw)
    try:
        after = svc.answer(case_id, question, raw, ACTOR, replace=True)
    except ServiceError as exc:
        message = str(exc)
        assert_one_clear_line(message)
        assert message.startswith(question)
        assert svc.case(case_id).version == before.version
        if kind in ("text", "long_text"):  # free text is refused only when empty or too long
            assert not _visible(cleaned) or len(cleaned) > MAX_ANSWER_CHARS, message
    else:
        value = after.value(question)
        assert after.version == before.version + 1
        assert svc.case(case_id).value(question) == value  # read back from disk
        assert Service(CaseStore(svc.store.home)).case(case_id).value(question) == value  # by a fresh process
        if kind in ("text", "long_text"):
            assert value == cleaned and _visible(value) and len(value) <= MAX_ANSWER_CHARS
            assert value == unicodedata.normalize("NFC", value)
            assert not any(unicodedata.category(ch) in ("Cc", "Cs", "Co") and ch not in "\n\t" for ch in value)
        elif kind == "yes_no":
            assert value in ("yes", "no")
        elif kind == "date":
            assert len(value) == 10 and value[4] == value[7] == "-"
        else:
            assert value in ("I", "IIa", "IIb", "III")
    assert_store_intact(svc, case_id)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("Valvix\x00 Médical\x1b SAS", "Valvix Médical SAS"),
        ("شركة فالفيكس الطبية", "شركة فالفيكس الطبية"),
        ("Cœur 💙 👩🏽‍⚕️ SAS", "Cœur 💙 👩🏽‍⚕️ SAS"),  # the zero-width joiner inside the emoji stays
        ("Vo\u0301ila\r\nSAS  \n", "Vóila\nSAS"),
    ],
)
def test_what_is_kept_and_what_is_dropped_from_a_typed_answer(svc, actor, raw, stored):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    assert svc.answer(case.id, "applicant_name", raw, actor).value("applicant_name") == stored


@pytest.mark.parametrize("raw", ["\u200b", "\u202e\u200f", "\ufeff \u2028 \u00a0", "\x00\x00"])
def test_an_answer_of_only_invisible_characters_is_refused_as_empty(svc, actor, raw):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    with pytest.raises(ServiceError, match="^applicant_name: an answer cannot be empty$"):
        svc.answer(case.id, "applicant_name", raw, actor)
    assert svc.case(case.id).version == case.version


def test_a_refused_answer_quotes_only_the_start_of_what_was_typed(svc, actor):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    with pytest.raises(ServiceError) as err:
        svc.answer(case.id, "is_ivd", "peut-être\n" * 1500, actor)
    message = str(err.value)
    assert message.startswith("is_ivd: answer yes or no (oui/non), not 'peut-être\\npeut-être")
    assert len(message) < 150 and message.endswith("…'")
