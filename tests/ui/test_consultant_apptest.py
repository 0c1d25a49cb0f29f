"""The consultant's review desk through Streamlit's AppTest: approve, edit into versions and diff
them, comment, see an approval withdrawn when an answer changes, the readiness view, and the
version check against a change made meanwhile."""

from __future__ import annotations

import pytest
from helpers import answer_all

from assistant.service import Actor

NEW_URGENCY = "Aggravation rapide : intervention nécessaire sous dix jours, pronostic vital engagé."


def run_ok(at_or_widget):
    at = at_or_widget.run()
    assert not at.exception, at.exception
    return at


def button(at, label: str, nth: int = 0):
    found = [b for b in at.button if b.label == label]
    assert found, f"no button {label!r}; buttons: {[b.label for b in at.button]}"
    return found[nth]


def texts(at) -> str:
    return "\n".join(m.value for m in at.markdown)


@pytest.fixture
def case_id(svc, actor) -> str:
    case = svc.new_case("ansm", "individual", "Valvix TMV-28", actor)
    answer_all(svc, case.id, actor)
    return case.id


@pytest.fixture
def desk(app_test, case_id):
    """The review desk on the 'need' section."""
    return run_ok(app_test(role="consultant", case=case_id, section="need"))


def test_a_section_shows_its_text_sources_and_what_it_uses(desk):
    assert desk.title[0].value == "Review · Valvix TMV-28"
    body = texts(desk)
    assert [s.value for s in desk.subheader][0] == "2. Justification du besoin et de l'intérêt pour le patient"
    assert "Urgence \\: " in body and ":blue[\\[3\\]]" in body  # the draft with numbered citations
    labels = [e.label for e in desk.expander]  # the sources, numbered as in the text
    # an answer is named by its question as a reader knows it, never by its id
    assert labels[2] == "[3] Answer: the urgency and the consequences of not treating"  # the page's language
    assert labels[4] == "[5] RDM art. 59(1)"
    assert "*the urgency and the consequences of not treating*" in body.split("**Answers used**")[1]
    assert ":red[missing] Lettre du médecin demandeur" in body  # the mandatory document it lacks
    assert ":gray-badge[draft]" in body


def test_approve_then_an_answer_changes_and_the_approval_is_withdrawn(desk, svc, case_id, actor):
    at = run_ok(button(desk, "Approve").click())
    review = svc.case(case_id).review("need")
    assert (review.status, review.history[-1].by, review.history[-1].role) == ("approved", "tester", "consultant")
    assert ":green-badge[approved]" in texts(at) and "Section marked approved." in [s.value for s in at.success]
    assert button(at, "Approve").disabled

    svc.answer(case_id, "urgency", NEW_URGENCY, actor, replace=True)
    at = run_ok(at)
    assert ":red-badge[approval withdrawn: changed since]" in texts(at)
    [notice] = [w.value for w in at.warning if "Approval withdrawn" in w.value]
    assert "approved by tester" in notice and "Aggravation rapide" in notice
    assert at.metric[3].value == "1"  # approvals withdrawn, in the summary
    at = run_ok(button(at, "Approve again").click())
    assert ":green-badge[approved]" in texts(at)
    assert not [w for w in at.warning if "Approval withdrawn" in w.value]


def test_edits_become_versions_with_a_diff_between_any_two(desk, svc, case_id):
    key = f"edit:{case_id}:need:fr"
    v0 = desk.text_area(key=key).value
    assert "[Réponse : urgence de la situation et conséquences d'une absence de traitement]" in v0
    assert "[@" not in v0 and "[?" not in v0  # references by name, never by id
    desk.text_area(key=key).input(v0.replace("Urgence :", "Urgence vitale :", 1))
    desk.text_input(key=f"{key}:note").input("stronger wording")
    at = run_ok(button(desk, "Save as a new version").click())
    v1 = at.text_area(key=key).value
    at.text_area(key=key).input(v1.replace("Bénéfice attendu :", "Bénéfice clinique attendu :", 1))
    at = run_ok(button(at, "Save as a new version").click())
    versions = svc.section_versions(case_id, "need", "fr")
    assert [v.n for v in versions] == [0, 1, 2] and versions[1].note == "stronger wording"
    assert ":blue-badge[edited · v2]" in texts(at)
    assert "Urgence vitale :" in texts(at).replace("\\", "")  # the draft shows the text in force

    # the diff between v1 and v2 (the default pair) shows only the second change
    diff = at.code[0].value
    assert "-Bénéfice attendu :" in diff and "+Bénéfice clinique attendu :" in diff and "Urgence vitale" not in diff
    at.selectbox(key=f"diff:{case_id}:need:fr:a").select(0)
    at = run_ok(at)
    diff = at.code[0].value
    assert "-Urgence :" in diff and "+Urgence vitale :" in diff and "+Bénéfice clinique attendu :" in diff


def test_an_edit_with_an_invented_citation_is_refused_and_kept(desk, svc, case_id):
    key = f"edit:{case_id}:need:fr"
    typed = desk.text_area(key=key).value + " Voir aussi [Réponse : un avis inventé]."
    desk.text_area(key=key).input(typed)
    at = run_ok(button(desk, "Save as a new version").click())
    assert any("unknown reference [Réponse : un avis inventé]" in e.value for e in at.error)
    assert at.text_area(key=key).value == typed
    typed = typed.replace("[Réponse : un avis inventé]", "[@answer:made_up]")  # a raw marker: refused too
    at.text_area(key=key).input(typed)
    at = run_ok(button(at, "Save as a new version").click())
    assert any("unknown citation [@answer:made_up]" in e.value for e in at.error)
    assert not svc.case(case_id).edits


def test_one_word_edited_in_the_readable_box_keeps_every_citation(desk, svc, case_id):
    key = f"edit:{case_id}:need:fr"
    before = svc.section_versions(case_id, "need", "fr")[0].text  # the stored form, with its markers
    shown = desk.text_area(key=key).value
    assert "[RDM art. 59(1)]" in shown and "[Lettre du médecin demandeur" not in shown
    desk.text_area(key=key).input(shown.replace("Urgence :", "Urgence vitale :", 1))
    at = run_ok(button(desk, "Save as a new version").click())
    assert "Saved as a new version." in [s.value for s in at.success]
    saved = svc.section_versions(case_id, "need", "fr")[-1].text
    assert saved == before.replace("Urgence :", "Urgence vitale :", 1)  # every [@…] marker where it was
    assert at.text_area(key=key).value == shown.replace("Urgence :", "Urgence vitale :", 1)


def test_a_comment_is_kept_with_who_and_when(desk, svc, case_id):
    desk.text_area(key=f"comment:{case_id}:need").input("Préciser le délai d'intervention (date prévue).")
    at = run_ok(button(desk, "Add the comment").click())
    [comment] = svc.case(case_id).comments
    assert (comment.section, comment.by, comment.role) == ("need", "tester", "consultant")
    assert "Préciser le délai d'intervention \\(date prévue\\)\\." in texts(at)
    assert at.text_area(key=f"comment:{case_id}:need").value == ""
    assert ":violet-badge[1 comment(s)]" in texts(at)
    [table] = [m.value for m in at.markdown if m.value.startswith("| When (UTC) | Who | Role | What | Version |")]
    newest = [cell.strip() for cell in table.splitlines()[2].strip("|").split("|")]  # the history, newest first
    assert newest[1:3] == ["tester", "Regulatory consultant"] and newest[3].startswith("commented\\: Préciser le délai")


def test_a_decision_on_an_older_version_is_refused_with_a_clear_message(desk, svc, case_id):
    svc.comment(case_id, "need", "Changed meanwhile in another window.", Actor("other", "consultant"))
    at = run_ok(button(desk, "Approve").click())
    assert any("changed in another window or by someone else" in w.value for w in at.warning)
    assert svc.case(case_id).review("need").status == "draft"
    at = run_ok(button(at, "Approve").click())  # the page now shows the latest version: it can be done
    assert svc.case(case_id).review("need").status == "approved"


def test_the_readiness_view_lists_blockers_and_sections_approved(app_test, svc, case_id):
    svc.approve(case_id, "ce_alternatives", Actor("a.reviewer", "consultant"))
    at = run_ok(app_test(role="consultant", case=case_id, view="readiness"))
    assert at.metric[0].value == "1 / 10"
    assert any("Not ready" in e.value for e in at.error)
    body = texts(at)
    assert ":red[blocker] · Justification du besoin et de l'intérêt pour le patient · missing document\\: Requesting clinician's letter" in body
    assert "4/4 answered · 0/1 mandatory documents · :red[1 blocker(s)]" in body
    assert ":green-badge[approved]" in body
    at = run_ok(button(at, "Open", 3).click())  # the 4th section: ce_alternatives
    assert at.query_params["section"] == "ce_alternatives" and at.query_params["view"] == "sections"
    assert at.subheader[0].value.startswith("4. ")


def test_an_edit_overtaken_by_a_changed_answer_shows_what_changed_until_confirmed(desk, svc, case_id, actor):
    key = f"edit:{case_id}:need:fr"
    desk.text_area(key=key).input(desk.text_area(key=key).value.replace("Urgence :", "Urgence vitale :", 1))
    run_ok(button(desk, "Save as a new version").click())
    svc.answer(case_id, "urgency", NEW_URGENCY, actor, replace=True)
    at = run_ok(desk)
    assert any("edited by hand \\(fr, v1, tester\\) before answers or documents changed" in w.value for w in at.warning)
    underneath = at.code[0].value  # the generated text the edit was made on, against the one now
    assert "+Urgence : Aggravation rapide" in underneath and "-Urgence : " in underneath
    at = run_ok(button(at, "Keep my text (confirm it)").click())
    assert not [f for f in svc.check(case_id) if f.kind == "stale_edit"]
    assert [v.n for v in svc.section_versions(case_id, "need", "fr")] == [0, 1, 2]
    assert not any("edited by hand" in w.value for w in at.warning)


def test_a_stale_hand_edit_has_a_fix_for_the_consultant_and_a_hint_for_the_manufacturer(
    app_test, desk, svc, case_id, actor
):
    key = f"edit:{case_id}:need:fr"
    desk.text_area(key=key).input(desk.text_area(key=key).value.replace("Urgence :", "Urgence vitale :", 1))
    run_ok(button(desk, "Save as a new version").click())
    svc.answer(case_id, "urgency", NEW_URGENCY, actor, replace=True)  # the manufacturer changes an answer
    at = run_ok(app_test(role="consultant", case=case_id, view="readiness"))
    [fix] = [b for b in at.button if b.label == "Fix" and b.help and "keep the edited text" in b.help]
    at = run_ok(fix.click())
    assert (at.query_params["view"], at.query_params["section"]) == ("sections", "need")
    assert button(at, "Keep my text (confirm it)") and button(at, "Back to the generated text")

    maker = run_ok(app_test(role="manufacturer", case=case_id))
    [hint] = [w.value for w in maker.warning if "ask your consultant to review it" in w.value]
    assert hint.startswith("**Need and interest for the patient")  # the section by its title, not its id
    assert not any("stale_edit" in m.value for m in maker.markdown)
    fr = run_ok(app_test(role="manufacturer", case=case_id, lang="fr"))
    assert any("demandez-lui de le relire" in w.value for w in fr.warning)


def test_no_internal_id_hash_or_path_on_the_review_desk(app_test, svc, case_id, actor, make_pdf):
    ev = svc.attach(case_id, make_pdf(["Lettre du Dr Martin, CHU de Lyon : urgence."], "lettre.pdf"), actor,
                    kind="clinician_letter").file
    for view in ("sections", "readiness"):
        at = run_ok(app_test(role="consultant", case=case_id, section="need", view=view, lang="fr"))
        shown = "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption]
                          + [e.label for e in at.expander] + [t.value for t in at.text_area])
        assert ev.id not in shown and "document:" not in shown and "[@" not in shown and "[?" not in shown
        assert "need." not in shown and "/corpus/" not in shown  # no "Réponse : need.urgency", no path
        assert "lettre.pdf" in shown or view == "readiness"


def test_a_missing_document_blocker_is_waived_from_the_readiness_view_with_a_reason(app_test, svc, case_id):
    at = run_ok(app_test(role="consultant", case=case_id, view="readiness"))
    key = f"rev-waive:{case_id}:clinician_letter"
    at.text_area(key=key).input("La lettre signée suit par courrier ; le médecin l'a confirmée par téléphone.")
    at = run_ok(at.button(key=f"blocker:waive:{_index(at, key)}").click())
    waiver = svc.case(case_id).waivers["clinician_letter"]
    assert (waiver.by, waiver.role) == ("tester", "consultant") and "courrier" in waiver.reason
    assert any("Waived" in s.value for s in at.success)


def _index(at, key: str) -> int:
    """The number of the blocker whose waiver box is `key` (its buttons are keyed by that number)."""
    waivable = [b.key for b in at.button if b.key and b.key.startswith("blocker:waive:")]
    boxes = [t.key for t in at.text_area if t.key and t.key.startswith("rev-waive:")]
    return int(waivable[boxes.index(key)].rsplit(":", 1)[1])
