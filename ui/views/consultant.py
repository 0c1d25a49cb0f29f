"""The consultant's review desk: each section with its sources side by side, its review status,
comments, edits kept as versions (diff between any two), who did what and when; and a readiness
view for the whole request.

Every save carries the case version this page showed (`expected_version`): a change made meanwhile
in another window is never overwritten; the page says so and shows the latest state.
"""

from __future__ import annotations

import streamlit as st

from assistant.service import Case, Draft, Event, Profile, Readiness, SectionDraft, SectionState, Service
from ui.components import progress
from ui.components import versions as version_views
from ui.components.llm import draft_buttons, draft_outcomes, review_button
from ui.components.widgets import findings_list, section_sources, section_text
from ui.state import (
    LANG_LABELS,
    STATUS_LABEL,
    actor,
    attempt,
    badge,
    go,
    md,
    remember,
    seen,
    service,
    show_flash,
    synced_choice,
)

VIEWS = {"sections": "Sections", "readiness": "Readiness"}
_DOT = {"approved": ":green[●]", "changes_requested": ":orange[●]", "stale": ":red[●]", "draft": ":gray[○]"}
_CHANGES = ("answered", "evidence_attached", "evidence_removed", "waived", "waiver_withdrawn", "restored")
_TEXT_CHANGES = ("section_edited", "section_drafted")


def render(case_id: str) -> None:
    svc = service()
    case = svc.case(case_id)
    remember(case)
    profile = svc.profile(case)
    st.title(f"Review · {case.device or '(no device name yet)'}")
    st.caption(
        f"{profile.name.get('en')} · {profile.request_type_labels[case.request_type].get('en')} request · "
        f"case {case.id} · version {case.version}"
    )
    top = st.columns([2, 1], vertical_alignment="bottom")
    with top[0]:
        view = synced_choice("view", list(VIEWS), "sections", VIEWS)
    with top[1]:
        lang = synced_choice("lang", ["fr", "en"], case.settings.language, LANG_LABELS, label="Text language")
    progress.knowledge_base()
    with st.spinner("Checking the case…"):
        draft: Draft = svc.draft(case_id, lang, use_llm=False)
        ready: Readiness = svc.readiness(case_id, lang)
    _summary(ready)
    show_flash()
    draft_outcomes(case, lang)
    if view == "readiness":
        _readiness(ready)
    else:
        _sections(svc, profile, case, draft, ready, lang)


def _summary(ready: Readiness) -> None:
    total = len(ready.sections)
    cols = st.columns(4)
    cols[0].metric("Sections approved", f"{ready.approved} / {total}")
    cols[1].metric("Blockers", len(ready.blockers))
    cols[2].metric("Warnings", len(ready.warnings))
    stale = sum(1 for s in ready.sections if s.status == "stale")
    cols[3].metric("Approvals withdrawn", stale)


# -- the readiness view ----------------------------------------------------------------------------
def _readiness(ready: Readiness) -> None:
    if ready.ready:
        st.success("No blocker: the request can be exported.", icon=":material/task_alt:")
    else:
        st.error(f"Not ready: {len(ready.blockers)} blocker(s) to resolve before export.", icon=":material/block:")
    st.progress(
        ready.approved / (len(ready.sections) or 1), text=f"{ready.approved} of {len(ready.sections)} sections approved"
    )
    for s in ready.sections:
        a, b = st.columns([5, 1], vertical_alignment="center")
        a.markdown(f"{_DOT.get(s.status, '')} **{s.number}. {md(s.title)}** {badge(s.status)}  \n{_counts(s)}")
        b.button(
            "Open",
            key=f"readiness:open:{s.section_id}",
            on_click=go,
            kwargs={"view": "sections", "section": s.section_id},
        )
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader(f"Blockers ({len(ready.blockers)})")
        findings_list(ready.blockers, "No blocker.", {s.section_id: s.title for s in ready.sections})
    with right:
        st.subheader(f"Warnings ({len(ready.warnings)})")
        findings_list(ready.warnings, "No warning.", {s.section_id: s.title for s in ready.sections})


def _counts(s: SectionState) -> str:
    parts = [f"{s.answered}/{s.questions} answered"]
    if s.evidence_needed:
        parts.append(f"{s.evidence_present}/{s.evidence_needed} mandatory documents")
    if s.blockers:
        parts.append(f":red[{s.blockers} blocker(s)]")
    if s.warnings:
        parts.append(f":orange[{s.warnings} warning(s)]")
    if s.edited:
        parts.append("edited")
    if s.comments:
        parts.append(f"{s.comments} comment(s)")
    return " · ".join(parts)


# -- one section at a time -----------------------------------------------------------------------------
def _sections(svc: Service, profile: Profile, case: Case, draft: Draft, ready: Readiness, lang: str) -> None:
    states = {s.section_id: s for s in ready.sections}
    ids = [s.section_id for s in draft.sections]
    sid = st.query_params.get("section")
    sid = sid if sid in ids else ids[0]
    nav, body = st.columns([1, 3], gap="medium")
    with nav:  # buttons, not a radio: their labels carry the status, which changes as the review goes on
        st.caption("Sections")
        for s in draft.sections:
            st.button(
                f"{_DOT.get(states[s.section_id].status, '')} {s.number}. {s.title}",
                key=f"nav:{s.section_id}",
                type="secondary" if s.section_id == sid else "tertiary",
                on_click=go,
                kwargs={"section": s.section_id},
                width="stretch",
                help=f"{s.number}. {s.title} — {STATUS_LABEL.get(states[s.section_id].status, '')}",
            )
    section = draft.section(sid)
    with body:
        _section(svc, profile, case, section, states[sid], ready, lang)


def _section(
    svc: Service, profile: Profile, case: Case, section: SectionDraft, state: SectionState, ready: Readiness, lang: str
) -> None:
    edit_n = [e.n for e in case.edits.get(section.section_id, []) if e.lang == lang]
    tags = [badge(state.status)]
    if state.edited:
        tags.append(f":blue-badge[edited · v{edit_n[-1]}]" if edit_n else ":blue-badge[edited]")
    if state.comments:
        tags.append(f":violet-badge[{state.comments} comment(s)]")
    st.subheader(f"{section.number}. {section.title}")
    st.markdown(" ".join(tags))
    if state.status == "stale":
        _stale_notice(svc, case, section.section_id)
    for f in ready.blockers:
        if f.section == section.section_id and f.kind == "stale_edit":
            _stale_edit_notice(svc, case, section, lang, f.message)
    with st.container(border=True):
        _review(case, section, state)
    text, sources = st.columns([5, 4], gap="medium")
    with text, st.container(border=True):
        st.markdown("**Draft**")
        section_text(section)
        for notice in section.notices:
            st.caption(md(notice))
        draft_buttons(case, section.section_id, lang, "consultant", every=False)
        review_button(case, section, lang)
    with sources:
        st.markdown("**Sources**")
        section_sources(svc, case, section, key=f"src:{section.section_id}")
        _answers_used(profile, case, section, lang)
        _documents_used(case, section)
    edit, versions, comments, history = st.tabs(["Edit", "Versions", f"Comments ({state.comments})", "History"])
    with edit:
        version_views.edit_box(svc, case, section, lang)
    with versions:
        version_views.versions_tab(svc, case, section, lang)
    with comments:
        _comments(case, section)
    with history:
        _history(svc, profile, case, section.section_id)


def _stale_notice(svc: Service, case: Case, section_id: str) -> None:
    """Why an approval no longer holds: what changed since it was given."""
    events = svc.history(case.id, section_id)
    approvals = [e for e in events if e.type == "reviewed" and e.data.get("status") == "approved"]
    since = [e for e in events if approvals and e.v > approvals[-1].v and e.type in _CHANGES + _TEXT_CHANGES]
    who = f" by {md(approvals[-1].by)} on {approvals[-1].at:%Y-%m-%d %H:%M} UTC" if approvals else ""
    lines = [
        f"**Approval withdrawn.** This section was approved{who}, but what it is built from changed "
        "since; it counts as not approved until it is reviewed again."
    ]
    lines += [f"- {md(_what(svc.profile(case), case, e))} — {md(e.by)}, {e.at:%Y-%m-%d %H:%M}" for e in since[-5:]]
    st.warning("\n".join(lines), icon=":material/history:")


def _stale_edit_notice(svc: Service, case: Case, section: SectionDraft, lang: str, message: str) -> None:
    st.warning(md(message), icon=":material/edit_off:")
    changed = svc.generated_change_since_edit(case.id, section.section_id, lang)
    if changed:
        with st.expander("What changed in the generated text since this edit"):
            st.code(changed, language="diff", wrap_lines=True)
    key = f"review:{case.id}:{section.section_id}"
    a, b = st.columns(2)
    a.button(
        "Keep my text (confirm it)",
        key=f"{key}:confirm",
        on_click=version_views.confirm_edit,
        args=(case.id, section.section_id, lang),
    )
    b.button(
        "Back to the generated text",
        key=f"{key}:reset:stale",
        on_click=version_views.save_edit,
        args=(case.id, section.section_id, lang, None),
    )


def _answers_used(profile: Profile, case: Case, section: SectionDraft, lang: str) -> None:
    st.markdown("**Answers used**")
    if not section.used_answers:
        st.caption("This section uses no answer.")
    for qid in section.used_answers:
        answer = case.answers.get(qid)
        try:
            label = profile.question(qid).label.get(lang)
        except KeyError:
            label = qid
        if answer is None:
            continue
        last = answer.last
        value = answer.value if len(answer.value) <= 160 else answer.value[:160] + "…"
        st.markdown(
            f"*{md(label)}*: {md(value)}  \n"
            f":gray[{md(last.by)} ({last.role}), {last.at:%Y-%m-%d %H:%M} · {md(last.source)}]"
        )
    gaps = [p for p in section.placeholders if p.question_id]
    for p in gaps:
        st.markdown(f":orange[missing:] {md(p.label)}")


def _documents_used(case: Case, section: SectionDraft) -> None:
    st.markdown("**Documents**")
    if not section.evidence:
        st.caption("No document is expected for this section.")
    by_id = {e.id: e for e in case.evidence}
    for line in section.evidence:
        files = [by_id[f] for f in line.files if f in by_id]
        need = "mandatory" if line.mandatory else "optional"
        if files:
            names = ", ".join(f"{md(f.filename)} ({f.pages} p.)" for f in files)
            st.markdown(f":green[✓] {md(line.name)} ({need}): {names}")
        elif line.waived:
            st.markdown(f":gray[waived] {md(line.name)} ({need})")
        else:
            st.markdown(f"{':red[missing]' if line.mandatory else ':gray[none]'} {md(line.name)} ({need})")


# -- review status ------------------------------------------------------------------------------------
def _review(case: Case, section: SectionDraft, state: SectionState) -> None:
    review = case.review(section.section_id)
    if review.history:
        last = review.history[-1]
        st.markdown(
            f"Current status: {badge(state.status)} — set by {md(last.by)} ({last.role}) "
            f"on {last.at:%Y-%m-%d %H:%M} UTC" + (f": “{md(last.comment)}”" if last.comment else "")
        )
    else:
        st.markdown(f"Current status: {badge(state.status)} — not reviewed yet.")
    key = f"review:{case.id}:{section.section_id}"
    st.text_input(
        "Comment with the decision (optional)",
        key=f"{key}:note",
        placeholder="e.g. checked against the certificate, page 2",
    )
    decisions = [  # (status, label, icon, key suffix)
        ("approved", "Approve again" if state.status == "stale" else "Approve", ":material/check:", "approve"),
        ("changes_requested", "Request changes", ":material/edit_note:", "changes"),
        ("draft", "Back to draft", ":material/undo:", "draft"),
    ]
    for col, (status, label, icon, suffix) in zip(st.columns(3), decisions, strict=True):
        col.button(
            label, icon=icon, key=f"{key}:{suffix}", width="stretch", on_click=_set_status,
            args=(case.id, section.section_id, status), disabled=state.status == status,
            type="primary" if status == "approved" else "secondary",
        )


def _set_status(case_id: str, section_id: str, status: str) -> None:
    key = f"review:{case_id}:{section_id}:note"
    note = st.session_state.get(key, "")
    done = attempt(
        lambda: service().review(
            case_id, section_id, status, actor("consultant"), note, expected_version=seen(case_id)
        ),
        keep=(key, note),
        success=f"Section marked {STATUS_LABEL[status]}.",
    )
    if done is not None:
        st.session_state[key] = ""


# -- comments and history -------------------------------------------------------------------------------
def _comments(case: Case, section: SectionDraft) -> None:
    mine = [c for c in case.comments if c.section == section.section_id]
    if not mine:
        st.caption("No comment on this section yet.")
    for c in mine:
        with st.chat_message("user", avatar=":material/comment:"):
            st.markdown(f"**{md(c.by)}** ({c.role}) · {c.at:%Y-%m-%d %H:%M} UTC  \n{md(c.text)}")
    key = f"comment:{case.id}:{section.section_id}"
    st.text_area("Your comment", key=key, height=90, placeholder="What should change, and why")
    st.button(
        "Add the comment",
        icon=":material/add_comment:",
        key=f"{key}:add",
        on_click=_add_comment,
        args=(case.id, section.section_id),
    )


def _add_comment(case_id: str, section_id: str) -> None:
    key = f"comment:{case_id}:{section_id}"
    text = st.session_state.get(key, "")
    done = attempt(
        lambda: service().comment(case_id, section_id, text, actor("consultant"), expected_version=seen(case_id)),
        keep=(key, text),
        success="Comment added.",
    )
    if done is not None:
        st.session_state[key] = ""


def _history(svc: Service, profile: Profile, case: Case, section_id: str) -> None:
    events = svc.history(case.id, section_id)
    if not events:
        st.caption("Nothing recorded yet.")
        return
    rows = [
        {
            "When (UTC)": f"{e.at:%Y-%m-%d %H:%M}",
            "Who": e.by,
            "Role": e.role,
            "What": _what(profile, case, e),
            "Version": e.v,
        }
        for e in reversed(events)
    ]
    st.dataframe(rows, hide_index=True, width="stretch")


def _what(profile: Profile, case: Case, e: Event) -> str:
    """One event in words, for the history table."""
    return e.describe(profile, "en")
