"""Prompt files: one per purpose in `assistant/prompts/`, each declaring the variables it takes.

A prompt file starts with a comment block that documents its variables, one per line
(`- name: what it holds`), then a `## system` part and a `## user` part. `{{name}}` marks where a
variable goes. `render` refuses a missing or undeclared variable, so a prompt and its caller
cannot drift apart silently.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

PROMPT_DIR = Path(__file__).parent / "prompts"
_VAR = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
_DECLARED = re.compile(r"^-\s*([a-z_][a-z0-9_]*)\s*:", re.MULTILINE)
_HEADER = re.compile(r"\A\s*<!--(.*?)-->", re.DOTALL)


class PromptError(ValueError):
    """A prompt file that cannot be rendered as asked."""


class PromptFile:
    def __init__(self, name: str, text: str) -> None:
        self.name = name
        header = _HEADER.match(text)
        if not header:
            raise PromptError(f"{name}: a prompt starts with a <!-- … --> block documenting its variables")
        self.variables = tuple(_DECLARED.findall(header.group(1)))
        body = text[header.end() :]
        parts = re.split(r"^## (system|user)\s*$", body, flags=re.MULTILINE)
        self.parts: dict[str, str] = {}
        for role, content in zip(parts[1::2], parts[2::2], strict=True):
            self.parts[role] = content.strip()
        if "user" not in self.parts:
            raise PromptError(f"{name}: a '## user' part is required")
        used = {v for content in self.parts.values() for v in _VAR.findall(content)}
        if used != set(self.variables):
            raise PromptError(
                f"{name}: declared variables {sorted(self.variables)} differ from those used {sorted(used)}"
            )

    def render(self, **values: object) -> list[dict[str, str]]:
        missing = set(self.variables) - set(values)
        extra = set(values) - set(self.variables)
        if missing or extra:
            raise PromptError(f"{self.name}: missing {sorted(missing)}, undeclared {sorted(extra)}")
        out = []
        for role in ("system", "user"):
            if role in self.parts:
                out.append({"role": role, "content": _VAR.sub(lambda m: str(values[m.group(1)]), self.parts[role])})
        return out


@cache
def load(name: str) -> PromptFile:
    path = PROMPT_DIR / f"{name}.md"
    if not path.exists():
        raise PromptError(f"no prompt file {path.name} in {PROMPT_DIR}")
    return PromptFile(name, path.read_text(encoding="utf-8"))


def render(name: str, **values: object) -> list[dict[str, str]]:
    return load(name).render(**values)


def names() -> list[str]:
    return sorted(p.stem for p in PROMPT_DIR.glob("*.md"))
