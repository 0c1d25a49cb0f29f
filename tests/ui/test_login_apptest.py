"""A shared deployment: with team accounts, the app asks for a login and the role is the account's."""

from __future__ import annotations

from assistant.case.store import CaseStore
from assistant.service import Actor, Service
from assistant.service import accounts as users


def _texts(at) -> str:
    return "\n".join(str(e.value) for e in [*at.markdown, *at.info, *at.error, *at.title, *at.caption])


def _log_in(at, name: str, password: str):
    at.text_input[0].input(name)
    at.text_input[1].input(password)
    at.button[0].click()
    return at.run()


def test_without_accounts_the_app_opens_with_a_role_picker(app_test):
    at = app_test().run()
    assert not at.exception
    assert "Your role" in [r.label for r in at.radio]
    assert "Password" not in [t.label for t in at.text_input]


def test_with_accounts_a_login_is_required_and_a_wrong_password_is_refused(app_test, data_home):
    users.add("m.martin", "manufacturer", "a long enough secret", data_home)
    at = app_test().run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["User name", "Password"]
    assert "Derogation assistant" in _texts(at) and not at.radio  # nothing else shows before login
    assert "New case" not in _texts(at)
    at = _log_in(at, "m.martin", "not the password")
    assert "Unknown user name or wrong password." in _texts(at)
    at = _log_in(at, "m.martin", "a long enough secret")
    assert not at.exception
    assert "**m\\.martin** · Manufacturer" in _texts(at)
    assert "Your role" not in [r.label for r in at.radio]  # the role is the account's: no picker


def test_the_role_comes_from_the_account_not_from_the_address(app_test, data_home):
    users.add("m.martin", "manufacturer", "a long enough secret", data_home)
    svc = Service(CaseStore(data_home))
    case = svc.new_case("ansm", "individual", "Valvix TMV-28", Actor("m.martin", "manufacturer"))
    at = _log_in(app_test(role="consultant", case=case.id, lang="en").run(), "m.martin", "a long enough secret")
    assert not at.exception
    assert "Manufacturer" in _texts(at)
    # The consultant's review desk is not what a manufacturer account gets, whatever the URL says.
    assert not any("Review" in (t.value or "") for t in at.title)


def test_a_clinician_account_reaches_no_case_without_its_link(app_test, data_home):
    users.add("dr.leroy", "clinician", "a long enough secret", data_home)
    svc = Service(CaseStore(data_home))
    case = svc.new_case("ansm", "individual", "Valvix TMV-28", Actor("m.martin", "manufacturer"))
    at = _log_in(app_test(role="clinician", case=case.id, lang="en").run(), "dr.leroy", "a long enough secret")
    assert not at.exception
    assert "Open the link the manufacturer sent you" in _texts(at)
    assert "Valvix" not in _texts(at)
