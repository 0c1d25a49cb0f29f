"""What every page shares: the service, who is acting, query-parameter navigation, safe text,
the version check between browser sessions, and one-shot messages."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

from assistant.config import Config
from assistant.service import Actor, Case, ConflictError, Lang, Service, ServiceError, words

LANG_LABELS = {"fr": "Français", "en": "English"}
STATUS_COLOR = {"draft": "gray", "changes_requested": "orange", "approved": "green", "stale": "red"}
_MD_PUNCT = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>$~:=^])")


# -- the service --------------------------------------------------------------------------------
@st.cache_resource(show_spinner=False)
def _service(retrieval: bool) -> Service:
    svc = Service.from_config(config(), retrieval=retrieval)
    svc.warm_in_background()  # the sections' corpus passages, if a corpus change left them to find
    return svc


@st.cache_resource(show_spinner=False)
def config() -> Config:
    """The environment, read once per server process (as the CLI reads it once per command)."""
    return Config.from_env()


def begin_run() -> None:
    """Called at the top of every rerun (ui/app.py, and a fragment's own rerun): what the widgets ask
    for hundreds of times per rerun (the service, the page's language) is worked out once per rerun."""
    st.session_state["run:memo"] = {}


def _per_run(key: object, compute: Callable[[], Any]) -> Any:
    held = st.session_state.get("run:memo")
    if held is None:  # outside a rerun begun by the app (a test's own script): no memo
        return compute()
    if key not in held:
        held[key] = compute()
    return held[key]


def roles() -> dict[str, str]:
    """Each role and its label (access.yaml), in its order."""
    return service().roles(lang())


def service() -> Service:
    """One Service per data home (DEROGATION_HOME), shared by the sessions of this server."""
    return _per_run("service", lambda: _service(config().retrieval))


def memo(name: str, case: Case, extra: object, compute: Callable[[], Any]) -> Any:
    """`compute()` once per case version (and `extra`, e.g. a language) in this session: the draft
    and the checks are rebuilt only when the case changed, not on every click."""
    key = f"memo:{name}:{case.id}"
    stamp = (case.version, extra)
    held = st.session_state.get(key)
    if held is not None and held[0] == stamp:
        return held[1]
    value = compute()
    st.session_state[key] = (stamp, value)
    return value


def actor(role: str | None = None) -> Actor:
    """Who acts. A page may say which role it acts as; a logged-in account's role always wins."""
    if st.session_state.get("account"):
        return Actor(name=user_name(), role=current_role())
    return Actor(name=user_name(), role=role or current_role())


def user_name() -> str:
    held = st.session_state.get("account")  # a logged-in account (ui/login.py) names itself
    if held:
        return held["name"]
    return (st.query_params.get("user") or "").strip()[:80] or config().user


def current_role() -> str:
    held = st.session_state.get("account")  # with a login, the role is the account's, not the URL's
    if held:
        return held["role"]
    role = st.query_params.get("role", "manufacturer")
    return role if role in roles() else "manufacturer"


# -- the page's language: ?lang=fr|en, else the case's drafting language (French for an ANSM case) --
def lang() -> Lang:
    """The language the page speaks: the one chosen (in the URL), else the open case's, else French."""
    chosen = st.query_params.get("lang")
    if chosen in ("fr", "en"):
        return chosen  # type: ignore[return-value]
    case_id = st.query_params.get("case")
    if case_id:
        return _per_run(("lang", case_id), lambda: _case_language(case_id))
    return "fr"


def _case_language(case_id: str) -> Lang:
    try:
        return service().case(case_id).settings.language
    except Exception:  # an unknown case: the page says so, in French by default
        return "fr"


def say(key: str, *args: object, **kwargs: object) -> str:
    """The product's words (assistant/words.yaml) in the page's language."""
    return words(key, lang(), *args, **kwargs)


def document_language() -> None:
    """`<html lang>` set to the page's language (screen readers, spelling, hyphenation): the value is
    one of the product's language codes, never user input."""
    code = lang() if lang() in ("fr", "en") else "fr"
    st.html(f'<script>document.documentElement.lang = "{code}";</script><style></style>',
            unsafe_allow_javascript=True)


def language_switch() -> None:
    """FR/EN on every page; the choice stays in the URL."""
    synced_choice("lang", ["fr", "en"], lang(), LANG_LABELS, label=say("ui_language"), name="page-lang")


def local_client() -> bool:
    """Whether the browser is on this machine (Streamlit gives no address, or a loopback one)."""
    import ipaddress

    address = getattr(st.context, "ip_address", None)
    if not address or not isinstance(address, str):  # none given (localhost), or a test harness's
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address == "localhost"


# -- navigation: everything that must survive a refresh is in the URL or in the case store ------
def go(**params: str | None) -> None:
    """Change the query parameters (None removes one). Safe inside callbacks."""
    for key, value in params.items():
        if value is None:
            if key in st.query_params:
                del st.query_params[key]
        else:
            st.query_params[key] = value


def synced_choice(key: str, options: list[str], default: str, labels: dict[str, str] | None = None,
                  label: str = "", widget: str = "segmented", name: str | None = None) -> str:
    """A choice kept in the URL (?key=…), so a refresh shows the same view.
    `widget`: segmented (buttons), radio or select. `name`: the widget's own name, when two widgets
    on one page set the same parameter (the sidebar's language and a page's text language)."""
    value = st.query_params.get(key, default)
    if value not in options:
        value = default
    # a widget per page language when its labels are translated: a widget kept across a language
    # switch would send back the label it showed before, not the option
    state_key = f"nav:{name or key}" + (f":{lang()}" if labels else "")
    if st.session_state.get(state_key) not in options or st.session_state.get(f"{state_key}:url") != value:
        st.session_state[state_key] = value
        st.session_state[f"{state_key}:url"] = value

    def changed() -> None:
        chosen = st.session_state.get(state_key) or default
        st.session_state[state_key] = chosen
        st.session_state[f"{state_key}:url"] = chosen
        go(**{key: chosen})

    fmt = (lambda o: labels.get(o, o)) if labels else str
    visibility = "collapsed" if not label else "visible"
    if widget == "radio":
        st.radio(label or key, options, key=state_key, format_func=fmt, on_change=changed,
                 label_visibility=visibility)
    elif widget == "select":
        st.selectbox(label or key, options, key=state_key, format_func=fmt, on_change=changed,
                     label_visibility=visibility)
    else:
        st.segmented_control(label or key, options, key=state_key, format_func=fmt, on_change=changed,
                             label_visibility="collapsed" if not label else "visible", selection_mode="single")
    return st.session_state.get(state_key) or default


# -- safe text ------------------------------------------------------------------------------------
def md(text: str) -> str:
    """User text for st.markdown: every Markdown/Streamlit markup character escaped, line breaks kept."""
    escaped = _MD_PUNCT.sub(r"\\\1", text or "")
    return re.sub(r"\n(?!\n)", "  \n", escaped)


def status_label(status: str) -> str:
    """A review status in the page's language."""
    return say(f"status_{status}") if status in STATUS_COLOR else status


def badge(status: str) -> str:
    return f":{STATUS_COLOR.get(status, 'gray')}-badge[{status_label(status)}]"


# -- one-shot messages (set in callbacks, shown on the next render) ------------------------------
def flash(kind: str, message: str, where: str = "page") -> None:
    st.session_state.setdefault("flash", []).append((where, kind, message))


def show_flash(where: str = "page") -> None:
    kept, shown = [], []
    for item in st.session_state.get("flash", []):
        (shown if item[0] == where else kept).append(item)
    st.session_state["flash"] = kept
    # Always one container, empty or not: a message shown once must not shift what follows it (the
    # next rerun would draw the elements below at other places, and a tab the user opened, e.g. the
    # consultant's Comments while typing one, would close).
    with st.container():
        for _, kind, message in shown:
            {"error": st.error, "warning": st.warning, "success": st.success}.get(kind, st.info)(message)


# -- the version check between sessions ------------------------------------------------------------
def remember(case: Case) -> None:
    """The version this session last showed: a save made on an older version is refused."""
    st.session_state[f"seen:{case.id}"] = case.version


def seen(case_id: str) -> int | None:
    return st.session_state.get(f"seen:{case_id}")


def conflict_message(exc: ConflictError) -> str:
    return say("ui_conflict")


def attempt(action: Callable[[], Any], where: str = "page", keep: tuple[str, str] | None = None,
            success: str | None = None) -> Any:
    """Run a Service call from a callback; show why it failed. `keep` = (state key, text) is kept
    for the user to retry when the save is refused, so nothing typed is lost."""
    try:
        result = action()
    except ConflictError as exc:
        flash("warning", conflict_message(exc), where)
        if keep:
            st.session_state[keep[0]] = keep[1]
        return None
    except ServiceError as exc:
        flash("error", say("ui_not_saved", exc), where)
        if keep:
            st.session_state[keep[0]] = keep[1]
        return None
    if keep:
        st.session_state.pop(keep[0], None)
    if success:
        flash("success", success, where)
    return result


def save_upload(upload: Any, folder: Path) -> Path:
    """An uploaded file written under its own (sanitised) name in `folder`."""
    name = Path(upload.name or "document.pdf").name or "document.pdf"
    name = "".join(ch for ch in name if ch.isprintable() and ch not in "/\\")
    stem, dot, ext = name.rpartition(".")
    if len(name.encode()) > 120:  # file systems refuse names over 255 bytes; keep it short and readable
        stem = stem.encode()[:100].decode(errors="ignore")
        name = f"{stem}.{ext[:10]}" if dot else stem
    path = folder / (name or "document.pdf")
    path.write_bytes(upload.getvalue())
    return path
