"""Prompt files: one per purpose in the top-level `prompts/` folder, each declaring its variables.

A prompt file starts with a comment block that documents its variables, one per line
(`- name: what it holds`), then a `## system` part and a `## user` part. `{{name}}` marks where a
variable goes. `render` refuses a missing or undeclared variable, so a prompt and its caller
cannot drift apart silently.

Where the folder is found: `Config.prompts_dir` (`$DEROGATION_PROMPTS`, a folder holding the same
files: to adapt the wording without code) when set, else the top-level `prompts/` folder, shipped
in the package as `assistant.prompts` (see pyproject.toml). The session carries it (`LLM.prompts_dir`).

Text that comes from documents, answers or retrieved passages is data, never instructions:
`data_block` wraps it in a tag the prompts name (`<passage id="P1">…</passage>`) and
neutralises any copy of that tag inside the text, so a document cannot close the block early
and speak as the prompt.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from assistant.config import package_folder
from assistant.errors import PromptError

ENV_VAR = "DEROGATION_PROMPTS"
_VAR = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
_DECLARED = re.compile(r"^-\s*([a-z_][a-z0-9_]*)\s*:", re.MULTILINE)
_HEADER = re.compile(r"\A\s*<!--(.*?)-->", re.DOTALL)
LANG_NAMES = {"fr": "French", "en": "English"}  # the drafting language, as a prompt names it
DATA_TAGS = ("passage", "document", "answer", "facts", "draft")
_DATA_TAG = re.compile(rf"<\s*(/?)\s*({'|'.join(DATA_TAGS)})\b", re.IGNORECASE)



def prompt_dir(custom: Path | None = None) -> Path:
    """`custom` (Config.prompts_dir, from $DEROGATION_PROMPTS) when given, else the shipped folder;
    PromptError when the folder holds no prompt file."""
    folder = custom or package_folder("assistant.prompts")
    if not any(folder.glob("*.md")):
        if custom is not None:
            raise PromptError(f"${ENV_VAR} is {str(custom)!r}, which holds no prompt (*.md) file")
        raise PromptError(f"the prompts folder is missing ({folder}): reinstall the package, "
                          f"or set ${ENV_VAR} to a folder of prompt files")
    return folder


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
def _load(path: Path, mtime: float) -> PromptFile:
    return PromptFile(path.stem, path.read_text(encoding="utf-8"))


def load(name: str, folder: Path | None = None) -> PromptFile:
    folder = prompt_dir(folder)
    path = folder / f"{name}.md"
    if not path.exists():
        raise PromptError(f"no prompt file {path.name} in {folder}")
    return _load(path, path.stat().st_mtime)


def render(name: str, *, folder: Path | None = None, **values: object) -> list[dict[str, str]]:
    return load(name, folder).render(**values)


def names(folder: Path | None = None) -> list[str]:
    return sorted(p.stem for p in prompt_dir(folder).glob("*.md"))


# -- data, never instructions -----------------------------------------------------------------------
def data_block(tag: str, text: str, **attrs: object) -> str:
    """`text` inside `<tag attr="…">…</tag>`, with any data tag it holds (`</passage>`…) defused."""
    if tag not in DATA_TAGS:
        raise PromptError(f"{tag!r} is not one of the data tags the prompts name: {', '.join(DATA_TAGS)}")
    inner = _DATA_TAG.sub(r"‹\1\2", text.strip())
    head = "".join(f' {k}="{_attr(v)}"' for k, v in attrs.items() if v not in (None, ""))
    return f"<{tag}{head}>\n{inner}\n</{tag}>"


def _attr(value: object) -> str:
    return " ".join(str(value).split()).replace('"', "'").replace("<", "‹").replace(">", "›")
