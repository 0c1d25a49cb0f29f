"""What retrieval found for each section, kept on disk with the index, and which of a case's
documents are indexed.

A section's query is the profile's; what changes its results is the corpus (its generation), the
instruments a case's answers exclude, the embedder, and for a case's own documents the documents
indexed. Keyed by those, the passages are computed once and then read back by every process: the
app, and each `derogation check`/`draft`/`export`, which then need neither the embedder, nor
Chroma, nor BM25. Files (JSON, replaced atomically; a lost or unreadable file only costs a
recomputation):

- `index/passages/corpus.json`: {"stamp": corpus stamp, "entries": {key: [passage, …]}};
- `index/passages/case-<hash>.json`: the same for one case's documents;
- `index/cases/case-<hash>.json`: the documents of the case its collection holds
  ({"documents": {evidence id: "kind|file name"}, "lang": …, "embedder": …}).
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

from assistant.case.model import Case
from assistant.case.store import write_atomic
from assistant.knowledge.passage import Passage


def _case_file(case_id: str) -> str:
    return "case-" + hashlib.sha1(case_id.encode()).hexdigest()[:24] + ".json"


def document_stamp(case: Case) -> dict[str, str]:
    """What of each document its indexed chunks depend on (a kind or a name change re-indexes it)."""
    return {ev.id: f"{ev.kind}|{ev.filename}" for ev in case.evidence}


class RetrievalCache:
    def __init__(self, home: Path) -> None:
        self.dir = home / "index"
        self._held: dict[str, tuple[str, dict]] = {}  # file -> (stamp, entries)
        self._lock = threading.Lock()

    # -- passages ----------------------------------------------------------------------------
    def get(self, scope: str, stamp: str, key: str) -> list[Passage] | None:
        entries = self._entries(scope, stamp)
        found = entries.get(key)
        return None if found is None else [Passage.model_validate(p) for p in found]

    def put(self, scope: str, stamp: str, key: str, passages: list[Passage]) -> None:
        with self._lock:
            path = self.dir / "passages" / scope
            entries = dict(self._read(path, stamp))  # what another process may have added meanwhile
            entries[key] = [p.model_dump() for p in passages]
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, json.dumps({"stamp": stamp, "entries": entries}, ensure_ascii=False).encode())
            self._held[scope] = (stamp, entries)

    def _entries(self, scope: str, stamp: str) -> dict:
        with self._lock:
            held = self._held.get(scope)
            if held is not None and held[0] == stamp:
                return held[1]
            entries = self._read(self.dir / "passages" / scope, stamp)
            self._held[scope] = (stamp, entries)
            return entries

    @staticmethod
    def _read(path: Path, stamp: str) -> dict:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data.get("entries", {}) if isinstance(data, dict) and data.get("stamp") == stamp else {}

    @staticmethod
    def corpus_scope() -> str:
        return "corpus.json"

    @staticmethod
    def case_scope(case_id: str) -> str:
        return _case_file(case_id)

    # -- which documents a case's collection holds ----------------------------------------------
    def indexed(self, case_id: str) -> dict:
        try:
            data = json.loads((self.dir / "cases" / _case_file(case_id)).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def store_id(self) -> str:
        """Which vector store this is: a store wiped and made again (a rebuild after damage) is
        another one, whose case collections are empty. "" for a Chroma server."""
        try:
            return str((self.dir / "chroma" / "chroma.sqlite3").stat().st_ino)
        except OSError:
            return ""

    def set_indexed(self, case_id: str, documents: dict[str, str], lang: str, embedder: str) -> None:
        path = self.dir / "cases" / _case_file(case_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps({"documents": documents, "lang": lang, "embedder": embedder,
                                       "store": self.store_id()}).encode())

    def pending(self, case: Case, embedder: str) -> list[str]:
        """The ids of the case's documents its collection does not hold as they are now."""
        held = self.indexed(case.id)
        same = (held.get("lang") == case.settings.language and held.get("embedder") == embedder
                and held.get("store") == self.store_id())
        documents = held.get("documents", {}) if same else {}
        return [ev_id for ev_id, stamp in document_stamp(case).items() if documents.get(ev_id) != stamp]

    def case_stamp(self, case: Case) -> str:
        """Changes whenever the documents indexed for the case change."""
        held = self.indexed(case.id)
        return hashlib.sha1(json.dumps(held, sort_keys=True).encode()).hexdigest()[:16]


def key(*parts: object) -> str:
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]
