"""`derogation export --out` onto what must not be overwritten: one clear line, an error exit, nothing lost (issue 12)."""

import os

from helpers import answer_all, attach_all_mandatory


def test_export_onto_the_cases_journal_or_a_pipe_is_one_clear_line_and_the_case_survives(
    cli, svc, actor, make_pdf, tmp_path, monkeypatch
):
    # Retrieval is not what is under test: without it the export's check does not embed the shipped
    # notes in this new data home (a minute and more) before it refuses the target.
    monkeypatch.setenv("DEROGATION_RETRIEVAL", "off")
    case_id = svc.new_case("ansm", "individual", "Valvix TMV-28", actor).id
    answer_all(svc, case_id, actor)
    attach_all_mandatory(svc, case_id, actor, make_pdf)
    journal = svc.store.folder(case_id) / "journal.jsonl"
    before = journal.read_bytes()
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    for target, message in ((journal, "inside the product's own data"), (pipe, "special file")):
        done = cli("export", case_id, "--format", "md", "--out", str(target))
        assert done.returncode != 0 and message in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert journal.read_bytes() == before
    assert case_id in cli("cases").stdout
