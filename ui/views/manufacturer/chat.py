"""The interview as a chat, with the documents side panel.

One question at a time from the core interview engine (assistant.interview.engine via Service.next_question);
each answer is saved at once with the version this page showed, so a save made on a case changed
elsewhere is refused with a message (and the typed text kept), never silently written over.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from assistant.service import Case, ConflictError, Event, Profile, Prompt, Proposal, ServiceError
from ui.components import llm as llm_panels
from ui.components.clinician_link import clinician_link_panel
from ui.state import actor, attempt, conflict_message, flash, go, md, memo, save_upload, seen, service, show_flash

RECENT_TURNS = 8


def _chat_key(case_id: str) -> str:
    return f"chat:{case_id}"


def _conflict_key(case_id: str) -> str:
    return f"conflict:{case_id}"


def _skipped_key(case_id: str) -> str:
    return f"skipped:{case_id}"


# -- saving -----------------------------------------------------------------------------------------
def save_answer(case_id: str, question_id: str, text: str, replace: bool, followup: bool = False,
                asked: str = "") -> None:
    """Save on the version this page showed; on a conflict keep the text and say what happened.
    `followup`, `asked`: the answer to a language model's follow-up, and what it asked."""
    svc = service()
    try:
        case = svc.answer(case_id, question_id, text, actor("manufacturer"), replace=replace,
                          expected_version=seen(case_id), followup=followup, asked=asked)
    except ConflictError as exc:
        st.session_state[_conflict_key(case_id)] = {"question_id": question_id, "text": text, "replace": replace,
                                                    "followup": followup, "asked": asked, "why": conflict_message(exc)}
        return
    except ServiceError as exc:
        flash("error", f"Not saved: {exc}. Your text is back in the box below: correct it and send it again.", "chat")
        st.session_state[_chat_key(case_id)] = text
        return
    st.session_state.pop(_conflict_key(case_id), None)
    if st.query_params.get("ask") == question_id:
        go(ask=None)
    flash("success", f"Saved (case version {case.version}).", "chat")
    llm_panels.after_answer(case_id, question_id)


def _retry_conflict(case_id: str) -> None:
    pending = st.session_state.pop(_conflict_key(case_id), None)
    if pending:
        save_answer(case_id, pending["question_id"], pending["text"], pending["replace"],
                    pending.get("followup", False), pending.get("asked", ""))


def _discard_conflict(case_id: str) -> None:
    st.session_state.pop(_conflict_key(case_id), None)


def attach_files(case_id: str, files: list, kind: str | None) -> bool:
    """Attach each uploaded PDF; the kind is guessed unless given. True if all were attached."""
    svc = service()
    profile = svc.profile(svc.case(case_id))
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for upload in files:
            path = save_upload(upload, Path(tmp))
            try:
                result = svc.attach(case_id, path, actor("manufacturer"), kind=kind, index="later")
            except ServiceError as exc:
                ok = False
                flash("error", f"{exc}", "side")
                continue
            name = profile.evidence_kind(result.file.kind).name.get("en")
            if result.guessed_kind:
                flash("info", f"Attached {result.file.filename}. It looks like: {name}. Confirm or correct "
                              "its kind in the Documents list.", "side")
            else:
                flash("success", f"Attached {result.file.filename} as: {name}.", "side")
            for warning in result.warnings:
                flash("warning", warning, "side")
    return ok


def _on_chat_submit(case_id: str, question_id: str | None, replace: bool, followup: bool = False,
                    asked: str = "") -> None:
    value = st.session_state.get(_chat_key(case_id))
    text = (getattr(value, "text", None) if value is not None and not isinstance(value, str) else value) or ""
    files = list(getattr(value, "files", None) or [])
    if files:
        attach_files(case_id, files, None)
    if text.strip():
        if question_id is None:
            flash("info", "Every question is answered: to change an answer, use Change in the Answers list.", "chat")
        else:
            save_answer(case_id, question_id, text, replace, followup, asked)


def _accept(case_id: str, p: Proposal) -> None:
    svc = service()
    attempt(lambda: svc.accept_proposal(case_id, p.question_id, p.evidence_id, actor("manufacturer"),
                                        expected_version=seen(case_id)),
            where="chat", success=f"Recorded from {p.filename} (page {p.page}).")


def _dismiss(case_id: str, p: Proposal) -> None:
    attempt(lambda: service().dismiss_proposal(case_id, p.question_id, p.evidence_id, actor("manufacturer")),
            where="chat")


def _skip(case_id: str, question_id: str) -> None:
    st.session_state.setdefault(_skipped_key(case_id), set()).add(question_id)
    if st.query_params.get("ask") == question_id:
        go(ask=None)


def _unskip(case_id: str) -> None:
    st.session_state.pop(_skipped_key(case_id), None)


# -- the conversation so far ---------------------------------------------------------------------
def _question_text(profile: Profile, qid: str, followup: bool) -> str:
    try:
        q = profile.question(qid)
    except KeyError:
        return qid
    if followup and q.followup is not None:
        return q.followup.get("en")
    return q.text.get("en")


def _turn(profile: Profile, case: Case, event: Event) -> None:
    d = event.data
    when = f"{event.at:%Y-%m-%d %H:%M} UTC"
    if event.type == "created":
        label = profile.request_type_labels[d["request_type"]].get("en")
        with st.chat_message("assistant", avatar=":material/assignment:"):
            st.markdown(f"New {md(label)} request to {profile.id.upper()}"
                        + (f" for **{md(d['answers']['device_name'])}**." if d.get("answers", {}).get("device_name") else "."))
    elif event.type == "answered":
        with st.chat_message("assistant", avatar=":material/support_agent:"):
            st.markdown(md(d.get("asked") or _question_text(profile, d["question_id"], d.get("followup", False))))
        with st.chat_message("user", avatar=":material/person:"):
            st.markdown(md(d["value"]))
            source = d.get("source", "user")
            origin = ""
            if source.startswith("document:"):
                ev = next((e for e in case.evidence if e.id == source.split(":", 1)[1]), None)
                origin = f" · from the document {ev.filename}" if ev else " · from a document"
            st.caption(f"Recorded{' (added to the earlier answer)' if d.get('followup') else ''}{md(origin)} · "
                       f"{md(event.by)} · {when} · version {event.v}")
    elif event.type == "evidence_attached":
        with st.chat_message("user", avatar=":material/attach_file:"):
            st.markdown(md(_sentence(event.describe(profile, "en"))))
    elif event.type == "waived":
        with st.chat_message("user", avatar=":material/block:"):
            st.markdown(md(_sentence(event.describe(profile, "en"))))


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


_SHOWN = ("created", "answered", "evidence_attached", "waived")


def transcript(profile: Profile, case: Case) -> None:
    events = memo("events", case, None, lambda: [e for e in service().history(case.id) if e.type in _SHOWN])
    earlier, recent = events[:-RECENT_TURNS], events[-RECENT_TURNS:]
    if earlier:
        with st.expander(f"Earlier in this interview ({len(earlier)})", icon=":material/history:"):
            for event in earlier:
                _turn(profile, case, event)
    for event in recent:
        _turn(profile, case, event)


# -- the question asked now ------------------------------------------------------------------------
def _current_prompt(case: Case, profile: Profile) -> tuple[Prompt | None, bool]:
    """The question to ask, and whether answering it replaces a recorded answer (?ask=…)."""
    ask = st.query_params.get("ask")
    if ask:
        try:
            return service().prompt_for(case.id, ask), ask in case.answers
        except ServiceError:
            go(ask=None)
    skipped = frozenset(st.session_state.get(_skipped_key(case.id), set()))
    return service().next_question(case.id, skipped), False


def _ask(case: Case, profile: Profile, prompt: Prompt, replace: bool, proposal: Proposal | None) -> None:
    q = prompt.question
    open_count = len(memo("open", case, None, lambda: service().questions(case.id)))
    with st.chat_message("assistant", avatar=":material/support_agent:"):
        ids = [s.id for s in service().sections(case.id)]
        number = ids.index(prompt.section.id) + 1 if prompt.section.id in ids else "?"
        st.caption(f"Section {number}. {md(prompt.section.title.get('en'))} · "
                   f"{open_count} question(s) still open" + ("" if q.required else " · optional"))
        if prompt.followup:
            given = case.answers[q.id].value
            st.markdown(f"Your answer is short for an assessor ({case.answers[q.id].words} words; aim for at least "
                        f"{profile.min_words}). {md(prompt.text('en'))}")
            st.caption(f"So far: {md(given)}")
        else:
            st.markdown(f"**{md(prompt.text('en'))}**")
        if replace:
            st.caption(f"Current answer: {md(case.answers[q.id].value)} · what you send replaces it")
        hint = {"date": "A date, e.g. 2025-03-31 or 31/03/2025.", "number": "A number.",
                "long_text": "A few sentences with facts and figures an assessor can check."}.get(q.type)
        if q.patient_data:
            hint = "Pseudonym only: no name, initials, birth date or record number."
        if hint:
            st.caption(hint)
        options = ["Yes", "No"] if q.type == "yes_no" else list(q.options) if q.type == "choice" else []
        cols = st.columns(len(options) + 2 if options else 2)
        for i, option in enumerate(options):
            cols[i].button(option, key=f"opt:{q.id}:{option}", on_click=save_answer,
                           args=(case.id, q.id, option, replace), use_container_width=True)
        if replace or st.query_params.get("ask"):
            cols[-1].button("Cancel", key=f"cancel:{q.id}", on_click=go, kwargs={"ask": None})
        else:
            cols[-1].button("Skip for now", key=f"skip:{q.id}", on_click=_skip, args=(case.id, q.id),
                            help="Ask it again later; nothing is recorded.")
        if proposal is not None:
            with st.container(border=True):
                st.markdown(f":material/description: Found in **{md(proposal.filename)}**, page {proposal.page}: "
                            f"**{md(proposal.value)}**")
                st.caption(f"“{md(proposal.snippet)}”")
                a, b, _ = st.columns([1, 1, 2])
                a.button("Use this answer", key=f"acc-chat:{proposal.key}", type="primary",
                         on_click=_accept, args=(case.id, proposal))
                b.button("Not right", key=f"dis-chat:{proposal.key}", on_click=_dismiss, args=(case.id, proposal))


def _conflict_box(case: Case, profile: Profile) -> None:
    pending = st.session_state.get(_conflict_key(case.id))
    if not pending:
        return
    try:
        label = profile.question(pending["question_id"]).label.get("en")
    except KeyError:
        label = pending["question_id"]
    with st.container(border=True):
        st.warning(f"Your answer to “{md(label)}”: {md(pending['why'])}", icon=":material/sync_problem:")
        st.markdown(f"Your text, kept here:\n> {md(pending['text'])}")
        a, b = st.columns(2)
        a.button("Save my answer now", key="conflict-retry", type="primary", on_click=_retry_conflict,
                 args=(case.id,), help="Records your text on top of the latest version (the other change stays "
                                       "in the history).", use_container_width=True)
        b.button("Discard it", key="conflict-discard", on_click=_discard_conflict, args=(case.id,),
                 use_container_width=True)


# -- the side panel: documents, facts found in them, answers ------------------------------------------
def _attach_from_panel(case_id: str, key: str) -> None:
    files = st.session_state.get(key) or []
    if not files:
        flash("warning", "Choose a PDF first.", "side")
        return
    kind = st.session_state.get(f"{key}:kind") or None
    if attach_files(case_id, files, None if kind == "(guess)" else kind):
        st.session_state[f"uploader:{case_id}"] = st.session_state.get(f"uploader:{case_id}", 0) + 1
        go(attach=None)


def _set_kind(case_id: str, evidence_id: str, key: str | None, kind: str | None = None) -> None:
    chosen = kind or st.session_state.get(key or "")
    if chosen:
        attempt(lambda: service().set_evidence_kind(case_id, evidence_id, chosen, actor("manufacturer")), where="side")


def documents_panel(case: Case, profile: Profile) -> None:
    st.markdown("**Documents**")
    show_flash("side")
    kinds = [k.id for k in profile.evidence_kinds if k.applies(case.request_type)]
    names = {k.id: k.name.get("en") for k in profile.evidence_kinds}
    wanted = st.query_params.get("attach")
    key = f"upload:{case.id}:{st.session_state.get(f'uploader:{case.id}', 0)}"
    st.file_uploader("Attach PDF documents", type=["pdf"], accept_multiple_files=True, key=key,
                     help="Certificates, clinical data, test reports, IFU… Stored by content hash; "
                          "the file name is for display only.")
    options = ["(guess)", *kinds]
    st.selectbox("What is it?", options, index=options.index(wanted) if wanted in options else 0,
                 key=f"{key}:kind", format_func=lambda k: "Let the assistant propose" if k == "(guess)" else names[k])
    st.button("Attach", key=f"{key}:go", on_click=_attach_from_panel, args=(case.id, key), icon=":material/upload_file:")
    with_model = llm_panels.usable()
    for ev in case.evidence:
        with st.container(border=True):
            st.markdown(f":material/description: **{md(ev.filename)}** · {ev.pages} page(s)  \n{md(names.get(ev.kind, ev.kind))}"
                        + ("" if ev.kind_confirmed else " · :orange[proposed kind: please confirm]"))
            if not ev.kind_confirmed:
                a, b = st.columns([1, 1])
                a.button("Confirm", key=f"confirm:{ev.id}", type="primary", on_click=_set_kind,
                         args=(case.id, ev.id, None, ev.kind))
                with b.popover("Correct"):
                    st.selectbox("It is", kinds, index=kinds.index(ev.kind) if ev.kind in kinds else 0,
                                 key=f"kind:{ev.id}", format_func=lambda k: names[k])
                    st.button("Save the kind", key=f"setkind:{ev.id}", on_click=_set_kind,
                              args=(case.id, ev.id, f"kind:{ev.id}"))
            if with_model and ev.text_pages:
                llm_panels.document_button(case.id, ev.id, ev.filename)


def proposals_panel(case: Case, profile: Profile, proposals: list[Proposal]) -> None:
    if not proposals:
        return
    st.markdown("**Facts found in your documents**")
    st.caption("Confirm them and the interview will not ask for them.")
    for p in proposals:
        label = profile.question(p.question_id).label.get("en")
        label = label[:1].upper() + label[1:]
        with st.container(border=True):
            st.markdown(f"{md(label)}: **{md(p.value)}**")
            st.caption(f"{md(p.filename)}, page {p.page}: “{md(p.snippet)}”")
            if p.current is not None:
                st.caption(f":orange[Your answer differs: {md(p.current)}]")
            a, b = st.columns(2)
            a.button("Accept", key=f"acc:{p.key}", type="primary", on_click=_accept, args=(case.id, p))
            b.button("Dismiss", key=f"dis:{p.key}", on_click=_dismiss, args=(case.id, p))


def answers_panel(case: Case, profile: Profile) -> None:
    with st.expander(f"Your answers ({len(case.answers)})", icon=":material/list:"):
        for q in profile.all_questions():
            answer = case.answers.get(q.id)
            if answer is None:
                continue
            a, b = st.columns([4, 1], vertical_alignment="center")
            a.markdown(f"**{md(q.label.get('en'))}**  \n{md(answer.value[:300])}")
            b.button("Change", key=f"change:{q.id}", on_click=go, kwargs={"ask": q.id})


# -- the page ---------------------------------------------------------------------------------------
def render(case: Case) -> None:
    svc = service()
    profile = svc.profile(case)
    proposals = memo("proposals", case, None, lambda: svc.proposals(case.id))
    by_question = {p.question_id: p for p in proposals}
    chat, side = st.columns([3, 2], gap="large")
    with side:
        documents_panel(case, profile)
        proposals_panel(case, profile, proposals)
        answers_panel(case, profile)
        with st.expander("A link for the treating physician", icon=":material/link:"):
            clinician_link_panel(case.id)
    with chat:
        transcript(profile, case)
        _conflict_box(case, profile)
        show_flash("chat")
        llm_panels.facts_box(case)
        followup = None if st.query_params.get("ask") else llm_panels.pending_followup(case, profile)
        prompt, replace = _current_prompt(case, profile)
        if followup is not None:
            llm_panels.ask_followup(case, profile, followup)
        elif prompt is not None:
            _ask(case, profile, prompt, replace, None if replace else by_question.get(prompt.question.id))
        else:
            skipped = st.session_state.get(_skipped_key(case.id))
            with st.chat_message("assistant", avatar=":material/support_agent:"):
                if skipped:
                    st.markdown(f"You skipped {len(skipped)} question(s).")
                    st.button("Ask them now", on_click=_unskip, args=(case.id,))
                else:
                    st.markdown("Every question the draft needs is answered. Read the draft, then check and "
                                "export it.")
                    a, b, _ = st.columns([1, 1, 2])
                    a.button("Draft preview", on_click=go, kwargs={"view": "draft", "ask": None})
                    b.button("Check & export", on_click=go, kwargs={"view": "export", "ask": None})
    if followup is not None:
        target = (case.id, followup.question_id, False, True, followup.text)
    else:
        target = (case.id, prompt.question.id if prompt else None, replace)
    st.chat_input("Type your answer, or drop a PDF here…" if prompt or followup else "Drop a PDF here to attach it…",
                  key=_chat_key(case.id), accept_file="multiple", file_type=["pdf"], on_submit=_on_chat_submit,
                  args=target)
