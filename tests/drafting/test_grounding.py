"""The mechanical checks after every model draft: citations, quotes, numbers, dates, standards, names."""

from assistant.drafting.grounding import check_section
from assistant.drafting.model import Citation, Paragraph, SectionDraft, Span
from assistant.knowledge.passage import Passage

PASSAGES = [
    Passage(id="note:mdr-59-1.fr#0", citation="RDM art. 59(1)",
            text="Par dérogation à l'article 52, toute autorité compétente peut, « sur demande dûment justifiée », "
                 "autoriser la mise sur le marché d'un dispositif spécifique."),
    Passage(id="note:mdr-120.fr#0", citation="RDM art. 120",
            text="Le règlement (UE) 2023/607 prolonge la validité des certificats jusqu'au 31 décembre 2027."),
]
FACTS = {
    "urgency": "Sténose aortique sévère, NYHA III, intervention prévue sous 4 semaines.",
    "previous_certificate_expiry": "2024-05-26",
    "standards_applied": "EN ISO 14971:2019, ISO 10993-1",
    "device_name": "Valvix TMV-28",
}


def section(*paragraphs: list) -> SectionDraft:
    cits = {
        p.id: Citation(id=p.id, kind="passage", label=p.citation, text=p.text) for p in PASSAGES
    } | {f"answer:{q}": Citation(id=f"answer:{q}", kind="answer", label=q, source=q, text=v) for q, v in FACTS.items()}
    paras = []
    for items in paragraphs:
        spans = []
        for item in items:
            if isinstance(item, str):
                spans.append(Span(kind="text", text=item))
            elif item[0] == "cite":
                spans.append(Span(kind="cite", ref=item[1]))
            else:
                spans.append(Span(kind="placeholder", text="À COMPLÉTER", ref=item[1]))
        paras.append(Paragraph(spans=spans))
    return SectionDraft(section_id="need", number=2, title="Besoin", paragraphs=paras, citations=cits,
                        placeholders=[], evidence=[], used_answers=[], used_evidence=[], used_provisions=[],
                        fingerprint="x")


def kinds(failures):
    return sorted({f.kind for f in failures})


def test_a_grounded_section_passes():
    s = section(
        ["Le dispositif Valvix TMV-28 est demandé en urgence : sténose aortique sévère, NYHA III, intervention "
         "prévue sous 4 semaines", ("cite", "answer:urgency"), "."],
        ["Le certificat a expiré le 26 mai 2024", ("cite", "answer:previous_certificate_expiry"),
         " ; l'autorité peut agir « sur demande dûment justifiée »", ("cite", "note:mdr-59-1.fr#0"), "."],
        ["Normes appliquées : EN ISO 14971:2019 et ISO 10993-1", ("cite", "answer:standards_applied"), "."],
        ["Le règlement (UE) 2023/607 s'applique", ("cite", "note:mdr-120.fr#0"), " ", ("ph", "ci_status")],
    )
    assert check_section(s, PASSAGES, FACTS) == []


def test_a_fabricated_citation_is_caught():
    s = section(["Le besoin est établi", ("cite", "P9"), "."],
                ["Selon le patient", ("cite", "answer:invented_fact"), "."])
    failures = check_section(s, PASSAGES, FACTS)
    assert kinds(failures) == ["unknown_citation"]
    assert {f.text for f in failures} == {"P9", "answer:invented_fact"}


def test_an_invented_date_number_standard_and_name_are_caught():
    s = section(["Le certificat a expiré le 14 juillet 2023, après 12 audits selon l'IEC 62304 mené par Dekra",
                 ("cite", "answer:previous_certificate_expiry"), "."])
    failures = check_section(s, PASSAGES, FACTS)
    assert kinds(failures) == ["ungrounded_date", "ungrounded_name", "ungrounded_number", "ungrounded_standard"]
    texts = {f.text for f in failures}
    assert {"14 juillet 2023", "12", "Dekra"} <= texts


def test_a_number_is_grounded_only_by_a_passage_the_section_cites():
    uncited = section(["La validité court jusqu'au 31 décembre 2027", ("cite", "answer:urgency"), "."])
    cited = section(["La validité court jusqu'au 31 décembre 2027", ("cite", "note:mdr-120.fr#0"), "."])
    assert kinds(check_section(uncited, PASSAGES, FACTS)) == ["ungrounded_date"]
    assert check_section(cited, PASSAGES, FACTS) == []


def test_a_quote_must_occur_in_the_passage_cited_after_it():
    wrong = section(["L'autorité peut agir « dans tous les cas sans justification »", ("cite", "note:mdr-59-1.fr#0"), "."])
    other = section(["L'autorité peut agir « sur demande dûment justifiée »", ("cite", "note:mdr-120.fr#0"), "."])
    assert kinds(check_section(wrong, PASSAGES, FACTS)) == ["quote_not_found"]
    assert kinds(check_section(other, PASSAGES, FACTS)) == ["quote_not_found"]


def test_a_paragraph_without_any_citation_fails():
    s = section(["Le dispositif est indispensable."])
    assert kinds(check_section(s, PASSAGES, FACTS)) == ["uncited_paragraph"]


def test_an_empty_draft_fails():
    assert kinds(check_section(section(), PASSAGES, FACTS)) == ["empty_draft"]


# -- claims, not only tokens (issue 12) ---------------------------------------------------------------
DOCUMENT = Passage(id="ev:0123456789abcdef:p1#0", citation="Certificat CE (p. 1)", evidence_kind="previous_ce_certificate",
                   text="Certificat CE n° 2460-MDR-118734, délivré par l'organisme notifié 2460. Reçu le 21/05/2024.")


def doc_section(*paragraphs):
    s = section(*paragraphs)
    return s.model_copy(update={"citations": {**s.citations, DOCUMENT.id: Citation(
        id=DOCUMENT.id, kind="passage", label=DOCUMENT.citation, text=DOCUMENT.text)}})


def test_a_fact_only_an_uploaded_document_states_is_not_stated_as_a_case_fact():
    planted = doc_section(["Le dispositif dispose du certificat n° 2460-MDR-118734", ("cite", DOCUMENT.id), "."])
    assert "document_fact" in kinds(check_section(planted, [*PASSAGES, DOCUMENT], FACTS))
    labelled = doc_section(["D'après le certificat (non vérifié), la demande aurait été reçue le 21/05/2024",
                            ("cite", DOCUMENT.id), "."])
    assert check_section(labelled, [*PASSAGES, DOCUMENT], FACTS) == []


def test_a_sentence_of_grounded_tokens_that_claims_a_status_or_a_workflow_state_fails():
    from assistant.llm.claims import CaseFacts

    ce = section(["Le dispositif Valvix TMV-28 est marqué CE", ("cite", "answer:device_name"), "."])
    approved = section(["Cette section a été relue et approuvée", ("cite", "answer:urgency"), "."])
    expired = section(["Le certificat a expiré le 26 mai 2024 ; il n'est plus valide",
                       ("cite", "answer:previous_certificate_expiry"), "."])
    assert kinds(check_section(ce, PASSAGES, FACTS)) == ["regulatory_status_claim"]
    assert kinds(check_section(approved, PASSAGES, FACTS)) == ["workflow_claim"]
    assert check_section(expired, PASSAGES, FACTS) == []
    attached = section(["La lettre du médecin est jointe au dossier", ("cite", "answer:urgency"), "."])
    with_letter = CaseFacts(FACTS, frozenset({"clinician_letter"}), frozenset({"clinician_letter"}))
    assert check_section(attached, PASSAGES, FACTS, case=with_letter) == []
    assert kinds(check_section(attached, PASSAGES, FACTS)) == ["document_set_claim"]  # attachments unknown
