"""The whole path through the real CLI, in subprocesses, as a user would run it."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
from conftest import CLI_TIMEOUT, ROOT
from docx import Document

from assistant.service import indexer

FRESH = f"{sys.executable} -m assistant"  # a new interpreter per command, as installed


@pytest.fixture(scope="module")
def warm(tmp_path_factory):
    """`derogation` for the examples' build.sh and complete.sh: each of their few dozen commands is
    still a process of its own with the script's stdin, stdout, stderr and environment, forked from
    an interpreter that has imported the CLI once (tests/e2e/cli_server.py) instead of starting a new one."""
    path = tmp_path_factory.mktemp("cli") / "derogation.sock"
    server = subprocess.Popen([sys.executable, str(ROOT / "tests" / "e2e" / "cli_server.py"), str(path)], cwd=ROOT,
                              stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert server.stdout.readline() == "ready\n"
        yield {"DEROGATION": f"{sys.executable} -I -S {ROOT / 'tests' / 'e2e' / 'cli_server.py'} --client",
               "DEROGATION_CLI_SERVER": str(path)}
    finally:
        os.killpg(server.pid, signal.SIGKILL)  # the server and any command it still runs
        server.wait()


def run_example(script: str, home, *args: str, derogation: dict | None = None) -> str:
    env = {
        **os.environ,
        "DEROGATION_HOME": str(home),
        "DEROGATION": FRESH,
        "PYTHON": sys.executable,
        **(derogation or {}),
    }
    done = subprocess.run(["bash", str(ROOT / "examples" / script), *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=CLI_TIMEOUT)
    assert done.returncode == 0, done.stderr
    return done.stdout


def build_example(script: str, home, warm: dict) -> str:
    """The example's build.sh as a user's script runs it (no --wait: each `attach` returns once the
    document is recorded, and one index worker picks up the documents attached while it runs,
    instead of a worker per document waited for in turn); then waits for that indexing to end, with
    no error, so that what follows sees every document indexed. Returns the case id."""
    case_id = run_example(script, home, derogation={**warm, "DEROGATION_ATTACH_WAIT": "0"}).strip().splitlines()[-1]
    deadline = time.monotonic() + CLI_TIMEOUT
    while indexer.running(home, case_id):
        assert time.monotonic() < deadline, "the index worker did not end"
        time.sleep(0.2)
    assert indexer.error_of(home, case_id) == ""
    return case_id


def findings(cli, case_id):
    out = cli("check", case_id, "--json", check=True).stdout
    return json.loads(out)


def test_individual_example_end_to_end(cli, home, tmp_path, with_notes, warm):
    with_notes(home)  # the shipped notes already embedded: the first `check` does not embed them again
    case_id = build_example("individual/build.sh", home, warm)
    found = findings(cli, case_id)
    blockers = [(f["section"], f["kind"], f["evidence_kind"]) for f in found if f["severity"] == "blocker" and not f["waived"]]
    assert blockers == [("conformity_declaration", "missing_evidence", "precautions_certificate")]
    assert all({"section", "kind", "severity", "message", "question_id", "evidence_kind"} <= f.keys() for f in found)
    refused = cli("export", case_id, "--format", "docx", "--out", str(tmp_path / "early.docx"))
    assert refused.returncode == 3 and "precautions" in refused.stderr.lower()

    run_example("individual/complete.sh", home, case_id, str(tmp_path), derogation=warm)
    doc = Document(str(tmp_path / f"{case_id}.docx"))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert headings[0] == "1. Identification de la demande" and "10. Engagements du fabricant" in headings
    assert "Bilan des dérogations déjà accordées" not in " ".join(headings)  # global only
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "À COMPLÉTER" not in body  # the optional agreement date, unknown, leaves no gap in a sentence
    assert "ont été examinées et ne s'appliquent pas" in body and "déposée après le 26 mai 2024" in body
    assert "CM-734215" in body and "P-014" in body
    assert re.search(r"certificat CE n° CM-734215 \(Pièce \d+, p\. 1\)", body)  # an exhibit, not a file name
    assert ".pdf" not in re.sub(r"https?://\S+", " ", body) and "[Réponse" not in body  # an official URL may end in .pdf
    exhibits = [[c.text for c in row.cells] for t in doc.tables for row in t.rows]
    assert any(r[1] == "Attestation certifiant que toutes les précautions nécessaires ont été prises" and r[3].startswith("Claire Roussel")
               for r in exhibits if len(r) == 4)
    assert (tmp_path / f"{case_id}.en.md").read_text().startswith("# Request for a derogation from the conformity assessment procedures")
    cases = cli("cases", check=True).stdout
    assert case_id in cases and "ready to export" in cases


def test_global_example_end_to_end_with_a_waiver_in_the_annex(cli, home, tmp_path, with_notes, warm):
    with_notes(home)  # the shipped notes already embedded: the first `check` does not embed them again
    case_id = build_example("global/build.sh", home, warm)
    blockers = [f["evidence_kind"] for f in findings(cli, case_id) if f["severity"] == "blocker" and not f["waived"]]
    assert blockers == ["precautions_certificate"]
    run_example("global/complete.sh", home, case_id, str(tmp_path), derogation=warm)
    doc = Document(str(tmp_path / f"{case_id}.docx"))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert "10. Bilan des dérogations déjà accordées" in headings
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "Attestation certifiant que toutes les précautions nécessaires ont été prises : Attestation signée" in body
    assert "projet transmis pour relecture interne" in body
    md = (tmp_path / f"{case_id}.md").read_text()
    assert "Éléments non fournis et justification" in md and "relecture interne" in md


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["answer", "{case}", "applicant_name", ""], "cannot be empty"),
        (["answer", "{case}", "no_such_question", "x"], "unknown question"),
        (["attach", "{case}", "{missing}"], "no such file"),
        (["attach", "{case}", "{notpdf}", "--kind", "clinical_data"], "not a PDF"),
        (["attach", "{case}", "{encrypted}", "--kind", "clinical_data"], "password-protected"),
        (["answer", "../../etc", "applicant_name", "x"], "invalid case id"),
        (["waive", "{case}", "clinician_letter", "--reason", ""], "reason"),
        (["approve", "{case}", "nowhere"], "unknown section"),
        (["answer", "{case}", "patient_pseudonym", "Jean Dupont"], "pseudonymised"),
        (["search", "  "], "give a question to search for"),
        (["search", "dérogation", "--k", "0"], "number of passages must be 1 or more"),
        (["search", "dérogation", "--notes", "-1"], "of notes 0 or more"),
    ],
)
def test_bad_input_is_one_clear_line_a_nonzero_exit_and_an_untouched_case(cli, in_process, tmp_path, encrypted_pdf, args, message):
    case_id = in_process("new", "--type", "individual", "--device", "Valve", check=True).stdout.strip()
    before = in_process("show", case_id, check=True).stdout
    notpdf = tmp_path / "notes.pdf"
    notpdf.write_text("plain text, not a PDF")
    filled = [a.format(case=case_id, missing=tmp_path / "nope.pdf", notpdf=notpdf, encrypted=encrypted_pdf) for a in args]
    done = cli(*filled)
    assert done.returncode != 0
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert in_process("show", case_id, check=True).stdout == before


def test_questions_json_lists_open_questions_in_interview_order(cli):
    case_id = cli("new", "--type", "global", "--device", "OsteoRod", check=True).stdout.strip()
    cli("answer", case_id, "is_ivd", "non", check=True)
    questions = json.loads(cli("questions", case_id, "--json", "--lang", "fr", check=True).stdout)
    # the screening questions whose answer changes the legal route come first (a "yes" to any of
    # these three leads to another route than a derogation)
    assert [q["id"] for q in questions[:3]] == ["custom_made", "in_house", "investigation_possible"]
    assert questions[0]["text"].startswith("Le dispositif est-il fabriqué sur mesure")
    assert {"id", "section", "type", "text", "followup", "required"} <= questions[0].keys()
    ids = [q["id"] for q in questions]
    assert ids.index("first_in_man") < ids.index("applicant_name")  # screening before the rest


def test_terminal_interview_asks_one_question_at_a_time_and_saves_each_answer(cli):
    case_id = cli("new", "--type", "individual", "--device", "Valve", check=True).stdout.strip()
    # the opening (a description) is skipped; empty line -> told it cannot be empty; "maybe" ->
    # refused; then "no" to the IVD question; then skip one and stop
    done = cli("interview", case_id, input="skip\n\nmaybe\nno\nskip\nquit\n")
    assert done.returncode == 0
    assert "cannot be empty" in done.stdout and "Not recorded" in done.stdout
    assert "saved" in done.stdout
    case = json.loads(cli("show", case_id, check=True).stdout)
    values = {k: v["value"] for k, v in case["answers"].items()}
    assert values["is_ivd"] == "no"
    skipped = [q for q in json.loads(cli("questions", case_id, "--json", check=True).stdout)]
    assert skipped[0]["id"] == "custom_made"  # skipped, asked again next time


def test_terminal_interview_opens_with_a_description_and_records_what_it_states_once_confirmed(cli):
    case_id = cli("new", "--type", "individual", "--device", "Cardiostim CS-40", check=True).stdout.strip()
    description = ("Nous sommes Cardiostim Medical SAS, 8 avenue du Général Leclerc, 69003 Lyon, France. "
                   "Le stimulateur, dispositif de classe III, est destiné à la patiente P-207 du CHU de Lyon-Est. "
                   "Le certificat CE n° GM-558120 délivré par l'organisme notifié GMED, numéro d'identification 0459, "
                   "a expiré le 14 juin 2022.")
    done = cli("interview", case_id, "--lang", "fr", input=f"{description}\n1 2 3 4 5 6 7 8 9 10 11 12\nquit\n")
    assert done.returncode == 0, done.stderr
    assert "Compris" in done.stdout and "[votre description]" in done.stdout
    values = {k: v["value"] for k, v in json.loads(cli("show", case_id, check=True).stdout)["answers"].items()}
    assert values["applicant_name"] == "Cardiostim Medical SAS"
    assert values["patient_pseudonym"] == "P-207"
    assert values["device_class"] == "III" and values["is_ivd"] == "no"
    assert values["previous_certificate_nb"] == "GMED, numéro d'identification 0459"
    assert values["previous_certificate_expiry"] == "2022-06-14"
    assert "Quelle est la raison sociale" not in done.stdout  # never asked what was told


def test_tell_lists_field_value_and_source_and_records_only_with_yes(cli):
    case_id = cli("new", "--type", "individual", "--device", "Valve", check=True).stdout.strip()
    text = "Manufacturer: Valvix Medical SAS, 12 rue des Tanneurs, 34000 Montpellier. Patient P-014 at CHU de Montpellier."
    shown = cli("tell", case_id, text, "--lang", "en", "--offline", input="no\n", check=True)
    assert "manufacturer's legal name: Valvix Medical SAS  [your description]" in shown.stdout
    assert "Nothing was recorded" in shown.stdout
    assert "applicant_name" not in json.loads(cli("show", case_id, check=True).stdout)["answers"]
    done = cli("tell", case_id, text, "--lang", "en", "--offline", "--yes", check=True)
    assert "answer(s) recorded" in done.stdout
    values = {k: v["value"] for k, v in json.loads(cli("show", case_id, check=True).stdout)["answers"].items()}
    assert values["patient_pseudonym"] == "P-014"
    assert values["applicant_address"] == "12 rue des Tanneurs, 34000 Montpellier"


def test_attach_yes_records_what_the_document_states_with_its_page(cli, home, make_pdf, with_notes):
    with_notes(home)  # the document is indexed after it is read: not the shipped notes all over again
    case_id = cli("new", "--type", "individual", "--device", "Valve", check=True).stdout.strip()
    cli("answer", case_id, "previously_ce_marked", "yes", check=True)
    pdf = make_pdf(["Page de garde", "Organisme notifié : TÜV Rheinland LGA Products GmbH, numéro d'identification 2915\n"
                    "Certificat CE n° XY-99 valable jusqu'au 31/12/2024"], "certificat.pdf")
    done = cli("attach", case_id, str(pdf), "--kind", "previous_ce_certificate", "--yes", "--lang", "en", check=True)
    assert "[certificat.pdf, p. 2]" in done.stdout
    values = {k: v["value"] for k, v in json.loads(cli("show", case_id, check=True).stdout)["answers"].items()}
    assert values["previous_certificate_nb"] == "TÜV Rheinland LGA Products GmbH, numéro d'identification 2915"
    assert values["previous_certificate_expiry"] == "2024-12-31"


def test_help_is_instant_and_lists_the_commands(cli):
    done = cli("--help", check=True)
    for command in ("new", "questions", "answer", "attach", "check", "draft", "waive", "approve", "export", "interview", "cases"):
        assert command in done.stdout
