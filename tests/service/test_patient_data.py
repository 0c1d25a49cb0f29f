"""Patient data at the service: every answer and every document screened (warnings naming what and
where), nothing identifying sent to a server elsewhere, nor kept in clear in the audit log, the
export warns, and case files are private to their owner."""

from __future__ import annotations

import json
import stat

from llm_server import point_at

from assistant.service import Actor, ServiceError

ACTOR = Actor("m.martin", "manufacturer")


def _case(svc):
    case = svc.new_case("ansm", "individual", "Valvix TMV-28", ACTOR)
    svc.answer(case.id, "patient_pseudonym", "P-014", ACTOR)
    return case


def test_an_identifier_in_any_answer_is_warned_about_naming_the_answer_in_both_languages(svc):
    case = _case(svc)
    svc.answer(case.id, "urgency", "J'ai vu Oliver Whitfield mardi ; DDN 12/03/58, dyspnée de repos.", ACTOR)
    svc.answer(case.id, "applicant_address", "12 rue des Tanneurs, 34000 Montpellier", ACTOR)  # the maker's own
    en = svc.privacy_warnings(case.id, "en")
    assert len(en) == 1 and en[0].startswith('The answer "the urgency and the consequences of not treating"')
    assert "a person's name (\"Oliver Whitfield\")" in en[0] and "a date of birth (\"12/03/58\")" in en[0]
    fr = svc.privacy_warnings(case.id, "fr")
    assert "un nom de personne (« Oliver Whitfield »)" in fr[0] and "pseudonyme" in fr[0]
    found = [f for f in svc.check(case.id) if f.kind == "patient_identifier"]
    assert [(f.severity, f.question_id) for f in found] == [("warning", "urgency")]


def test_a_patient_field_refuses_every_form(svc):
    case = _case(svc)
    for text in ("DUPONT Marie, 67 ans", "NIR 1-58-03-75-123-456-78", "Patient (1958-03-12), NYHA III",
                 "Résidant à 13005 Marseille", "Patient J.-P. Moreau, NYHA III"):
        try:
            svc.answer(case.id, "patient_condition", text, ACTOR)
        except ServiceError as exc:
            assert "patient data must be pseudonymised" in str(exc)
        else:
            raise AssertionError(f"accepted: {text}")
    assert svc.answer(case.id, "patient_condition", "Homme de 67 ans, NYHA III, opéré le 12/03/2024",
                      ACTOR).value("patient_condition")


def test_an_uploaded_document_is_screened_page_by_page(svc, make_pdf):
    case = _case(svc)
    letter = make_pdf(["Lettre du Dr A. Martel pour le patient P-014.",
                       "Je sollicite le dispositif pour Monsieur Kévin N'Diaye, IPP 12345678."], "lettre.pdf")
    attached = svc.attach(case.id, letter, ACTOR, kind="clinician_letter")
    assert len(attached.warnings) == 1
    warning = attached.warnings[0]
    assert "lettre.pdf" in warning and "page 2" in warning and "N'Diaye" in warning and "Martel" not in warning
    # A manufacturer's document names its own signatory: only NIR, birth dates and record numbers count there.
    doc = make_pdf(["Déclaration de conformité signée par Claire Roussel, Directrice qualité."], "doc.pdf")
    assert svc.attach(case.id, doc, ACTOR, kind="declaration_of_conformity").warnings == []
    assert any("lettre.pdf" in w for w in svc.privacy_warnings(case.id, "en"))


def test_nothing_identifying_reaches_a_server_elsewhere_and_the_rest_does(svc, remote_llm_server, monkeypatch):
    point_at(monkeypatch, remote_llm_server).always('{"facts": []}')
    case = _case(svc)
    svc.answer(case.id, "applicant_contact", "Claire Roussel, c.roussel@valvix.example", ACTOR)
    text = ("Gaëtan Lefebvre (P-014), né 12.03.58, NIR 2 58 03 2A 123 456 78, joignable au 0033 6 12 34 56 78, "
            "habite 27 bis boulevard Voltaire, 75002 Paris ; contact fabricant Claire Roussel. Chirurgie récusée.")
    svc.propose_facts(case.id, text, "fr")
    sent = remote_llm_server.all_text()
    for identifier in ("Gaëtan", "Lefebvre", "12.03.58", "2 58 03 2A 123 456 78", "6 12 34 56 78",
                       "boulevard Voltaire", "75002 Paris"):
        assert identifier not in sent
    assert "P-014" in sent and "Claire Roussel" in sent and "Chirurgie récusée" in sent
    entries = svc.llm_audit(case.id)
    assert entries and not entries[-1]["local_server"] and "Lefebvre" not in json.dumps(entries)


def test_the_audit_log_keeps_no_identifier_even_when_the_local_server_gets_them(svc, llm_server, monkeypatch):
    point_at(monkeypatch, llm_server).always('{"facts": []}')
    svc.update_llm_settings(Actor("j.durand", "consultant"), redact_local=False)
    case = _case(svc)
    svc.propose_facts(case.id, "Mme Martine Durand, née le 12/03/1958, au 06 12 34 56 78.", "fr")
    assert "Martine Durand" in llm_server.all_text()  # a server on this machine, redaction off: as chosen
    logged = (svc.store.folder(case.id) / "llm-audit.jsonl").read_text(encoding="utf-8")
    for identifier in ("Martine", "Durand", "12/03/1958", "06 12 34 56 78"):
        assert identifier not in logged
    assert "[NOM-1]" in logged


def test_the_export_warns_when_an_identifier_is_present(svc, cli, home, make_pdf, monkeypatch):
    from helpers import answer_all, attach_all_mandatory

    # Retrieval is not what is under test: without it the export does not embed the shipped notes
    # in this new data home (a minute and more), and what it warns about is the same.
    monkeypatch.setenv("DEROGATION_RETRIEVAL", "off")
    case = _case(svc)
    answer_all(svc, case.id, ACTOR)
    attach_all_mandatory(svc, case.id, ACTOR, make_pdf)
    clean = cli("export", case.id, "--format", "md", "--out", str(home / "clean.md"))
    assert clean.returncode == 0 and "identify a patient" not in clean.stderr
    svc.answer(case.id, "urgency", "Vu Oliver Whitfield en consultation : dyspnée de repos, intervention sous "
               "quatre semaines, pronostic engagé selon l'équipe.", ACTOR, replace=True)
    done = cli("export", case.id, "--format", "md", "--out", str(home / "out.md"))
    assert done.returncode == 0, done.stderr
    assert "Warning: the exported file holds data that may identify a patient (1 place(s))" in done.stderr
    assert "Oliver Whitfield" in done.stderr and (home / "out.md").exists()


def test_case_files_are_readable_by_their_owner_only(svc, make_pdf):
    case = _case(svc)
    svc.attach(case.id, make_pdf(["Lettre du Dr Martel pour P-014."], "l.pdf"), ACTOR, kind="clinician_letter")
    folder = svc.store.folder(case.id)
    for path in [folder, folder / "files", svc.store.root]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    for path in [p for p in folder.rglob("*") if p.is_file()]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_an_older_world_readable_case_is_tightened_on_its_next_change(svc):
    case = _case(svc)
    folder = svc.store.folder(case.id)
    folder.chmod(0o755)
    (folder / "journal.jsonl").chmod(0o644)
    svc.answer(case.id, "urgency", "Intervention dans les quatre semaines.", ACTOR)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "journal.jsonl").stat().st_mode) == 0o600
