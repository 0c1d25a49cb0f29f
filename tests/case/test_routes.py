"""Route screening: the law's conclusion per case (issue 10), through the service and the CLI."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from assistant.service import Actor, Service

TODAY = dt.date(2026, 11, 30)

# An MDD certificate valid in 2021 that expired on 26 May 2024; application 10 April 2024, agreement
# 1 September 2024; the other Art. 120(3c) facts met.
LEGACY = {
    "is_ivd": "no", "custom_made": "no", "in_house": "no", "investigation_possible": "no",
    "previously_ce_marked": "yes", "certification_in_progress": "yes",
    "art97_decision_in_force": "no", "class_i_declaration": "no", "certificate_issued_from_2017": "yes",
    "certificate_withdrawn": "no", "directive_compliance": "yes", "significant_change": "no",
    "mdr_qms_by_2024": "yes", "device_class": "III",
    "previous_certificate_expiry": "2024-05-26", "nb_application_date": "2024-04-10",
    "nb_written_agreement_date": "2024-09-01",
}


def make_case(svc: Service, actor: Actor, answers: dict[str, str], request_type: str = "individual") -> str:
    case_id = svc.new_case("ansm", request_type, "Device", actor).id
    pending = dict(answers)
    while pending:  # answer in an order the conditions allow
        progressed = False
        for qid in list(pending):
            try:
                svc.answer(case_id, qid, pending[qid], actor)
            except Exception:
                continue
            del pending[qid]
            progressed = True
        assert progressed, f"cannot answer {pending}"
    return case_id


def route(svc: Service, actor: Actor, answers: dict[str, str], lang: str = "en"):
    return svc.route(make_case(svc, actor, answers), lang, today=TODAY)


def test_art120_extension_applies_and_no_derogation_is_needed(svc, actor):
    result = route(svc, actor, LEGACY)
    assert result.conclusion == "art120_extension"
    art120 = result.route("art120_extension")
    assert art120.applies == "yes"
    assert "31/12/2027" not in art120.reasons[0] and "2027-12-31" in art120.reasons[0]
    assert any(c["url"].startswith("https://eur-lex.europa.eu/") for c in art120.citations)
    derogation = result.route("derogation")
    assert derogation.applies == "no" and "no purpose" in derogation.reasons[0]
    fr = svc.route(make_case(svc, actor, LEGACY), "fr", today=TODAY).route("art120_extension")
    assert "31/12/2027" in fr.reasons[0] and "de plein droit" in fr.reasons[0]


def test_a_late_application_leads_to_a_derogation_but_is_not_its_ground(svc, actor):
    result = route(svc, actor, {**LEGACY, "nb_application_date": "2024-07-01"})
    assert result.conclusion == "derogation"
    art120 = result.route("art120_extension")
    assert art120.applies == "no" and any("26 May 2024" in r and "3c)(e)" in r for r in art120.reasons)
    reasons = " ".join(result.route("derogation").reasons)
    assert "public health or of patient safety or health" in reasons
    assert "late application or agreement with a notified body, is not such a ground" in reasons
    assert result.route("derogation").applies == "yes"
    fr = " ".join(svc.route(make_case(svc, actor, {**LEGACY, "nb_application_date": "2024-07-01"}), "fr",
                            today=TODAY).route("derogation").reasons)
    assert "intérêt de la santé publique" in fr and "n'en est pas un" in fr


def test_a_certificate_expired_before_20_march_2023_without_agreement_or_decision(svc, actor):
    answers = {**LEGACY, "previous_certificate_expiry": "2022-06-14", "agreement_before_expiry": "no",
               "prior_decision_before_2023_03_20": "no", "nb_application_date": "2023-10-02",
               "nb_written_agreement_date": "2024-01-15"}
    result = route(svc, actor, answers)
    assert result.conclusion == "derogation"
    art120 = result.route("art120_extension")
    assert art120.applies == "no" and any("20 March 2023" in r and "Q&A no. 6.1" in r for r in art120.reasons)
    # with an agreement signed before the expiry, the extension applies
    rescued = {**answers, "agreement_before_expiry": "yes"}
    del rescued["prior_decision_before_2023_03_20"]
    rescued = route(svc, actor, rescued)
    assert rescued.conclusion == "art120_extension"


def test_a_missing_fact_leaves_the_route_undetermined_and_names_it(svc, actor):
    answers = {k: v for k, v in LEGACY.items() if k != "mdr_qms_by_2024"}
    result = route(svc, actor, answers)
    assert result.conclusion == "undetermined"
    art120 = result.route("art120_extension")
    assert art120.applies == "unknown"
    assert any("quality management system (MDR Art. 10(9)) in place by 26 May 2024" in r for r in art120.reasons)
    assert result.route("derogation").applies == "unknown"
    nothing = svc.route(svc.new_case("ansm", "individual", "", actor).id, "en", today=TODAY)
    assert nothing.conclusion == "undetermined" and "in vitro diagnostic" in nothing.routes[0].reasons[0]


def test_an_unverified_condition_is_not_asserted(svc, actor):
    result = route(svc, actor, {**LEGACY, "certificate_issued_from_2017": "no"})
    art120 = result.route("art120_extension")
    assert result.conclusion == "undetermined" and art120.applies == "unknown"
    assert any("to be checked" in r for r in art120.reasons)


@pytest.mark.parametrize(("override", "conclusion"), [
    ({"custom_made": "yes"}, "custom_made"),
    ({"in_house": "yes"}, "in_house"),
    ({"investigation_possible": "yes"}, "clinical_investigation"),
    ({"art97_decision_in_force": "yes", "nb_application_date": "2024-07-01"}, "art97_decision"),
])
def test_the_other_routes(svc, actor, override, conclusion):
    result = route(svc, actor, {**LEGACY, **override})
    assert result.conclusion == conclusion
    assert result.route(conclusion).applies == "yes" and result.route(conclusion).citations
    assert result.route("derogation").applies == "no"


def test_never_certified_device_goes_to_a_derogation(svc, actor):
    answers = {"is_ivd": "no", "custom_made": "no", "in_house": "no", "investigation_possible": "no",
               "previously_ce_marked": "no", "certification_in_progress": "no"}
    result = route(svc, actor, answers)
    assert result.conclusion == "derogation"
    assert {r.id: r.applies for r in result.routes} == {
        "custom_made": "no", "in_house": "no", "clinical_investigation": "no", "art97_decision": "no",
        "art120_extension": "no", "derogation": "yes"}


def test_up_classified_class_i_under_art_120_3b(svc, actor):
    answers = {k: v for k, v in LEGACY.items() if k not in ("certificate_issued_from_2017", "certificate_withdrawn")}
    result = route(svc, actor, {**answers, "class_i_declaration": "yes", "device_class": "IIa"})
    assert result.conclusion == "art120_extension"
    assert "2028-12-31" in result.route("art120_extension").reasons[0]


IVD = {"is_ivd": "yes", "previously_ce_marked": "yes", "certification_in_progress": "yes", "device_class": "C",
       "ivdd_certificate": "yes", "directive_compliance": "yes", "significant_change": "no",
       "ivdr_qms_by_2025": "yes", "previous_certificate_expiry": "2024-12-31",
       "nb_application_date": "2025-03-01", "nb_written_agreement_date": "2025-09-01"}


def test_an_ivd_inside_the_art_110_transition(svc, actor):
    result = route(svc, actor, IVD)
    assert result.conclusion == "ivdr_art110_transition"
    assert [r.id for r in result.routes] == ["ivdr_art110_transition", "derogation"]
    assert "2027-12-31" in result.route("ivdr_art110_transition").reasons[0]
    assert "IVDR Art. 54(1)" in " ".join(result.route("derogation").reasons)


def test_an_ivd_outside_the_art_110_transition(svc, actor):
    # the IVDD certificate expired on 26 May 2024 and the agreement came only on 10 September 2024
    answers = {**IVD, "previous_certificate_expiry": "2024-05-26", "ivd_agreement_before_expiry": "no",
               "ivd_prior_decision_before_2024_07_09": "no", "nb_application_date": "2024-03-11",
               "nb_written_agreement_date": "2024-09-10"}
    result = route(svc, actor, answers)
    assert result.conclusion == "derogation"
    assert any("9 July 2024" in r for r in result.route("ivdr_art110_transition").reasons)


def test_derogation_route_on_the_command_line(cli, in_process):
    case_id = in_process("new", "--type", "individual", "--device", "Valvix", check=True).stdout.strip()
    for qid, value in {**LEGACY, "nb_application_date": "2024-07-01"}.items():  # setting up: in this process
        in_process("answer", case_id, qid, value, check=True)
    done = cli("route", case_id, "--json", check=True)
    data = json.loads(done.stdout)
    assert set(data) == {"conclusion", "routes"} and data["conclusion"] == "derogation"
    assert all(set(r) == {"id", "applies", "reasons", "citations"} for r in data["routes"])
    text = cli("route", case_id, check=True).stdout
    assert "Conclusion : derogation" in text and "intérêt de la santé publique" in text
