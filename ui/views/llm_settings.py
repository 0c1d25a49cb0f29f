"""Settings page: which language model the assistant uses (or none: the offline mode).

`render(svc)` draws the page; the app calls it. Everything goes through the Service: settings are
saved in `$DEROGATION_HOME/settings.json` without any key (the key is read from OPENAI_API_KEY in
the environment, never typed here, never stored).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from assistant.service import Service, ServiceError
from ui.state import actor

_LABELS = {
    "none": "None — offline mode (no data leaves this machine)",
    "openai": "OpenAI API",
    "openai-compatible": "OpenAI-compatible server (Ollama, vLLM, LM Studio, llama.cpp, Azure OpenAI)",
}


def _summary(status: dict[str, Any]) -> str:
    if status["provider"] == "none":
        return "**Offline mode**: drafts come from your answers and the profile's provisions; no model is called."
    where = status["base_url"] or "(no base URL)"
    place = "on this machine" if status["server_on_this_machine"] else "**not on this machine**"
    redaction = "patient identifiers are removed before every call" if status["redacting"] else (
        "identifiers are NOT removed (local server)")
    return (f"**{_LABELS[status['provider']].split(' (')[0]}** — model `{status['model'] or '?'}` at "
            f"`{where}` ({place}); {redaction}.")


def render(svc: Service) -> None:
    st.header("Language model")
    try:
        status = svc.llm_status()
        saved = svc.llm_settings(env=False)
    except ServiceError as exc:
        st.error(f"The settings cannot be read: {exc}")
        return
    overrides = status["from_environment"]
    providers = status["providers"]
    st.markdown(_summary(status))
    st.caption(
        "API key: " + ("found in the environment (OPENAI_API_KEY)." if status["api_key_set"] else "none in the environment.")
        + " The key is only ever read from the environment: it is never typed here, saved, logged or exported."
    )
    if overrides:
        st.info("Set by environment variables (they win over this page): "
                + ", ".join(f"{field} ← {var}" for field, var in overrides.items()))

    with st.form("llm_settings"):
        provider = st.selectbox("Provider", providers, index=providers.index(saved.provider),
                                format_func=lambda p: _LABELS[p], disabled="provider" in overrides)
        model = st.text_input("Model", saved.model, placeholder="gpt-4o-mini, llama3.1, qwen2.5:7b …",
                              disabled="model" in overrides)
        base_url = st.text_input("Base URL (OpenAI-compatible server)", saved.base_url,
                                 placeholder="http://127.0.0.1:11434/v1", disabled="base_url" in overrides)
        embedding_model = st.text_input("Embedding model (optional)", saved.embedding_model,
                                        disabled="embedding_model" in overrides)
        local_only = st.checkbox("Local servers only (refuse any base URL that is not on this machine)",
                                 saved.local_only, disabled="local_only" in overrides)
        redact_local = st.checkbox("Remove patient identifiers even when the server is on this machine",
                                   saved.redact_local)
        col1, col2, col3 = st.columns(3)
        timeout = col1.number_input("Timeout (seconds)", min_value=1.0, max_value=600.0, value=float(saved.timeout),
                                    disabled="timeout" in overrides)
        max_retries = col2.number_input("Retries", min_value=0, max_value=10, value=int(saved.max_retries),
                                        disabled="max_retries" in overrides)
        max_tokens = col3.number_input("Longest answer (tokens; 0: the server's default)", min_value=0,
                                       max_value=200_000, value=int(saved.max_tokens), step=256,
                                       disabled="max_tokens" in overrides)
        submitted = st.form_submit_button("Save")
    if submitted:
        try:
            svc.update_llm_settings(
                actor(),
                provider=provider, model=model.strip(), base_url=base_url.strip(),
                embedding_model=embedding_model.strip(), local_only=local_only, redact_local=redact_local,
                timeout=timeout, max_retries=int(max_retries), max_tokens=int(max_tokens),
            )
        except ServiceError as exc:
            st.error(f"Not saved: {exc}")
        else:
            after = svc.llm_status()
            if after["local_only"] and after["base_url"] and not after["server_on_this_machine"]:
                st.warning("Saved, but the base URL is not on this machine: with 'local servers only' the "
                           "assistant will stay offline.")
            st.success("Saved (without any key).")
            st.rerun()

    if st.button("Test the connection", disabled=status["provider"] == "none"):
        try:
            with st.spinner("Asking the model for a one-word answer…"):
                answer = svc.check_llm()
        except ServiceError as exc:
            st.error(str(exc))
        else:
            st.success(f"The model answered: {answer[:200]!r}")
