"""A section's text as a reviewer edits it: the edit box, saving or confirming a version, and the
versions with the diff between any two.

The box shows the text with its references by name ([RDM art. 59(1)], [Réponse : …]), never by
id; the service maps the names back to the stored citations on save (Service.save_readable).
"""

from __future__ import annotations

import streamlit as st

from assistant.service import Case, SectionDraft, Service
from ui.state import (
    LANG_LABELS,
    actor,
    attempt,
    md,
    say,
    seen,
    service,
)
from ui.state import lang as page_lang


def version_label(v) -> str:
    """A version as the page names it, in the page's language."""
    if v.n == 0:
        return say("edit_generated")
    return say("edit_version", v.n, v.by or "?", v.at[:16].replace("T", " ") if v.at else "")


def edit_box(svc: Service, case: Case, section: SectionDraft, lang: str) -> None:
    versions = svc.readable_versions(case.id, section.section_id, lang)
    in_force = versions[-1]
    mine = [e for e in case.edits.get(section.section_id, []) if e.lang == lang]
    edited = bool(mine) and mine[-1].text is not None
    key = f"edit:{case.id}:{section.section_id}:{lang}"
    state = st.session_state
    if key not in state or (state.get(f"{key}:seen") != in_force.text and state[key] == state.get(f"{key}:seen")):
        state[key] = in_force.text
    state[f"{key}:seen"] = in_force.text
    st.caption(say("edit_caption", version_label(in_force), LANG_LABELS[lang]))
    st.text_area(say("edit_box"), key=key, height=260, label_visibility="collapsed")
    st.text_input(say("edit_note"), key=f"{key}:note")
    a, b = st.columns(2)
    a.button(
        say("edit_save"),
        type="primary",
        icon=":material/save:",
        key=f"{key}:save",
        on_click=save_edit,
        args=(case.id, section.section_id, lang, ""),
        width="stretch",
    )
    b.button(
        say("rev_back_generated"),
        icon=":material/restart_alt:",
        key=f"{key}:reset",
        width="stretch",
        on_click=save_edit,
        args=(case.id, section.section_id, lang, None),
        disabled=not edited,
    )


def save_edit(case_id: str, section_id: str, lang: str, text: str | None) -> None:
    """Save the text in the box ("") or go back to the generated text (None)."""
    key = f"edit:{case_id}:{section_id}:{lang}"
    typed = st.session_state.get(key, "")
    note = st.session_state.get(f"{key}:note", "")
    svc = service()
    if text == "":
        done = attempt(
            lambda: svc.save_readable(case_id, section_id, lang, typed, actor("consultant"), note,
                                      expected_version=seen(case_id), ui_lang=page_lang()),
            keep=(key, typed),
            success=say("edit_saved"),
        )
    else:
        done = attempt(
            lambda: svc.edit_section(case_id, section_id, lang, None, actor("consultant"), note,
                                     expected_version=seen(case_id)),
            success=say("edit_reset_done"),
        )
    if done is not None:
        st.session_state[f"{key}:note"] = ""
        if text is None:
            st.session_state.pop(key, None)


def confirm_edit(case_id: str, section_id: str, lang: str) -> None:
    """Save the text in force again, on the current facts: the edit is no longer stale."""
    svc = service()
    text = svc.section_versions(case_id, section_id, lang)[-1].text
    attempt(
        lambda: svc.edit_section(case_id, section_id, lang, text, actor("consultant"), say("edit_confirm_note"),
                                 expected_version=seen(case_id)),
        success=say("edit_confirmed"),
    )


def versions_tab(svc: Service, case: Case, section: SectionDraft, lang: str) -> None:
    versions = svc.readable_versions(case.id, section.section_id, lang)
    for v in versions:
        st.markdown(f"**{md(version_label(v))}**" + (f" — {md(v.note)}" if v.note else ""))
    if len(versions) < 2:
        st.caption(say("edit_only_generated"))
        return
    labels = {v.n: version_label(v) for v in versions}
    key = f"diff:{case.id}:{section.section_id}:{lang}"
    a, b = st.columns(2)
    ns = list(labels)
    if st.session_state.get(f"{key}:count") != len(ns):  # a new version: compare it with the one before
        st.session_state[f"{key}:a"], st.session_state[f"{key}:b"] = ns[-2], ns[-1]
        st.session_state[f"{key}:count"] = len(ns)
    first = a.selectbox(say("edit_from"), ns, format_func=labels.get, key=f"{key}:a")
    second = b.selectbox(say("edit_to"), ns, format_func=labels.get, key=f"{key}:b")
    diff = svc.readable_diff(case.id, section.section_id, lang, first, second, page_lang())
    if diff:
        st.code(diff, language="diff", wrap_lines=True)
    else:
        st.caption(say("edit_same"))
