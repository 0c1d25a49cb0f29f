"""The manufacturer's flow in a real headless Chromium against `streamlit run`: a reload loses nothing,
and a second session saving on an older version gets a conflict message instead of overwriting."""

from __future__ import annotations

from assistant.case.store import CaseStore
from assistant.service import Service


def test_reload_keeps_the_answers_and_a_second_session_cannot_overwrite(
    shared_streamlit_server, browser, page, wait_idle, send, screenshot
):
    store = Service(CaseStore(shared_streamlit_server.home))
    page.goto(f"{shared_streamlit_server.url}/?lang=en")
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
    [case_id] = [c.id for c in store.cases() if f"case={c.id}" in page.url]  # the server is shared

    send(page, "no")
    page.get_by_text("Is the device custom-made").first.wait_for()
    send(page, "non")
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
    send(page, "no")
    send(other, "yes")  # the same answer changed since `other` showed it: a conflict
    other.get_by_text("was not saved (nothing was overwritten)").first.wait_for()
    other.get_by_role("button", name="Replace it with my text").wait_for()
    assert store.case(case_id).value("in_house") == "no"
    screenshot(other, "manufacturer-conflict")
