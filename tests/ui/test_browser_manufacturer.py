"""The manufacturer's flow in a real headless Chromium against `streamlit run`: a reload loses nothing,
and a second session saving on an older version gets a conflict message instead of overwriting."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from assistant.case.store import CaseStore
from assistant.service import Service


def send(page, text: str, wait_idle) -> None:
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(text)
    box.press("Enter")
    wait_idle(page)


def test_reload_keeps_the_answers_and_a_second_session_cannot_overwrite(
    streamlit_server, browser, page, wait_idle, screenshot
):
    store = Service(CaseStore(streamlit_server.home))
    page.goto(f"{streamlit_server.url}/?lang=en")
    wait_idle(page)
    page.get_by_label("Device trade name").fill("Valvix TMV-28")
    page.get_by_label("Device trade name").press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Create the case").click()
    wait_idle(page)
    page.get_by_text("Tell me about your request").first.wait_for()
    page.get_by_role("button", name="I prefer to answer question by question").click()
    wait_idle(page)
    page.get_by_text("Is the device an in vitro diagnostic").first.wait_for()
    [summary] = store.cases()
    case_id = summary.id
    assert f"case={case_id}" in page.url

    send(page, "no", wait_idle)
    page.get_by_text("Is the device custom-made").first.wait_for()
    send(page, "non", wait_idle)
    page.get_by_text("Is the device manufactured and used only within one health institution").first.wait_for()
    assert store.case(case_id).values() == {"device_name": "Valvix TMV-28", "is_ivd": "no", "custom_made": "no"}

    page.reload()  # mid-interview: the conversation and the next question come back from the store
    wait_idle(page)
    page.get_by_text("Is the device manufactured and used only within one health institution").first.wait_for()
    recorded = page.get_by_test_id("stChatMessage").filter(has_text="Recorded")
    assert recorded.count() == 2
    screenshot(page, "manufacturer")

    other = browser.new_page()  # a second session on the same case, shown at the same version
    other.goto(page.url)
    wait_idle(other)
    other.get_by_text("Is the device manufactured and used only within one health institution").first.wait_for()
    send(page, "no", wait_idle)
    send(other, "yes", wait_idle)  # the same answer changed since `other` showed it: a conflict
    other.get_by_text("was not saved (nothing was overwritten)").first.wait_for()
    other.get_by_role("button", name="Replace it with my text").wait_for()
    assert store.case(case_id).value("in_house") == "no"
    screenshot(other, "manufacturer-conflict")


def test_derogation_ui_serves_the_app_on_localhost(data_home, tmp_path):
    """`derogation ui --port N` starts the same app on 127.0.0.1:N."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DEROGATION_HOME": str(data_home)}
    log = (tmp_path / "ui.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "ui", "--port", str(port)], cwd=tmp_path, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline, body = time.monotonic() + 300, ""  # only a server that never starts fails
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    body = r.read().decode()
                    break
            except OSError:
                time.sleep(0.25)
        assert body == "ok", (tmp_path / "ui.log").read_text()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the CLI and the streamlit server it started
        proc.wait(timeout=10)
