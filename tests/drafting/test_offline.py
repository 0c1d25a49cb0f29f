from helpers import answer_all

from assistant.documents import request as export


def _markdown(svc, case_id, lang="fr"):
    case = svc.case(case_id)
    return export.to_markdown(svc.profile(case), case, svc.draft(case_id, lang))


def test_an_empty_case_drafts_every_section_with_placeholders_and_invents_nothing(svc, actor):
    case = svc.new_case("ansm", "individual", "Valvix TMV-28", actor)
    draft = svc.draft(case.id, "fr")
    assert [s.section_id for s in draft.sections][:2] == ["identification", "need"]
    assert "prior_derogations" not in [s.section_id for s in draft.sections]
    text = _markdown(svc, case.id)
    assert "À COMPLÉTER : raison sociale du fabricant" in text
    assert "À COMPLÉTER : état clinique du patient" in text
    assert "Valvix TMV-28" in text
    # a screening answer nobody gave shows as a gap, not as a guess either way
    assert "À COMPLÉTER : marquage CE antérieur (oui/non)" in text
    assert "n'a jamais porté le marquage CE" not in text and "a précédemment bénéficié" not in text


def test_every_answer_is_cited_where_it_is_used_and_provisions_link_to_the_official_text(svc, actor):
    case = svc.new_case("ansm", "individual", "Valvix TMV-28", actor)
    svc.answer(case.id, "is_ivd", "no", actor)  # the legal basis cited depends on it
    svc.answer(case.id, "urgency", "Trois hospitalisations en dix mois malgré un traitement maximal ; intervention prévue sous quatre semaines selon l'équipe de cardiologie, pronostic défavorable à un an.", actor)
    need = svc.draft(case.id, "fr").section("need")
    assert "answer:urgency" in need.citations and "urgency" in need.used_answers
    text = _markdown(svc, case.id)
    assert "Trois hospitalisations en dix mois" in text
    assert "\\[Réponse : urgence de la situation et conséquences d'une absence de traitement\\]" in text
    assert "need.urgency" not in text  # the question's name, never its key
    assert "[RDM art. 59(1)](https://eur-lex.europa.eu/eli/reg/2017/745)" in text
    assert "[CSP art. L. 5211-3 II](https://www.legifrance.gouv.fr/" in text


def test_a_fact_found_in_an_attached_document_cites_the_document_and_its_page(svc, actor, make_pdf):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    svc.answer(case.id, "previously_ce_marked", "yes", actor)
    svc.answer(case.id, "previous_certificate_number", "CM-734215", actor)
    pdf = make_pdf(["CertiMed, cover letter", "Certificate No. CM-734215, class III"], "certificat.pdf")
    svc.attach(case.id, pdf, actor, kind="previous_ce_certificate")
    section = svc.draft(case.id, "fr").section("regulatory_status")
    labels = [c.label for c in section.citations.values() if c.kind == "evidence"]
    assert "Certificat CE antérieur – certificat.pdf, p. 2" in labels


def test_english_draft_on_request_with_english_placeholders(svc, actor):
    case = svc.new_case("ansm", "global", "OsteoRod", actor)
    svc.answer(case.id, "is_ivd", "no", actor)
    text = _markdown(svc, case.id, "en")
    assert "TO COMPLETE: target patient population" in text
    assert "## 10. Assessment of the derogations already granted" in text
    assert "MDR Art. 59(2)" in text


def test_ivd_requests_cite_the_ivdr_and_the_ivd_article_of_the_code(svc, actor):
    case = svc.new_case("ansm", "individual", "Test PCR-X", actor)
    svc.answer(case.id, "is_ivd", "yes", actor)
    text = _markdown(svc, case.id)
    assert "RDIV art. 54(1)" in text and "CSP art. L. 5221-3 II" in text
    assert "RDM art. 59(1)" not in text.split("## 2.")[0]


def test_drafting_is_deterministic(svc, actor):
    case = svc.new_case("ansm", "individual", "Valve", actor)
    answer_all(svc, case.id, actor)
    assert svc.draft(case.id, "fr") == svc.draft(case.id, "fr")


def test_a_section_repeated_by_a_series_of_guides_is_cited_with_where_else_it_stands(svc, actor):
    """The search shows a section that each device-specific vigilance guide repeats word for word as
    one hit, under the first-ranked guide's number. A valve's request citing only the CIED guide
    would send the assessor to the wrong document: the citation names the others too."""
    from assistant.drafting.offline import compose
    from assistant.knowledge.passage import Passage

    repeated = Passage(id="passage:cied-2", citation="MDCG 2024-1-1 § 2", text="Trend reporting ...",
                       url="https://health.ec.europa.eu/document/download/mdcg_2024-1-1_en", kind="guidance",
                       same_text_in=("MDCG 2024-1-3 § 2", "MDCG 2024-1-2 § 2"))
    case = svc.new_case("ansm", "individual", "Valvix TMV-28", actor)
    profile = svc.profile(svc.case(case.id))
    for lang, label in (("en", "MDCG 2024-1-1 § 2 (same text in MDCG 2024-1-3 § 2; MDCG 2024-1-2 § 2)"),
                        ("fr", "MDCG 2024-1-1 § 2 (même texte dans MDCG 2024-1-3 § 2; MDCG 2024-1-2 § 2)")):
        draft = compose(profile, svc.case(case.id), lang, passages_for=lambda _section: [repeated])
        assert {s.citations["passage:cied-2"].label for s in draft.sections} == {label}
        assert f"[{label}](" in export.to_markdown(profile, svc.case(case.id), draft)
