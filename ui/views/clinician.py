"""The treating physician's urgency letter.

- `link_flow(case_id, token)`: what a link handed out by the manufacturer opens: that case's letter
  and nothing else (no sidebar, no other case); an unknown or revoked token is refused.
- `internal_flow(case_id)`: the same flow for a clinician using the app.
- the manufacturer creates and revokes those links in ui/components/clinician_link.py.

Each field is saved as soon as it is left (a refresh loses nothing) and screened by the Service:
a refused value stays in its box with the reason under it. A field changed meanwhile in another
window is not overwritten silently.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from assistant.service import Actor, Block, Case, LetterField, Run, ServiceError, words
from ui.state import LANG_LABELS, attempt, flash, md, save_upload, service, show_flash, synced_choice
from ui.state import actor as session_actor
from ui.state import lang as page_lang


def _t(key: str, lang: str, *args: object, **kwargs: object) -> str:
    """The page's words (assistant/words.yaml, group clinician_page)."""
    return words(f"letter_page_{key}", lang, *args, **kwargs)


@dataclass(frozen=True)
class Flow:
    """Who is writing the letter, and through what: a token link or a clinician session."""

    case_id: str
    token: str | None = None

    def allowed(self) -> bool:
        return self.token is None or service().clinician_link(self.case_id, self.token) is not None

    def reader(self) -> Actor:
        """Who reads the letter: the service opens it only for the case this link belongs to."""
        if self.token is None:
            return session_actor("clinician")
        return Actor(name="clinician", role="clinician", token=self.token)

    def saved(self) -> Case:
        return service().case(self.case_id, actor=self.reader())

    def actor(self) -> Actor:
        if self.token is None:
            return session_actor("clinician")
        name = self.saved().letter.fields.get("physician_name")
        link = service().clinician_link(self.case_id, self.token)
        return Actor(name=f"Dr {name}" if name else f"clinician (link {link.id if link else '?'})", role="clinician",
                     token=self.token)  # the service checks it opens this case

    def key(self, name: str) -> str:
        return f"letter:{self.case_id}:{name}"


# -- entry points ----------------------------------------------------------------------------------
def link_flow(case_id: str, token: str) -> None:
    """The letter of one case, opened by a manufacturer's link; nothing else is reachable from here."""
    if not case_id or service().clinician_link(case_id, token) is None:
        st.title(f"{_t('title', 'fr')} · {_t('title', 'en')}")
        st.error(_t("refused", "fr"), icon=":material/link_off:")
        st.error(_t("refused", "en"), icon=":material/link_off:")
        return
    _flow(Flow(case_id, token))


def internal_flow(case_id: str) -> None:
    _flow(Flow(case_id))


# -- the flow ----------------------------------------------------------------------------------------
def _flow(flow: Flow) -> None:
    svc = service()
    title, choice = st.columns([3, 1], vertical_alignment="bottom")
    if flow.token is None:  # inside the app: the sidebar's FR/EN switch is the page's language
        lang = page_lang()
    else:
        with choice:
            lang = synced_choice("lang", ["fr", "en"], "fr", LANG_LABELS, label="Langue de la lettre · Letter language")
    case = flow.saved()
    maker = case.value("applicant_name")
    title.title(_t("title", lang))
    st.markdown(
        _t(
            "for",
            lang,
            device=md(case.device or "?"),
            kind=_t(f"kind_{case.request_type}", lang),
            maker=_t("maker", lang).format(md(maker)) if maker else "",
        )
    )
    st.caption(_t("how", lang))
    show_flash("letter")
    form, preview = st.columns([1, 1], gap="large")
    with form:
        _fields(flow, case, lang)
    with preview:
        st.subheader(_t("preview", lang))
        with st.container(border=True, key=flow.key("preview")):
            _preview(svc.letter(flow.case_id, flow.reader(), lang))
    _finish(flow, flow.saved(), lang)


def _sync_widget(flow: Flow, fid: str, stored: str) -> None:
    """The box shows the saved value unless the user typed something not saved yet (kept, never lost)."""
    wkey, skey = flow.key(fid), flow.key(f"seen:{fid}")
    state = st.session_state
    if wkey not in state or (state.get(skey) != stored and state[wkey] == state.get(skey, "")):
        state[wkey] = stored
    state[skey] = stored


def _fields(flow: Flow, case: Case, lang: str) -> None:
    status = service().letter_status(case.id, flow.reader())
    fields = status.fields
    for group, heading in status.groups.items():
        st.subheader(heading[lang])
        if group == "patient":
            st.info(_t("privacy", lang), icon=":material/shield_person:")
        mine = [f for f in fields if f.group == group]
        if group == "physician":  # the name on its own line, the rest two by two
            _field(flow, case, mine[0], lang)
            for i in range(1, len(mine), 2):
                for col, f in zip(st.columns(2), mine[i : i + 2], strict=False):
                    with col:
                        _field(flow, case, f, lang)
            continue
        for f in mine:
            _field(flow, case, f, lang)


def _field(flow: Flow, case: Case, f: LetterField, lang: str) -> None:
    stored = service().letter_values(case.id, flow.reader()).get(f.id, "")
    _sync_widget(flow, f.id, stored)
    label = f.label[lang] + ("" if f.required else f" ({_t('optional', lang)})")
    kwargs = {"key": flow.key(f.id), "help": f.help[lang], "on_change": _save_field, "args": (flow, f.id, lang)}
    if f.long:
        st.text_area(label, height=110, placeholder=f.help[lang], **kwargs)
    else:
        st.text_input(label, placeholder=f.help[lang] if f.group != "physician" else "", **kwargs)
    error = st.session_state.get(flow.key(f"bad:{f.id}"))
    if error:
        st.error(md(error), icon=":material/error:")  # it quotes what was typed
    if st.session_state.get(flow.key(f"conflict:{f.id}")):
        st.warning(
            _t("changed_elsewhere", lang, field=md(f.label[lang]), value=md(stored)), icon=":material/sync_problem:"
        )
        a, b = st.columns(2)
        a.button(_t("keep_mine", lang), key=flow.key(f"keep:{f.id}"), on_click=_resolve, args=(flow, f.id, True))
        b.button(_t("use_saved", lang), key=flow.key(f"drop:{f.id}"), on_click=_resolve, args=(flow, f.id, False))
    if f.pseudonym:
        in_case = case.value("patient_pseudonym")
        if in_case and stored and stored != in_case:
            st.warning(_t("pseudonym_differs", lang).format(md(in_case)), icon=":material/warning:")
        elif in_case and f.id not in case.letter.fields:  # pre-filled from the request
            st.caption(words("letter_pseudonym_prefilled", lang))


def _save_field(flow: Flow, fid: str, lang: str) -> None:
    """on_change of one field: save it, or keep the typed text with the reason it was refused."""
    if not flow.allowed():
        flash("error", _t("refused", lang), "letter")
        return
    state = st.session_state
    typed = state.get(flow.key(fid), "")
    seen = state.get(flow.key(f"seen:{fid}"), "")
    saved = service().letter_values(flow.case_id, flow.reader()).get(fid, "")
    if saved != seen and typed != saved:  # another window changed this very field since it was shown
        state[flow.key(f"conflict:{fid}")] = True  # the user chooses, under the field
        return
    _store_field(flow, fid)


def _store_field(flow: Flow, fid: str) -> None:
    state = st.session_state
    typed = state.get(flow.key(fid), "")
    state.pop(flow.key(f"conflict:{fid}"), None)
    try:
        case = service().save_letter(flow.case_id, {fid: typed}, flow.actor())
    except ServiceError as exc:
        state[flow.key(f"bad:{fid}")] = str(exc)
        return
    state.pop(flow.key(f"bad:{fid}"), None)
    stored = service().letter_values(case.id, flow.reader()).get(fid, "")
    state[flow.key(fid)] = stored  # as recorded (e.g. "Dr" or spaces removed)
    state[flow.key(f"seen:{fid}")] = stored


def _resolve(flow: Flow, fid: str, keep_mine: bool) -> None:
    """After a conflict on a field: save the text in the box, or show the saved value again."""
    if keep_mine:
        if flow.allowed():
            _store_field(flow, fid)
        return
    stored = service().letter_values(flow.case_id, flow.reader()).get(fid, "")
    st.session_state[flow.key(fid)] = stored
    st.session_state[flow.key(f"seen:{fid}")] = stored
    st.session_state.pop(flow.key(f"conflict:{fid}"), None)
    st.session_state.pop(flow.key(f"bad:{fid}"), None)


def _preview(blocks: list[Block]) -> None:
    """The letter as Markdown: gaps highlighted, user text escaped."""
    chunk: list[str] = []
    for block in blocks:
        text = "".join(_run(r) for r in block.runs)
        if block.style == "meta":
            chunk.append(text)
            continue
        if chunk:
            st.markdown("  \n".join(chunk))
            chunk = []
        if block.style == "h2":
            st.markdown(f"**{text}**")
        elif block.style == "p":
            st.markdown(text)
    if chunk:
        st.markdown("  \n".join(chunk))


def _run(run: Run) -> str:
    """One run as Markdown; spaces stay outside the markup, or `**Objet : **` would not be bold."""
    inner = run.text.strip()
    if not inner or not (run.mark or run.bold):
        return md(run.text)
    lead, trail = run.text[: len(run.text) - len(run.text.lstrip())], run.text[len(run.text.rstrip()) :]
    body = f":orange-background[**{md(inner)}**]" if run.mark else f"**{md(inner)}**"
    return lead + body + trail


def _finish(flow: Flow, case: Case, lang: str) -> None:
    st.divider()
    st.subheader(_t("finish", lang))
    status = service().letter_status(case.id, flow.reader())
    gaps = status.missing
    st.progress(status.filled / (status.required or 1), text=_t("filled", lang, n=status.filled, m=status.required))
    if gaps:
        st.warning(
            _t("missing", lang).format(", ".join(md(f.label[lang][:1].lower() + f.label[lang][1:]) for f in gaps)),
            icon=":material/edit_note:",
        )
    show_flash("letter:finish")
    attached = next((e for e in case.evidence if e.id == case.letter.attached_evidence), None)
    outdated = status.attached_outdated
    a, b = st.columns(2)
    a.button(
        _t("attach_again" if attached else "attach", lang),
        type="primary",
        icon=":material/attach_file:",
        disabled=bool(gaps),
        on_click=_attach,
        args=(flow, lang),
        key=flow.key("attach"),
        width="stretch",
    )
    b.download_button(
        _t("download", lang),
        data=lambda: _docx(flow, lang),
        icon=":material/download:",
        file_name=f"{status.file_stems[lang]}.docx",
        disabled=bool(gaps),
        on_click="ignore",
        mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        key=flow.key("download"),
        width="stretch",
    )
    if attached is not None:
        st.success(
            _t("attached", lang, file=md(attached.filename), when=f"{attached.added_at:%Y-%m-%d %H:%M}"),
            icon=":material/task:",
        )
        if outdated:
            st.warning(_t("outdated", lang), icon=":material/update:")
    signed = [e for e in case.evidence_of_kind("clinician_letter") if e.origin != "letter_flow"]
    for e in signed:
        st.success(_t("signed_there", lang).format(md(e.filename)), icon=":material/verified:")
    if attached is not None and not signed:
        st.info(_t("sign", lang), icon=":material/draw:")
    if attached is not None or signed:
        st.file_uploader(
            _t("signed", lang), type=["pdf"], key=flow.key("signed"), on_change=_upload_signed, args=(flow, lang)
        )


def _attach(flow: Flow, lang: str) -> None:
    if not flow.allowed():
        flash("error", _t("refused", lang), "letter")
        return
    attempt(lambda: service().attach_letter(flow.case_id, flow.actor(), lang), "letter:finish")


def _upload_signed(flow: Flow, lang: str) -> None:
    upload = st.session_state.get(flow.key("signed"))
    if upload is None:
        return
    if not flow.allowed():
        flash("error", _t("refused", lang), "letter")
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = save_upload(upload, Path(tmp))
        result = attempt(
            lambda: service().attach(
                flow.case_id,
                path,
                flow.actor(),
                kind="clinician_letter",
                note="signed letter uploaded by the physician",
            ),
            "letter:finish",
        )
    if result is not None:
        flash("success", _t("signed_ok", lang).format(result.file.filename), "letter:finish")


def _docx(flow: Flow, lang: str) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        return service().letter_file(flow.case_id, flow.reader(), lang, "docx", Path(tmp) / "letter.docx").read_bytes()
