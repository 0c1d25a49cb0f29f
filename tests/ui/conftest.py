"""Fixtures for the web app's tests: AppTest on ui/app.py, a real `streamlit run`, a real Chromium.

- `data_home`: a temporary DEROGATION_HOME (retrieval off: the knowledge base is not under test here).
- `app_test(role=..., case=..., opening=False, lang="en", **query)`: an AppTest of ui/app.py with those
  query parameters, not yet run.
- `streamlit_server`: `streamlit run ui/app.py` on 127.0.0.1 (a free port) over `data_home`; `.url`,
  `.restart()`. `shared_streamlit_server`: one such server shared by consecutive tests that need no
  fresh one (each works on its own cases).
- `browser`, `page`: headless Chromium at /usr/bin/chromium driven by Playwright (never `playwright
  install`); `browser.new_page()` opens a second, independent session (its own cookies).
- `screenshot(page, name)`: saves tests/screenshots/<name>.png; a failing browser test saves one too.
- `wait_idle(page)`: waits until the app has finished its rerun.
- `send(page, text)`: types `text` in the chat box, sends it, waits for the rerun.
- `derogation_ui(home, *args)`: starts `derogation ui --port N *args` over `home` (stopped at the end
  of the test); `.wait_health()` waits for it to answer, `.log` is what it printed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "ui" / "app.py"
SCREENSHOTS = ROOT / "tests" / "screenshots"
CHROMIUM = Path(os.environ.get("DEROGATION_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# Bounds of the waits below: generous, so that only a hang fails them, never a busy machine.
APPTEST_TIMEOUT = 300  # seconds per AppTest run (a cold first import of the app is slow on a busy machine)
SERVER_START_TIMEOUT = 300  # seconds for `streamlit run` to answer its health check
PLAYWRIGHT_TIMEOUT_MS = 120_000  # per Playwright action or wait


@pytest.fixture
def data_home(home, monkeypatch) -> Path:
    """The `home` of tests/conftest.py (DEROGATION_HOME, DEROGATION_USER=tester), with retrieval off."""
    monkeypatch.setenv("DEROGATION_RETRIEVAL", "off")
    home.mkdir(parents=True, exist_ok=True)
    return home


@pytest.fixture(autouse=True)
def fresh_app_process():
    """The app reads its configuration once per server process (st.cache_resource); AppTest runs
    every test's app in this one process, so each test starts as a new server would."""
    import streamlit as st

    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


@pytest.fixture
def app_test(data_home) -> Callable[..., object]:
    """`app_test(role="manufacturer", case=None, **query)`: an AppTest of ui/app.py, not yet run.
    Query values of None are left out. Call `.run()` on it."""
    from streamlit.testing.v1 import AppTest

    def make(role: str | None = "manufacturer", case: str | None = None, *, opening: bool = False,
             lang: str | None = "", **query: str | None) -> AppTest:
        """`lang`: the page's language (English unless said, except on the clinician's
        pages: most tests read English words; None: the app's default).
        `opening`: whether the chat opens with "describe your request" (else as if the user chose to
        answer question by question)."""
        at = AppTest.from_file(str(APP), default_timeout=APPTEST_TIMEOUT)
        if lang == "":  # the clinician's and consultant's pages choose their text language themselves
            lang = None if role == "clinician" or "token" in query else "en"
        params = {"role": role, "case": case, "lang": lang, **query}
        for key, value in params.items():
            if value is not None:
                at.query_params[key] = value
        if case and not opening:
            at.session_state[f"opened:{case}"] = True
        return at

    return make


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StreamlitServer:
    """`streamlit run ui/app.py` as a child process over one data home."""

    def __init__(self, home: Path, log: Path) -> None:
        self.home = home
        self.log = log
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = SERVER_START_TIMEOUT) -> None:
        env = {**os.environ, "DEROGATION_HOME": str(self.home), "DEROGATION_RETRIEVAL": "off",
               "DEROGATION_USER": "tester"}
        command = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
                   "--server.port", str(self.port), "--server.address", "127.0.0.1",
                   "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"streamlit exited with code {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.25)
        self.stop()
        pytest.fail(f"streamlit did not answer on {self.url} within {timeout}s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def restart(self) -> None:
        """Stop the server and start it again on the same port (sessions are lost; the store is not)."""
        self.stop()
        self.start()


@pytest.fixture
def streamlit_server(data_home, tmp_path) -> Iterator[StreamlitServer]:
    server = StreamlitServer(data_home, tmp_path / "streamlit.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


class SharedServer:
    """One `streamlit run` over a data home of its own for the browser tests that need no fresh server
    (each works on cases it creates), started by the first and stopped when the next test does not use it."""

    def __init__(self) -> None:
        self.server: StreamlitServer | None = None

    def get(self, tmp_path_factory) -> StreamlitServer:
        if self.server is None or self.server.proc is None or self.server.proc.poll() is not None:
            self.stop()
            root = tmp_path_factory.mktemp("streamlit-shared")
            (root / "home").mkdir()
            self.server = StreamlitServer(root / "home", root / "streamlit.log")
            self.server.start()
        return self.server

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


_shared_server = SharedServer()


@pytest.fixture
def shared_streamlit_server(monkeypatch, tmp_path_factory) -> StreamlitServer:
    """Like `streamlit_server`, for a test that only needs its own cases: a server shared with the next
    tests that ask for it. DEROGATION_HOME (with DEROGATION_USER and retrieval off, as in `data_home`)
    points at its data home for the test."""
    server = _shared_server.get(tmp_path_factory)
    monkeypatch.setenv("DEROGATION_HOME", str(server.home))
    monkeypatch.setenv("DEROGATION_USER", "tester")
    monkeypatch.setenv("DEROGATION_RETRIEVAL", "off")
    return server


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


class Browser:
    """The shared Chromium as one test sees it: each `new_page()` is a separate browser context (a
    separate Streamlit session, its own cookies), closed at the end of the test."""

    def __init__(self, browser) -> None:
        self._browser = browser
        self.pages: list = []

    def new_page(self, width: int = 1400, height: int = 1000):
        context = self._browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(PLAYWRIGHT_TIMEOUT_MS)
        page = context.new_page()
        self.pages.append(page)
        return page

    def close(self) -> None:
        for page in self.pages:
            with contextlib.suppress(Exception):
                page.context.close()


class SharedChromium:
    """One headless Chromium for the browser tests that run one after the other, started by the
    first and stopped as soon as the next test does not use it: Playwright's sync API holds an
    event loop on the main thread while it runs, which other tests' `asyncio.run` would trip on."""

    def __init__(self) -> None:
        self._pw = None
        self._browser = None

    def get(self):
        if self._browser is None or not self._browser.is_connected():
            self.stop()
            from playwright.sync_api import sync_playwright

            self._pw = sync_playwright().start()
            self._browser = self._pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        return self._browser

    def stop(self) -> None:
        if self._browser is not None:
            with contextlib.suppress(Exception):
                self._browser.close()
            self._browser = None
        if self._pw is not None:
            self._pw.stop()
            self._pw = None


_chromium = SharedChromium()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    try:
        return (yield)
    finally:
        needs = getattr(nextitem, "fixturenames", ())
        if "browser" not in needs:
            _chromium.stop()
        if "shared_streamlit_server" not in needs:
            _shared_server.stop()


@pytest.fixture
def browser(request) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium "
                    "chromium-driver fonts-dejavu-core; `make test` does it as root). Browser tests never skip.")
    wrapper = Browser(_chromium.get())
    try:
        yield wrapper
    finally:
        failed = getattr(request.node, "rep_call", None)
        if failed is not None and failed.failed:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            for i, p in enumerate(wrapper.pages):
                with contextlib.suppress(Exception):  # a screenshot must not hide the real failure
                    p.screenshot(path=str(SCREENSHOTS / f"FAILED-{request.node.name}-{i}.png"), full_page=True)
        wrapper.close()


@pytest.fixture
def page(browser):
    """A fresh page (its own browser context) of 1400x1000."""
    return browser.new_page()


@pytest.fixture
def screenshot() -> Callable[..., Path]:
    def save(page, name: str, full_page: bool = True) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return save


def _wait_idle(page, timeout: float = PLAYWRIGHT_TIMEOUT_MS) -> None:
    """Wait until the app is drawn and no rerun is in progress (Streamlit's status widget gone)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout)
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            return app && app.getAttribute('data-test-script-state') === 'notRunning'
                && app.getAttribute('data-test-connection-state') === 'CONNECTED';
        }""",
        timeout=timeout,
    )
    page.wait_for_timeout(250)  # the last delta is drawn


@pytest.fixture
def wait_idle() -> Callable[..., None]:
    return _wait_idle


def _send(page, text: str) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(text)
    box.press("Enter")
    _wait_idle(page)


@pytest.fixture
def send() -> Callable[..., None]:
    return _send


class DerogationUI:
    """`python -m assistant ui --port N …` as a child process group (the CLI and its streamlit)."""

    def __init__(self, home: Path, folder: Path, args: tuple[str, ...]) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = folder / f"ui-{self.port}.log"
        env = {**os.environ, "DEROGATION_HOME": str(home)}
        with self.log_path.open("wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "assistant", "ui", "--port", str(self.port), *args],
                                         cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)

    @property
    def log(self) -> str:
        return self.log_path.read_text()

    def wait_health(self, timeout: float = SERVER_START_TIMEOUT) -> str:
        """The health check's answer ("ok"), or "" if the server exited or never answered."""
        deadline = time.monotonic() + timeout  # only a server that never starts fails
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    return r.read().decode()
            except OSError:
                time.sleep(0.25)
        return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


@pytest.fixture
def derogation_ui(tmp_path) -> Iterator[Callable[..., DerogationUI]]:
    started: list[DerogationUI] = []

    def start(home: Path, *args: str) -> DerogationUI:
        ui = DerogationUI(home, tmp_path, args)
        started.append(ui)
        return ui

    yield start
    for ui in started:
        ui.stop()
