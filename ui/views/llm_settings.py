"""Settings page: which language model the assistant uses (or none: the offline mode).

`render(svc)` draws the page; the app calls it. Everything goes through the Service: settings are
saved in `$DEROGATION_HOME/settings.json` without any key (the key is read from OPENAI_API_KEY in
the environment, never typed here, never stored).
"""

from __future__ import annotations

import streamlit as st
from pydantic import ValidationError

from assistant.case.privacy import is_local_url
from assistant.llm.session import PROVIDERS, LLMSettings, api_key_present, env_overrides
from assistant.service import Service, ServiceError

_LABELS = {
    "none": "None — offline mode (no data leaves this machine)",
    "openai": "OpenAI API",
    "openai-compatible": "OpenAI-compatible server (Ollama, vLLM, LM Studio, llama.cpp, Azure OpenAI)",
}


def _summary(effective: LLMSettings) -> str:
    if effective.provider == "none":
        return "**Offline mode**: drafts come from your answers and the profile's provisions; no model is called."
    where = effective.base_url or ("https://api.openai.com/v1" if effective.provider == "openai" else "(no base URL)")
    place = "on this machine" if is_local_url(where) else "**not on this machine**"
    redaction = "patient identifiers are removed before every call" if (
        not is_local_url(where) or effective.redact_local) else "identifiers are NOT removed (local server)"
    return (f"**{_LABELS[effective.provider].split(' (')[0]}** — model `{effective.effective_model or '?'}` at "
            f"`{where}` ({place}); {redaction}.")


def render(svc: Service) -> None:
    st.header("Language model")
    try:
        effective = svc.llm_settings()
        saved = svc.llm_settings(env=False)
    except ServiceError as exc:
        st.error(f"The settings cannot be read: {exc}")
        return
    overrides = env_overrides()
    st.markdown(_summary(effective))
    st.caption(
        "API key: " + ("found in the environment (OPENAI_API_KEY)." if api_key_present() else "none in the environment.")
        + " The key is only ever read from the environment: it is never typed here, saved, logged or exported."
    )
    if overrides:
        st.info("Set by environment variables (they win over this page): "
                + ", ".join(f"{field} ← ${var}" for field, var in overrides.items()))

    with st.form("llm_settings"):
        provider = st.selectbox("Provider", PROVIDERS, index=PROVIDERS.index(saved.provider),
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
            new = LLMSettings.model_validate({
                **saved.model_dump(), "provider": provider, "model": model.strip(), "base_url": base_url.strip(),
                "embedding_model": embedding_model.strip(), "local_only": local_only, "redact_local": redact_local,
                "timeout": timeout, "max_retries": int(max_retries), "max_tokens": int(max_tokens),
            })
        except ValidationError as exc:
            st.error(f"Not saved: {exc.errors()[0]['msg']}")
        else:
            if new.local_only and new.base_url and not is_local_url(new.base_url):
                st.warning("Saved, but the base URL is not on this machine: with 'local servers only' the "
                           "assistant will stay offline.")
            svc.save_llm_settings(new)
            st.success("Saved (without any key).")
            st.rerun()

    if st.button("Test the connection", disabled=effective.provider == "none"):
        try:
            with st.spinner("Asking the model for a one-word answer…"):
                answer = svc.check_llm()
        except ServiceError as exc:
            st.error(str(exc))
        else:
            st.success(f"The model answered: {answer[:200]!r}")
