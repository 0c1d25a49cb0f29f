"""The manufacturer's panel for the treating physician's letter: create a link that opens only
this case's letter, see where the letter stands, revoke links."""

from __future__ import annotations

import streamlit as st

from ui.state import actor as session_actor
from ui.state import attempt, config, md, say, service, show_flash


def clinician_link_panel(case_id: str) -> None:
    """Create a link that opens only this case's letter flow; see the letter's state; revoke links."""
    svc = service()
    case = svc.case(case_id)
    st.markdown(f"**{say('link_title')}**")
    status = svc.letter_status(case_id, session_actor())
    attached = next((e for e in case.evidence if e.id == case.letter.attached_evidence), None)
    state = say("link_attached", md(attached.filename)) if attached else say("link_filled", status.filled, status.required)
    who = case.letter.fields.get("physician_name")
    st.caption(say("link_state", state) + (say("link_by", md(who)) if who else ""))
    key = f"cliniclink:{case_id}"
    shown = st.session_state.get(f"{key}:new")
    if shown:
        st.success(say("link_send"), icon=":material/link:")
        st.code(shown, language=None, wrap_lines=True)
        st.button(say("link_copied"), key=f"{key}:hide", on_click=st.session_state.pop, args=(f"{key}:new", None))
    with st.form(f"{key}:form", clear_on_submit=True, border=False):
        st.text_input(
            say("link_for_whom"),
            key=f"{key}:label",
            placeholder=say("link_for_whom_example"),
            help=say("link_for_whom_help"),
        )
        st.form_submit_button(
            say("link_create"), icon=":material/add_link:", on_click=_create_link, args=(case_id,)
        )
    show_flash(key)
    for link in case.clinician_links:
        if link.revoked:
            continue
        a, b = st.columns([4, 1], vertical_alignment="center")
        a.markdown(
            f":material/link: {md(link.label or say('link_unnamed'))}  \n"
            + say("link_line", md(link.by), f"{link.at:%Y-%m-%d %H:%M}")
        )
        b.button(say("link_revoke"), key=f"{key}:revoke:{link.id}", on_click=_revoke_link, args=(case_id, link.id))


def _create_link(case_id: str) -> None:
    key = f"cliniclink:{case_id}"
    label = st.session_state.get(f"{key}:label", "")
    made = attempt(lambda: service().create_clinician_link(case_id, session_actor("manufacturer"), label), key)
    if made is not None:
        st.session_state[f"{key}:new"] = link_url(case_id, made[1])
        st.session_state[f"cliniclink-panel:{case_id}"] = True  # the panel that shows the one-time link stays open


def link_url(case_id: str, token: str) -> str:
    """The link as the physician opens it: on the configured public address (DEROGATION_PUBLIC_URL,
    read once in Config), else on the address this page was opened with."""
    base = (config().public_url or (st.context.url or "").split("?")[0]).rstrip("/")
    return f"{base}/?case={case_id}&token={token}"


def _revoke_link(case_id: str, link_id: str) -> None:
    key = f"cliniclink:{case_id}"
    attempt(
        lambda: service().revoke_clinician_link(case_id, link_id, session_actor("manufacturer")),
        key,
        success=say("link_revoked"),
    )
