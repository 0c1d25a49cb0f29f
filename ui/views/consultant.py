"""The consultant's review desk: each section with its sources side by side, its review status,
comments, edits kept as versions (diff between any two), who did what and when; and a readiness
view for the whole request.

Every save carries the case version this page showed (`expected_version`): a change made meanwhile
in another window is never overwritten; the page says so and shows the latest state.

The page speaks the page's language (the sidebar's FR/EN, ?lang=); the text under review is in the
language chosen on the page (?text=, the case's drafting language by default). The edit box shows
references by name ([RDM art. 59(1)]), never by id: the service maps them back on save.
"""

from __future__ import annotations

import streamlit as st

from assistant.service import Case, Draft, Event, Finding, Profile, Readiness, SectionDraft, SectionState, Service
from ui.components import progress
from ui.components import versions as version_views
from ui.components.llm import draft_buttons, draft_outcomes, review_button
from ui.components.widgets import findings_list, section_sources, section_text, source_words
from ui.state import (
    LANG_LABELS,
    actor,
    attempt,
    badge,
    go,
    md,
    remember,
    say,
    seen,
    service,
    show_flash,
    status_label,
    synced_choice,
)
from ui.state import lang as page_lang

VIEWS = ("sections", "readiness")
WAIVABLE = ("missing_answer", "missing_evidence", "placeholder", "thin_answer")
_DOT = {"approved": ":green[●]", "changes_requested": ":orange[●]", "stale": ":red[●]", "draft": ":gray[○]"}
_CHANGES = ("answered", "evidence_attached", "evidence_removed", "waived", "waiver_withdrawn", "restored")
_TEXT_CHANGES = ("section_edited", "section_drafted")


def render(case_id: str) -> None:
    svc = service()
    case = svc.case(case_id)
    remember(case)
    profile = svc.profile(case)
    st.title(say("rev_title", case.device or say("rev_no_device")))
    ui = page_lang()
    st.caption(say("rev_caption", profile.name.get(ui), profile.request_type_labels[case.request_type].get(ui),
                   case.version))
    top = st.columns([2, 1], vertical_alignment="bottom")
    with top[0]:
        view = synced_choice("view", list(VIEWS), "sections", {v: say(f"rev_view_{v}") for v in VIEWS})
    with top[1]:
        lang = synced_choice("text", ["fr", "en"], case.settings.language, LANG_LABELS, label=say("rev_text_language"))
    progress.knowledge_base()
    with st.spinner(say("rev_checking")):
        draft: Draft = svc.draft(case_id, lang, use_llm=False)
        ready: Readiness = svc.readiness(case_id, lang, findings_lang=page_lang())
    _summary(ready)
    show_flash()
    draft_outcomes(case, lang)
    if view == "readiness":
        _readiness(case, ready)
    else:
        _sections(svc, profile, case, draft, ready, lang)


def _summary(ready: Readiness) -> None:
    total = len(ready.sections)
    cols = st.columns(4)
    cols[0].metric(say("rev_metric_approved"), f"{ready.approved} / {total}")
    cols[1].metric(say("rev_metric_blockers"), len(ready.blockers))
    cols[2].metric(say("rev_metric_warnings"), len(ready.warnings))
    stale = sum(1 for s in ready.sections if s.status == "stale")
    cols[3].metric(say("rev_metric_stale"), stale)


# -- the readiness view ----------------------------------------------------------------------------
def _readiness(case: Case, ready: Readiness) -> None:
    if ready.ready:
        st.success(say("rev_ready"), icon=":material/task_alt:")
    else:
        st.error(say("rev_not_ready", len(ready.blockers)), icon=":material/block:")
    st.progress(ready.approved / (len(ready.sections) or 1), text=say("rev_progress", ready.approved, len(ready.sections)))
    for s in ready.sections:
        a, b = st.columns([5, 1], vertical_alignment="center")
        a.markdown(f"{_DOT.get(s.status, '')} **{s.number}. {md(s.title)}** {badge(s.status)}  \n{_counts(s)}")
        b.button(
            say("rev_open"),
            key=f"readiness:open:{s.section_id}",
            on_click=go,
            kwargs={"view": "sections", "section": s.section_id},
        )
    titles = {s.section_id: s.title for s in ready.sections}
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader(say("rev_blockers", len(ready.blockers)))
        if not ready.blockers:
            st.caption(say("rev_no_blocker"))
        for i, f in enumerate(ready.blockers):
            with st.container(border=True):
                findings_list([f], titles=titles)
                _blocker_actions(case, f, i)
    with right:
        st.subheader(say("rev_warnings", len(ready.warnings)))
        findings_list(ready.warnings, say("rev_no_warning"), titles)


def _blocker_actions(case: Case, f: Finding, i: int) -> None:
    """Every blocker has a way out: open its section to fix it (a stale hand edit is kept or dropped
    there), or waive it with a reason when the profile allows going without it."""
    with st.container(horizontal=True):
        st.button(say("rev_fix"), key=f"blocker:fix:{i}", icon=":material/build:", on_click=go,
                  kwargs={"view": "sections", "section": f.section},
                  help=say("rev_fix_help") if f.kind == "stale_edit" else None)
        target = f.question_id or f.evidence_kind
        if target and f.kind in WAIVABLE:
            with st.popover(say("rev_waive"), icon=":material/block:"):
                key = f"rev-waive:{case.id}:{target}"
                st.text_area(say("rev_waive_why"), key=key)
                st.button(say("rev_waive"), key=f"blocker:waive:{i}", type="primary", on_click=_waive,
                          args=(case.id, target, key))


def _waive(case_id: str, target: str, key: str) -> None:
    reason = st.session_state.get(key, "")
    attempt(lambda: service().waive(case_id, target, reason, actor("consultant")),
            keep=(key, reason), success=say("rev_waived_done"))


def _counts(s: SectionState) -> str:
    parts = [say("rev_count_answered", s.answered, s.questions)]
    if s.evidence_needed:
        parts.append(say("rev_count_documents", s.evidence_present, s.evidence_needed))
    if s.evidence_waived:
        parts.append(say("rev_count_waived", s.evidence_waived))
    if s.blockers:
        parts.append(":red[" + say("rev_count_blockers", s.blockers) + "]")
    if s.warnings:
        parts.append(":orange[" + say("rev_count_warnings", s.warnings) + "]")
    if s.edited:
        parts.append(say("rev_count_edited"))
    if s.comments:
        parts.append(say("rev_count_comments", s.comments))
    return " · ".join(parts)


# -- one section at a time -----------------------------------------------------------------------------
def _sections(svc: Service, profile: Profile, case: Case, draft: Draft, ready: Readiness, lang: str) -> None:
    states = {s.section_id: s for s in ready.sections}
    ids = [s.section_id for s in draft.sections]
    sid = st.query_params.get("section")
    sid = sid if sid in ids else ids[0]
    nav, body = st.columns([1, 3], gap="medium")
    with nav, st.container(key="review-nav"):  # buttons, not a radio: their labels carry the status
        st.caption(say("rev_sections"))
        for s in draft.sections:
            st.button(
                f"{_DOT.get(states[s.section_id].status, '')} {s.number}. {s.title}",
                key=f"nav:{s.section_id}",
                type="secondary" if s.section_id == sid else "tertiary",
                on_click=go,
                kwargs={"section": s.section_id},
                width="stretch",
                help=f"{s.number}. {s.title} — {status_label(states[s.section_id].status)}",
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
        tags.append(":blue-badge[" + (say("rev_edited_v", edit_n[-1]) if edit_n else say("rev_edited")) + "]")
    if state.comments:
        tags.append(":violet-badge[" + say("rev_comments_badge", state.comments) + "]")
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
        st.markdown(f"**{say('rev_draft')}**")
        section_text(section)
        for notice in section.notices:
            st.caption(md(notice))
        draft_buttons(case, section.section_id, lang, "consultant", every=False)
        review_button(case, section, lang)
    with sources:
        st.markdown(f"**{say('rev_sources')}**")
        section_sources(svc, case, section, key=f"src:{section.section_id}")
        _answers_used(profile, case, section, lang)
        _documents_used(case, section)
    labels = [say("rev_tab_edit"), say("rev_tab_versions"), say("rev_tab_comments", state.comments), say("rev_tab_history")]
    # A comment just added changes its tab's label, which draws the tabs anew: they open on the
    # comments then (the reader sees the comment added), not on the first tab.
    commented = st.session_state.get(_commented_key(case.id, section.section_id))
    edit, versions, comments, history = st.tabs(labels, default=labels[2] if commented else None)
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
    who = say("rev_stale_by", md(approvals[-1].by), f"{approvals[-1].at:%Y-%m-%d %H:%M}") if approvals else ""
    lines = [say("rev_stale_title", who)]
    lines += [f"- {md(_what(svc.profile(case), case, e))} — {md(e.by)}, {e.at:%Y-%m-%d %H:%M}" for e in since[-5:]]
    st.warning("\n".join(lines), icon=":material/history:")


def _stale_edit_notice(svc: Service, case: Case, section: SectionDraft, lang: str, message: str) -> None:
    st.warning(md(message), icon=":material/edit_off:")
    changed = svc.readable_change_since_edit(case.id, section.section_id, lang, page_lang())
    if changed:
        with st.expander(say("rev_what_changed")):
            st.code(changed, language="diff", wrap_lines=True)
    key = f"review:{case.id}:{section.section_id}"
    a, b = st.columns(2)
    a.button(
        say("rev_keep_mine"),
        key=f"{key}:confirm",
        on_click=version_views.confirm_edit,
        args=(case.id, section.section_id, lang),
    )
    b.button(
        say("rev_back_generated"),
        key=f"{key}:reset:stale",
        on_click=version_views.save_edit,
        args=(case.id, section.section_id, lang, None),
    )


def _answers_used(profile: Profile, case: Case, section: SectionDraft, lang: str) -> None:
    st.markdown(f"**{say('rev_answers_used')}**")
    roles = service().roles(page_lang())
    if not section.used_answers:
        st.caption(say("rev_no_answer_used"))
    for qid in section.used_answers:
        answer = case.answers.get(qid)
        try:
            label = profile.question(qid).label.get(page_lang())
        except KeyError:
            label = qid
        if answer is None:
            continue
        last = answer.last
        value = answer.value if len(answer.value) <= 160 else answer.value[:160] + "…"
        st.markdown(
            f"*{md(label)}*: {md(value)}  \n"
            ":gray[" + say("rev_answer_meta", md(last.by), md(roles.get(last.role, last.role)),
                           f"{last.at:%Y-%m-%d %H:%M}", md(source_words(case, last.source))) + "]"
        )
    gaps = [p for p in section.placeholders if p.question_id]
    for p in gaps:
        st.markdown(f":orange[{say('rev_missing')}] {md(p.label)}")


def _documents_used(case: Case, section: SectionDraft) -> None:
    st.markdown(f"**{say('rev_documents')}**")
    if not section.evidence:
        st.caption(say("rev_no_document"))
    by_id = {e.id: e for e in case.evidence}
    for line in section.evidence:
        files = [by_id[f] for f in line.files if f in by_id]
        need = say("rev_mandatory") if line.mandatory else say("rev_optional")
        if line.waived:  # waived counts as waived, never as present (even with a file of that kind)
            st.markdown(f":gray[{say('rev_waived')}] {md(line.name)} ({need})")
        elif files:
            names = ", ".join(f"{md(f.filename)} ({f.pages} p.)" for f in files)
            st.markdown(f":green[✓] {md(line.name)} ({need}) : {names}" if page_lang() == "fr"
                        else f":green[✓] {md(line.name)} ({need}): {names}")
        else:
            missing = f":red[{say('rev_missing_doc')}]" if line.mandatory else f":gray[{say('rev_none')}]"
            st.markdown(f"{missing} {md(line.name)} ({need})")


# -- review status ------------------------------------------------------------------------------------
def _review(case: Case, section: SectionDraft, state: SectionState) -> None:
    review = case.review(section.section_id)
    if review.history:
        last = review.history[-1]
        roles = service().roles(page_lang())
        st.markdown(
            say("rev_status_set", badge(state.status), md(last.by), md(roles.get(last.role, last.role)),
                f"{last.at:%Y-%m-%d %H:%M}") + (f" : « {md(last.comment)} »" if last.comment and page_lang() == "fr"
                                                else f": “{md(last.comment)}”" if last.comment else "")
        )
    else:
        st.markdown(say("rev_status_none", badge(state.status)))
    key = f"review:{case.id}:{section.section_id}"
    st.text_input(say("rev_decision_note"), key=f"{key}:note", placeholder=say("rev_decision_example"))
    decisions = [  # (status, label, icon, key suffix)
        ("approved", say("rev_approve_again") if state.status == "stale" else say("rev_approve"), ":material/check:",
         "approve"),
        ("changes_requested", say("rev_request_changes"), ":material/edit_note:", "changes"),
        ("draft", say("rev_back_to_draft"), ":material/undo:", "draft"),
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
        success=say("rev_marked", status_label(status)),
    )
    if done is not None:
        st.session_state[key] = ""


# -- comments and history -------------------------------------------------------------------------------
def _comments(case: Case, section: SectionDraft) -> None:
    mine = [c for c in case.comments if c.section == section.section_id]
    if not mine:
        st.caption(say("rev_no_comment"))
    roles = service().roles(page_lang())
    for c in mine:
        with st.chat_message("user", avatar=":material/comment:"):
            st.markdown(f"**{md(c.by)}** ({md(roles.get(c.role, c.role))}) · {c.at:%Y-%m-%d %H:%M} UTC  \n{md(c.text)}")
    key = f"comment:{case.id}:{section.section_id}"
    st.text_area(say("rev_your_comment"), key=key, height=90, placeholder=say("rev_comment_example"))
    st.button(
        say("rev_add_comment"),
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
        success=say("rev_comment_added"),
    )
    if done is not None:
        st.session_state[key] = ""
        st.session_state[_commented_key(case_id, section_id)] = True


def _commented_key(case_id: str, section_id: str) -> str:
    return f"commented:{case_id}:{section_id}"


def _history(svc: Service, profile: Profile, case: Case, section_id: str) -> None:
    events = svc.history(case.id, section_id)
    if not events:
        st.caption(say("rev_nothing_yet"))
        return
    roles = service().roles(page_lang())
    # A Markdown table: as readable as a data grid for a few dozen events, without loading pandas
    # and pyarrow into the server on the first section opened (a data grid's cost).
    head = [say("rev_col_when"), say("rev_col_who"), say("rev_col_role"), say("rev_col_what"), say("rev_col_version")]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for e in reversed(events):
        cells = [f"{e.at:%Y-%m-%d %H:%M}", md(e.by), md(roles.get(e.role, e.role)), md(_what(profile, case, e)), str(e.v)]
        lines.append("| " + " | ".join(" ".join(c.split()) for c in cells) + " |")
    with st.container(height=360 if len(events) > 8 else "content", key=f"history:{section_id}"):
        st.markdown("\n".join(lines))


def _what(profile: Profile, case: Case, e: Event) -> str:
    """One event in words, for the history table."""
    return e.describe(profile, page_lang())
