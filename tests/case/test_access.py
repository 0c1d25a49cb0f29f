"""Roles limit what each user may change (access.yaml), in the service and through the CLI."""

from __future__ import annotations

import pytest
from helpers import answer_all

from assistant.case.access import may_view, rights
from assistant.service import Actor, Forbidden

MANUFACTURER = Actor("m.martin", "manufacturer")
CONSULTANT = Actor("j.durand", "consultant")
CLINICIAN = Actor("dr.leroy", "clinician")


@pytest.fixture
def case(svc):
    return svc.new_case("ansm", "individual", "Valvix TMV-28", MANUFACTURER)


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (lambda s, c, pdf: s.answer(c, "urgency", "Intervention urgente sous huit jours", CLINICIAN), "answered"),
        (lambda s, c, pdf: s.approve(c, "need", CLINICIAN), "reviewed"),
        (lambda s, c, pdf: s.waive(c, "precautions_certificate", "signed copy follows later", CLINICIAN), "waived"),
        (lambda s, c, pdf: s.new_case("ansm", "individual", "X", CLINICIAN), "created"),
        (lambda s, c, pdf: s.attach(c, pdf, CLINICIAN, kind="clinical_data"), "clinical_data"),
        (lambda s, c, pdf: s.export(c, "md", pdf.with_suffix(".md"), actor=CLINICIAN), "export"),
        (lambda s, c, pdf: s.approve(c, "need", MANUFACTURER), "reviewed"),
        (lambda s, c, pdf: s.edit_section(c, "need", "fr", "Texte libre.", MANUFACTURER), "section edited"),
        (lambda s, c, pdf: s.save_letter(c, {"condition": "Sténose aortique"}, MANUFACTURER), "letter updated"),
    ],
)
def test_each_forbidden_change_is_refused_and_leaves_the_case_untouched(svc, case, make_pdf, action, message):
    pdf = make_pdf(["Données cliniques : étude de suivi à 12 mois."], "clinical.pdf")
    before = svc.case(case.id).version
    with pytest.raises(Forbidden, match=message):
        action(svc, case.id, pdf)
    assert svc.case(case.id).version == before
    assert not pdf.with_suffix(".md").exists()


def test_a_consultant_reviews_and_a_clinician_only_adds_the_letter(svc, case, make_pdf):
    answer_all(svc, case.id, MANUFACTURER)
    assert svc.approve(case.id, "need", CONSULTANT).review("need").status == "approved"
    _, token = svc.create_clinician_link(case.id, MANUFACTURER)
    clinician = Actor("dr.leroy", "clinician", token=token)  # acting through the case's link
    letter = make_pdf(["Lettre du Dr Leroy : demande urgente pour le patient P-014."], "lettre.pdf")
    attached = svc.attach(case.id, letter, clinician, kind="clinician_letter")
    assert attached.file.role == "clinician"
    clinical = svc.attach(case.id, make_pdf(["Données cliniques à 12 mois."], "data.pdf"), MANUFACTURER,
                          kind="clinical_data")
    with pytest.raises(Forbidden, match="clinical_data"):
        svc.remove_evidence(case.id, clinical.file.id, clinician)
    svc.remove_evidence(case.id, attached.file.id, clinician)  # their own letter: allowed


def test_views_per_role_come_from_the_access_file():
    assert set(rights()) == {"manufacturer", "consultant", "clinician"}
    assert may_view("consultant", "review") and not may_view("manufacturer", "review")
    assert may_view("clinician", "letter") and not may_view("clinician", "case_list")
    assert not may_view("intruder", "letter")


def test_the_cli_refuses_a_forbidden_change_with_one_clear_line(cli):
    case_id = cli("new", "--type", "individual", "--device", "Valve", check=True).stdout.strip()
    done = cli("--role", "clinician", "answer", case_id, "urgency", "Intervention sous huit jours")
    assert done.returncode == 2
    assert done.stderr.strip() == "error: a clinician may not do this (answered): it is for the manufacturer or consultant role"
    done = cli("approve", case_id, "need")
    assert done.returncode == 2 and "for the consultant role" in done.stderr
    assert cli("--role", "consultant", "approve", case_id, "need").returncode == 0


def test_team_accounts_log_in_with_their_role_and_a_wrong_password_is_refused(home):
    from assistant.service import accounts as users

    assert not users.login_required(home)
    users.add("j.durand", "consultant", "correct horse battery", home)
    assert users.login_required(home)
    assert users.authenticate("j.durand", "correct horse battery", home).role == "consultant"
    assert users.authenticate("j.durand", "wrong password!", home) is None
    assert users.authenticate("nobody", "correct horse battery", home) is None
    stored = (home / "users.json").read_text()
    assert "correct horse" not in stored and oct((home / "users.json").stat().st_mode & 0o777) == "0o600"
    users.add("dr.leroy@chu.example", "clinician", None, home)  # an identity-provider account
    assert users.for_identity("dr.leroy@chu.example", home).role == "clinician"
    assert users.authenticate("dr.leroy@chu.example", "", home) is None
    with pytest.raises(Exception, match="at least 10"):
        users.add("m.martin", "manufacturer", "short", home)


def test_users_are_managed_from_the_cli_with_the_password_on_stdin(cli, home):
    done = cli("users", "add", "m.martin", "--role", "manufacturer", input="a long enough secret\n")
    assert done.returncode == 0, done.stderr
    signed = {"DEROGATION_USER": "m.martin", "DEROGATION_PASSWORD": "a long enough secret"}  # accounts exist now
    listed = cli("users", "list", check=True, env=signed).stdout
    assert "m.martin\tmanufacturer\tpassword" in listed and "secret" not in listed
    assert cli("users", "add", "x.y", input="pw\n", env=signed).returncode == 2
    assert cli("users", "remove", "m.martin", check=True, env=signed).returncode == 0
    assert "m.martin" not in cli("users", "list", check=True).stdout  # no accounts left: no sign-in
