from pathlib import Path

import pytest
import yaml

from assistant.case.profile import PROFILE_DIR, ProfileError, load_profile, load_profile_file
from assistant.drafting.model import Draft
from assistant.errors import NotFound, ServiceError

SECTION_ORDER = [
    "identification", "need", "clinical_investigation", "ce_alternatives", "therapeutic_alternatives",
    "regulatory_status", "safety_performance", "device_characteristics", "conformity_declaration",
    "prior_derogations", "commitments",
]
EVIDENCE_KINDS = {
    "clinician_letter", "clinical_data", "preclinical_reports", "previous_ce_certificate",
    "notified_body_correspondence", "certification_plan", "declaration_of_conformity",
    "precautions_certificate", "ifu_labelling", "risk_management", "prior_derogations_assessment",
}


def test_ansm_profile_declares_the_sections_in_ansm_order_and_the_evidence_kinds():
    profile = load_profile("ansm")
    assert [s.id for s in profile.sections] == SECTION_ORDER
    assert {k.id for k in profile.evidence_kinds} >= EVIDENCE_KINDS
    assert profile.section("prior_derogations").applies_to == ("global",)
    assert profile.evidence_kind("prior_derogations_assessment").applies_to == ("global",)
    assert profile.evidence_kind("preclinical_reports").mandatory_when == {"first_in_man": "yes"}
    for q in profile.all_questions():
        assert q.text.fr and q.text.en and q.label.fr and q.label.en


def _broken(tmp_path: Path, mutate) -> Path:
    data = yaml.safe_load((PROFILE_DIR / "ansm.yaml").read_text(encoding="utf-8"))
    mutate(data)
    out = tmp_path / "broken.yaml"
    out.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return out


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["sections"][1]["questions"][0].update(type="essay"), "sections[1] (need).questions[0] (patient_condition).type"),
        (lambda d: d["sections"][0]["questions"][4].pop("text"), "sections[0] (identification).questions[4] (applicant_name).text"),
        (lambda d: d["sections"][2]["paragraphs"][0].update(fr="Voir {nowhere}"), "unknown question 'nowhere'"),
        (lambda d: d["evidence_kinds"][0].update(sections=["nope"]), "evidence_kinds[0] (clinician_letter).sections: unknown section 'nope'"),
        (lambda d: d["sections"][5]["questions"][1].update(when={"ghost": "yes"}), "unknown question 'ghost'"),
        (lambda d: d["sections"][5]["questions"][1].update(when={"is_ivd": {"after": "2020-01-01"}}), "unknown operator 'after'"),
        (lambda d: d["sections"][0]["questions"].append(dict(d["sections"][0]["questions"][0])), "duplicate id 'is_ivd'"),
    ],
)
def test_a_broken_profile_is_a_clear_error_naming_the_file_and_the_field(tmp_path, mutate, expected):
    path = _broken(tmp_path, mutate)
    with pytest.raises(ProfileError) as err:
        load_profile_file(path)
    assert str(path) in str(err.value)
    assert expected in str(err.value)


def test_invalid_yaml_and_unknown_authority_are_clear_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("sections: [unclosed", encoding="utf-8")
    with pytest.raises(ProfileError, match="not valid YAML"):
        load_profile_file(bad)
    with pytest.raises(ProfileError, match="no profile for authority 'bfarm'.*ansm"):
        load_profile("bfarm")
    with pytest.raises(ProfileError, match="invalid authority id"):
        load_profile("../etc")


@pytest.mark.parametrize(("lookup", "message"), [
    (lambda p: p.question("x"), "unknown question 'x' for authority ansm"),
    (lambda p: p.section_of("x"), "unknown question 'x' for authority ansm"),
    (lambda p: p.section("x"), "unknown section 'x' for authority ansm"),
    (lambda p: p.provision("x"), "unknown provision 'x' for authority ansm"),
    (lambda p: p.evidence_kind("x"), "unknown evidence kind 'x' for authority ansm (one of clinician_letter, "),
])
def test_an_id_the_profile_does_not_know_is_a_named_error_with_a_one_line_message(lookup, message):
    with pytest.raises(NotFound) as err:
        lookup(load_profile("ansm"))
    assert str(err.value).startswith(message) and "\n" not in str(err.value)
    assert isinstance(err.value, ServiceError) and isinstance(err.value, KeyError)  # older `except`s still catch it


def test_a_section_the_draft_does_not_have_is_a_named_error():
    draft = Draft(case_id="ansm-1", authority="ansm", lang="fr", title="t", request_type="individual",
                  request_type_label="i", case_version=1, sections=[])
    with pytest.raises(NotFound, match="^unknown section 'need' for case ansm-1$"):
        draft.section("need")
