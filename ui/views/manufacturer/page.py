"""The manufacturer's pages for one case: the interview (chat and documents), the draft preview, the export.

The view is in the URL (?view=interview|draft|export&section=…&ask=…): a refresh shows the same
page, and everything shown comes from the case store.
"""

from __future__ import annotations

import streamlit as st

from assistant.service import Case, Readiness
from ui.components import llm as llm_panels
from ui.components import progress, widgets
from ui.state import go, md, remember, say, service, show_flash, synced_choice
from ui.state import lang as page_lang
from ui.views.manufacturer import chat as manufacturer_chat
from ui.views.manufacturer import export as manufacturer_export

VIEWS = ("interview", "draft", "export")


def readiness(case: Case) -> Readiness:
    """Where the case stands (the service computes it once per case version)."""
    return service().readiness(case.id, findings_lang=page_lang())


def header(case: Case) -> None:
    profile = service().profile(case)
    st.title(case.device or say("page_no_device"))
    st.caption(say("page_caption", profile.request_type_labels[case.request_type].get(page_lang()),
                   profile.id.upper(), case.version, say(f"page_drafted_{case.settings.language}")))


def route_banner(case: Case) -> None:
    """The legal route at the top of the case: the conclusion, its reasons and provisions."""
    result = service().route(case.id, page_lang())
    outcome = next((r for r in result.routes if r.id == result.conclusion), result.routes[-1])
    text = say("route_conclusion", say("route_" + result.conclusion))
    box = st.info if result.conclusion == "derogation" else st.warning
    with st.container(key="route-banner"):
        box(text, icon=":material/gavel:")
        with st.expander(say("chat_route_why")):
            for reason in outcome.reasons:
                st.markdown(f"- {md(reason)}")
            for cite in outcome.citations:
                st.markdown(f"- [{md(cite['label'])}]({cite['url']})")


def consultant_comments(case: Case) -> None:
    """What the consultant asked for, where the manufacturer works (newest first)."""
    comments = [c for c in case.comments if c.role != "manufacturer"]
    if not comments:
        return
    profile = service().profile(case)
    with st.container(border=True, key="consultant-comments"):
        st.markdown(f"**:material/rate_review: {say('page_comments', len(comments))}**")
        for c in reversed(comments[-5:]):
            try:
                title = profile.section(c.section).title.get(page_lang())
            except Exception:  # a section the profile no longer has: the comment still shows
                title = c.section
            a, b = st.columns([4, 1], vertical_alignment="center")
            a.markdown(f"{md(c.text)}  \n:gray[{md(title)} · {md(c.by)} · {c.at:%Y-%m-%d %H:%M} UTC]")
            b.button(say("page_open_section"), key=f"comment:{c.n}", on_click=go,
                     kwargs={"view": "draft", "section": c.section})


def stale_edit_hints(case: Case, state: Readiness) -> None:
    """A section the consultant edited by hand before an answer changed blocks the export until the
    consultant confirms or drops their text: the manufacturer is told whom to ask, not left with a
    blocker they cannot act on."""
    stale = [f for f in state.blockers if f.kind == "stale_edit"]
    if not stale:
        return
    profile = service().profile(case)
    titles = []
    for f in stale:
        try:
            titles.append(profile.section(f.section).title.get(page_lang()))
        except Exception:  # a section the profile no longer has
            titles.append(f.section)
    with st.container(key="stale-edit-hint"):
        st.warning(f"**{md(' · '.join(dict.fromkeys(titles)))}** — {say('stale_ask_consultant')}",
                   icon=":material/edit_off:")


def render(case_id: str) -> None:
    svc = service()
    case = svc.case(case_id)
    remember(case)
    progress.knowledge_base()
    progress.documents_indexing(case.id)
    with st.spinner(say("page_checking")):
        state = readiness(case)
    widgets.progress_sidebar(state, titles=svc.section_titles(case, page_lang()))
    header(case)
    widgets.progress_narrow(state)
    route_banner(case)
    consultant_comments(case)
    stale_edit_hints(case, state)
    show_flash()
    for notice in state.notices:  # e.g. the knowledge base was unavailable: the draft cites the profile only
        st.warning(md(notice))
    view = synced_choice("view", list(VIEWS), "interview", {v: say(f"page_view_{v}") for v in VIEWS})
    if view == "interview":
        manufacturer_chat.render(case)
    elif view == "draft":
        draft_preview(case)
    else:
        manufacturer_export.render(case, state)


def draft_preview(case: Case) -> None:
    """One section at a time, as the drafter writes it now, with its sources."""
    svc = service()
    lang = case.settings.language

    draft = svc.draft(case.id, lang, use_llm=False)
    llm_panels.draft_outcomes(case, lang)
    ids = [s.section_id for s in draft.sections]
    agreed = svc.section_titles(case, page_lang())
    labels = {s.section_id: f"{s.number}. {agreed.get(s.section_id, s.section_id)}" for s in draft.sections}
    left, right = st.columns([3, 2], gap="large")
    with left:
        chosen = synced_choice("section", ids, ids[0], labels, label=say("page_section"), widget="select")
        section = draft.section(chosen)
        with st.container(border=True):
            st.subheader(f"{section.number}. {section.title}")
            widgets.section_text(section)
        for notice in section.notices:
            st.caption(md(notice))
        llm_panels.draft_buttons(case, chosen, lang, "manufacturer")
        open_items = [p for p in section.placeholders if not p.waived]
        if open_items:
            st.markdown(f"**{say('page_still_to_complete')}**")
            for i, ph in enumerate(open_items):
                a, b = st.columns([4, 1], vertical_alignment="center")
                a.markdown(f":orange[●] {md(ph.label)}")
                if ph.question_id:
                    b.button(say("page_answer"), key=f"ph:{chosen}:{i}", on_click=go,
                             kwargs={"view": "interview", "ask": ph.question_id})
                elif ph.evidence_kind:
                    b.button(say("chat_attach"), key=f"ph:{chosen}:{i}", on_click=go,
                             kwargs={"view": "interview", "ask": None, "attach": ph.evidence_kind})
        widgets.evidence_checklist(section)
    with right:
        st.markdown(f"**{say('page_sources')}**")
        widgets.section_sources(svc, case, section, key=f"src:{chosen}")
