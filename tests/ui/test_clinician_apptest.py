"""The treating physician's letter through Streamlit's AppTest: the token link opens that case's
letter only, bad input is refused with the reason and kept in its box, the complete letter is
generated and attached to the case; the manufacturer's panel creates and revokes links."""

from __future__ import annotations

import pytest

from assistant.service import Actor

PHYSICIAN = {
    "physician_name": "Dr Claire Martin",
    "specialty": "Cardiologie interventionnelle",
    "hospital": "CHU de Lyon",
    "department": "Cardiologie",
    "rpps": "100 0517 3140",
    "patient_pseudonym": "P-014",
}
JUSTIFICATION = {
    "condition": "Homme de 67 ans, insuffisance mitrale sévère NYHA III.",
    "ci_impossibility": "Aucune investigation clinique ouverte en France.",
    "alternatives": "Chirurgie récusée en réunion de concertation pluridisciplinaire.",
    "urgency": "Décompensations répétées : intervention nécessaire sous trois semaines.",
    "expected_benefit": "Réduction de la fuite mitrale et retour en classe NYHA II.",
}


def run_ok(at_or_widget):
    at = at_or_widget.run()
    assert not at.exception, at.exception
    return at


def box(at, case_id: str, fid: str):
    key = f"letter:{case_id}:{fid}"
    found = [w for w in [*at.text_input, *at.text_area] if w.key == key]
    assert found, f"no field {fid}"
    return found[0]


def fill(at, case_id: str, values: dict[str, str]):
    for fid, value in values.items():
        at = run_ok(box(at, case_id, fid).input(value))
    return at


def button(at, label: str):
    found = [b for b in at.button if b.label == label]
    assert found, f"no button {label!r}; buttons: {[b.label for b in at.button]}"
    return found[0]


def errors(at) -> list[str]:
    """The error messages as a reader sees them (Markdown escapes removed)."""
    return [e.value.replace("\\", "") for e in at.error]


def texts(at) -> str:
    return "\n".join(m.value for m in at.markdown)


@pytest.fixture
def case_id(svc, actor) -> str:
    case = svc.new_case("ansm", "individual", "Valvix TMV-28", actor)
    svc.answer(case.id, "applicant_name", "Valvix Medical SAS", actor)
    svc.answer(case.id, "patient_pseudonym", "P-014", actor)
    return case.id


@pytest.fixture
def token(svc, actor, case_id) -> str:
    return svc.create_clinician_link(case_id, actor, "Dr Martin")[1]


def test_the_link_opens_only_the_letter_and_a_complete_letter_is_attached(app_test, svc, case_id, token):
    at = run_ok(app_test(role=None, case=case_id, token=token))
    assert at.title[0].value == "Lettre du médecin demandeur"
    assert "« Valvix TMV\\-28 » du fabricant Valvix Medical SAS" in texts(at)
    assert not at.sidebar.children, "the link flow shows no navigation"
    assert not [b for b in at.button if b.label in ("All cases", "Open")]
    assert box(at, case_id, "patient_pseudonym").value == "P-014"  # pre-filled from the request
    assert "Pré-rempli avec le pseudonyme de la demande : corrigez-le s'il ne convient pas." in [c.value for c in at.caption]
    assert "pseudonyme P\\-014" in texts(at)  # and in the preview, as the letter reads
    attach = button(at, "Générer la lettre et la joindre à la demande")
    assert attach.disabled

    at = fill(at, case_id, {**PHYSICIAN, **JUSTIFICATION})
    letter = svc.case(case_id).letter
    assert letter.fields["rpps"] == "10005173140" and letter.fields["physician_name"] == "Claire Martin"
    assert box(at, case_id, "physician_name").value == "Claire Martin"  # shown as recorded
    assert "Je soussigné\\(e\\), Dr Claire Martin" in texts(at)  # the live preview
    assert "À COMPLÉTER" not in texts(at)

    at = run_ok(button(at, "Générer la lettre et la joindre à la demande").click())
    [attached] = svc.case(case_id).evidence_of_kind("clinician_letter")
    assert attached.origin == "letter_flow" and attached.added_by == "Dr Claire Martin"
    assert attached.role == "clinician"
    assert any("Lettre jointe à la demande : **lettre\\-medecin\\-P\\-014\\.pdf**" in s.value for s in at.success)
    assert any("La lettre jointe n'est pas signée" in i.value for i in at.info)  # and how to send the signed one
    assert not at.download_button[0].disabled
    assert at.download_button[0].label == "Télécharger la lettre à signer (DOCX)"
    # the need section of the request now has its mandatory letter
    need = svc.draft(case_id, "fr", use_llm=False).section("need")
    assert [line.files for line in need.evidence if line.kind == "clinician_letter"] == [[attached.id]]


def test_a_bad_rpps_or_a_patient_name_is_refused_and_kept_in_its_box(app_test, svc, case_id, token):
    at = run_ok(app_test(role=None, case=case_id, token=token))
    at = fill(at, case_id, {"rpps": "1234 567"})
    assert any("RPPS number: 11 digits expected, got '1234 567'" in e for e in errors(at))
    assert box(at, case_id, "rpps").value == "1234 567"  # nothing typed is lost
    at = fill(at, case_id, {"patient_pseudonym": "Jean Dupont"})
    assert any("patient data must be pseudonymised: looks like a person's name (Jean Dupont)" in e for e in errors(at))
    at = fill(at, case_id, {"condition": "M. Durand, né le 12/03/1958, insuffisance mitrale."})
    assert any("looks like a date of birth (12/03/1958)" in e for e in errors(at))
    assert svc.case(case_id).letter.fields == {}
    at = fill(at, case_id, {"rpps": "10005173140"})
    assert not any("RPPS" in e for e in errors(at))
    assert svc.case(case_id).letter.fields == {"rpps": "10005173140"}


def test_an_unknown_revoked_or_foreign_token_is_refused(app_test, svc, actor, case_id, token):
    other = svc.new_case("ansm", "individual", "Other", actor).id
    for case, key in ((case_id, "not-the-token"), (other, token), ("", token)):
        at = run_ok(app_test(role=None, case=case or None, token=key))
        assert "Ce lien n'ouvre aucune lettre" in at.error[0].value
        assert not at.text_input and not at.text_area
    at = run_ok(app_test(role=None, case=case_id, token=token))
    link = svc.case(case_id).clinician_links[0]
    svc.revoke_clinician_link(case_id, link.id, actor)
    at = run_ok(box(at, case_id, "specialty").input("Cardiologie"))  # revoked while the page was open
    assert "This link opens no letter" in at.error[1].value
    assert svc.case(case_id).letter.fields == {}


def test_a_field_changed_in_another_window_is_not_overwritten_silently(app_test, svc, case_id, token):
    at = run_ok(app_test(role=None, case=case_id, token=token))
    svc.save_letter(case_id, {"specialty": "Rythmologie"}, Actor("Dr Other", "clinician", token=token))
    at = fill(at, case_id, {"specialty": "Cardiologie"})
    assert svc.case(case_id).letter.fields["specialty"] == "Rythmologie"
    assert any(
        "modifié dans une autre fenêtre ; la valeur enregistrée est « Rythmologie »" in w.value for w in at.warning
    )
    assert box(at, case_id, "specialty").value == "Cardiologie"
    at = run_ok(button(at, "Garder mon texte").click())
    assert svc.case(case_id).letter.fields["specialty"] == "Cardiologie"
    assert not [w for w in at.warning if "autre fenêtre" in w.value]


def test_a_clinician_in_the_app_without_a_link_is_sent_to_the_link(app_test, svc, case_id):
    # The service accepts a clinician's changes only with a link's token: the app asks for the link.
    at = run_ok(app_test(role="clinician", case=case_id, lang="en"))
    assert any("Open the link the manufacturer sent you" in i.value for i in at.info)
    assert [t.label for t in at.text_input] == ["Your name"] and not at.text_area  # the sidebar's only
    assert svc.case(case_id).letter.fields == {}


def test_the_manufacturer_panel_creates_a_link_that_opens_the_letter_and_revokes_it(svc, case_id, data_home):
    from streamlit.testing.v1 import AppTest

    def panel(case_id: str) -> None:
        import sys
        from pathlib import Path

        sys.path.insert(0, str(Path.cwd()))
        from ui.components.clinician_link import clinician_link_panel

        clinician_link_panel(case_id)

    at = AppTest.from_function(panel, args=(case_id,), default_timeout=60)
    at = run_ok(at)
    at.text_input(key=f"cliniclink:{case_id}:label").input("Dr Martin, CHU Lyon")
    at = run_ok(at.button[0].click())
    url = at.code[0].value
    assert f"?case={case_id}&token=" in url
    token = url.split("token=")[1]
    link = svc.clinician_link(case_id, token)
    assert link is not None and link.label == "Dr Martin, CHU Lyon"
    assert "Dr Martin, CHU Lyon" in texts(at)
    at = run_ok(button(at, "Révoquer").click())  # the page speaks French by default
    assert svc.clinician_link(case_id, token) is None
    assert any("Lien révoqué" in s.value for s in at.success)
