"""A team's shared Chroma server (DEROGATION_CHROMA_URL) instead of the local store: a real
`chroma run` on 127.0.0.1, the same ingestion, search and isolation as the local store."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from assistant.knowledge.index import KnowledgeBase
from assistant.knowledge.sources import SourceChunk

CHROMA = Path(sys.executable).with_name("chroma")


@pytest.fixture
def chroma_url(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [str(CHROMA), "run", "--path", str(tmp_path / "server-data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300  # only a server that never starts fails, not a busy machine
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("`chroma run` did not start")
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=20)


NOTE = """---
id: test-59
instrument: MDR
article: "59"
paragraph: "2"
language: en
citation: "MDR Art. 59(2)"
---
# MDR Article 59(2)

When a derogation is granted for use beyond a single patient, the Member State informs the Commission
and the other Member States.
"""


def test_a_shared_chroma_server_holds_the_corpus_and_keeps_cases_apart(tmp_path, chroma_url, monkeypatch):
    from assistant.knowledge.embeddings.factory import load_embedder

    embedder = load_embedder("e5-small", Path(os.environ["DEROGATION_MODELS"]))
    note = tmp_path / "corpus" / "art59-2.md"
    note.parent.mkdir()
    note.write_text(NOTE, encoding="utf-8")
    monkeypatch.setenv("DEROGATION_CHROMA_URL", chroma_url)
    kb = KnowledgeBase(tmp_path / "home", embedder=embedder)
    assert kb.add([note]).added == 1
    assert kb.add([note]).added == 0  # idempotent against the server too
    kb.sync_case("case-a", [SourceChunk("Certificat CE (p. 1)\nCertificat n° 1234, expiré le 26 mai 2024.", {
        "source": "evidence:a", "case_id": "case-a", "citation": "Certificat CE (p. 1)", "page": 1, "language": "fr",
    })])
    # Another machine of the team, with its own local folder, sees the same store.
    other = KnowledgeBase(tmp_path / "elsewhere", embedder=embedder)
    hits = other.search("qui informe la Commission d'une dérogation pour plusieurs patients", k=3)
    assert hits and hits[0].citation == "MDR Art. 59(2)"
    assert other.search("certificat expiré", k=3, case_id="case-a", include_corpus=False)[0].page == 1
    assert other.search("certificat expiré", k=3, case_id="case-b", include_corpus=False) == []
    assert not (tmp_path / "elsewhere" / "index" / "chroma").exists()  # nothing stored locally
