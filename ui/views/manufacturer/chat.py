"""The interview as a conversation, with the documents side panel.

It opens by asking the manufacturer to describe the request in its own words and to drop its
documents: what they state comes back as one card to confirm or correct (ui/components/told_card.py).
Then only what is still missing is asked, the questions that decide the legal route first, short
facts in blocks (Service.next_group); the route's conclusion is said in the chat once decided.
Each answer is saved at once; a save is refused as a conflict only when the same answer was changed
elsewhere since this page showed it (Service.answer_on), and the typed text is kept.
Every word on screen is in the page's language (ui.state.say).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from assistant.service import Case, ConflictError, Event, Profile, Prompt, Proposal, ServiceError
from ui.components import llm as llm_panels
from ui.components import told_card
from ui.components.clinician_link import clinician_link_panel
from ui.state import (
    actor,
    attempt,
    flash,
    go,
    lang,
    md,
    memo,
    save_upload,
    say,
    seen,
    service,
    show_flash,
)

RECENT_TURNS = 8


def _chat_key(case_id: str) -> str:
    return f"chat:{case_id}"


def _conflict_key(case_id: str) -> str:
    return f"conflict:{case_id}"


def _skipped_key(case_id: str) -> str:
    return f"skipped:{case_id}"


def _opened_key(case_id: str) -> str:
    return f"opened:{case_id}"


def opening_pending(case: Case) -> bool:
    """The chat still opens with "describe your request": nothing but the device name is known yet."""
    return set(case.answers) <= {"device_name"} and not st.session_state.get(_opened_key(case.id))


# -- saving -----------------------------------------------------------------------------------------
def save_answer(case_id: str, question_id: str, text: str, replace: bool, followup: bool = False,
                asked: str = "") -> bool:
    """Save on the version this page showed (a conflict only if this same answer changed since);
    on a conflict keep the text and say what happened. `followup`, `asked`: the answer to a
    language model's follow-up, and what it asked."""
    svc = service()
    try:
        case = svc.answer_on(case_id, question_id, text, actor("manufacturer"), seen(case_id), replace=replace,
                             followup=followup, asked=asked)
    except ConflictError:
        current = svc.case(case_id).value(question_id) or ""
        st.session_state[_conflict_key(case_id)] = {"question_id": question_id, "text": text, "replace": replace,
                                                    "followup": followup, "asked": asked, "current": current}
        return False
    except ServiceError as exc:
        flash("error", say("chat_not_saved_retry", exc), "chat")
        st.session_state[_chat_key(case_id)] = text
        return False
    st.session_state.pop(_conflict_key(case_id), None)
    if st.query_params.get("ask") == question_id:
        go(ask=None)
    flash("success", say("chat_saved", case.version), "chat")
    llm_panels.after_answer(case_id, question_id)
    return True


def _retry_conflict(case_id: str) -> None:
    pending = st.session_state.pop(_conflict_key(case_id), None)
    if pending:
        try:
            service().answer(case_id, pending["question_id"], pending["text"], actor("manufacturer"),
                             replace=True, followup=pending.get("followup", False), asked=pending.get("asked", ""))
        except ServiceError as exc:
            flash("error", say("chat_not_saved", exc), "chat")
            return
        flash("success", say("chat_kept_mine"), "chat")


def _discard_conflict(case_id: str) -> None:
    st.session_state.pop(_conflict_key(case_id), None)


def attach_files(case_id: str, files: list, kind: str | None, where: str = "side") -> list[str]:
    """Attach each uploaded PDF (the kind guessed unless given); say what happened where the user
    dropped them. Returns the ids of the documents attached."""
    svc = service()
    profile = svc.profile(svc.case(case_id))
    done: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for upload in files:
            path = save_upload(upload, Path(tmp))
            try:
                result = svc.attach(case_id, path, actor("manufacturer"), kind=kind, index="later", lang=lang())
            except ServiceError as exc:
                flash("error", say("chat_attach_failed", upload.name, exc), where)
                continue
            done.append(result.file.id)
            name = profile.evidence_kind(result.file.kind).name.get(lang())
            if result.guessed_kind:
                flash("info", say("chat_attached_guessed", result.file.filename, name), where)
            else:
                flash("success", say("chat_attached", result.file.filename, name), where)
            for warning in result.warnings:
                flash("warning", warning, where)
    return done


def _document_facts_to_card(case_id: str, evidence_ids: list[str]) -> None:
    if not evidence_ids:
        return
    found = [p for p in service().document_facts(case_id, lang())
             if any(p.source == f"document:{e}" for e in evidence_ids)]
    told_card.hold(case_id, found)


def _on_chat_submit(case_id: str, mode: str, question_id: str | None = None, replace: bool = False,
                    followup: bool = False, asked: str = "") -> None:
    value = st.session_state.get(_chat_key(case_id))
    text = (getattr(value, "text", None) if value is not None and not isinstance(value, str) else value) or ""
    files = list(getattr(value, "files", None) or [])
    if mode == "tell" and st.session_state.get(_opened_key(case_id)) and not told_card.held(case_id):
        # Sent as the opening was left ("answer question by question") and before the page was drawn
        # again, so with the opening's mode: it answers the question now asked, it describes nothing.
        prompts, replace = _current_prompts(service().case(case_id))
        mode, question_id = "answer", (prompts[0].question.id if prompts else None)
    if files:  # feedback where they were dropped: in the chat
        _document_facts_to_card(case_id, attach_files(case_id, files, None, where="chat"))
        st.session_state[_opened_key(case_id)] = True
    if not text.strip():
        return
    if mode == "tell":
        told_card.tell(case_id, text)
    elif question_id is None:
        flash("info", say("chat_all_answered_change"), "chat")
    else:
        save_answer(case_id, question_id, text, replace, followup, asked)


def _accept(case_id: str, p: Proposal) -> None:
    svc = service()
    attempt(lambda: svc.accept_proposal(case_id, p.question_id, p.evidence_id, actor("manufacturer"),
                                        expected_version=seen(case_id)),
            where="chat", success=say("chat_recorded_from", p.filename, p.page))


def _dismiss(case_id: str, p: Proposal) -> None:
    attempt(lambda: service().dismiss_proposal(case_id, p.question_id, p.evidence_id, actor("manufacturer")),
            where="chat")


def _skip(case_id: str, question_ids: list[str]) -> None:
    st.session_state.setdefault(_skipped_key(case_id), set()).update(question_ids)
    if st.query_params.get("ask") in question_ids:
        go(ask=None)


def _unskip(case_id: str) -> None:
    st.session_state.pop(_skipped_key(case_id), None)


def _skip_opening(case_id: str) -> None:
    st.session_state[_opened_key(case_id)] = True


# -- the conversation so far ---------------------------------------------------------------------
def _question_text(profile: Profile, qid: str, followup: bool) -> str:
    try:
        q = profile.question(qid)
    except KeyError:
        return qid
    if followup and q.followup is not None:
        return q.followup.get(lang())
    return q.text.get(lang())


def _shown_value(profile: Profile, qid: str, value: str) -> str:
    if value in ("yes", "no"):
        return say(f"chat_{value}")
    return value


def _turn(profile: Profile, case: Case, event: Event) -> None:
    d = event.data
    when = f"{event.at:%Y-%m-%d %H:%M} UTC"
    if event.type == "created":
        label = profile.request_type_labels[d["request_type"]].get(lang())
        device = d.get("answers", {}).get("device_name")
        with st.chat_message("assistant", avatar=":material/assignment:"):
            st.markdown(say("chat_created", md(label), profile.id.upper())
                        + (f" · **{md(device)}**" if device else ""))
    elif event.type == "answered":
        with st.chat_message("assistant", avatar=":material/support_agent:"):
            st.markdown(md(d.get("asked") or _question_text(profile, d["question_id"], d.get("followup", False))))
        with st.chat_message("user", avatar=":material/person:"):
            st.markdown(md(_shown_value(profile, d["question_id"], d["value"])))
            source = d.get("source", "user")
            origin = ""
            if source.startswith("document:"):
                ev = next((e for e in case.evidence if e.id == source.split(":", 1)[1]), None)
                origin = " · " + (say("chat_from_document", ev.filename) if ev else say("chat_from_a_document"))
            elif source == "description":
                origin = " · " + say("chat_from_description")
            added = " " + say("chat_added_to_earlier") if d.get("followup") else ""
            st.caption(f"{say('chat_recorded')}{added}{md(origin)} · {md(event.by)} · {when} · v{event.v}")
    elif event.type == "evidence_attached":
        with st.chat_message("user", avatar=":material/attach_file:"):
            st.markdown(md(_sentence(event.describe(profile, lang()))))
    elif event.type == "waived":
        with st.chat_message("user", avatar=":material/block:"):
            st.markdown(md(_sentence(event.describe(profile, lang()))))


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


_SHOWN = ("created", "answered", "evidence_attached", "waived")


_CARD_SOURCES = ("description", "document:", "llm")


def _from_card(event: Event) -> bool:
    return event.type == "answered" and str(event.data.get("source", "")).startswith(_CARD_SOURCES)


def _card_turn(profile: Profile, case: Case, events: list[Event]) -> None:
    """Answers confirmed together on a card: one message listing them, not a question per answer."""
    with st.chat_message("user", avatar=":material/fact_check:"):
        st.markdown(say("chat_card_recorded", len(events)))
        lines = []
        for e in events:
            try:
                label = profile.question(e.data["question_id"]).label.get(lang())
            except KeyError:
                label = e.data["question_id"]
            value = " ".join(_shown_value(profile, e.data["question_id"], e.data["value"]).split())
            lines.append(f"- {md(label[:1].upper() + label[1:])} : {md(value[:160])}")
        st.markdown("\n".join(lines))
        st.caption(f"{md(events[-1].by)} · {events[-1].at:%Y-%m-%d %H:%M} UTC · v{events[0].v}–{events[-1].v}")


def _turns(events: list[Event]) -> list[list[Event]]:
    """The events as turns: consecutive answers confirmed on a card make one turn."""
    turns: list[list[Event]] = []
    for e in events:
        if _from_card(e) and turns and _from_card(turns[-1][-1]) and e.v == turns[-1][-1].v + 1:
            turns[-1].append(e)
        else:
            turns.append([e])
    return turns


def transcript(profile: Profile, case: Case) -> None:
    events = memo("events", case, None, lambda: [e for e in service().history(case.id) if e.type in _SHOWN])
    turns = _turns(events)
    earlier, recent = turns[:-RECENT_TURNS], turns[-RECENT_TURNS:]

    def show(turn: list[Event]) -> None:
        if len(turn) > 1 or _from_card(turn[0]):
            _card_turn(profile, case, turn)
        else:
            _turn(profile, case, turn[0])

    if earlier:
        with st.expander(say("chat_earlier", len(earlier)), icon=":material/history:"):
            for turn in earlier:
                show(turn)
    for turn in recent:
        show(turn)


# -- the opening, and the route once decided -------------------------------------------------------
def opening(case: Case) -> None:
    with st.chat_message("assistant", avatar=":material/support_agent:"), st.container(key="chat-opening"):
        st.markdown(f"**{say('chat_opening_title')}**")
        st.markdown(say("chat_opening"))
        st.button(say("chat_opening_skip"), key=f"opening-skip:{case.id}", on_click=_skip_opening, args=(case.id,))


def route_message(case: Case) -> None:
    """The legal route, in the chat, once the screening decides it (with its reasons and provisions)."""
    result = memo("route", case, lang(), lambda: service().route(case.id, lang()))
    if result.conclusion == "undetermined":
        return
    outcome = next((r for r in result.routes if r.id == result.conclusion), result.routes[-1])
    with st.chat_message("assistant", avatar=":material/gavel:"), st.container(key="chat-route"):
        st.markdown(f"**{say('route_conclusion', say('route_' + result.conclusion))}**")
        with st.expander(say("chat_route_why"), icon=":material/help:"):
            for reason in outcome.reasons:
                st.markdown(f"- {md(reason)}")
            for cite in outcome.citations:
                st.markdown(f"- [{md(cite['label'])}]({cite['url']})")


# -- the question asked now ------------------------------------------------------------------------
def _current_prompts(case: Case) -> tuple[list[Prompt], bool]:
    """The question(s) to ask, and whether answering replaces a recorded answer (?ask=…)."""
    ask = st.query_params.get("ask")
    if ask:
        try:
            return [service().prompt_for(case.id, ask)], ask in case.answers
        except ServiceError:
            go(ask=None)
    skipped = frozenset(st.session_state.get(_skipped_key(case.id), set()))
    return service().next_group(case.id, skipped), False


def _hint(prompt: Prompt) -> str | None:
    q = prompt.question
    if q.patient_data:
        return say("chat_hint_pseudonym")
    return {"date": say("chat_hint_date"), "long_text": say("chat_hint_long")}.get(q.type)


def _ask(case: Case, profile: Profile, prompt: Prompt, replace: bool, proposal: Proposal | None) -> None:
    q = prompt.question
    open_count = len(memo("open", case, None, lambda: service().questions(case.id)))
    with st.chat_message("assistant", avatar=":material/support_agent:"), st.container(key="chat-question"):
        st.caption(f"{md(prompt.section.title.get(lang()))} · {say('chat_open_count', open_count)}"
                   + ("" if q.required else " · " + say("chat_optional")))
        if prompt.followup:
            answer = case.answers[q.id]
            st.markdown(say("chat_followup_short", answer.words, profile.min_words) + " " + md(prompt.text(lang())))
            st.caption(say("chat_so_far", md(answer.value)))
        else:
            st.markdown(f"**{md(prompt.text(lang()))}**")
        if replace:
            st.caption(say("chat_current_answer", md(case.answers[q.id].value)))
        hint = _hint(prompt)
        if hint:
            st.caption(hint)
        options = ["yes", "no"] if q.type == "yes_no" else list(q.options) if q.type == "choice" else []
        with st.container(horizontal=True):
            for option in options:
                st.button(say(f"chat_{option}").capitalize() if q.type == "yes_no" else option, key=f"opt:{q.id}:{option}",
                          on_click=save_answer, args=(case.id, q.id, option, replace))
            if replace or st.query_params.get("ask"):
                st.button(say("chat_cancel"), key=f"cancel:{q.id}", on_click=go, kwargs={"ask": None})
            else:
                st.button(say("chat_skip"), key=f"skip:{q.id}", on_click=_skip, args=(case.id, [q.id]),
                          help=say("chat_skip_help"))
        if proposal is not None:
            with st.container(border=True):
                st.markdown(say("chat_found_in", md(proposal.filename), proposal.page, md(proposal.value)))
                st.caption(f"“{md(proposal.snippet)}”")
                with st.container(horizontal=True):
                    st.button(say("chat_use_this"), key=f"acc-chat:{proposal.key}", type="primary",
                              on_click=_accept, args=(case.id, proposal))
                    st.button(say("chat_not_right"), key=f"dis-chat:{proposal.key}", on_click=_dismiss,
                              args=(case.id, proposal))


def _save_block(case_id: str, ids: list[str]) -> None:
    for qid in ids:
        text = (st.session_state.get(f"block:{case_id}:{qid}") or "").strip()
        if text and not save_answer(case_id, qid, text, False):
            return


def _ask_block(case: Case, prompts: list[Prompt]) -> None:
    """Short facts a person answers together, in one form (one turn)."""
    ids = [p.question.id for p in prompts]
    with st.chat_message("assistant", avatar=":material/support_agent:"), st.container(key="chat-block"):
        st.caption(f"{md(prompts[0].section.title.get(lang()))} · {say('chat_block', len(prompts))}")
        with st.form(f"block:{case.id}:{'+'.join(ids)}", border=False):
            for p in prompts:
                optional = not p.question.required and say("chat_optional") not in p.text(lang()).lower()
                st.text_input(p.text(lang()) + (f" ({say('chat_optional')})" if optional else ""),
                              key=f"block:{case.id}:{p.question.id}", help=_hint(p))
            left, right = st.columns(2)
            left.form_submit_button(say("chat_save_block"), type="primary", on_click=_save_block, args=(case.id, ids),
                                    use_container_width=True)
            right.form_submit_button(say("chat_skip"), on_click=_skip, args=(case.id, ids), use_container_width=True)


def _conflict_box(case: Case, profile: Profile) -> None:
    pending = st.session_state.get(_conflict_key(case.id))
    if not pending:
        return
    try:
        label = profile.question(pending["question_id"]).label.get(lang())
    except KeyError:
        label = pending["question_id"]
    with st.container(border=True, key="chat-conflict"):
        st.warning(say("chat_conflict", md(label), md(pending.get("current", ""))), icon=":material/sync_problem:")
        st.markdown(say("chat_conflict_yours", md(pending["text"])))
        a, b = st.columns(2)
        a.button(say("chat_conflict_keep_mine"), key="conflict-retry", type="primary", on_click=_retry_conflict,
                 args=(case.id,), use_container_width=True)
        b.button(say("chat_conflict_keep_theirs"), key="conflict-discard", on_click=_discard_conflict,
                 args=(case.id,), use_container_width=True)


# -- the side panel: documents, facts found in them, answers ------------------------------------------
def _attach_from_panel(case_id: str, key: str) -> None:
    files = st.session_state.get(key) or []
    if not files:
        flash("warning", say("chat_choose_pdf"), "side")
        return
    kind = st.session_state.get(f"{key}:kind") or None
    done = attach_files(case_id, files, None if kind == "(guess)" else kind)
    _document_facts_to_card(case_id, done)
    # a new uploader every time: failed files are not left in it to be retried on the next Attach
    st.session_state[f"uploader:{case_id}"] = st.session_state.get(f"uploader:{case_id}", 0) + 1
    go(attach=None)


def _attach_wanted(case_id: str, key: str, kind: str) -> None:
    files = st.session_state.get(key) or []
    if not files:
        flash("warning", say("chat_choose_pdf"), "chat")
        return
    _document_facts_to_card(case_id, attach_files(case_id, files, kind, where="chat"))
    st.session_state[f"uploader:{case_id}"] = st.session_state.get(f"uploader:{case_id}", 0) + 1
    go(attach=None)


def attach_here(case: Case, profile: Profile, kind: str) -> None:
    """"Attach" from a blocker: the uploader for that document, where the user is looking (the chat)."""
    try:
        name = profile.evidence_kind(kind).name.get(lang())
    except Exception:  # an unknown kind in the address: nothing to offer
        return
    key = f"attach-here:{case.id}:{kind}:{st.session_state.get(f'uploader:{case.id}', 0)}"
    with st.chat_message("assistant", avatar=":material/upload_file:"), st.container(key="chat-attach"):
        st.markdown(f"**{say('chat_attach_wanted', md(name))}**")
        st.file_uploader(say("chat_attach_pdfs"), type=["pdf"], accept_multiple_files=True, key=key)
        with st.container(horizontal=True):
            st.button(say("chat_attach"), key=f"{key}:go", type="primary", on_click=_attach_wanted,
                      args=(case.id, key, kind), icon=":material/upload_file:")
            st.button(say("chat_cancel"), key=f"{key}:cancel", on_click=go, kwargs={"attach": None})
    # "Attach" from a blocker lands here: the uploader is brought on screen (a fixed script, no user input)
    # (again after the chat's own scroll to its bottom, which comes once the page is drawn)
    st.html("<script>for (const ms of [300, 900, 1800, 3000]) setTimeout(() => {"
            " const el = document.querySelector('.st-key-chat-attach');"
            " if (el) el.scrollIntoView({block: 'center'}); }, ms);</script><style></style>",
            unsafe_allow_javascript=True)


def _set_kind(case_id: str, evidence_id: str, key: str | None, kind: str | None = None) -> None:
    chosen = kind or st.session_state.get(key or "")
    if chosen:
        attempt(lambda: service().set_evidence_kind(case_id, evidence_id, chosen, actor("manufacturer")), where="side")


def documents_panel(case: Case, profile: Profile) -> None:
    st.markdown(f"**{say('chat_documents')}**")
    show_flash("side")
    kinds = [k.id for k in profile.evidence_kinds if k.applies(case.request_type)]
    names = {k.id: k.name.get(lang()) for k in profile.evidence_kinds}
    wanted = st.query_params.get("attach")
    key = f"upload:{case.id}:{st.session_state.get(f'uploader:{case.id}', 0)}"
    with st.container(key="side-uploader"):
        st.file_uploader(say("chat_attach_pdfs"), type=["pdf"], accept_multiple_files=True, key=key,
                         help=say("chat_attach_help"))
        options = ["(guess)", *kinds]
        shown = {**names, "(guess)": say("chat_kind_guess")}  # computed now: a format_func runs later too
        st.selectbox(say("chat_what_is_it"), options, index=options.index(wanted) if wanted in options else 0,
                     key=f"{key}:kind", format_func=shown.__getitem__)
        st.button(say("chat_attach"), key=f"{key}:go", on_click=_attach_from_panel, args=(case.id, key),
                  icon=":material/upload_file:")
    with_model = llm_panels.usable()
    for ev in case.evidence:
        with st.container(border=True):
            st.markdown(f":material/description: **{md(ev.filename)}** · {say('chat_pages', ev.pages)}  \n"
                        f"{md(names.get(ev.kind, say('chat_other_document')))}"
                        + ("" if ev.kind_confirmed else " · :orange[" + say("chat_kind_to_confirm") + "]"))
            if not ev.kind_confirmed:
                a, b = st.columns([1, 1])
                a.button(say("chat_confirm"), key=f"confirm:{ev.id}", type="primary", on_click=_set_kind,
                         args=(case.id, ev.id, None, ev.kind))
                with b.popover(say("chat_correct")):
                    st.selectbox(say("chat_it_is"), kinds, index=kinds.index(ev.kind) if ev.kind in kinds else 0,
                                 key=f"kind:{ev.id}", format_func=lambda k: names[k])
                    st.button(say("chat_save_kind"), key=f"setkind:{ev.id}", on_click=_set_kind,
                              args=(case.id, ev.id, f"kind:{ev.id}"))
            if with_model and ev.text_pages:
                llm_panels.document_button(case.id, ev.id, ev.filename)


def proposals_panel(case: Case, profile: Profile, proposals: list[Proposal]) -> None:
    if not proposals:
        return
    st.markdown(f"**{say('chat_facts_found')}**")
    st.caption(say("chat_facts_found_how"))
    for p in proposals:
        label = profile.question(p.question_id).label.get(lang())
        label = label[:1].upper() + label[1:]
        with st.container(border=True):
            st.markdown(f"{md(label)}: **{md(p.value)}**")
            st.caption(f"{md(p.filename)}, p. {p.page}: “{md(p.snippet)}”")
            if p.current is not None:
                st.caption(":orange[" + say("chat_yours_differs", md(p.current)) + "]")
            a, b = st.columns(2)
            a.button(say("chat_accept"), key=f"acc:{p.key}", type="primary", on_click=_accept, args=(case.id, p))
            b.button(say("chat_dismiss"), key=f"dis:{p.key}", on_click=_dismiss, args=(case.id, p))


def answers_panel(case: Case, profile: Profile) -> None:
    with st.expander(say("chat_your_answers", len(case.answers)), icon=":material/list:"):
        for q in profile.all_questions():
            answer = case.answers.get(q.id)
            if answer is None:
                continue
            a, b = st.columns([4, 1], vertical_alignment="center")
            a.markdown(f"**{md(q.label.get(lang()))}**  \n{md(_shown_value(profile, q.id, answer.value)[:300])}")
            b.button(say("chat_change"), key=f"change:{q.id}", on_click=go, kwargs={"ask": q.id})


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
        # its open/closed state is kept in the session (key): creating a link never collapses the panel
        # that shows the one-time link (clinician_link._create_link opens it)
        with st.expander(say("chat_clinician_link"), icon=":material/link:", key=f"cliniclink-panel:{case.id}",
                         on_change="rerun"):
            clinician_link_panel(case.id)
    followup = None
    prompts: list[Prompt] = []
    replace = False
    mode = "answer"
    with chat:
        transcript(profile, case)
        route_message(case)
        _conflict_box(case, profile)
        show_flash("chat")
        llm_panels.facts_box(case)
        if st.query_params.get("attach"):
            attach_here(case, profile, st.query_params["attach"])
        if told_card.card(case):
            mode = "tell"
        elif opening_pending(case):
            opening(case)
            mode = "tell"
        else:
            followup = None if st.query_params.get("ask") else llm_panels.pending_followup(case, profile)
            prompts, replace = _current_prompts(case)
            if followup is not None:
                llm_panels.ask_followup(case, profile, followup)
            elif len(prompts) > 1:
                _ask_block(case, prompts)
            elif prompts:
                _ask(case, profile, prompts[0], replace, None if replace else by_question.get(prompts[0].question.id))
            else:
                _all_done(case)
    if mode == "tell":
        target: tuple = (case.id, "tell")
        placeholder = say("chat_placeholder_tell")
    elif followup is not None:
        target = (case.id, "answer", followup.question_id, False, True, followup.text)
        placeholder = say("chat_placeholder")
    else:
        first = prompts[0].question.id if prompts else None  # a typed answer answers a block's first question
        target = (case.id, "answer", first, replace)
        placeholder = say("chat_placeholder") if first else say("chat_placeholder_drop")
    st.chat_input(placeholder, key=_chat_key(case.id), accept_file="multiple", file_type=["pdf"],
                  on_submit=_on_chat_submit, args=target)


def _all_done(case: Case) -> None:
    skipped = st.session_state.get(_skipped_key(case.id))
    with st.chat_message("assistant", avatar=":material/support_agent:"):
        if skipped:
            st.markdown(say("chat_skipped", len(skipped)))
            st.button(say("chat_ask_now"), on_click=_unskip, args=(case.id,))
        else:
            st.markdown(say("chat_all_answered"))
            with st.container(horizontal=True):
                st.button(say("page_view_draft"), on_click=go, kwargs={"view": "draft", "ask": None})
                st.button(say("page_view_export"), on_click=go, kwargs={"view": "export", "ask": None})
