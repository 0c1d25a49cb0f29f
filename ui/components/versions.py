"""A section's text as a reviewer edits it: the edit box, saving or confirming a version, and the
versions with the diff between any two."""

from __future__ import annotations

import streamlit as st

from assistant.service import Case, SectionDraft, Service
from ui.state import (
    LANG_LABELS,
    actor,
    attempt,
    md,
    seen,
    service,
)


def edit_box(svc: Service, case: Case, section: SectionDraft, lang: str) -> None:
    versions = svc.section_versions(case.id, section.section_id, lang)
    in_force = versions[-1]
    mine = [e for e in case.edits.get(section.section_id, []) if e.lang == lang]
    edited = bool(mine) and mine[-1].text is not None
    key = f"edit:{case.id}:{section.section_id}:{lang}"
    state = st.session_state
    if key not in state or (state.get(f"{key}:seen") != in_force.text and state[key] == state.get(f"{key}:seen")):
        state[key] = in_force.text
    state[f"{key}:seen"] = in_force.text
    st.caption(
        f"Editing {in_force.label} ({LANG_LABELS[lang]}). `[@answer:…]` markers keep a citation, "
        "`[?…: …]` markers are visible gaps: keep or delete them, do not invent new ones. Paragraphs are "
        "separated by a blank line. Saving keeps your text as the next version; nothing is overwritten."
    )
    st.text_area("Section text", key=key, height=260, label_visibility="collapsed")
    st.text_input("What you changed (optional)", key=f"{key}:note")
    a, b = st.columns(2)
    a.button(
        "Save as a new version",
        type="primary",
        icon=":material/save:",
        key=f"{key}:save",
        on_click=save_edit,
        args=(case.id, section.section_id, lang, ""),
        width="stretch",
    )
    b.button(
        "Back to the generated text",
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
    body = typed if text == "" else None
    done = attempt(
        lambda: service().edit_section(
            case_id, section_id, lang, body, actor("consultant"), note, expected_version=seen(case_id)
        ),
        keep=(key, typed),
        success="Saved as a new version."
        if body is not None
        else "Back to the generated text (kept as a new version).",
    )
    if done is not None:
        st.session_state[f"{key}:note"] = ""
        if body is None:
            st.session_state.pop(key, None)


def confirm_edit(case_id: str, section_id: str, lang: str) -> None:
    """Save the text in force again, on the current facts: the edit is no longer stale."""
    svc = service()
    text = svc.section_versions(case_id, section_id, lang)[-1].text
    attempt(
        lambda: svc.edit_section(
            case_id,
            section_id,
            lang,
            text,
            actor("consultant"),
            "confirmed after the facts changed",
            expected_version=seen(case_id),
        ),
        success="Your text is confirmed on the current facts (kept as a new version).",
    )


def versions_tab(svc: Service, case: Case, section: SectionDraft, lang: str) -> None:
    versions = svc.section_versions(case.id, section.section_id, lang)
    for v in versions:
        st.markdown(f"**{md(v.label)}**" + (f" — {md(v.note)}" if v.note else ""))
    if len(versions) < 2:
        st.caption("Only the generated text so far: save an edit to compare versions.")
        return
    labels = {v.n: v.label for v in versions}
    key = f"diff:{case.id}:{section.section_id}:{lang}"
    a, b = st.columns(2)
    ns = list(labels)
    if st.session_state.get(f"{key}:count") != len(ns):  # a new version: compare it with the one before
        st.session_state[f"{key}:a"], st.session_state[f"{key}:b"] = ns[-2], ns[-1]
        st.session_state[f"{key}:count"] = len(ns)
    first = a.selectbox("From", ns, format_func=labels.get, key=f"{key}:a")
    second = b.selectbox("To", ns, format_func=labels.get, key=f"{key}:b")
    diff = svc.section_diff(case.id, section.section_id, lang, first, second)
    if diff:
        st.code(diff, language="diff", wrap_lines=True)
    else:
        st.caption("These two versions have the same text.")


