"""The web app: `streamlit run ui/app.py` (or `derogation ui`).

Routing is by query parameters, so a refresh or a shared link shows the same thing:
  ?case=ID&token=T                  the clinician letter flow of that case only (a link for a physician)
  ?role=manufacturer|consultant|clinician&case=ID&view=…   a role's pages for a case
  ?page=llm                         the language-model settings (manufacturer and consultant roles)
  (no case)                         the case list and a new case
Every change goes through assistant.service at once; the session only caches what the store holds.
"""

from __future__ import annotations

import streamlit as st

from assistant.service import Forbidden
from ui import state as common
from ui.components import llm as llm_panels
from ui.views import (
    clinician,
    consultant,
    home,
    llm_settings,
    login,
)
from ui.views.manufacturer import page as manufacturer

st.set_page_config(page_title="Derogation assistant", page_icon=":material/medical_services:", layout="wide")
# A button's label wraps instead of being cut ("Vérifier et exp…", "Demander des mod…"): French labels
# are long, and a reader must see what a button does.
_LAYOUT = """<style>
button .stMarkdownEllipsis, button .stMarkdownEllipsis p { white-space: normal; text-overflow: clip; overflow: visible; }
.st-key-review-nav button, .st-key-review-nav button > div, .st-key-review-nav button > div > span {
  justify-content: flex-start; text-align: left; }
</style>"""


def main() -> None:
    common.begin_run()
    st.html(_LAYOUT)
    common.document_language()
    params = st.query_params
    case_id = params.get("case")
    token = params.get("token")
    if token is not None:
        clinician.link_flow(case_id or "", token)
        return
    if login.mode() == "open" and not common.local_client():
        # Open mode is one user on their own machine: from elsewhere only a clinician's link opens
        # (its letter, above); nothing else, whatever the URL says.
        st.info(common.say("app_open_mode_remote"))
        return
    signed_in = login.gate()  # None in open mode (one user on their own machine)
    role = common.current_role()
    with st.sidebar:
        st.markdown(f"### :material/medical_services: {common.say('app_name')}")
        st.caption(common.say("app_tagline"))
        common.language_switch()
        if signed_in is None:
            common.synced_choice("role", list(common.roles()), "manufacturer", common.roles(), label=common.say("app_your_role"),
                                 widget="radio")
            st.text_input(common.say("app_your_name"), value=common.user_name(), key="user_name_input",
                          on_change=lambda: common.go(user=st.session_state["user_name_input"].strip() or None),
                          help=common.say("app_your_name_help"))
        else:
            st.markdown(f"**{common.md(signed_in.name)}** · {common.roles()[signed_in.role]}")
            st.button(common.say("app_log_out"), icon=":material/logout:", on_click=login.log_out)
        if case_id:
            st.button(common.say("app_all_cases"), icon=":material/arrow_back:", on_click=common.go,
                      kwargs={"case": None, "view": None, "section": None, "ask": None, "page": None})
        if common.service().may_view(role, "llm_settings"):
            st.button(common.say("app_language_model"), icon=":material/auto_awesome:", on_click=common.go,
                      kwargs={"page": "llm"}, key="nav:llm-settings", help=common.say("app_language_model_help"))
            llm_panels.status_caption()
        st.divider()
    if params.get("page") == "llm":
        settings_page(role)
        return
    if not common.service().may_view(role, "case_list"):
        # A clinician works only from the link they were sent: the service accepts their changes
        # only with that link's token (access.yaml `needs_link`).
        st.info(common.say("app_clinician_use_link"))
        return
    if not case_id:
        home.render()
        return
    try:
        common.service().case(case_id)
    except Exception as exc:  # unknown or unreadable case: say so, offer the list
        st.error(common.say("app_cannot_open_case", exc))
        st.button(common.say("app_back_to_cases"), on_click=common.go, kwargs={"case": None})
        return
    {"manufacturer": manufacturer.render, "consultant": consultant.render, "clinician": clinician.internal_flow}[role](case_id)


def settings_page(role: str) -> None:
    """The language-model settings, for the roles allowed to change them."""
    try:
        common.service().require_view(role, "llm_settings")
    except Forbidden as exc:
        st.error(f"This page is not available: {exc}.")
        return
    st.button("Back", icon=":material/arrow_back:", on_click=common.go, kwargs={"page": None})
    llm_settings.render(common.service())


main()
