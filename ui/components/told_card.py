""""Tell it once" in the chat: the card of what the assistant understood from the manufacturer's
description and documents. One row per fact (field, value to correct in place, where it came
from); one button records them all, nothing is recorded before (Service.confirm_told)."""

from __future__ import annotations

import streamlit as st

from assistant.service import Case, FactProposal, ServiceError
from ui.state import actor, flash, md, say, service


def _key(case_id: str) -> str:
    return f"told:{case_id}"


def held(case_id: str) -> list[FactProposal]:
    return st.session_state.get(_key(case_id), [])


def hold(case_id: str, proposals: list[FactProposal]) -> None:
    """Add proposals to the card (a later fact for the same question replaces none already there)."""
    card = {p.question_id: p for p in held(case_id)}
    for p in proposals:
        card.setdefault(p.question_id, p)
    st.session_state[_key(case_id)] = list(card.values())


def drop(case_id: str) -> None:
    st.session_state.pop(_key(case_id), None)


def tell(case_id: str, text: str) -> None:
    """Read a description; its facts (and the attached documents') go on the card."""
    from ui.state import lang

    svc = service()
    try:
        told = svc.tell(case_id, text, lang())
    except ServiceError as exc:
        flash("error", say("chat_not_saved", exc), "chat")
        st.session_state[f"chat:{case_id}"] = text
        return
    hold(case_id, told.proposals + svc.document_facts(case_id, lang()))
    for notice in told.notices:
        flash("warning", notice, "chat")
    if not held(case_id):
        flash("info", say("chat_told_nothing"), "chat")
    st.session_state[f"opened:{case_id}"] = True


def _value_shown(value: str) -> str:
    return say(f"chat_{value}") if value in ("yes", "no") else value


def _confirm(case_id: str) -> None:
    proposals = held(case_id)
    keep = [p for p in proposals if st.session_state.get(f"told-keep:{case_id}:{p.question_id}", True)]
    corrections = {}
    for p in keep:
        typed = st.session_state.get(f"told-val:{case_id}:{p.question_id}")
        if typed is not None and typed.strip() and typed.strip() != _value_shown(p.value):
            corrections[p.question_id] = typed.strip()
    svc = service()
    try:
        for ev in svc.case(case_id).evidence:  # the kind of each document, as the user left it on the card
            chosen = st.session_state.get(f"told-kind:{case_id}:{ev.id}")
            if chosen and not ev.kind_confirmed:
                svc.set_evidence_kind(case_id, ev.id, chosen, actor("manufacturer"))
        result = svc.confirm_told(case_id, keep, actor("manufacturer"), corrections)
    except ServiceError as exc:
        flash("error", say("chat_not_saved", exc), "chat")
        return
    drop(case_id)
    flash("success", say("chat_told_recorded", len(result.recorded)), "chat")
    for why in result.skipped:
        flash("warning", say("cli_tell_not_recorded", why), "chat")


def _kinds(case: Case) -> None:
    """What each document whose kind was only guessed is, to confirm or correct with the facts."""
    from ui.state import lang

    guessed = [ev for ev in case.evidence if not ev.kind_confirmed]
    if not guessed:
        return
    profile = service().profile(case)
    kinds = [k.id for k in profile.evidence_kinds if k.applies(case.request_type)]
    names = {k.id: k.name.get(lang()) for k in profile.evidence_kinds}
    st.markdown(f"**{say('chat_told_documents')}**")
    for ev in guessed:
        st.selectbox(ev.filename, kinds, index=kinds.index(ev.kind) if ev.kind in kinds else 0,
                     key=f"told-kind:{case.id}:{ev.id}", format_func=names.__getitem__)


def card(case: Case) -> bool:
    """The card, as the assistant's message in the chat; True if one is shown."""
    proposals = held(case.id)
    if not proposals:
        return False
    with st.chat_message("assistant", avatar=":material/fact_check:"), st.container(key="told-card"):
        st.markdown(f"**{say('chat_told_title', len(proposals))}**")
        st.caption(say("chat_told_how"))
        with st.form(f"told-form:{case.id}", border=False):
            for p in proposals:
                label = p.label[:1].upper() + p.label[1:]
                a, b = st.columns([1, 14], vertical_alignment="center")
                a.checkbox(label, value=True, key=f"told-keep:{case.id}:{p.question_id}", label_visibility="collapsed",
                           help=say("chat_told_keep"))
                long = len(p.value) > 90
                widget = b.text_area if long else b.text_input
                widget(label, value=_value_shown(p.value), key=f"told-val:{case.id}:{p.question_id}",
                       **({"height": 90} if long else {}))
                source = say("chat_told_source", p.where) + (
                    " · " + say("chat_told_differs", " ".join(p.current.split())[:120]) if p.current else "")
                b.caption(md(source))
            _kinds(case)
            left, right = st.columns(2)
            left.form_submit_button(say("chat_told_confirm"), type="primary", on_click=_confirm, args=(case.id,),
                                    use_container_width=True)
            right.form_submit_button(say("chat_told_discard"), on_click=drop, args=(case.id,),
                                     use_container_width=True)
    return True
