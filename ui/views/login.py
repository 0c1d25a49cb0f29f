"""Who is using the app. Three modes, chosen by the deployment:

- open (a single user on their own machine, the default): the role is picked in the sidebar;
- team accounts (`derogation users add …` wrote `$DEROGATION_HOME/users.json`): a login form, and
  the role comes from the account;
- an identity provider (an `[auth]` section in `.streamlit/secrets.toml`, Streamlit's OIDC
  `st.login`): the e-mail it vouches for must be a team account (`users add EMAIL --role R
  --identity-provider`), which gives the role.

A clinician's link (`?case=…&token=…`) needs no login: the link itself opens that one letter.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from assistant.errors import ServiceError
from ui.state import language_switch, say, service

_KEY = "account"


@dataclass(frozen=True)
class Account:
    name: str
    role: str


def mode() -> str:
    try:
        if "auth" in st.secrets:
            return "oidc"
    except Exception:  # no secrets file: the common case
        pass
    try:
        return "users" if service().login_required() else "open"
    except ServiceError as exc:
        st.error(str(exc))
        st.stop()
    return "open"


def account() -> Account | None:
    """The logged-in account, or None in open mode (and before login)."""
    held = st.session_state.get(_KEY)
    return Account(**held) if held else None


def gate() -> Account | None:
    """Stop the page with a login form until someone logs in (unless the deployment is open)."""
    how = mode()
    if how == "open":
        return None
    if how == "oidc":
        return _oidc()
    held = account()
    if held is not None:
        return held
    _form()
    st.stop()
    return None


def _form() -> None:
    st.title(say("app_name"))
    language_switch()
    with st.form("login"):
        name = st.text_input(say("login_user"))
        password = st.text_input(say("login_password"), type="password")
        if st.form_submit_button(say("login_button"), type="primary"):
            user = service().authenticate(name, password)
            if user is None:
                st.error(say("login_wrong"))
            else:
                st.session_state[_KEY] = {"name": user.name, "role": user.role}
                st.rerun()


def _oidc() -> Account | None:
    if not st.user.is_logged_in:
        st.title(say("app_name"))
        st.button(say("login_button"), type="primary", on_click=st.login)
        st.stop()
    email = str(st.user.get("email") or "")
    user = service().account_for_identity(email)
    if user is None:
        st.error(say("login_no_role", email or "?"))
        st.button(say("app_log_out"), on_click=st.logout)
        st.stop()
    st.session_state[_KEY] = {"name": user.name, "role": user.role}
    return Account(user.name, user.role)


def log_out() -> None:
    st.session_state.pop(_KEY, None)
    if mode() == "oidc":
        st.logout()
