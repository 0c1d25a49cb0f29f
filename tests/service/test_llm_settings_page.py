"""The settings page, driven with Streamlit's AppTest: saves without a key, tests the connection."""

import json

import pytest
from conftest import ROOT
from streamlit.testing.v1 import AppTest  # noqa: E402

SCRIPT = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
import streamlit as st
st.query_params["role"] = "consultant"  # the settings' owner (access.yaml: llm_settings_changed)
from assistant.service import Service
from ui.views.llm_settings import render
render(Service())
"""


@pytest.fixture
def clean_env(home, monkeypatch):
    for var in ("DEROGATION_LLM", "DEROGATION_LLM_MODEL", "OPENAI_BASE_URL", "DEROGATION_LLM_TIMEOUT",
                "DEROGATION_LLM_MAX_RETRIES", "DEROGATION_LLM_LOCAL_ONLY", "DEROGATION_LLM_EMBEDDING_MODEL",
                "DEROGATION_LLM_MAX_TOKENS"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-page-secret-123456")
    return home


def test_the_page_saves_settings_without_the_key_and_tests_the_connection(clean_env, llm_server):
    at = AppTest.from_string(SCRIPT, default_timeout=30).run()
    assert not at.exception
    assert "Offline mode" in at.markdown[0].value
    assert "found in the environment" in at.caption[0].value
    at.selectbox[0].set_value("openai-compatible")
    at.text_input[0].set_value("scripted-model")
    at.text_input[1].set_value(llm_server.url)
    at.number_input[0].set_value(2.0)
    at.number_input[2].set_value(512)
    at.button[0].click().run()  # the form's Save
    assert not at.exception
    saved = (clean_env / "settings.json").read_text()
    assert json.loads(saved)["llm"]["base_url"] == llm_server.url and json.loads(saved)["llm"]["max_tokens"] == 512
    assert "sk-page-secret" not in saved
    assert "on this machine" in at.markdown[0].value
    llm_server.reply("OK")
    at.button[1].click().run()  # Test the connection
    assert at.success and "OK" in at.success[0].value
    assert llm_server.chat_requests[0].body["model"] == "scripted-model"
    assert llm_server.chat_requests[0].body["max_tokens"] == 512
