"""`derogation llm` (show, set, test) and the API key never landing anywhere on disk or in output."""

import json
import subprocess

import pytest
from helpers import answer_all, attach_all_mandatory

KEY = "sk-proj-NeverWriteMe-7f3a9c2e4b1d"
LLM_VARS = ("DEROGATION_LLM", "DEROGATION_LLM_MODEL", "OPENAI_BASE_URL", "DEROGATION_LLM_TIMEOUT",
            "DEROGATION_LLM_MAX_RETRIES", "DEROGATION_LLM_LOCAL_ONLY", "DEROGATION_LLM_EMBEDDING_MODEL",
            "DEROGATION_LLM_MAX_TOKENS")


@pytest.fixture
def cli(home, capsys):
    """The real command line, run in this process (a subprocess per call would triple the time)."""
    from assistant.cli.main import main

    def call(*args: str) -> subprocess.CompletedProcess:
        capsys.readouterr()
        code = main(list(args))
        out = capsys.readouterr()
        return subprocess.CompletedProcess(["derogation", *args], code, out.out, out.err)

    return call


@pytest.fixture
def clean_env(home, monkeypatch):
    for var in LLM_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("DEROGATION_RETRIEVAL", "off")  # retrieval has its own tests; keep these fast
    return home


def test_llm_set_show_and_test_from_the_command_line(cli, clean_env, llm_server):
    shown = cli("llm")
    assert shown.returncode == 0 and "provider                 none" in shown.stdout
    assert "set in OPENAI_API_KEY (never shown or stored)" in shown.stdout and KEY not in shown.stdout

    out = cli("--role", "consultant", "llm", "set", "--provider", "openai-compatible", "--model", "scripted-model",
              "--base-url", llm_server.url, "--local-only", "yes", "--timeout", "5", "--max-tokens", "400")
    assert out.returncode == 0, out.stderr
    status = json.loads(cli("llm", "--json").stdout)
    assert status["provider"] == "openai-compatible" and status["usable"] is True
    assert status["server_on_this_machine"] is True and status["local_only"] is True
    saved = json.loads((clean_env / "settings.json").read_text())["llm"]
    assert saved["base_url"] == llm_server.url and saved["max_tokens"] == 400

    llm_server.reply("OK")
    tested = cli("llm", "test")
    assert tested.returncode == 0 and "the model answered: 'OK'" in tested.stdout
    (request,) = llm_server.chat_requests
    assert request.body["model"] == "scripted-model" and request.body["max_tokens"] == 400

    remote = cli("--role", "consultant", "llm", "set", "--base-url", "https://api.openai.com/v1")
    assert remote.returncode == 0
    status = json.loads(cli("llm", "--json").stdout)
    assert status["usable"] is False and "not on this machine" in status["problem"]
    assert cli("llm", "test").returncode == 2 and len(llm_server.chat_requests) == 1  # refused without a call


def test_llm_set_refuses_bad_values_and_keeps_the_saved_ones(cli, clean_env):
    assert cli("--role", "consultant", "llm", "set", "--provider", "openai-compatible", "--model", "m").returncode == 0
    bad = cli("--role", "consultant", "llm", "set", "--timeout", "0")
    assert bad.returncode == 2 and "timeout" in bad.stderr
    assert cli("--role", "consultant", "llm", "set").returncode == 2
    assert json.loads((clean_env / "settings.json").read_text())["llm"]["model"] == "m"


def test_the_environment_wins_and_says_so(cli, clean_env, monkeypatch, llm_server):
    monkeypatch.setenv("DEROGATION_LLM", "openai-compatible")
    monkeypatch.setenv("DEROGATION_LLM_MODEL", "env-model")
    monkeypatch.setenv("OPENAI_BASE_URL", llm_server.url)
    status = json.loads(cli("llm", "--json").stdout)
    assert (status["provider"], status["model"], status["base_url"]) == ("openai-compatible", "env-model", llm_server.url)
    assert status["from_environment"] == {"provider": "$DEROGATION_LLM", "model": "$DEROGATION_LLM_MODEL",
                                          "base_url": "$OPENAI_BASE_URL"}
    monkeypatch.setenv("DEROGATION_LLM", "gpt")
    wrong = cli("llm")
    assert wrong.returncode == 2 and "DEROGATION_LLM" in wrong.stderr and "openai-compatible" in wrong.stderr


def test_the_key_is_never_written_to_a_case_a_log_the_audit_log_settings_or_an_export(
    cli, svc, actor, clean_env, llm_server, make_pdf, tmp_path
):
    assert cli("--role", "consultant", "llm", "set", "--provider", "openai-compatible", "--model", "scripted-model",
               "--base-url", llm_server.url, "--timeout", "5").returncode == 0
    case_id = cli("new", "--type", "individual", "--device", "Valvix TMV-28").stdout.strip()
    answer_all(svc, case_id, actor)
    attach_all_mandatory(svc, case_id, actor, make_pdf)
    # A model that echoes the key (it never receives it in a prompt: only in the Authorization header).
    llm_server.reply({"facts": [{"question_id": "storage_conditions", "value": f"à 20 °C {KEY}",
                                 "quote": "Conserver à 20 °C"}]})
    found = svc.propose_facts(case_id, "Conserver à 20 °C.", "fr")
    svc.confirm_facts(case_id, found.proposals, actor)
    llm_server.always(f"La clé {KEY} est ici [A:urgency].")
    drafted = cli("draft", case_id)
    llm_server.reply({"issues": [{"claim": KEY, "problem": KEY, "source": ""}]})
    issues = svc.review_section_llm(case_id, "need", "fr")
    exported = tmp_path / "out" / "request.md"
    export = cli("export", case_id, "--format", "md", "--out", str(exported))
    outputs = [cli("llm"), cli("llm", "--json"), cli("show", case_id), cli("history", case_id), drafted, export]

    assert llm_server.requests[0].headers["authorization"] == f"Bearer {KEY}"  # the key was in use
    assert KEY not in llm_server.all_text()  # …and never in a prompt
    assert drafted.returncode == 0 and export.returncode == 0, export.stderr
    assert "[KEY REMOVED]" in svc.case(case_id).value("storage_conditions")
    assert issues[0].claim == "[KEY REMOVED]"
    for out in outputs:
        assert KEY not in out.stdout + out.stderr
    written = [p for p in clean_env.rglob("*") if p.is_file()] + [exported]
    assert any(p.name == "llm-audit.jsonl" for p in written) and any(p.name == "settings.json" for p in written)
    for path in written:
        assert KEY.encode() not in path.read_bytes(), path
