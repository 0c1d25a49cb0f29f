"""What every command shares: JSON on the terminal, who is acting."""

from __future__ import annotations

import argparse
import json
import os
import sys

from assistant.config import current_user
from assistant.service import Actor, Service, ServiceError

# What a team deployment (a data home with accounts) lets run without signing in: nothing that
# reads or changes a case or the team's settings. The web app asks for its own login.
OPEN_COMMANDS = frozenset({"ui", "search", "corpus", "eval"})


def print_json(data: object) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def acting(args: argparse.Namespace) -> Actor:
    """Who acts: the signed-in account in a team deployment; otherwise the name and role given
    (a single user's machine, where there is nobody to tell apart)."""
    signed_in = getattr(args, "signed_in", None)
    return signed_in or Actor(name=args.by or current_user(), role=args.role or "manufacturer")


def sign_in(svc: Service, args: argparse.Namespace) -> Actor | None:
    """In a team deployment, the account the command runs as: `--by` (or $DEROGATION_USER) and its
    password from $DEROGATION_PASSWORD or typed at the prompt. None where no accounts exist."""
    if args.command in OPEN_COMMANDS or not svc.login_required():
        return None
    name = args.by or current_user()
    password = os.environ.get("DEROGATION_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            raise ServiceError("this data home has accounts: sign in with --by NAME (or $DEROGATION_USER) and "
                               "the password in $DEROGATION_PASSWORD, or run the command in a terminal to type it")
        import getpass

        password = getpass.getpass(f"password for {name}: ")
    return svc.sign_in(name, password, role=args.role)
