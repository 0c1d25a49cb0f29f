"""The product's words (assistant/words.yaml, read by assistant/drafting/words.py): every entry in
every language, and every key the code asks for present."""

from __future__ import annotations

import ast
import re
import string

import pytest
from conftest import ROOT

from assistant import words
from assistant.case.profile import LANGS


def _arguments(text: str) -> tuple[list[str], dict[str, str]]:
    """Stand-in arguments for a format string's slots."""
    fields = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    return [f"<{n}>" for n, name in enumerate(fields) if name == ""], {name: f"<{name}>" for name in fields if name}


@pytest.mark.parametrize("key", sorted(words.WORDS))
def test_every_entry_reads_in_every_language(key):
    for lang in LANGS:
        args, kwargs = _arguments(words.WORDS[key][lang])
        text = words.t(key, lang, *args, **kwargs)
        assert text.strip() and "{" not in text and all(a in text for a in [*args, *kwargs.values()])


def _literals(node: ast.expr) -> list[str]:
    if isinstance(node, ast.IfExp):
        return _literals(node.body) + _literals(node.orelse)
    return [node.value] if isinstance(node, ast.Constant) and isinstance(node.value, str) else []


def _keys_asked_for() -> dict[str, str]:
    """Every key given as a literal (or each branch of `a if c else b`) to `t(...)` in assistant/."""
    asked: dict[str, str] = {}
    for path in (ROOT / "assistant").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            func = getattr(node, "func", None)
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if isinstance(node, ast.Call) and name == "t" and node.args:
                for key in _literals(node.args[0]):
                    asked[key] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return asked


def test_every_key_the_code_asks_for_is_in_the_file():
    asked = _keys_asked_for()
    assert len(asked) > 40  # the scan sees the calls
    missing = {key: where for key, where in asked.items() if key not in words.WORDS}
    assert missing == {}


def test_a_key_not_in_the_file_is_an_error_naming_it():
    with pytest.raises(KeyError, match="no words for 'nope' in words.yaml"):
        words.t("nope", "fr")


@pytest.mark.parametrize(("entry", "message"), [
    ('k: {fr: "a"}', "draft.k: give exactly the languages fr, en"),
    ('k: {fr: "a", en: "b", de: "c"}', "draft.k: give exactly the languages fr, en"),
    ('k: {fr: "", en: "b"}', "draft.k: every language needs a non-empty text"),
    ('k: {fr: "a {}", en: "b"}', "draft.k: the languages must have the same {} slots"),
    ('k: {fr: "a {name}", en: "b {nom}"}', "draft.k: the languages must have the same {} slots"),
    ('todo: {fr: "a", en: "b"}', "draft.todo: the key is already defined in another group"),
])
def test_a_catalogue_with_a_language_or_a_slot_missing_is_refused(tmp_path, entry, message):
    path = tmp_path / "words.yaml"
    path.write_text(f'other:\n  todo: {{fr: "x", en: "y"}}\ndraft:\n  {entry}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="^" + re.escape(f"words.yaml: {message}") + "$"):
        words.load(path)
