"""Contradictions (profiles/consistency/ansm.yaml): each rule's finding names both values and both
sources, blocks the export, and is lifted by a correction or by a reviewer accepting it with a reason."""

from __future__ import annotations

import pytest
from helpers import answer_all, attach_all_mandatory

from assistant.service import ExportBlocked, ServiceError

CERTIFICATE = ("CertiMed Notified Body (fictional), NB 9876\n\nEC DESIGN-EXAMINATION CERTIFICATE\nDirective 93/42/EEC\n\n"
               "Certificate No. CM-734215\nProduct: Valvix TMV-28 (class IIb)\nDate of issue: 01/06/2024\n"
               "Valid until: 26/05/2024")
IFU = ("Notice d'utilisation - Valvix TMV-28\n\nDispositif stérile, stérilisé à l'oxyde d'éthylène. "
       "Durée de validité : 24 mois.\nConserver entre 5 et 25 °C.")
ATTESTATION = ("Valvix Medical SAS - Attestation que toutes les précautions nécessaires ont été prises pour la sécurité "
               "du patient P-001.\n\nFait à Montpellier, le 5 novembre 2026.\nSigné : Claire Roussel")
CONTRADICTING = {
    "device_class": "III",
    "previous_certificate_number": "CM-111111",
    "previous_certificate_nb": "BodyCert, NB 1234",
    "previous_certificate_expiry": "2024-05-26",
    "nb_application_date": "2024-09-15",
    "nb_written_agreement_date": "2024-08-01",
    "shelf_life": "18 mois",
    "sterility": "non stérile",
    "storage_conditions": "au réfrigérateur, entre 2 et 8 °C",
    "precautions_signatory": "Paul Martin, pharmacien responsable",
    "no_ce_reason": "Le certificat CE a expiré en juin 2024 ; des dérogations individuelles sont accordées depuis juin "
                    "2022 et la demande de certification a été déposée le 1er octobre 2024.",
    "clinical_data_summary": "Trente patients traités sous dérogation ; ces dérogations ont cours depuis octobre 2023, "
                             "avec un suivi de deux ans et aucun incident grave déclaré, succès procédural de 94 %.",
}


@pytest.fixture
def contradicted(svc, actor, make_pdf):
    case = svc.new_case("ansm", "individual", "Valvix TMV-28", actor)
    answer_all(svc, case.id, actor, CONTRADICTING)
    svc.attach(case.id, make_pdf([CERTIFICATE], "certificat.pdf"), actor, kind="previous_ce_certificate")
    svc.attach(case.id, make_pdf([IFU], "notice.pdf"), actor, kind="ifu_labelling")
    svc.attach(case.id, make_pdf([ATTESTATION], "attestation.pdf"), actor, kind="precautions_certificate")
    attach_all_mandatory(svc, case.id, actor, make_pdf)
    return case.id


def test_each_rule_names_both_values_and_both_sources(svc, contradicted):
    found = {f.rule: f for f in svc.check(contradicted) if f.kind == "contradiction"}
    expected = {
        "application_before_agreement": ["1 August 2024", "15 September 2024",
                                         'answer "date of the written agreement with the notified body"'],
        "certificate_issued_before_expiry": ["1 June 2024", "certificat.pdf, p. 1", "26 May 2024",
                                             'answer "CE certificate expiry date"'],
        "document_certificate_number": ['"CM-111111"', '"CM-734215"', "certificat.pdf, p. 1"],
        "document_notified_body": ["NB 1234", "NB 9876", "certificat.pdf, p. 1"],
        "document_shelf_life": ['"18 mois"', '"24 mois"', "notice.pdf, p. 1", 'answer "shelf life (expiry date)"'],
        "document_storage": ["entre 2 et 8 °C", "5 et 25 °C", "notice.pdf, p. 1"],
        "document_sterility": ['"non stérile"', "stérile, stérilisé à l'oxyde d'éthylène", "notice.pdf, p. 1"],
        "document_signatory": ["Paul Martin", "Claire Roussel", "attestation.pdf, p. 1"],
        "expiry_in_reason": ["26 May 2024", "juin 2024", '"why the device has no CE marking"'],
        "application_in_reason": ["15 September 2024", "1er octobre 2024"],
        "derogations_since": ["juin 2022", "octobre 2023", '"summary of the clinical data"'],
        "class_change": ["IIb under the Directive (certificat.pdf, p. 1)", "III under the MDR"],
    }
    assert set(expected) <= set(found), sorted(found)
    for rule, values in expected.items():
        assert found[rule].severity == "blocker" and found[rule].blocks
        for value in values:
            assert value in found[rule].message, (rule, value, found[rule].message)
        assert len(found[rule].sides) == 2 and all(v and src for v, src in found[rule].sides)  # shown apart on the page
    assert found["document_shelf_life"].sides == [("18 mois", 'answer "shelf life (expiry date)"'),
                                                  ("24 mois", "notice.pdf, p. 1")]


def test_a_date_in_the_future_where_a_past_one_is_asked(svc, actor, make_pdf):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    answer_all(svc, case.id, actor, {"nb_written_agreement_date": "2099-01-15"})
    found = [f for f in svc.check(case.id) if f.rule == "past_dates"]
    assert len(found) == 1 and "15 January 2099" in found[0].message and "after the case's date" in found[0].message


def test_a_contradiction_blocks_export_until_accepted_with_a_reason(svc, actor, contradicted, tmp_path):
    with pytest.raises(ExportBlocked) as refused:
        svc.export(contradicted, "docx", tmp_path / "s.docx")
    assert any(f.rule == "document_shelf_life" for f in refused.value.blockers)
    with pytest.raises(ServiceError, match="a waiver needs a reason"):
        svc.waive(contradicted, "document_shelf_life", "ok", actor)
    svc.waive(contradicted, "document_shelf_life", "Le lot concerné suit l'ancienne spécification de 18 mois", actor)
    shelf = next(f for f in svc.check(contradicted) if f.rule == "document_shelf_life")
    assert shelf.waived and not shelf.blocks and "ancienne spécification" in shelf.waiver_reason
    # the others still block; the accepted one appears in the review pack with who and when
    assert any(f.rule == "class_change" and f.blocks for f in svc.check(contradicted))
    svc.export(contradicted, "md", tmp_path / "r.md", pack="review")
    review = (tmp_path / "r.md").read_text(encoding="utf-8")
    assert "Durée de validité : réponse et pièce" in review and "tester" in review


def test_correcting_one_side_lifts_the_contradiction(svc, actor, contradicted):
    svc.answer(contradicted, "shelf_life", "24 mois", actor, replace=True)
    svc.answer(contradicted, "nb_written_agreement_date", "2025-01-20", actor, replace=True)
    rules = {f.rule for f in svc.check(contradicted)}
    assert "document_shelf_life" not in rules and "application_before_agreement" not in rules


def test_documents_are_checked_against_their_kind(svc, actor, make_pdf):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    answer_all(svc, case.id, actor)
    svc.attach(case.id, make_pdf(["Lorem ipsum dolor sit amet, consectetur adipiscing elit."], "plan.pdf"), actor,
               kind="certification_plan")
    svc.attach(case.id, make_pdf(["Service de cardiologie : lettre pour une réparation urgente."], "lettre.pdf"),
               actor, kind="clinician_letter")
    svc.attach(case.id, make_pdf(["Certificat CE pour le dispositif, organisme notifié NB 9876."], "cert.pdf"), actor,
               kind="previous_ce_certificate")
    found = {f.evidence_kind: f for f in svc.check(case.id) if f.kind in ("document_check", "document_kind")}
    assert found["certification_plan"].kind == "document_kind" and "plan.pdf does not read like" in \
        found["certification_plan"].message
    assert "the physician's name, the patient's pseudonym, a signature" in found["clinician_letter"].message
    assert "the certificate number" in found["previous_ce_certificate"].message
    assert "the dates" in found["previous_ce_certificate"].message
    assert all(f.severity == "warning" for f in found.values())


def test_an_unknown_rule_cannot_be_waived(svc, actor):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    with pytest.raises(ServiceError, match="consistency rule"):
        svc.waive(case.id, "no_such_rule", "because of a good reason", actor)
