"""The content gate (drafting/content.py) and sentences fitted to the case."""

from __future__ import annotations

import pytest
from helpers import answer_all, attach_all_mandatory

from assistant.case.profile import load_profile
from assistant.drafting.content import agree, non_fact, written_in

PROFILE = load_profile("ansm")


@pytest.mark.parametrize(("qid", "value", "why"), [
    ("vigilance_contact", "n/a", "placeholder"),
    ("vigilance_contact", "NA", "placeholder"),
    ("vigilance_contact", " - ", "placeholder"),
    ("previous_certificate_number", "?", "placeholder"),
    ("storage_conditions", "TBD", "placeholder"),
    ("storage_conditions", "à venir", "placeholder"),
    ("ci_status", "voir dossier", "placeholder"),
    ("other_approvals", "aucune voir dossier", "pointer"),
    ("storage_conditions", "cf. pièce 4", "pointer"),
    ("sterility", "oui", "yes_no"),
    ("shelf_life", "Non", "yes_no"),
    ("vigilance_contact", "sans objet", "empty"),
    ("urgency", "Urgent", "one_word"),
])
def test_what_is_not_a_fact(qid, value, why):
    assert non_fact(PROFILE.question(qid), value, "ansm") == why


@pytest.mark.parametrize(("qid", "value"), [
    ("other_approvals", "aucune"),  # the question offers it
    ("authorised_representative", "sans objet (fabricant établi en France)"),
    ("sterility", "stérile, stérilisé à l'oxyde d'éthylène"),
    ("shelf_life", "3 ans"),
    ("urgency", "Décompensations répétées malgré le traitement."),
    ("ci_status", "aucune"),
    ("is_ivd", "no"),  # a yes/no question
])
def test_what_is_a_fact(qid, value):
    assert non_fact(PROFILE.question(qid), value, "ansm") is None


def test_a_non_fact_is_a_placeholder_never_a_sentence(svc, actor, make_pdf):
    case = svc.new_case("ansm", "individual", "Valvix TMV-28", actor)
    answer_all(svc, case.id, actor, {"previous_certificate_number": "n/a", "sterility": "oui"})
    attach_all_mandatory(svc, case.id, actor, make_pdf)
    draft = svc.draft(case.id, "fr", use_llm=False)
    status = draft.section("regulatory_status")
    spans = [s for p in status.paragraphs for s in p.spans]
    assert not any(s.kind == "text" and "n° n/a" in s.text for s in spans)
    gap = next(s for s in spans if s.kind == "placeholder" and s.ref == "previous_certificate_number")
    assert gap.text == "À COMPLÉTER : numéro du certificat CE antérieur (la réponse « n/a » n'est pas un fait)"
    found = [f for f in svc.check(case.id) if f.kind == "non_fact"]
    assert {f.question_id for f in found} == {"previous_certificate_number", "sterility"}
    assert all(f.blocks for f in found)
    # no second finding for the same gap
    assert not [f for f in svc.check(case.id) if f.kind == "placeholder" and f.question_id == "sterility"]


def test_the_number_of_patients_and_the_quoted_original():
    assert agree("la santé du ou des patients", "ansm", "individual", "fr") == "la santé du patient"
    assert agree("la santé du ou des patients", "ansm", "global", "fr") == "la santé des patients"
    assert agree("No device meets the patient(s)' need", "ansm", "individual", "en") == "No device meets the patient's need"
    assert written_in("Homme de 67 ans présentant une insuffisance mitrale sévère", "fr")
    assert not written_in("Man aged 67 with severe mitral regurgitation and heart failure", "fr")


def test_sentences_fit_the_case(svc, actor, make_pdf):
    """First use in humans in a child: no clinical-evaluation claim, a justification paragraph, the
    consent of the holders of parental authority; the English draft quotes the French answers."""
    case = svc.new_case("ansm", "individual", "NeuroStim", actor)
    answer_all(svc, case.id, actor, {"first_in_man": "yes", "patients_minors": "yes", "previously_ce_marked": "no"})
    attach_all_mandatory(svc, case.id, actor, make_pdf)
    fr = svc.draft(case.id, "fr", use_llm=False)
    text = "\n".join(s.plain() for sec in fr.sections for s in sec.paragraphs)
    assert "Ces données s'inscrivent dans l'évaluation clinique" not in text
    assert "Justification de la première utilisation chez l'homme au vu des données précliniques" in text
    assert "Le patient étant mineur, l'information est délivrée aux titulaires de l'autorité parentale" in text
    assert "du ou des patients" not in text and "le ou les patients" not in text
    # the precautions certificate attached by the helper says nothing of a signature: "sera signée"
    assert "sera signée par" in text and "est signée par" not in text
    en = svc.draft(case.id, "en", use_llm=False)
    need = "\n".join(p.plain() for p in en.section("need").paragraphs)
    assert "presents the following clinical situation: “Explication détaillée" in need


def test_a_paragraph_is_traced_sentence_by_sentence():
    from assistant.drafting.model import Paragraph, Span
    from assistant.drafting.spans import sentences

    paragraph = Paragraph(spans=[
        Span(kind="text", text="Au titre du règlement 2017/745 "), Span(kind="cite", ref="mdr"),
        Span(kind="text", text=" et du code "), Span(kind="cite", ref="csp"),
        Span(kind="text", text=". Urgence : "), Span(kind="placeholder", ref="urgency", text="À COMPLÉTER : urgence"),
        Span(kind="text", text=". Art. 59 le permet."),
    ])
    assert [(text, [s.ref for s in spans]) for text, spans in sentences(paragraph)] == [
        ("Au titre du règlement 2017/745 et du code.", ["mdr", "csp"]),
        ("Urgence : [À COMPLÉTER : urgence].", ["urgency"]),
        ("Art. 59 le permet.", []),
    ]
