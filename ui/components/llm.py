"""What the pages show when a language model is configured (nothing at all in the offline mode):

- drafting a section with the model, streamed, each grounded section recorded as a version
  (Service.llm_draft_stream), then what became of each section;
- the reviewer's "check against sources with the model" (Service.review_section_llm);
- in the chat: the facts the model read in an answer or a document, to confirm
  (Service.llm_after_answer / propose_facts_from_document / confirm_facts), and its follow-up.

Every decision is the Service's; this module only draws and keeps what is shown in the session.
"""

from __future__ import annotations

import streamlit as st

from assistant.service import Case, DraftOutcome, FactProposal, Followup, Profile, SectionDraft, ServiceError
from ui.state import actor, flash, md, say, service


def usable() -> bool:
    """A language model is configured and usable (no call is made)."""
    return service().llm_available()[0]


def status_caption() -> None:
    """One line for the sidebar: which model helps, or why none does."""
    ok, problem = service().llm_available()
    if ok:
        st.caption(say("llm_on"))
    elif problem:
        st.caption(say("llm_off", md(problem)))


# -- drafting with the model ---------------------------------------------------------------------
def _outcomes_key(case_id: str) -> str:
    return f"llm-outcomes:{case_id}"


def draft_buttons(case: Case, section_id: str, lang: str, role: str, every: bool = True) -> None:
    """'Draft with the language model' for this section (and every section); streams, then reloads
    the page on the recorded versions."""
    if not usable():
        return
    cols = st.columns(2 if every else 1)
    one = cols[0].button(say("llm_draft_one"), key=f"llm-draft:{section_id}", icon=":material/auto_awesome:",
                         help=say("llm_draft_one_help"))
    all_of_them = every and cols[1].button(say("llm_draft_all"), key="llm-draft:all",
                                           icon=":material/auto_awesome_motion:")
    if one or all_of_them:
        _stream(case, [section_id] if one else None, lang, role)


def _stream(case: Case, section_ids: list[str] | None, lang: str, role: str) -> None:
    outcomes: list[DraftOutcome] = []
    boxes: dict[str, st.delta_generator.DeltaGenerator] = {}
    texts: dict[str, str] = {}
    try:
        with st.status(say("llm_drafting"), expanded=True):
            for event in service().llm_draft_stream(case.id, actor(role), lang, section_ids):
                if isinstance(event, DraftOutcome):
                    outcomes.append(event)
                    st.caption(say("llm_stream_line", md(event.title),
                                   say("llm_recorded" if event.recorded else "llm_not_recorded")))
                elif event.kind == "text":
                    if event.section_id not in boxes:
                        boxes[event.section_id] = st.empty()
                    texts[event.section_id] = texts.get(event.section_id, "") + event.text
                    boxes[event.section_id].markdown(md(texts[event.section_id]))
    except ServiceError as exc:
        flash("error", say("llm_could_not_draft", exc))
    st.session_state[_outcomes_key(case.id)] = outcomes
    st.rerun()


def draft_outcomes(case: Case, lang: str) -> None:
    """What became of each section the model drafted last (until dismissed)."""
    outcomes: list[DraftOutcome] = st.session_state.get(_outcomes_key(case.id)) or []
    if not outcomes:
        return
    for o in outcomes:
        if o.recorded:
            st.success(say("llm_outcome_ok", md(o.title), o.recorded, md(o.author)), icon=":material/auto_awesome:")
        else:
            stays = say("llm_outcome_stays_version", o.in_force) if o.in_force else say("llm_outcome_stays_offline")
            why = "\n".join(f"- {md(p)}" for p in o.problems)
            st.warning(say("llm_outcome_refused", md(o.title), stays) + f"\n\n{why}", icon=":material/gpp_maybe:")
        for notice in o.notices:
            st.caption(md(notice))
    st.button(say("llm_dismiss"), key="llm-outcomes:dismiss", on_click=st.session_state.pop,
              args=(_outcomes_key(case.id), None))


# -- the reviewer's check against the sources ------------------------------------------------------
def _review_key(case: Case, section_id: str, lang: str) -> str:
    return f"llm-review:{case.id}:{section_id}:{lang}"


def _review(case_id: str, section: SectionDraft, lang: str, key: str, version: int) -> None:
    try:
        issues = service().review_section_llm(case_id, section.section_id, lang, section=section)  # type: ignore[arg-type]
    except ServiceError as exc:
        st.session_state[key] = (version, None, str(exc))
        return
    st.session_state[key] = (version, issues, "")


def review_button(case: Case, section: SectionDraft, lang: str) -> None:
    """'Check against sources with the model' for the section on screen, and what the model found."""
    if not usable():
        return
    key = _review_key(case, section.section_id, lang)
    st.button(say("llm_review"), key=f"{key}:go", icon=":material/fact_check:",
              on_click=_review, args=(case.id, section, lang, key, case.version), help=say("llm_review_help"))
    held = st.session_state.get(key)
    if not held:
        return
    version, issues, error = held
    if error:
        st.error(say("llm_review_failed", md(error)))
        return
    older = "" if version == case.version else say("llm_review_older", version)
    if not issues:
        st.success(say("llm_review_ok", older), icon=":material/task_alt:")
        return
    lines = [f"- “{md(i.claim)}” — {md(i.problem)}" + (f" :gray[({md(i.source)})]" if i.source else "") for i in issues]
    st.warning(say("llm_review_issues", len(issues), older) + "\n" + "\n".join(lines),
               icon=":material/fact_check:")


# -- the chat: facts the model read, and its follow-up ----------------------------------------------
def _facts_key(case_id: str) -> str:
    return f"llm-facts:{case_id}"


def _followup_key(case_id: str) -> str:
    return f"llm-followup:{case_id}"


def _keep_proposals(case_id: str, found: list[FactProposal], origin: str) -> None:
    held = {p.question_id: p for p in st.session_state.get(_facts_key(case_id), [])}
    held.update({p.question_id: p for p in found})
    st.session_state[_facts_key(case_id)] = list(held.values())
    st.session_state[f"{_facts_key(case_id)}:origin"] = origin


def after_answer(case_id: str, question_id: str) -> None:
    """Called once an answer is saved: what the model reads in it, and its follow-up (if any)."""
    st.session_state.pop(_followup_key(case_id), None)  # answered (or replaced): a new one, if any, follows
    if not usable():
        return
    try:
        after = service().llm_after_answer(case_id, question_id, "en")
    except ServiceError as exc:
        flash("warning", f"The language model could not look at this answer: {exc}. Your answer is saved.", "chat")
        return
    if after.proposals:
        _keep_proposals(case_id, after.proposals, "your answer")
    if after.followup is not None:
        st.session_state[_followup_key(case_id)] = after.followup
    for notice in after.notices:
        flash("warning", f"The language model could not help with this answer ({notice}). Your answer is saved; "
                         "the interview goes on without it.", "chat")


def ask_document(case_id: str, evidence_id: str, filename: str) -> None:
    try:
        found = service().propose_facts_from_document(case_id, evidence_id, "en")
    except ServiceError as exc:
        flash("error", str(exc), "chat")
        return
    for notice in found.notices:
        flash("warning", f"The language model could not read {filename} ({notice}).", "chat")
    if found.proposals:
        _keep_proposals(case_id, found.proposals, filename)
    elif not found.notices:
        flash("info", f"The model found nothing new in {filename}.", "chat")


def document_button(case_id: str, evidence_id: str, filename: str) -> None:
    st.button("Ask the model what this document says", key=f"llm-doc:{evidence_id}", icon=":material/auto_awesome:",
              on_click=ask_document, args=(case_id, evidence_id, filename),
              help="The model proposes answers found in the document; nothing is recorded until you accept.")


def _confirm(case_id: str, proposals: list[FactProposal]) -> None:
    result = service().confirm_facts(case_id, proposals, actor("manufacturer"))
    done = set(result.recorded)
    st.session_state[_facts_key(case_id)] = [p for p in st.session_state.get(_facts_key(case_id), [])
                                             if p.question_id not in done]
    if result.recorded:
        flash("success", f"Recorded {len(result.recorded)} answer(s): the interview will not ask for them.", "chat")
    for why in result.skipped:
        flash("error", f"Not recorded: {why}", "chat")


def _dismiss(case_id: str, question_id: str) -> None:
    st.session_state[_facts_key(case_id)] = [p for p in st.session_state.get(_facts_key(case_id), [])
                                             if p.question_id != question_id]


def facts_box(case: Case) -> None:
    """The facts the model proposes, to accept (all, or one by one) or dismiss."""
    pending = [p for p in st.session_state.get(_facts_key(case.id), []) if case.value(p.question_id) != p.value]
    if not pending:
        return
    origin = st.session_state.get(f"{_facts_key(case.id)}:origin", "your answer")
    with st.chat_message("assistant", avatar=":material/auto_awesome:"), st.container(border=True):
        st.markdown(f"The language model read these in {md(origin)}. Accept them and the interview will not ask "
                    "for them again.")
        for i, p in enumerate(pending):
            label = p.label[:1].upper() + p.label[1:]
            st.markdown(f"{md(label)}: **{md(p.value)}**  \n:gray[“{md(p.quote)}”]"
                        + (f"  \n:orange[replaces your answer: {md(p.current)}]" if p.current else ""))
            with st.container(horizontal=True):
                st.button("Accept", key=f"llm-fact:{case.id}:{i}:{p.question_id}", icon=":material/check:",
                          on_click=_confirm, args=(case.id, [p]))
                st.button("Dismiss", key=f"llm-fact-x:{case.id}:{i}:{p.question_id}", icon=":material/close:",
                          on_click=_dismiss, args=(case.id, p.question_id))
        st.button("Use these", key=f"llm-facts-all:{case.id}", type="primary", on_click=_confirm, args=(case.id, pending))


def pending_followup(case: Case, profile: Profile) -> Followup | None:
    """The model's follow-up still to ask (None once answered, skipped, or at the profile's limit)."""
    held: Followup | None = st.session_state.get(_followup_key(case.id))
    answer = case.answers.get(held.question_id) if held else None
    if held is None or answer is None or answer.followups >= profile.max_followups:
        return None
    return held


def skip_followup(case_id: str) -> None:
    st.session_state.pop(_followup_key(case_id), None)


def ask_followup(case: Case, profile: Profile, followup: Followup) -> None:
    answer = case.answers[followup.question_id]
    with st.chat_message("assistant", avatar=":material/support_agent:"):
        st.caption(f"{md(profile.question(followup.question_id).label.get('en'))} · a follow-up from the language "
                   f"model ({answer.followups + 1} of at most {profile.max_followups})")
        st.markdown(f"**{md(followup.text)}**")
        st.caption(f"So far: {md(answer.value)}")
        st.button("Skip this follow-up", key=f"llm-followup-skip:{followup.question_id}", on_click=skip_followup,
                  args=(case.id,), help="Your answer stays as it is.")
