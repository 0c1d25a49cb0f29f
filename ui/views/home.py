"""The case list and a new case."""

from __future__ import annotations

import streamlit as st

from ui.components import progress
from ui.state import actor, attempt, go, lang, md, say, service, show_flash


def _open(case_id: str) -> None:
    go(case=case_id, view=None, section=None, ask=None)


def _create() -> None:
    device = st.session_state.get("new_device", "")
    case = attempt(lambda: service().new_case(
        st.session_state["new_authority"], st.session_state["new_type"], device, actor("manufacturer")
    ))
    if case is not None:
        st.session_state["new_device"] = ""
        go(case=case.id, role="manufacturer", view="interview")


def render() -> None:
    svc = service()
    st.title(say("home_title"))
    show_flash()
    left, right = st.columns([3, 2], gap="large")
    with right, st.container(border=True):
        st.subheader(say("home_new_case"))
        profiles = {p.id: p for p in svc.authorities()}
        names = {a: p.name.get(lang()) for a, p in profiles.items()}
        st.selectbox(say("home_authority"), list(profiles), key="new_authority", format_func=names.__getitem__)
        profile = profiles[st.session_state.get("new_authority") or next(iter(profiles))]
        kinds = {t: profile.request_type_labels[t].get(lang()) for t in profile.request_types}
        st.radio(say("home_request"), list(profile.request_types), key="new_type", horizontal=True,
                 format_func=kinds.__getitem__)
        st.text_input(say("home_device"), key="new_device", placeholder=say("home_device_example"))
        st.button(say("home_create"), type="primary", on_click=_create, icon=":material/add:")
    with left:
        progress.knowledge_base()  # the first start builds it, with a progress bar; later, nothing
        with st.spinner("Reading the cases…"):
            cases = svc.cases()
        if not cases:
            st.info(say("home_no_case"))
        for c in cases:
            with st.container(border=True):
                a, b = st.columns([4, 1], vertical_alignment="center")
                state = (":green[" + say("home_ready") + "]" if c.blockers == 0
                         else ":red[" + say("home_blockers", c.blockers) + "]")
                a.markdown(f"**{md(c.device or say('page_no_device'))}** · {c.request_type} · {c.authority.upper()}  \n"
                           + say("home_case_line", c.answered, c.open_questions, state, c.version,
                                 c.updated_at[:16].replace("T", " ")))
                b.button(say("home_open"), key=f"open:{c.id}", on_click=_open, args=(c.id,), use_container_width=True)
