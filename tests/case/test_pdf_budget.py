"""Every user-supplied PDF is read in a worker process under a budget: the hostile files of
evals/adversarial (pdfs.py) finish quickly with some text, no text, or a one-line refusal, and the
case is left intact; a budget that is hit says so in French and in English."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest

from assistant.case import evidence
from assistant.case.pdf_worker import Budget
from assistant.service import ServiceError

ROOT = Path(__file__).resolve().parents[2]
SMALL = Budget(cpu_seconds=3, wall_seconds=8.0)  # the default's shape, smaller, so the suite stays fast


def _hostile(tmp_path: Path) -> dict[str, dict]:
    spec = importlib.util.spec_from_file_location("adversarial_pdfs", ROOT / "evals" / "adversarial" / "pdfs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {item["name"].split("-", 1)[0]: item for item in module.make_all(tmp_path)}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict[str, dict]:
    return _hostile(tmp_path_factory.mktemp("hostile"))


def test_every_hostile_pdf_ends_within_its_budget_with_text_or_a_one_line_refusal(hostile):
    outcomes = {}
    for key, item in sorted(hostile.items()):
        start = time.monotonic()
        try:
            _, pdf = evidence.read_pdf(Path(item["path"]), SMALL)
        except evidence.EvidenceError as exc:
            message = str(exc)
            assert message.startswith(Path(item["path"]).name) and "\n" not in message, message
            outcomes[key] = "refused"
        else:
            assert len(pdf.pages) >= 1 and pdf.read <= len(pdf.pages)
            outcomes[key] = pdf.stopped or "read"
            assert item["expect"] != "refuse", f"{key} should be refused"
        assert time.monotonic() - start < SMALL.wall_seconds + 3, key
    # what each one is stopped by: the content of one page (a), the page count (b), the tree (c, e)
    assert outcomes["a"] == "bytes" and outcomes["b"] == "refused" and outcomes["e"] == "refused"
    assert outcomes["h"] == "refused"


def test_a_worker_over_its_cpu_budget_is_stopped_and_the_user_told_which_pages_were_read(hostile):
    path = Path(hostile["f"]["path"])  # one page of 200,000 text operators: ~15 s of CPU in pypdf
    start = time.monotonic()
    _, pdf = evidence.read_pdf(path, Budget(cpu_seconds=1, wall_seconds=6.0))
    assert time.monotonic() - start < 8
    assert pdf.stopped == "time" and pdf.read == 0 and pdf.pages == [""]
    en = evidence.budget_notice(pdf.stopped, pdf.read, len(pdf.pages), "en")
    fr = evidence.budget_notice(pdf.stopped, pdf.read, len(pdf.pages), "fr")
    assert "None of the 1 pages could be read within the limits (processing time)" in en
    assert "Aucune des 1 pages n'a pu être lue dans les limites (temps de traitement)" in fr


def test_a_document_read_in_part_is_attached_with_its_pages_and_a_warning(svc, actor, make_pdf, hostile):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    result = svc.attach(case.id, Path(hostile["a"]["path"]), actor, kind="clinical_data", lang="fr")
    assert result.file.pages == 2000 and result.file.text_pages == 0
    assert "Aucune des 2000 pages n'a pu être lue dans les limites (volume du contenu des pages)" in result.warnings[0]
    assert svc.case(case.id).version == case.version + 1
    with pytest.raises(ServiceError) as err:  # 5,000 pages: over the page budget, refused, nothing recorded
        svc.attach(case.id, Path(hostile["b"]["path"]), actor, kind="clinical_data")
    assert "5000 pages (the limit is 2000)" in str(err.value)
    assert svc.case(case.id).version == case.version + 1


def test_reading_reports_its_progress_page_by_page(make_pdf):
    path = make_pdf([f"Page {n} du rapport" for n in range(1, 5)], "rapport.pdf")
    seen: list[tuple[int, int]] = []
    _, pdf = evidence.read_pdf(path, on_progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert pdf.read == 4 and not pdf.stopped and "Page 3 du rapport" in pdf.pages[2]
