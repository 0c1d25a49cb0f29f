"""The case list and a new case."""

from __future__ import annotations

import streamlit as st

from ui.components import progress
from ui.state import actor, attempt, go, md, service, show_flash


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
    st.title("Derogation requests")
    show_flash()
    left, right = st.columns([3, 2], gap="large")
    with right, st.container(border=True):
        st.subheader("New case")
        profiles = {p.id: p for p in svc.authorities()}
        st.selectbox("Authority", list(profiles), key="new_authority", format_func=lambda a: profiles[a].name.get("en"))
        profile = profiles[st.session_state.get("new_authority") or next(iter(profiles))]
        st.radio("Request", list(profile.request_types), key="new_type", horizontal=True,
                 format_func=lambda t: profile.request_type_labels[t].get("en"))
        st.text_input("Device trade name", key="new_device", placeholder="e.g. Valvix TMV-28")
        st.button("Create the case", type="primary", on_click=_create, icon=":material/add:")
    with left:
        progress.knowledge_base()  # the first start builds it, with a progress bar; later, nothing
        with st.spinner("Reading the cases…"):
            cases = svc.cases()
        if not cases:
            st.info("No case yet. Create one on the right: the assistant then asks, one question at a time, "
                    "what the authority needs.")
        for c in cases:
            with st.container(border=True):
                a, b = st.columns([4, 1], vertical_alignment="center")
                state = ":green[ready to export]" if c.blockers == 0 else f":red[{c.blockers} blocker(s)]"
                a.markdown(f"**{md(c.device or '(no device name yet)')}** · {c.request_type} · {c.authority.upper()}  \n"
                           f"{c.answered} answered · {c.open_questions} open question(s) · {state} · "
                           f"v{c.version} · updated {c.updated_at[:16].replace('T', ' ')} UTC")
                a.caption(c.id)
                b.button("Open", key=f"open:{c.id}", on_click=_open, args=(c.id,), use_container_width=True)
