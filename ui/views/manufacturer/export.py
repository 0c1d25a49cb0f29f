"""The export panel: each blocker with a way to fix it, waivers with their reasons, the downloads."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from assistant.service import Case, Finding, Readiness, ServiceError, words
from ui.components import widgets
from ui.state import actor, attempt, go, md, memo, service, show_flash

FORMATS = {"docx": ("Word (DOCX)", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
           "md": ("Markdown", "text/markdown"), "pdf": ("PDF", "application/pdf")}
WAIVABLE = ("missing_answer", "missing_evidence", "placeholder", "thin_answer")


def _waive(case_id: str, target: str, key: str) -> None:
    reason = st.session_state.get(key, "")
    attempt(lambda: service().waive(case_id, target, reason, actor("manufacturer")), where="export",
            success=f"Waived {target}: the reason is printed in the file's checklist.")


def _withdraw(case_id: str, target: str) -> None:
    attempt(lambda: service().withdraw_waiver(case_id, target, actor("manufacturer")), where="export")


def _fix(f: Finding, i: int, case: Case) -> None:
    """The button(s) that lead to where this blocker is fixed."""
    if f.question_id:
        st.button("Answer", key=f"fix:{i}", icon=":material/edit:", on_click=go,
                  kwargs={"view": "interview", "ask": f.question_id})
    elif f.evidence_kind:
        st.button("Attach", key=f"fix:{i}", icon=":material/upload_file:", on_click=go,
                  kwargs={"view": "interview", "ask": None, "attach": f.evidence_kind})
    elif f.kind in ("not_approved", "stale_approval"):
        st.button("Review", key=f"fix:{i}", icon=":material/rate_review:", on_click=go,
                  kwargs={"role": "consultant", "view": None, "section": f.section})
    target = f.question_id or f.evidence_kind
    if target and f.kind in WAIVABLE:
        with st.popover("Waive", icon=":material/block:"):
            key = f"waive-reason:{case.id}:{target}"
            st.text_area("Why can the request go without it?", key=key,
                         placeholder="e.g. The device is supplied non-sterile; no sterilisation report applies.")
            st.button("Waive", key=f"waive:{i}", type="primary", on_click=_waive, args=(case.id, target, key))


def blockers_list(case: Case, state: Readiness) -> None:
    profile = service().profile(case)
    titles = {s.section_id: f"{s.number}. {profile.section(s.section_id).title.get('en')}" for s in state.sections}
    if not state.blockers:
        st.success("No blocker: the request can be exported.", icon=":material/task_alt:")
        return
    st.error(f"{len(state.blockers)} blocker(s) before the request can be exported. Fix each one, or waive it "
             "with a reason.", icon=":material/block:")
    for i, f in enumerate(state.blockers):
        with st.container(border=True):
            st.markdown(f"{md(f.message)}  \n:gray[{md(titles.get(f.section, f.section))}]")
            with st.container(horizontal=True):
                _fix(f, i, case)


def waivers_list(case: Case) -> None:
    if not case.waivers:
        return
    st.markdown("**Waived**")
    for target, w in case.waivers.items():
        a, b = st.columns([4, 1], vertical_alignment="center")
        a.markdown(f"{md(target)}: {md(w.reason)}  \n:gray[by {md(w.by)} on {w.at:%Y-%m-%d}]")
        b.button("Withdraw", key=f"withdraw:{target}", on_click=_withdraw, args=(case.id, target))


def export_file(case: Case, lang: str, fmt: str) -> bytes | str:
    """One format's bytes, or why it could not be written: built when asked for, with a spinner,
    and kept for the case version and language (the session's memo)."""

    def build() -> bytes | str:
        with st.spinner(f"Preparing the {FORMATS[fmt][0]} file…"), tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"request.{fmt}"
            try:
                service().export(case.id, fmt, path, lang, actor("manufacturer"))
                return path.read_bytes()
            except ServiceError as exc:  # ExportBlocked included: the case changed meanwhile
                return str(exc)
            except Exception as exc:  # noqa: BLE001 (one format failing never takes the panel down)
                return f"this format could not be made ({type(exc).__name__}); the others are available"

    return memo(f"export:{fmt}", case, lang, build)


def _prepared(case: Case, lang: str, fmt: str) -> bytes | str | None:
    held = st.session_state.get(f"memo:export:{fmt}:{case.id}")
    return held[1] if held is not None and held[0] == (case.version, lang) else None


def downloads(case: Case, state: Readiness) -> None:
    st.markdown("**Download the request**")
    langs = {"fr": "French (for the authority)", "en": "English"}
    lang = st.radio("Language", list(langs), index=list(langs).index(case.settings.language), horizontal=True,
                    format_func=langs.get, key=f"export-lang:{case.id}")
    if not state.ready:
        st.caption("The downloads are available once every blocker is fixed or waived.")
    identifying = [f for f in state.warnings if f.kind == "patient_identifier"]
    if identifying:  # patient data (assistant/case/privacy.py): the file will carry it
        st.warning(words("privacy_export", lang, n=len(identifying)), icon=":material/shield_person:")
    stem = f"derogation-{case.id}-{lang}"
    for fmt, (label, mime) in FORMATS.items():
        data = _prepared(case, lang, fmt) if state.ready else None
        if data is None and state.ready:
            if not st.button(f"Prepare {label}", key=f"prepare:{fmt}", icon=":material/description:",
                             use_container_width=True, type="primary" if fmt == "docx" else "secondary"):
                continue
            data = export_file(case, lang, fmt)
        if isinstance(data, str):
            st.error(f"{label}: {md(data)}")
            continue
        st.download_button(label, data=data or b"", file_name=f"{stem}.{fmt}", mime=mime, disabled=data is None,
                           key=f"dl:{fmt}", icon=":material/download:", on_click="ignore", use_container_width=True,
                           type="primary" if fmt == "docx" and data else "secondary")


def render(case: Case, state: Readiness) -> None:
    show_flash("export")
    left, right = st.columns([3, 2], gap="large")
    with left:
        blockers_list(case, state)
        waivers_list(case)
        with st.expander(f"Warnings ({len(state.warnings)})", icon=":material/warning:"):
            widgets.findings_list(state.warnings, "No warning.", {s.section_id: s.title for s in state.sections})
    with right, st.container(border=True):
        downloads(case, state)
