"""The export panel: each blocker with a way to fix it (or to waive it, or to accept a contradiction,
with a reason), the waivers with their reasons, the submission's downloads and the review pack's.

Every word on it comes from assistant/words.yaml (group `export_page`) in the page's language."""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from assistant.service import Case, Finding, Readiness, ServiceError, words
from ui.state import actor, attempt, go, lang, md, memo, say, service, show_flash

MIME = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "md": "text/markdown", "pdf": "application/pdf"}
SUBMISSION_FORMATS = ("docx", "md", "pdf")
REVIEW_FORMATS = ("docx", "md")  # the review pack is a working document: no PDF
WAIVABLE = ("missing_answer", "missing_evidence", "placeholder", "thin_answer", "non_fact")


def _label(fmt: str) -> str:
    return say(f"exp_fmt_{fmt}")


def _waive(case_id: str, target: str, key: str, success: str) -> None:
    reason = st.session_state.get(key, "")
    attempt(lambda: service().waive(case_id, target, reason, actor("manufacturer")), where="export",
            keep=(key, reason), success=success)


def _withdraw(case_id: str, target: str) -> None:
    attempt(lambda: service().withdraw_waiver(case_id, target, actor("manufacturer")), where="export")


def _reason_popover(case: Case, i: int, target: str, button: str, why: str, example: str, success: str,
                    icon: str = ":material/block:") -> None:
    """A button opening a reason field; the reason is recorded by the same `waive` as the CLI's."""
    with st.popover(button, icon=icon):
        key = f"waive-reason:{case.id}:{target}"
        st.text_area(why, key=key, placeholder=example)
        st.button(button, key=f"waive:{target}", type="primary", on_click=_waive, args=(case.id, target, key, success))


def _fix(f: Finding, i: int, case: Case, offered: set[str]) -> None:
    """The button(s) that lead to where this blocker is fixed, or lift it with a reason (once per
    target: a rule may name several findings, and one reason accepts them all)."""
    if f.question_id:
        st.button(say("exp_fix_answer"), key=f"fix:{i}", icon=":material/edit:", on_click=go,
                  kwargs={"view": "interview", "ask": f.question_id})
    elif f.evidence_kind:
        st.button(say("exp_fix_attach"), key=f"fix:{i}", icon=":material/upload_file:", on_click=go,
                  kwargs={"view": "interview", "ask": None, "attach": f.evidence_kind})
    elif f.kind in ("not_approved", "stale_approval"):
        st.button(say("exp_fix_review"), key=f"fix:{i}", icon=":material/rate_review:", on_click=go,
                  kwargs={"role": "consultant", "view": None, "section": f.section})
    if f.kind == "contradiction" and f.rule:
        if f.rule in offered:
            return
        offered.add(f.rule)
        name = service().target_label(case.id, f.rule, lang())
        _reason_popover(case, i, f.rule, say("exp_accept"), say("exp_accept_why"), say("exp_accept_example"),
                        say("exp_accepted_flash", name), icon=":material/rule:")
        return
    target = f.question_id or f.evidence_kind
    if target and f.kind in WAIVABLE and target not in offered:
        offered.add(target)
        name = service().target_label(case.id, target, lang())
        if f.kind == "non_fact":
            _reason_popover(case, i, target, say("exp_keep_non_fact"), say("exp_keep_non_fact_why"),
                            say("exp_waive_example"), say("exp_waived_flash", name))
        else:
            _reason_popover(case, i, target, say("exp_waive"), say("exp_waive_why"), say("exp_waive_example"),
                            say("exp_waived_flash", name))


def _sides(f: Finding) -> None:
    """A contradiction's two values, each with where it was read."""
    if not f.sides:
        return
    st.markdown(say("exp_contradiction_sides") + "\n" + "\n".join(
        f"- {md(say('exp_side', value, source))}" for value, source in f.sides))


def blockers_list(case: Case, state: Readiness) -> None:
    agreed = service().section_titles(case, lang())
    titles = {s.section_id: f"{s.number}. {agreed.get(s.section_id, s.section_id)}" for s in state.sections}
    if not state.blockers:
        st.success(say("exp_no_blocker"), icon=":material/task_alt:")
        return
    st.error(say("exp_blockers", len(state.blockers)), icon=":material/block:")
    offered: set[str] = set()
    for i, f in enumerate(state.blockers):
        with st.container(border=True):
            st.markdown(f"{md(f.message)}  \n:gray[{md(titles.get(f.section, f.section))}]")
            _sides(f)
            with st.container(horizontal=True):
                _fix(f, i, case, offered)


def waivers_list(case: Case) -> None:
    if not case.waivers:
        return
    st.markdown(f"**{say('exp_waived_title')}**")
    for target, w in case.waivers.items():
        a, b = st.columns([4, 1], vertical_alignment="center")
        name = service().target_label(case.id, target, lang())
        a.markdown(f"{md(name)}: {md(w.reason)}  \n:gray[{md(say('exp_waived_line', w.by, f'{w.at:%Y-%m-%d}'))}]")
        b.button(say("exp_withdraw"), key=f"withdraw:{target}", on_click=_withdraw, args=(case.id, target))


def warnings_list(state: Readiness) -> None:
    titles = {s.section_id: s.title for s in state.sections}
    with st.expander(say("exp_warnings", len(state.warnings)), icon=":material/warning:"):
        if not state.warnings:
            st.caption(say("exp_no_warning"))
        for f in state.warnings:
            st.markdown(f":orange[{say('exp_severity_warning')}] · {md(titles.get(f.section, f.section))} · "
                        f"{md(f.message)}")
            _sides(f)


def export_file(case: Case, file_lang: str, fmt: str, pack: str = "submission") -> bytes | str:
    """One file's bytes, or why it could not be written: built when asked for, with a spinner, and
    kept for the case version and language (the session's memo)."""

    def build() -> bytes | str:
        with st.spinner(say("exp_preparing", _label(fmt))), tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{pack}.{fmt}"
            try:
                service().export(case.id, fmt, path, file_lang, actor("manufacturer"), pack=pack)
                return path.read_bytes()
            except ServiceError as exc:  # ExportBlocked included: the case changed meanwhile
                return str(exc)
            except Exception as exc:  # noqa: BLE001 (one format failing never takes the panel down)
                return say("exp_cannot_make", type(exc).__name__)

    return memo(_memo_name(pack, fmt), case, file_lang, build)


def _memo_name(pack: str, fmt: str) -> str:
    return f"export:{fmt}" if pack == "submission" else f"export:{pack}:{fmt}"


def _prepared(case: Case, file_lang: str, fmt: str, pack: str) -> bytes | str | None:
    held = st.session_state.get(f"memo:{_memo_name(pack, fmt)}:{case.id}")
    return held[1] if held is not None and held[0] == (case.version, file_lang) else None


def _offer(case: Case, file_lang: str, fmt: str, pack: str, label: str, allowed: bool) -> None:
    """A "prepare" button, then the download of the prepared file (or why it could not be made)."""
    suffix = "" if pack == "submission" else f"-{pack}"
    key = f"{fmt}" if pack == "submission" else f"{pack}:{fmt}"
    data = _prepared(case, file_lang, fmt, pack) if allowed else None
    slot = st.empty()  # the "prepare" button, replaced by the download once the file is made
    if data is None and allowed:
        if not slot.button(say("exp_prepare", label), key=f"prepare:{key}", icon=":material/description:",
                           use_container_width=True, type="primary" if fmt == "docx" and pack == "submission" else
                           "secondary"):
            return
        data = export_file(case, file_lang, fmt, pack)
    if isinstance(data, str):
        slot.error(f"{label}: {md(data)}")
        return
    slot.download_button(label, data=data or b"", file_name=f"derogation-{case.id}-{file_lang}{suffix}.{fmt}",
                       mime=MIME[fmt], disabled=data is None, key=f"dl:{key}", icon=":material/download:",
                       on_click="ignore", use_container_width=True,
                       type="primary" if fmt == "docx" and data and pack == "submission" else "secondary")


def downloads(case: Case, state: Readiness) -> None:
    st.markdown(f"**{say('exp_download_title')}**")
    langs = {"fr": say("exp_lang_fr"), "en": say("exp_lang_en")}
    file_lang = st.radio(say("exp_language"), list(langs), index=list(langs).index(case.settings.language),
                         horizontal=True, format_func=langs.get, key=f"export-lang:{case.id}")
    if not state.ready:
        st.caption(say("exp_after_blockers"))
    identifying = [f for f in state.warnings if f.kind == "patient_identifier"]
    if identifying:  # patient data (assistant/case/privacy.py): the file will carry it
        st.warning(words("privacy_export", file_lang, n=len(identifying)), icon=":material/shield_person:")  # the file's
    for fmt in SUBMISSION_FORMATS:
        _offer(case, file_lang, fmt, "submission", _label(fmt), state.ready)
    st.divider()
    st.markdown(f"**{say('exp_review_title')}**")
    st.caption(say("exp_review_caption"))
    for fmt in REVIEW_FORMATS:
        _offer(case, file_lang, fmt, "review", say("exp_review_fmt", _label(fmt)), True)


def render(case: Case, state: Readiness) -> None:
    show_flash("export")
    if lang() != "en":  # the findings in the page's language (the service keeps them per version and language)
        state = service().readiness(case.id, findings_lang=lang())
    left, right = st.columns([3, 2], gap="large")
    with left:
        blockers_list(case, state)
        waivers_list(case)
        warnings_list(state)
    with right, st.container(border=True):
        downloads(case, state)
