"""The product's own words in each drafting language, read from one file (assistant/words.yaml).

The authority's words (section titles, questions, provisions) live in its profile; these are the
assistant's: placeholders and labels in the draft and the exports, the check's findings, the
clinician's letter. One file, so a translation is made in one place and nothing in the code is
half-translated: the file is checked when it is read (every entry in every language, the same
`{}` slots in each), and a key the code asks for that the file lacks is an error, never a guess.
"""

from __future__ import annotations

import string
from pathlib import Path

import yaml

from assistant.config import package_folder
from assistant.text import LANGS, Lang

WORDS_FILE = package_folder("assistant") / "words.yaml"


def _slots(text: str) -> list[str]:
    """The replacement fields of a format string, in order ("" for each positional `{}`)."""
    return [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]


def load(path: Path = WORDS_FILE) -> dict[str, dict[str, str]]:
    """Every entry of the catalogue by key; `ValueError` naming the key at fault."""
    groups = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    words: dict[str, dict[str, str]] = {}
    for group, entries in groups.items():
        for key, by_lang in entries.items():
            where = f"{path.name}: {group}.{key}"
            if key in words:
                raise ValueError(f"{where}: the key is already defined in another group")
            if not isinstance(by_lang, dict) or set(by_lang) != set(LANGS):
                raise ValueError(f"{where}: give exactly the languages {', '.join(LANGS)}")
            if any(not isinstance(text, str) or not text for text in by_lang.values()):
                raise ValueError(f"{where}: every language needs a non-empty text")
            if len({tuple(sorted(_slots(text))) for text in by_lang.values()}) > 1:
                raise ValueError(f"{where}: the languages must have the same {{}} slots")
            words[key] = by_lang
    return words


WORDS = load()


def t(key: str, lang: Lang, *args: object, **kwargs: object) -> str:
    """The words for `key` in `lang`, with `args` and `kwargs` in their slots (as written when none
    are given, for a caller that fills the slots itself)."""
    try:
        entry = WORDS[key]
    except KeyError:
        raise KeyError(f"no words for {key!r} in {WORDS_FILE.name}") from None
    return entry[lang].format(*args, **kwargs) if args or kwargs else entry[lang]
