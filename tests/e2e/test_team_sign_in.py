"""In a team deployment (a data home with accounts) the CLI acts as a signed-in account: `--by` and
`--role` are no longer self-declared (issue 12). On one user's machine they still are."""

from __future__ import annotations

import pytest

from assistant.service import accounts

MANUFACTURER, CONSULTANT = ("m.martin", "the manufacturer's long secret"), ("c.durand", "the consultant's long secret")


@pytest.fixture
def team(home):
    accounts.add(*MANUFACTURER[:1], "manufacturer", MANUFACTURER[1], home)
    accounts.add(*CONSULTANT[:1], "consultant", CONSULTANT[1], home)
    return home


def as_(monkeypatch, who: tuple[str, str]) -> None:
    monkeypatch.setenv("DEROGATION_USER", who[0])
    monkeypatch.setenv("DEROGATION_PASSWORD", who[1])


def test_without_accounts_the_name_and_role_given_are_recorded(in_process):
    case = in_process("--by", "Anne", "new", "--type", "individual", "--device", "Valve", check=True).stdout.strip()
    history = in_process("history", case, check=True).stdout
    assert "Anne" in history and "manufacturer" in history


def test_with_accounts_a_command_without_a_password_is_refused_and_says_how(team, cli):
    done = cli("cases")
    assert done.returncode == 2
    assert "DEROGATION_PASSWORD" in done.stderr and "--by" in done.stderr and "Traceback" not in done.stderr


def test_a_wrong_password_is_refused(team, in_process, monkeypatch):
    as_(monkeypatch, (MANUFACTURER[0], "not the password at all"))
    done = in_process("new", "--type", "individual")
    assert done.returncode == 2 and "wrong user name or password" in done.stderr
    monkeypatch.setenv("DEROGATION_PASSWORD", MANUFACTURER[1])
    assert "No cases yet" in in_process("cases", check=True).stdout  # the refused call created nothing


def test_a_role_the_account_does_not_hold_is_refused(team, in_process, monkeypatch):
    as_(monkeypatch, MANUFACTURER)
    done = in_process("--role", "consultant", "new", "--type", "individual")
    assert done.returncode == 2 and "m.martin is a manufacturer, not a consultant" in done.stderr


def test_the_account_acts_under_its_own_name_and_role(team, in_process, monkeypatch):
    as_(monkeypatch, MANUFACTURER)
    case = in_process("--by", MANUFACTURER[0], "new", "--type", "individual", "--device", "Valve",
                      check=True).stdout.strip()
    refused = in_process("approve", case, "need")  # approving is the consultant's, whatever is typed
    assert refused.returncode == 2 and "consultant" in refused.stderr
    as_(monkeypatch, CONSULTANT)
    in_process("settings", case, "--require-approval", "no", check=True)
    history = in_process("history", case, check=True).stdout
    assert "m.martin (manufacturer)  created" in history
    assert "c.durand (consultant)  setting_changed" in history
    assert "tester" not in history


def signed(who: tuple[str, str]) -> dict[str, str]:
    return {"DEROGATION_USER": who[0], "DEROGATION_PASSWORD": who[1]}


def test_only_a_signed_in_consultant_changes_the_accounts(team, cli):
    new_password = "a third long secret\n"
    refused = cli("users", "add", "x.other", "--role", "consultant", input=new_password, env=signed(MANUFACTURER))
    assert refused.returncode == 2 and "signed-in consultant" in refused.stderr
    assert "x.other" not in accounts.load(team)
    done = cli("users", "add", "x.other", "--role", "manufacturer", input=new_password, env=signed(CONSULTANT))
    assert done.returncode == 0, done.stderr
    assert accounts.load(team)["x.other"].role == "manufacturer"
