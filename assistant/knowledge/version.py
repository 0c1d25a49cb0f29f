"""What a search's results depend on besides the store and the query: the search's code and default
settings (search.py) and the data that ranks (the question bank, the twins, the glossary).

Passages kept between runs (the service's retrieval cache) are keyed by it, so that an upgrade that
changes any of them is not served the previous version's passages. Light on purpose (no numpy, no
loading of the bank: its signature is read from the compiled file's zip member), since every CLI
command that checks a case asks for it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import zipfile
from pathlib import Path

from assistant.config import package_folder

__all__ = ["QUESTIONS", "search_version"]

_HERE = Path(__file__).parent
RANKING = (_HERE / "search.py", _HERE / "twins.yaml", _HERE / "glossary.yaml")
QUESTIONS = package_folder("assistant.corpus") / "questions.npz"  # the compiled question bank (questions.py)


@functools.lru_cache(maxsize=1)
def search_version() -> str:
    h = hashlib.sha1()
    for path in RANKING:
        with contextlib.suppress(OSError):
            h.update(path.read_bytes())
    with contextlib.suppress(OSError, KeyError, zipfile.BadZipFile), zipfile.ZipFile(QUESTIONS) as compiled:
        h.update(compiled.read("signature.npy"))  # the `signature` array QuestionBank.save writes
    return h.hexdigest()[:12]
