"""The knowledge base: a Chroma store of regulation texts, guidance and notes, plus one collection
per case for its evidence; searched by hybrid search (search.py) with filters.

Ingestion goes through LangChain's indexing API with a SQLite record manager, so it is idempotent
and incremental. The embedding model is recorded in each collection and a different one is
refused rather than mixed. A store that lost vectors or became unreadable is rebuilt from its
sources (`ensure_notes`).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.config import Config
from assistant.errors import EmbeddingMismatch, KnowledgeError
from assistant.knowledge import generation
from assistant.knowledge.embeddings.remote import RemoteEmbedding
from assistant.knowledge.passage import Passage
from assistant.knowledge.questions import QuestionBank, embed_as_queries
from assistant.knowledge.search import LexicalIndexes, SearchSettings, Target, hybrid_search
from assistant.knowledge.shipped import ShippedVectors
from assistant.knowledge.sources import NOTES_DIR, CorpusError, SourceChunk, chunks_of_file, source_files
from assistant.knowledge.superseded import AMENDED, PARTIAL, amended, superseded
from assistant.knowledge.superseded import warning as superseded_warning
from assistant.knowledge.twins import twin_instruments

CORPUS = "corpus"
BATCH_CHUNKS = 256  # chunks indexed per call when ingesting many files
__all__ = ["KnowledgeBase", "IngestReport", "collection_for_case"]


@dataclass
class IngestReport:
    files: int = 0
    added: int = 0
    skipped: int = 0
    deleted: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    chunks: int = 0


class _Embeddings:
    """Adapter from our embedder to LangChain's `Embeddings` interface; texts that `shipped` holds
    (the notes' chunks, shipped.py) are not embedded again."""

    def __init__(self, embedder: Any, shipped: ShippedVectors | None = None) -> None:
        self.embedder = embedder
        self.shipped = shipped

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        known = self.shipped.lookup(texts) if self.shipped else [None] * len(texts)
        missing = [t for t, v in zip(texts, known, strict=True) if v is None]
        fresh = iter(self.embedder.embed_documents(missing) if missing else [])
        return [v if v is not None else next(fresh) for v in known]

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_query(text)


def collection_for_case(case_id: str) -> str:
    return "case-" + hashlib.sha1(case_id.encode()).hexdigest()[:24]


class KnowledgeBase:
    def __init__(
        self, home: Path, embedder: Any | None = None, chroma_url: str | None = None, *,
        config: Config | None = None, remote: RemoteEmbedding | None = None,
    ) -> None:
        """`config`: the embedder's name, the converted models' folder, a Chroma server (read from the
        environment when not given); `remote`: the OpenAI(-compatible) model when the embedder is
        'openai'."""
        self.config = config or Config.from_env()
        self.remote = remote
        self.home = home
        self.dir = home / "index"
        self.dir.mkdir(parents=True, exist_ok=True)
        self._embedder = embedder
        self._local_embedder: Any = None
        self.chroma_url = chroma_url if chroma_url is not None else self.config.chroma_url
        self._client: Any = None
        self._lock = threading.RLock()
        self._lexical = LexicalIndexes(self.dir / "bm25", questions=self._bank,  # BM25 per collection, beside the vectors
                                       questions_signature=QuestionBank.shipped_signature)
        self._questions: tuple[QuestionBank | None, QuestionBank | None] | None = None  # (as shipped, for the embedder)
        self._handles: dict[str, tuple[Any, Any]] = {}  # collections opened for search, per client
        self.notices: list[str] = []  # what the user should know (e.g. a damaged store was rebuilt)

    # -- parts ---------------------------------------------------------------------------------
    @property
    def embedder(self) -> Any:
        with self._lock:
            if self._embedder is None:
                from assistant.knowledge.embeddings.factory import load_embedder

                name = self.config.embedder
                if name.strip().lower() == "openai":
                    from assistant.knowledge.embeddings.remote import OpenAIEmbedder, RemoteEmbedderError

                    remote = self.remote or RemoteEmbedding(api_key=self.config.api_key)
                    try:
                        self._embedder = OpenAIEmbedder(remote.model, remote.base_url, remote.api_key)
                    except RemoteEmbedderError as exc:
                        raise KnowledgeError(str(exc)) from exc
                else:
                    self._embedder = load_embedder(name, self._models_dir(), threads=self.config.embed_threads)
            return self._embedder

    def _models_dir(self) -> Path:
        return self.config.models_dir or self.home / "models"  # DEROGATION_MODELS: converted models, shared

    @property
    def local_embedder(self) -> Any:
        """The embedder for a case's own documents: never a remote service (they may hold
        patient data), so the bundled default when the configured one is remote."""
        with self._lock:
            if getattr(self.embedder, "local", True):
                return self.embedder
            if self._local_embedder is None:
                from assistant.knowledge.embeddings.factory import default_embedder

                self._local_embedder = default_embedder(self._models_dir(), threads=self.config.embed_threads)
            return self._local_embedder

    def _bank(self) -> QuestionBank | None:
        """The questions the reference texts answer, as shipped (questions.py); None without them."""
        with self._lock:
            if self._questions is None:
                self._questions = (QuestionBank.load(), None)
            return self._questions[0]

    def questions(self) -> QuestionBank | None:
        """The question bank with vectors of the corpus's embedder (computed once for another model)."""
        bank = self._bank()
        if bank is None:
            return None
        with self._lock:
            assert self._questions is not None
            if self._questions[1] is None:
                embedder = self.embedder
                self._questions = (bank, bank.for_model(
                    embedder.model_id, lambda texts: embed_as_queries(embedder, texts), self.dir / "questions-vectors.npz"))
            return self._questions[1]

    def embedder_for(self, collection: str) -> Any:
        return self.embedder if collection == CORPUS else self.local_embedder

    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is not None and not self.chroma_url and not (self.dir / "chroma" / "chroma.sqlite3").exists():
                self._client = None  # the folder was deleted under this process: do not write into the void
            if self._client is None:
                import chromadb
                from chromadb.config import Settings

                settings = Settings(anonymized_telemetry=False, allow_reset=False)
                try:
                    if self.chroma_url:
                        m = re.match(r"^(https?)://([^:/]+)(?::(\d+))?", self.chroma_url)
                        if not m:
                            raise KnowledgeError(f"invalid Chroma server URL {self.chroma_url!r}")
                        self._client = chromadb.HttpClient(
                            host=m.group(2), port=int(m.group(3) or 8000), ssl=m.group(1) == "https", settings=settings
                        )
                    else:
                        if not (self.dir / "chroma" / "chroma.sqlite3").exists():
                            _forget_cached_stores()  # the folder was deleted under a running process
                        self._client = chromadb.PersistentClient(path=str(self.dir / "chroma"), settings=settings)
                except KnowledgeError:
                    raise
                except Exception as exc:
                    raise KnowledgeError(f"the vector store cannot be opened ({type(exc).__name__}: {exc})") from exc
            return self._client

    def record_manager(self, namespace: str):
        from assistant.knowledge.record_manager import SQLiteRecordManager

        return SQLiteRecordManager(namespace, self.dir / "records.sqlite")

    def _records(self, namespace: str, sql: str) -> list[tuple]:
        """A read of the record manager's table without LangChain's indexing API (seconds of imports
        that a search does not need). No table yet reads as no records, as the manager would make it;
        a file that is not a database raises (sqlite3.DatabaseError), as the manager would."""
        path = self.dir / "records.sqlite"
        if not path.exists():
            return []
        db = sqlite3.connect(str(path), timeout=30)
        try:
            if not db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'records'").fetchone():
                return []
            return db.execute(sql, [namespace]).fetchall()
        finally:
            db.close()

    def _collection(self, name: str, create: bool = True) -> Any:
        model = self.embedder_for(name).model_id
        try:
            existing = {c.name if hasattr(c, "name") else c for c in self.client.list_collections()}
            if name not in existing:
                if not create:
                    return None
                return self.client.create_collection(
                    name, metadata={"embedding_model": model, "hnsw:space": "cosine"}, embedding_function=None
                )
            collection = self.client.get_collection(name, embedding_function=None)
        except KnowledgeError:
            raise
        except Exception as exc:
            raise KnowledgeError(f"the vector store is unreadable ({type(exc).__name__}): rebuild it with `derogation corpus rebuild`") from exc
        stored = (collection.metadata or {}).get("embedding_model")
        if stored and stored != model:
            raise EmbeddingMismatch(
                f"the index was built with the embedding model {stored!r}, not {model!r}: "
                "vectors of two models cannot be mixed; rebuild it with `derogation corpus rebuild`"
            )
        return collection

    def _vector_store(self, name: str) -> Any:
        from langchain_chroma import Chroma

        self._collection(name)  # creates it with its metadata, and checks the model
        embedder = self.embedder_for(name)
        shipped = ShippedVectors.load(embedder.model_id) if name == CORPUS else None
        return Chroma(client=self.client, collection_name=name, embedding_function=_Embeddings(embedder, shipped))

    # -- ingestion ---------------------------------------------------------------------------------
    def _index(self, namespace: str, collection: str, docs: list, cleanup: str) -> tuple[int, int, int]:
        from langchain_core.indexing import index

        result = index(
            docs, self.record_manager(namespace), self._vector_store(collection),
            cleanup=cleanup, source_id_key="source", batch_size=64, key_encoder="sha256",
        )
        self._lexical.drop(collection)
        if collection == CORPUS and (result["num_added"] or result["num_deleted"]):
            generation.bump(self.home)
        return result["num_added"], result["num_skipped"], result["num_deleted"]

    def add(self, paths: Iterable[Path], progress: bool = False, batch_chunks: int | None = None) -> IngestReport:
        """Ingest files and folders. Unchanged files are skipped, changed ones re-embedded, and the
        chunks of files that were deleted from an ingested folder are removed. Files are indexed in
        groups of about `batch_chunks` chunks (BATCH_CHUNKS): the embedder then runs on full batches
        of similar lengths instead of one small file at a time."""
        from langchain_core.documents import Document

        start = time.perf_counter()
        paths = [Path(p).resolve() for p in paths]
        files, problems = source_files([p for p in paths if p.exists()])
        report = IngestReport(files=len(files), problems=problems)
        rm = self.record_manager(CORPUS)
        report.deleted += self._remove_missing(rm, paths)
        bar = _progress(len(files), progress)
        group: list = []
        names: list[str] = []

        def flush() -> None:
            if not group:
                return
            group.sort(key=lambda d: len(d.page_content))  # similar lengths share a batch: less padding
            added, skipped, deleted = self._index(CORPUS, CORPUS, group, "scoped_full")
            report.added += added
            report.skipped += skipped
            report.deleted += deleted
            report.chunks += len(group)
            for name in names:
                bar(name)
            group.clear()
            names.clear()

        for path in files:
            try:
                chunks = chunks_of_file(path)
            except CorpusError as exc:
                report.problems.append(str(exc))
                bar(path.name)
                continue
            # The shipped notes quote the old wording to say it is superseded: only official texts
            # a user adds are screened.
            notes = path.is_relative_to(NOTES_DIR.resolve())
            kept = chunks if notes else [c for c in chunks if superseded(c.text) is None]
            partial: dict[str, str] = {}
            if len(kept) < len(chunks):  # never retrieved as current law: the user is told why
                found = [w for c in chunks if (w := superseded(c.text)) is not None]
                report.problems.append(superseded_warning(path.name, found, len(chunks) - len(kept)))
                # what is left of the text says so (search.py: a question naming it is not steered to it)
                partial = {PARTIAL: "; ".join(dict.fromkeys(w.provision for w in found))}
            group.extend(Document(page_content=c.text, metadata=_clean_meta({**c.metadata, **partial, **_amended(c.metadata)}))
                         for c in kept)
            names.append(path.name)
            if len(group) >= (batch_chunks or BATCH_CHUNKS):
                flush()
        flush()
        report.seconds = time.perf_counter() - start
        return report

    def _remove_missing(self, rm: Any, paths: list[Path]) -> int:
        gone = []
        for source in rm.groups():
            src = Path(source)
            covered = any(src == p or p in src.parents for p in paths)
            if covered and not src.exists():
                gone.append(source)
        return sum(self.remove_source(s) for s in gone)

    def remove_source(self, source: str) -> int:
        rm = self.record_manager(CORPUS)
        keys = rm.list_keys(group_ids=[source])
        if keys:
            self._collection(CORPUS).delete(ids=keys)
            rm.delete_keys(keys)
            self._lexical.drop(CORPUS)
            generation.bump(self.home)
        return len(keys)

    def sources(self) -> list[tuple[str, int]]:
        rm = self.record_manager(CORPUS)
        return [(s, rm.count(s)) for s in rm.groups()]

    def sync(self, progress: bool = False) -> IngestReport:
        """Re-ingest every known source: changed files re-embedded, deleted ones removed."""
        return self.add([Path(s) for s, _ in self.sources()] + [NOTES_DIR], progress)

    def ensure_notes(self) -> IngestReport | None:
        """Index the shipped notes if they are not in the store. A store that is unreadable or lost
        vectors (deleted, damaged) is rebuilt from its sources, and `notices` says so."""
        damage = self._damage()
        if damage:
            report = self.rebuild()
            self.notices.append(
                f"{damage}: rebuilt it from its sources ({report.files} file(s), {report.added} passage(s))"
            )
            return report
        groups = self._records(CORPUS, "SELECT DISTINCT group_id FROM records WHERE namespace = ? AND group_id IS NOT NULL")
        if any(Path(g).is_relative_to(NOTES_DIR) for (g,) in groups):
            return None
        return self.add([NOTES_DIR])

    def _damage(self) -> str | None:
        """Why the corpus store must be rebuilt, in one line; None if it is sound."""
        try:
            rows = self._records(CORPUS, "SELECT COUNT(*) FROM records WHERE namespace = ?")
            expected = int(rows[0][0]) if rows else 0
        except Exception as exc:  # sqlite3.DatabaseError and kin: the file is not a database any more
            return f"the index's list of sources was unreadable ({type(exc).__name__})"
        _ = self.embedder_for(CORPUS)  # an embedder that cannot load is not a damaged store
        try:
            held = self._collection(CORPUS).count()
        except EmbeddingMismatch:
            raise  # not damage: the user must choose the model (`derogation corpus rebuild`)
        except Exception as exc:
            if self.chroma_url:
                raise  # a Chroma server's store is not ours to wipe
            return f"the vector store was unreadable ({type(exc).__name__})"
        if held < expected:
            return f"the vector store had lost {expected - held} of {expected} passage(s)"
        return None

    def rebuild(self, progress: bool = False) -> IngestReport:
        """Drop the corpus collection and its records, then ingest every known source again.
        If the store cannot drop the collection (damaged, or deleted), the whole index is wiped:
        the cases' collections are re-made from their documents on their next search."""
        sources = self._known_sources()
        try:
            self.client.delete_collection(CORPUS)
            self.record_manager(CORPUS).clear()
        except Exception:  # missing or damaged: start from an empty index
            with self._lock:
                _forget_cached_stores()
                self._client = None
            shutil.rmtree(self.dir / "chroma", ignore_errors=True)
            for path in self.dir.glob("records.sqlite*"):  # records of vectors that are gone
                path.unlink(missing_ok=True)
        self._lexical.clear()
        self._handles.clear()
        return self.add([p for p in sources if p.exists()] + [NOTES_DIR], progress)

    def _known_sources(self) -> list[Path]:
        """The ingested sources: from the records, else from the store's own metadata."""
        try:
            return [Path(s) for s, _ in self.sources()]
        except Exception:
            pass
        try:
            metas = self._collection(CORPUS, create=False).get(include=["metadatas"])["metadatas"] or []
            return sorted({Path(str(m["source"])) for m in metas if m and m.get("source")})
        except Exception:
            return []

    def health(self) -> str | None:
        """None if the store answers; else what is wrong, in one line."""
        try:
            collection = self._collection(CORPUS)
            collection.count()
            return None
        except KnowledgeError as exc:
            return str(exc)
        except Exception as exc:
            return f"the vector store is damaged ({type(exc).__name__})"

    # -- per-case evidence ----------------------------------------------------------------------------
    def sync_case(self, case_id: str, chunks: list[SourceChunk]) -> None:
        """Make the case's evidence collection hold exactly these chunks."""
        from langchain_core.documents import Document

        docs = [Document(page_content=c.text, metadata=_clean_meta(c.metadata)) for c in chunks]
        namespace, name = f"case:{case_id}", collection_for_case(case_id)
        records = self.record_manager(namespace)
        if self._collection(name).count() < records.count():  # its vectors were lost with the store
            records.clear()  # so that every chunk is embedded again, not skipped as "already indexed"
        self._index(namespace, name, docs, "full")

    # -- search ------------------------------------------------------------------------------------------
    def search(
        self,
        query: str,
        k: int = 5,
        case_id: str | None = None,
        instrument: str | None = None,
        language: str | None = None,
        include_corpus: bool = True,
        settings: SearchSettings | None = None,
        notes: int | None = None,
        excluded: list[str] | None = None,
        notes_language: str | None = None,
    ) -> list[Passage]:
        """Hybrid search over the corpus (and the case's evidence when `case_id` is given): the `k`
        best passages of the official texts (and the case's documents), then up to `notes` of the
        project's notes (`Passage.is_note`) ranked on their own (settings.notes when None); none
        of the corpus's passages of the `excluded` instruments (a case's regulation rules the other
        out); `settings`: how (search.SearchSettings; the evaluated default when None);
        `notes_language`: the notes in that language only (each note exists in French and in English:
        a reader is shown one of the two, not both)."""
        if not query.strip():
            return []
        s = settings or SearchSettings()
        n_notes = s.notes if notes is None else notes
        apart = not s.mixed_notes
        targets: list[Target] = []
        notes_targets: list[Target] = []
        if include_corpus:
            # One ranked list per language, fused: a French query then surfaces the English official
            # text as well as the French note, instead of same-language hits crowding it out.
            for lang in [language] if language else ["fr", "en"]:
                where = {"instrument": instrument or ("!" + "|".join(sorted(excluded)) if excluded else ""), "language": lang}
                if apart:
                    targets.append((CORPUS, {**where, "kind": "!note"}, None))
                    if notes_language in (None, lang):
                        notes_targets.append((CORPUS, {**where, "kind": "note"}, None))
                else:
                    targets.append((CORPUS, where, None))
        if case_id:
            targets.append((collection_for_case(case_id), {}, case_id))
        # a case under one regulation (the other excluded) reads a question naming neither as its own
        left = twin_instruments() - set(excluded or ())
        own = next(iter(left)) if len(left) == 1 else None

        def run() -> list[Passage]:
            return hybrid_search(
                query, k, targets, collection=self._open, embedder_for=self.embedder_for, lexical=self._lexical,
                generation=lambda name: generation.read(self.home) if name == CORPUS else 0, settings=settings,
                notes_targets=notes_targets, notes=n_notes, questions=self.questions if include_corpus else None,
                general_twin=own,
            )

        try:
            return run()
        except (KnowledgeError, EmbeddingMismatch):
            raise
        except Exception:  # a collection dropped under a kept handle (a rebuild elsewhere): open it again
            if not self._handles:
                raise
            self._handles.clear()
            return run()

    def _open(self, name: str, create: bool = True) -> Any:
        """`_collection`, kept open between searches (opening costs a listing of the store)."""
        client = self.client
        held = self._handles.get(name)
        if held is not None and held[0] is client:
            return held[1]
        collection = self._collection(name, create)
        if collection is not None:
            self._handles[name] = (client, collection)
        return collection


def _forget_cached_stores() -> None:
    """Chroma keeps one open store per path per process; drop them so a new client starts clean."""
    try:
        from chromadb.api.client import SharedSystemClient

        SharedSystemClient.clear_system_cache()
    except Exception:
        pass


def _amended(meta: dict) -> dict[str, str]:
    """The mark of a 2017 provision re-worded since (superseded.amended), as chunk metadata."""
    what = amended(meta)
    return {AMENDED: what.provision} if what else {}


def _clean_meta(meta: dict) -> dict:
    return {k: (v if isinstance(v, (str, int, float, bool)) else str(v)) for k, v in meta.items() if v is not None}


def _progress(total: int, enabled: bool) -> Callable[[str], None]:
    if not enabled or total < 2:
        return lambda _name: None
    from tqdm import tqdm

    bar = tqdm(total=total, unit="file", file=sys.stderr, dynamic_ncols=True)

    def step(name: str) -> None:
        bar.set_postfix_str(name[-30:])
        bar.update(1)
        if bar.n >= total:
            bar.close()

    return step
