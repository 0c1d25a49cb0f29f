"""The manufacturer's pages for one case: the interview (chat and documents), the draft preview, the export.

The view is in the URL (?view=interview|draft|export&section=…&ask=…): a refresh shows the same
page, and everything shown comes from the case store.
"""

from __future__ import annotations

import streamlit as st

from assistant.service import Case, Readiness
from ui.components import llm as llm_panels
from ui.components import progress, widgets
from ui.state import go, md, remember, service, show_flash, synced_choice
from ui.views.manufacturer import chat as manufacturer_chat
from ui.views.manufacturer import export as manufacturer_export

VIEWS = {"interview": "Interview", "draft": "Draft preview", "export": "Check & export"}


def readiness(case: Case) -> Readiness:
    """Where the case stands (the service computes it once per case version)."""
    return service().readiness(case.id)


def header(case: Case) -> None:
    profile = service().profile(case)
    st.title(case.device or "(device not named yet)")
    st.caption(f"{profile.request_type_labels[case.request_type].get('en').capitalize()} request to "
               f"{profile.id.upper()} · case {case.id} · version {case.version} · drafted in "
               f"{'French' if case.settings.language == 'fr' else 'English'}")


def render(case_id: str) -> None:
    svc = service()
    case = svc.case(case_id)
    remember(case)
    progress.knowledge_base()
    progress.documents_indexing(case.id)
    with st.spinner("Checking the case…"):
        state = readiness(case)
    profile = svc.profile(case)
    widgets.progress_sidebar(state, titles={s.id: s.title.get("en") for s in profile.sections})
    header(case)
    show_flash()
    for notice in state.notices:  # e.g. the knowledge base was unavailable: the draft cites the profile only
        st.warning(md(notice))
    view = synced_choice("view", list(VIEWS), "interview", VIEWS)
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
    profile = svc.profile(case)
    labels = {s.section_id: f"{s.number}. {profile.section(s.section_id).title.get('en')}" for s in draft.sections}
    left, right = st.columns([3, 2], gap="large")
    with left:
        chosen = synced_choice("section", ids, ids[0], labels, label="Section", widget="select")
        section = draft.section(chosen)
        with st.container(border=True):
            st.subheader(f"{section.number}. {section.title}")
            widgets.section_text(section)
        for notice in section.notices:
            st.caption(md(notice))
        llm_panels.draft_buttons(case, chosen, lang, "manufacturer")
        open_items = [p for p in section.placeholders if not p.waived]
        if open_items:
            st.markdown("**Still to complete in this section**")
            for i, ph in enumerate(open_items):
                a, b = st.columns([4, 1], vertical_alignment="center")
                a.markdown(f":orange[●] {md(ph.label)}")
                if ph.question_id:
                    b.button("Answer", key=f"ph:{chosen}:{i}", on_click=go,
                             kwargs={"view": "interview", "ask": ph.question_id})
                elif ph.evidence_kind:
                    b.button("Attach", key=f"ph:{chosen}:{i}", on_click=go,
                             kwargs={"view": "interview", "ask": None, "attach": ph.evidence_kind})
        widgets.evidence_checklist(section)
    with right:
        st.markdown("**Sources** · open one to read the passage")
        widgets.section_sources(svc, case, section, key=f"src:{chosen}")
