"""Shared fixtures: a real case store in a temporary DEROGATION_HOME, real PDFs, the real CLI."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.case.store import CaseStore
from assistant.config import Config
from assistant.documents.pdf import text_pdf
from assistant.service import Actor, Service

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
# The embedder's weights are converted to ONNX once, then reused by every test and subprocess.
MODELS = Path(os.environ.get("DEROGATION_MODELS") or ROOT / ".venv" / "derogation-models")
os.environ["DEROGATION_MODELS"] = str(MODELS)


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("DEROGATION_HOME", str(path))
    monkeypatch.setenv("DEROGATION_USER", "tester")
    return path


class LiveService(Service):
    """The service with its configuration read from the environment at each use, for tests that
    change the environment after the service exists (point a test at the scripted model server).
    The product reads it once (Config.from_env() in the CLI and the app)."""

    @property
    def config(self) -> Config:
        return Config.from_env()

    @config.setter
    def config(self, _value: Config) -> None:
        pass


@pytest.fixture
def svc(home) -> Service:
    return LiveService(CaseStore(home))


@pytest.fixture
def actor() -> Actor:
    return Actor(name="tester", role="manufacturer")


@pytest.fixture
def make_pdf(tmp_path):
    def make(pages: list[str], name: str = "doc.pdf") -> Path:
        return text_pdf(pages, tmp_path / "pdfs" / name)

    return make


@pytest.fixture
def encrypted_pdf(make_pdf, tmp_path) -> Path:
    from pypdf import PdfReader, PdfWriter

    plain = make_pdf(["Certificat CE confidentiel"], "plain.pdf")
    writer = PdfWriter()
    for page in PdfReader(plain).pages:
        writer.add_page(page)
    writer.encrypt(user_password="secret", owner_password="owner")
    out = tmp_path / "pdfs" / "encrypted.pdf"
    buf = io.BytesIO()
    writer.write(buf)
    out.write_bytes(buf.getvalue())
    return out


@pytest.fixture
def image_only_pdf(tmp_path) -> Path:
    """A 'scanned' page: a drawing and no text layer."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")
    out = tmp_path / "pdfs" / "scan.pdf"
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(out))
    return out


def run_cli(*args: str, home: Path, check: bool = False, input: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "DEROGATION_HOME": str(home), "DEROGATION_USER": "tester"}
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        capture_output=True, text=True, env=env, cwd=ROOT, check=check, input=input, timeout=120,
    )


@pytest.fixture
def cli(home):
    def call(*args: str, check: bool = False, input: str | None = None) -> subprocess.CompletedProcess:
        return run_cli(*args, home=home, check=check, input=input)

    return call
