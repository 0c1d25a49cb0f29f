"""Shared fixtures: a real case store in a temporary DEROGATION_HOME, real PDFs, the real CLI, and a
knowledge base with the shipped notes embedded once per session."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from assistant.case.store import CaseStore
from assistant.config import Config
from assistant.documents.pdf import text_pdf
from assistant.service import Actor, Service

pytest_plugins = ["llm_server"]  # the scripted OpenAI-compatible server: the `llm_server` fixture

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
# The embedder's weights are converted to ONNX once, then reused by every test and subprocess.
MODELS = Path(os.environ.get("DEROGATION_MODELS") or ROOT / ".venv" / "derogation-models")
# Seconds a single `derogation` command may take: only a hang fails, never a busy machine.
CLI_TIMEOUT = 600

# What in a developer's shell could send a test's case to a real model (a key, a provider, a server,
# a remote embedder: also every DEROGATION_LLM* variable) or to a team's vector store.
MODEL_VARIABLES = ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "OPENAI_BASE_URL", "DEROGATION_EMBEDDER",
                   "DEROGATION_CHROMA_URL")


def model_variables() -> list[str]:
    return [name for name in os.environ if name in MODEL_VARIABLES or name.startswith("DEROGATION_LLM")]


def suite_environ() -> dict[str, str]:
    """The environment the suite runs in: the shared model cache, and no way to a real model."""
    env = {name: value for name, value in os.environ.items() if name not in model_variables()}
    return {**env, "DEROGATION_MODELS": str(MODELS)}


def pytest_configure(config) -> None:
    """The tests' temporary folders (data homes, stores, exports) on a RAM disk when the machine has
    one: the store fsyncs every change, which a test cannot observe (a killed process does not lose
    the page cache) but which costs a disk's latency many thousand times per run. Set
    DEROGATION_TEST_TMP=disk (or --basetemp, or PYTEST_DEBUG_TEMPROOT) to keep them on disk."""
    shm = Path("/dev/shm")
    if (config.option.basetemp or os.environ.get("PYTEST_DEBUG_TEMPROOT")
            or os.environ.get("DEROGATION_TEST_TMP") == "disk" or not (shm.is_dir() and os.access(shm, os.W_OK))):
        return
    os.environ["PYTEST_DEBUG_TEMPROOT"] = str(shm)  # read by pytest's tmp_path_factory (retention unchanged)


@pytest.fixture(scope="session", autouse=True)
def suite_environment():
    """For the whole session (module fixtures included): DEROGATION_MODELS at the shared cache, and
    none of the variables of `model_variables` (a test that wants a model or a Chroma server sets them
    itself: `point_at`)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEROGATION_MODELS", str(MODELS))
        # `derogation attach` indexes in a worker process of its own; in the suite it waits for it (as
        # with --wait), so that no test leaves one running (tests/e2e/test_attach_background.py does not)
        mp.setenv("DEROGATION_ATTACH_WAIT", "1")
        for name in model_variables():
            mp.delenv(name)
        yield


@pytest.fixture(autouse=True)
def no_real_model(monkeypatch):
    """Every test starts without them too, whatever an earlier one left in the environment: only a
    test that points the product at the scripted server (or the opt-in local model) talks to one."""
    for name in model_variables():
        monkeypatch.delenv(name)


# -- the shipped notes, embedded once -------------------------------------------------------------------
# The one run per session that embeds them: `derogation search` in a data home whose vector store is
# garbage, which the product reports, rebuilds from its sources (the shipped notes) and then searches.
# test_faults checks that run's output; the other tests copy the store it rebuilt, the same store (ids,
# texts, metadata and vectors, bit for bit) as a first search in a new home would have built.
CORRUPTED_STORE = b"SQLite format 3\x00"  # then 32 KiB of random bytes
SEARCH = ("search", "dérogation article 59 autorité compétente", "--k", "3")


class NotesIndex:
    """That run, started in the background as soon as the collected tests are known to need it, so
    that it overlaps the first tests."""

    PREFIX = "derogation-notes-index-"

    def __init__(self) -> None:
        parent = Path(os.environ.get("PYTEST_DEBUG_TEMPROOT") or tempfile.gettempdir())
        self._remove_stale(parent)
        self.root = Path(tempfile.mkdtemp(prefix=f"{self.PREFIX}{os.getpid()}-", dir=parent))
        self.home = self.root / "home"
        db = self.home / "index" / "chroma" / "chroma.sqlite3"
        db.parent.mkdir(parents=True)
        db.write_bytes(CORRUPTED_STORE + os.urandom(32 * 1024))
        self.out, self.err = self.root / "stdout", self.root / "stderr"
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "assistant", *SEARCH], cwd=ROOT, stdout=out, stderr=err,
                                         env={**suite_environ(), "DEROGATION_HOME": str(self.home), "DEROGATION_USER": "tester"})
        self._done: subprocess.CompletedProcess | None = None

    def run(self) -> subprocess.CompletedProcess:
        """The finished run: its exit code, stdout and stderr."""
        if self._done is None:
            try:
                code = self.proc.wait(timeout=CLI_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                raise
            self._done = subprocess.CompletedProcess(self.proc.args, code, self.out.read_text(encoding="utf-8"),
                                                     self.err.read_text(encoding="utf-8"))
        return self._done

    def index(self) -> Path:
        """The `index` folder that run rebuilt (a failed run fails the test that needs it)."""
        done = self.run()
        if done.returncode != 0:
            pytest.fail(f"indexing the shipped notes failed ({done.returncode}):\n{done.stderr[-3000:]}")
        return self.home / "index"

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    @classmethod
    def _remove_stale(cls, parent: Path) -> None:
        """The folders of sessions that were killed before they could remove theirs (on a RAM disk)."""
        for folder in parent.glob(f"{cls.PREFIX}*-*"):
            pid = folder.name[len(cls.PREFIX):].split("-", 1)[0]
            if not pid.isdigit():
                continue
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                shutil.rmtree(folder, ignore_errors=True)
            except PermissionError:
                pass  # another user's live process


_notes: NotesIndex | None = None


def _notes_index() -> NotesIndex:
    global _notes
    if _notes is None:
        _notes = NotesIndex()
    return _notes


def pytest_collection_modifyitems(session, config, items) -> None:
    uses = {"notes_index", "corrupted_store_search"}
    if not config.option.collectonly and any(uses & set(getattr(item, "fixturenames", ())) for item in items):
        _notes_index()  # start embedding now, in the background


def pytest_unconfigure(config) -> None:
    if _notes is not None:
        _notes.close()


@pytest.fixture(scope="session")
def corrupted_store_search() -> subprocess.CompletedProcess:
    """The run of `derogation search` that built `notes_index` (above): exit code, stdout, stderr."""
    return _notes_index().run()


@pytest.fixture(scope="session")
def notes_index() -> Path:
    """The `index` folder of a data home where the shipped notes are embedded (e5-small). Do not
    write to it: copy it (`with_notes`)."""
    return _notes_index().index()


@pytest.fixture
def with_notes(notes_index):
    """`with_notes(home)`: make `home` a data home whose knowledge base already holds the shipped
    notes, exactly as if its first retrieval had embedded them; returns `home`."""

    def copy(home: Path) -> Path:
        home.mkdir(parents=True, exist_ok=True)
        shutil.copytree(notes_index, home / "index")
        return home

    return copy


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


def run_cli(*args: str, home: Path, check: bool = False, input: str | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`derogation ARGS` in a new process, as a user runs it (`env`: variables set on top)."""
    env = {**os.environ, "DEROGATION_HOME": str(home), "DEROGATION_USER": "tester", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        capture_output=True, text=True, env=env, cwd=ROOT, check=check, input=input, timeout=CLI_TIMEOUT,
    )


@pytest.fixture
def cli(home):
    def call(*args: str, check: bool = False, input: str | None = None,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return run_cli(*args, home=home, check=check, input=input, env=env)

    return call


@pytest.fixture
def in_process(home, capsys):
    """`derogation ARGS` run in this process (assistant.cli.main.main, with this test's environment):
    its exit code, stdout and stderr, for the steps of a CLI test that only set up or read a case.
    What is under test (exit codes, stderr, tracebacks) goes through `cli`, a new process."""
    from assistant.cli.main import main

    def call(*args: str, check: bool = False) -> subprocess.CompletedProcess:
        capsys.readouterr()
        done = subprocess.CompletedProcess(["derogation", *args], main(list(args)), *capsys.readouterr())
        if check:
            assert done.returncode == 0, done.stderr
        return done

    return call


@pytest.fixture
def complete_case_id(svc, actor, make_pdf) -> str:
    """An individual request with every question answered and every mandatory document attached."""
    from helpers import answer_all, attach_all_mandatory

    case = svc.new_case("ansm", "individual", "Valvix TMV-28", actor)
    answer_all(svc, case.id, actor)
    attach_all_mandatory(svc, case.id, actor, make_pdf)
    return case.id


@pytest.fixture
def llm_env(monkeypatch, llm_server):
    """The configuration pointed at the local OpenAI-API test server, with no retry."""
    from llm_server import point_at

    return point_at(monkeypatch, llm_server, retries=0)
