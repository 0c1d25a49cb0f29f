"""What every command shares: JSON on the terminal, who is acting."""

from __future__ import annotations

import argparse
import json

from assistant.config import current_user
from assistant.service import Actor


def print_json(data: object) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def acting(args: argparse.Namespace) -> Actor:
    return Actor(name=args.by or current_user(), role=args.role)
