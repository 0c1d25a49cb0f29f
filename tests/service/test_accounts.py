"""The team's accounts under parallel changes, and no silent password reset (issue 12)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from assistant.service import ServiceError
from assistant.service import accounts as users

PASSWORD = "a long enough secret"


# Each writer is a new interpreter (not a fork of this many-threaded test process, whose locks a
# forked child could inherit held): 8 processes adding 6 accounts each, all at once.
_WRITER = """
import sys
from pathlib import Path
from assistant.service import accounts
for name in sys.argv[2:]:
    accounts.add(name, "manufacturer", "a long enough secret", Path(sys.argv[1]))
"""


def test_parallel_adds_from_many_processes_lose_no_account_and_raise_nothing(home):
    names = [f"user{n:02d}" for n in range(48)]
    writers = [subprocess.Popen([sys.executable, "-c", _WRITER, str(home), *names[i::8]],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(8)]
    results = [(w.wait(timeout=120), w.stderr.read()) for w in writers]
    assert results == [(0, "")] * 8
    assert sorted(users.load(home)) == names
    assert [p.name for p in home.iterdir() if p.name.endswith(".tmp")] == []


def test_adding_an_existing_name_is_refused_unless_reset(home):
    users.add("m.martin", "manufacturer", PASSWORD, home)
    with pytest.raises(ServiceError, match="already exists"):
        users.add("m.martin", "consultant", "another long secret", home)
    assert users.authenticate("m.martin", PASSWORD, home).role == "manufacturer"
    users.add("m.martin", "consultant", "another long secret", home, reset=True)
    assert users.authenticate("m.martin", "another long secret", home).role == "consultant"
    assert users.authenticate("m.martin", PASSWORD, home) is None


def test_the_cli_refuses_an_existing_name_before_asking_and_resets_with_reset(cli, home):
    assert cli("users", "add", "m.martin", "--role", "manufacturer", input=f"{PASSWORD}\n").returncode == 0
    # the data home has an account now: the CLI runs as it (no administrator exists yet to ask)
    signed = {"DEROGATION_USER": "m.martin", "DEROGATION_PASSWORD": PASSWORD}
    again = cli("users", "add", "m.martin", "--role", "consultant", input="another long secret\n", env=signed)
    assert again.returncode != 0 and "already exists" in again.stderr and "--reset" in again.stderr
    assert users.authenticate("m.martin", PASSWORD, home).role == "manufacturer"
    reset = cli("users", "add", "m.martin", "--role", "consultant", "--reset", input="another long secret\n", env=signed)
    assert reset.returncode == 0, reset.stderr
    assert users.authenticate("m.martin", "another long secret", home).role == "consultant"
