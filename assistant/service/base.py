"""What every part of the service builds on: the store, the knowledge base, a case and its
profile, the draft and the findings of a case version, and the one way to record a change."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import subprocess
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Self, TypeVar

from assistant import words
from assistant.case import access, conditions, evidence
from assistant.case.model import ROLES, Case, EvidenceFile
from assistant.case.profile import Lang, Profile, load_profile
from assistant.case.store import CaseStore, StoreError, validate_case_id
from assistant.case.store import ConflictError as StoreConflict
from assistant.config import Config, current_user
from assistant.drafting import offline as drafting
from assistant.drafting import revisions
from assistant.drafting.model import Draft, SectionDraft
from assistant.errors import ConflictError, Forbidden, KnowledgeError, LLMConfigError, ServiceError
from assistant.gate import findings as checks
from assistant.gate.findings import Finding
from assistant.knowledge import generation
from assistant.knowledge.embeddings.remote import RemoteEmbedding
from assistant.knowledge.passage import Passage
from assistant.knowledge.version import search_version
from assistant.service import indexer, retrieval_cache

if TYPE_CHECKING:
    from assistant.knowledge.index import KnowledgeBase


ExportFormat = Literal["docx", "md", "pdf"]


class ExportBlocked(ServiceError):
    def __init__(self, blockers: list[Finding]) -> None:
        self.blockers = blockers
        super().__init__(f"export refused: {len(blockers)} blocker(s) remain")


@dataclass(frozen=True)
class Actor:
    name: str = field(default_factory=current_user)
    role: str = "manufacturer"
    # For a role that acts through a case's link (access.yaml `needs_link`: the clinician), the
    # link's token: the actor may change that case only, and only while the link is active.
    token: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ServiceError(f"unknown role {self.role!r} (one of {', '.join(ROLES)})")


@dataclass(frozen=True)
class Attached:
    file: EvidenceFile
    guessed_kind: bool
    warnings: list[str]


@dataclass(frozen=True)
class CaseSummary:
    id: str
    authority: str
    request_type: str
    device: str
    version: int
    updated_at: str
    answered: int
    open_questions: int
    blockers: int
    warnings: int


T = TypeVar("T")
TRANSLATIONS_FILE = "translations.json"  # in the case's folder: answers translated by the model (by text)
COMPUTED_KEPT = 64  # drafts and findings kept (a few case versions × languages of the cases in use)
RELEVANCE_THRESHOLD = 0.80  # cosine similarity under which a passage does not support a section


CORPUS_PASSAGES = 4
CORPUS_KEY = "corpus+notes"  # a section's corpus passages in the retrieval cache: the texts', then the notes'


EVIDENCE_PASSAGES = 2
INDEX_BATCH = 32  # chunks embedded between two progress reports (at least)


@dataclass
class _Job:
    """Indexing a case's documents in the background."""

    progress: int = 0
    total: int = 0
    done: bool = False
    again: bool = False  # another document arrived while it ran
    error: str = ""

    def report(self, progress: int, total: int) -> None:
        self.progress, self.total = progress, total


class ServiceBase:
    def __init__(
        self, store: CaseStore | None = None, knowledge: KnowledgeBase | str | None = None, *,
        config: Config | None = None,
    ) -> None:
        """`knowledge`: a KnowledgeBase, "auto" (the one under the store's home, opened on first
        use), or None (no retrieval: drafts cite the profile's provisions only). `config`: the
        settings read from the environment (read now when not given)."""
        self.config = config or Config.from_env()
        self.store = store or CaseStore(self.config.ensure_home())
        self._knowledge = knowledge
        # What is computed from a case version (the draft, the findings): kept per (case, version,
        # language, corpus generation), so one user action composes a draft at most once.
        self._computed: OrderedDict[tuple, Any] = OrderedDict()
        self._computed_lock = threading.Lock()
        self.retrieval_cache = retrieval_cache.RetrievalCache(self.store.home)
        self._index_locks: dict[str, threading.Lock] = {}
        self._jobs: dict[str, _Job] = {}
        self._here = threading.local()  # .indexing: the case this thread is indexing (its own drafts are not waiting)
        # One thread at a time checks (and, the first time, builds) the knowledge base: the app's
        # warm-up thread and a request opening it together could both find the notes missing and
        # add them twice, or one could judge the store damaged while the other is writing it.
        self._ready_lock = threading.Lock()
        # The start-up warm-up (warm_passages in a background thread) yields to a user's request: it
        # starts no search while a request composes a draft or searches (they share one embedder, one
        # inference at a time, and the lock between them is not first come, first served).
        self._requests = 0
        self._requests_done = threading.Condition()

    @classmethod
    def from_config(cls, config: Config, *, retrieval: bool | None = None) -> Self:
        """The service on `config`'s data home, with the knowledge base unless retrieval is off."""
        on = config.retrieval if retrieval is None else retrieval
        return cls(CaseStore(config.ensure_home()), knowledge="auto" if on else None, config=config)

    @property
    def knowledge(self) -> KnowledgeBase | None:
        if isinstance(self._knowledge, str):
            with self._computed_lock:  # one, whichever thread asks first (the app warms it in the background)
                if isinstance(self._knowledge, str):
                    from assistant.knowledge.index import KnowledgeBase

                    self._knowledge = KnowledgeBase(self.store.home, config=self.config,
                                                    remote=self._remote_embedding())
        return self._knowledge

    def _remote_embedding(self) -> RemoteEmbedding | None:
        """Where the corpus is embedded when `DEROGATION_EMBEDDER=openai`: the model and server of the
        language-model settings (the saved embedding model included), with the environment's key."""
        if self.config.embedder != "openai":
            return None
        from assistant.llm.providers import OPENAI_URL
        from assistant.llm.settings import load_settings

        try:
            settings = load_settings(self.store.home, self.config.llm_env)
        except LLMConfigError as exc:
            raise ServiceError(f"the embedding settings are not usable: {exc}") from None
        return RemoteEmbedding(model=settings.embedding_model, base_url=settings.base_url or OPENAI_URL,
                               api_key=self.config.api_key)

    def _ready_knowledge(self) -> KnowledgeBase | None:
        kb = self.knowledge
        if kb is None:
            return None
        from assistant.errors import KnowledgeError

        try:
            with self._ready_lock:
                kb.ensure_notes()
        except KnowledgeError as exc:
            raise ServiceError(str(exc)) from exc
        return kb

    # -- a case's documents in the index: done when they are attached, never when a draft is composed --
    def index_evidence(self, case_id: str, on_progress: Callable[[int, int], None] | None = None) -> int:
        """Make the case's collection hold its documents as they are now, reporting (chunks done,
        chunks in all); then find each section's passages among them (so that the next check or
        draft finds them ready). Returns the chunks indexed. No-op without retrieval."""
        self.case(case_id)  # an unknown or invalid id is refused, with or without retrieval
        if self._knowledge is None:
            return 0
        from assistant.knowledge.sources import evidence_chunks

        with self._indexing_lock(case_id):
            case = self.case(case_id)
            kb = self._ready_knowledge()
            lang = case.settings.language
            before = self.retrieval_cache.indexed(case_id)
            same = (before.get("lang") == lang and before.get("embedder") == self.config.embedder
                    and before.get("store") == self.retrieval_cache.store_id())
            kept = before.get("documents", {}) if same else {}
            stamp = retrieval_cache.document_stamp(case)
            chunks = evidence_chunks(self.profile(case), case, self.pages(case_id), lang)
            done, todo = [], []
            for c in chunks:
                evidence_id = str(c.metadata["evidence_id"])
                (done if kept.get(evidence_id) == stamp.get(evidence_id) else todo).append(c)
            total = len(chunks)
            # In steps, so the user sees it advance: the documents already held first (skipped as
            # unchanged; a removed one is dropped), then the new chunks a batch at a time.
            kb.sync_case(case_id, done)  # type: ignore[union-attr]
            if on_progress is not None:
                on_progress(len(done), total)
            step = max(INDEX_BATCH, len(todo) // 20)  # at most ~20 steps: each one re-reads the chunks before it
            for end in range(step, len(todo) + step, step):
                kb.sync_case(case_id, done + todo[:end])  # type: ignore[union-attr]
                if on_progress is not None:
                    on_progress(len(done) + min(end, len(todo)), total)
            self.retrieval_cache.set_indexed(case_id, stamp, lang, self.config.embedder)
        if todo or before.get("documents") != stamp:
            self._here.indexing = case_id
            try:
                for each in (lang, "en" if lang == "fr" else "fr"):  # the other one: a reviewer switching languages
                    self._compose(case_id, each)  # the sections' passages, found now rather than at the next check
            finally:
                self._here.indexing = None
        return len(todo)

    def documents_waiting(self, case_id: str) -> int:
        """How many of the case's documents another thread or process is still indexing (0: none)."""
        if not self._busy(case_id):
            return 0
        case = self.case(case_id)
        return len(self.retrieval_cache.pending(case, self.config.embedder)) or len(case.evidence)

    def _busy(self, case_id: str) -> bool:
        """Whether another thread or process is indexing the case's documents (its passages are then
        not looked for: the draft says the documents are still being indexed)."""
        return getattr(self._here, "indexing", None) != case_id and self.indexing(case_id) is not None

    def _indexing_lock(self, case_id: str) -> threading.Lock:
        with self._computed_lock:
            return self._index_locks.setdefault(case_id, threading.Lock())

    def indexing(self, case_id: str) -> tuple[int, int] | None:
        """(chunks done, chunks in all) while the case's documents are being indexed in the
        background (`index_evidence_later` in this process, `index_in_background` in a worker
        process); None when nothing is under way."""
        _validate(case_id)
        job = self._jobs.get(case_id)
        if job is not None and not job.done:
            return job.progress, job.total
        if self._knowledge is None:
            return None
        return indexer.progress(self.store.home, case_id)

    def index_in_background(self, case_id: str) -> subprocess.Popen | None:
        """`index_evidence` in a detached worker process (the CLI's `attach`), unless nothing is to be
        indexed (no retrieval, or every document is indexed) or a worker already runs for the case
        (it picks the new document up). Returns the worker started, or None."""
        case = self.case(case_id)
        if self._knowledge is None or not self.retrieval_cache.pending(case, self.config.embedder):
            return None
        return indexer.start(self.store.home, case_id)

    def index_worker(self, case_id: str) -> int:
        """What the worker process runs: index the case's documents under the case's indexing lock,
        again while documents attached meanwhile are waiting. 0 when done (or another worker holds the
        lock), 1 when indexing failed (the reason is kept for `indexing_error`)."""
        _validate(case_id)
        home = self.store.home
        while True:
            with indexer.held(home, case_id) as mine:
                if not mine:
                    return 0
                report = indexer.reporter(home, case_id)
                report(0, 0)
                try:
                    self.index_evidence(case_id, report)
                except Exception as exc:  # noqa: BLE001 (kept for the next check to report)
                    indexer.record_error(home, case_id, str(exc))
                    return 1
            if not self.retrieval_cache.pending(self.case(case_id), self.config.embedder):
                return 0

    def indexing_error(self, case_id: str) -> str:
        """Why the last background indexing of the case stopped, if it failed."""
        _validate(case_id)
        return indexer.error_of(self.store.home, case_id)

    def index_evidence_later(self, case_id: str) -> None:
        """`index_evidence` in a background thread of this process (the app), with its progress in
        `indexing(case_id)`. A job already running for the case picks the new document up."""
        self.case(case_id)
        if self._knowledge is None:
            return
        with self._computed_lock:
            job = self._jobs.get(case_id)
            if job is not None and not job.done:
                job.again = True
                return
            job = self._jobs[case_id] = _Job()

        def run() -> None:
            while True:
                job.again = False
                try:
                    with indexer.held(self.store.home, case_id) as mine:
                        if mine:  # else a worker process (the CLI's attach) indexes it, this one included
                            self.index_evidence(case_id, job.report)
                except Exception as exc:  # shown to the user by the draft's notice; the next compose retries
                    job.error = str(exc)
                if not job.again:
                    break
            job.done = True

        threading.Thread(target=run, name=f"index:{case_id}", daemon=True).start()

    def _opened(self, state: dict[str, Any]) -> KnowledgeBase:
        """The knowledge base, opened (and built the first time) only when the cache misses."""
        if "kb" not in state:
            state["kb"] = self._ready_knowledge()
            state["stamp"] = self._corpus_stamp()  # a first build bumps it
        return state["kb"]

    def _corpus_passages(self, query: str, excluded: list[str], state: dict[str, Any]) -> list[Passage]:
        """The corpus passages for a section's query, without the excluded instruments' (cached)."""
        cache = self.retrieval_cache
        k = retrieval_cache.key(CORPUS_KEY, query, excluded, CORPUS_PASSAGES)
        found = cache.get(cache.corpus_scope(), state["stamp"], k)
        if found is None:
            kb = self._opened(state)
            wide = CORPUS_PASSAGES * (3 if excluded else 1)  # room for the passages filtered out
            # The official texts and the project's notes are ranked apart (a search lists the notes
            # after the texts): a section rests on the best of each, the texts first. Never on what is
            # left of a partly superseded text (the 2017 MDR Art. 120 without its refused paragraphs:
            # the others still carry the 2017 dates), nor on a 2017 provision re-worded since (MDR
            # Art. 59(3)); the notes state the amended article.
            hits = [p for p in kb.search(query, k=wide, include_corpus=True, notes=wide, excluded=excluded)
                    if p.instrument not in excluded and not p.superseded and not p.amended]
            found = ([p for p in hits if not p.is_note][:CORPUS_PASSAGES]
                     + [p for p in hits if p.is_note][:CORPUS_PASSAGES])
            cache.put(cache.corpus_scope(), state["stamp"], k, found)
        return found

    @contextmanager
    def _serving(self) -> Iterator[None]:
        """Around what a user waits for that may search: the warm-up starts no search meanwhile."""
        with self._requests_done:
            self._requests += 1
        try:
            yield
        finally:
            with self._requests_done:
                self._requests -= 1
                if not self._requests:
                    self._requests_done.notify_all()

    def _after_requests(self) -> None:
        """Wait (holding no lock of the service) until no request is being served."""
        with self._requests_done:
            self._requests_done.wait_for(lambda: not self._requests)

    def warm_passages(self, yielding: bool = False) -> int:
        """Find now the corpus passages of every section of every authority's profile, in both
        languages, for each set of instruments a case can exclude (none, each rule's, all of them),
        so that no answer waits for the embedder (the app runs this in a background thread when it
        starts; found once per corpus generation, then read back). Returns how many were missing.
        `yielding`: before each search, wait while a user's request is served (the app's warm-up)."""
        if self._knowledge is None:
            return 0
        from assistant.case.profile import available_authorities

        state: dict[str, Any] = {"stamp": self._corpus_stamp()}
        missing = 0
        for authority in available_authorities():
            profile = load_profile(authority)
            rules = [sorted(set(rule.instruments)) for rule in profile.retrieval_exclusions]
            every = sorted({i for rule in rules for i in rule})
            sets = sorted({(), tuple(every), *(tuple(rule) for rule in rules)})
            for excluded in sets:
                for section in profile.sections:
                    if section.query is None:
                        continue
                    for lang in ("fr", "en"):
                        query = section.query.get(lang)
                        k = retrieval_cache.key(CORPUS_KEY, query, list(excluded), CORPUS_PASSAGES)
                        if yielding:
                            self._after_requests()
                        if self.retrieval_cache.get(self.retrieval_cache.corpus_scope(), state["stamp"], k) is None:
                            missing += 1
                            self._corpus_passages(query, list(excluded), state)
        return missing

    def passages_for(self, case_id: str, lang: Lang) -> drafting.PassagesFor | None:
        """What grounds each section: corpus passages and the case's own evidence, above the
        relevance threshold. Read from the retrieval cache when they were found before for the
        same corpus, documents and excluded instruments (no embedder then)."""
        if self._knowledge is None:
            return None
        case = self.case(case_id)
        if self.retrieval_cache.pending(case, self.config.embedder) and self.indexing(case_id) is None:
            # documents attached before indexing was done at attach time, or a worker that died: here,
            # unless a worker took the case meanwhile (then its documents wait, and the draft says so)
            with indexer.held(self.store.home, case_id) as mine:
                if mine:
                    self.index_evidence(case_id)
            case = self.case(case_id)
        answers = case.values()
        kinds_of: dict[str, set[str]] = {}
        for kind in self.profile(case).evidence_kinds:
            for section_id in kind.sections:
                kinds_of.setdefault(section_id, set()).add(kind.id)
        excluded = sorted({
            instrument for rule in self.profile(case).retrieval_exclusions
            if conditions.evaluate(rule.when, answers) is True for instrument in rule.instruments
        })
        present = {(ev.filename, ev.kind) for ev in case.evidence}
        cache = self.retrieval_cache
        documents = cache.case_stamp(case)
        busy = self._busy(case_id)
        state: dict[str, Any] = {"stamp": self._corpus_stamp()}

        def ready() -> KnowledgeBase:
            return self._opened(state)

        def corpus_passages(query: str) -> list[Passage]:
            return self._corpus_passages(query, excluded, state)

        def own_passages(query: str) -> list[Passage]:
            if not case.evidence:
                return []
            k = retrieval_cache.key("case", query, EVIDENCE_PASSAGES)
            found = cache.get(cache.case_scope(case.id), f"{state['stamp']}|{documents}", k)
            if found is None and busy:
                return []  # never wait for an indexing under way, nor open the index beside it
            if found is None:
                kb = ready()
                found = kb.search(query, k=EVIDENCE_PASSAGES * 3, case_id=case.id, include_corpus=False)
                cache.put(cache.case_scope(case.id), f"{state['stamp']}|{documents}", k, found)
            return found

        def find(section) -> list[Passage]:
            if section.query is None:
                return []
            query = section.query.get(lang)
            corpus = corpus_passages(query)
            # The case's documents ground the sections that call for their kind (a clinician's letter
            # does not source the device's characteristics); a document removed since is not cited.
            own = [p for p in own_passages(query) if p.evidence_kind in kinds_of.get(section.id, ())
                   and (p.source, p.evidence_kind) in present][:EVIDENCE_PASSAGES]
            kept: dict[str, Passage] = {}  # one passage per source for a reader: two chunks of a note,
            for p in corpus + own:  # or its two translations, are one source
                if (p.similarity or 0) < RELEVANCE_THRESHOLD:
                    continue
                key = _source_key(p)
                if key not in kept or (p.language == lang and kept[key].language != lang):
                    kept[key] = p
            return list(kept.values())

        return find

    def case(self, case_id: str, version: int | None = None, *, actor: Actor | None = None) -> Case:
        """The case (at `version`). With `actor`, read as that actor: a role bound to a link (the
        clinician) reads only the case its active link opens."""
        if actor is not None:
            self._authorise_read(case_id, actor)
        try:
            return self.store.load(case_id, version)
        except StoreError as exc:
            raise ServiceError(str(exc)) from exc

    def profile(self, case: Case) -> Profile:
        return load_profile(case.authority)

    def section_titles(self, case: Case, lang: Lang) -> dict[str, str]:
        """Each section's title as the case reads it ("le patient" for one identified patient)."""
        from assistant.drafting.content import agree

        return {s.id: agree(s.title.get(lang), case.authority, case.request_type, lang)
                for s in self.profile(case).sections}

    def pages(self, case_id: str) -> evidence.PagesOf:
        folder = self.store.files_dir(case_id)
        return lambda sha: evidence.load_pages(folder, sha)

    def _remembered(self, key: tuple, compute: Callable[[], T]) -> T:
        """`compute()` once per key (the key names the case version it is computed from)."""
        with self._computed_lock:
            if key in self._computed:
                self._computed.move_to_end(key)
                return self._computed[key]
        value = compute()
        with self._computed_lock:
            self._computed[key] = value
            while len(self._computed) > COMPUTED_KEPT:
                self._computed.popitem(last=False)
        return value

    def _corpus_generation(self) -> int | None:
        """None without retrieval; else the corpus generation (bumped by every change to the corpus)."""
        if self._knowledge is None:
            return None
        return generation.read(self.store.home)

    def _corpus_stamp(self) -> str:
        """What the corpus passages kept in the retrieval cache depend on: the corpus generation, the
        embedder, and the search itself (its settings and ranking data: an upgrade changes them)."""
        return f"{self._corpus_generation()}|{self.config.embedder}|{search_version()}"

    def _retrieval_state(self, case: Case) -> tuple | None:
        """What a draft's passages depend on besides the case version: the corpus generation and the
        case's documents in the index (a background indexing that ends changes it)."""
        if self._knowledge is None:
            return None
        return self._corpus_generation(), self.retrieval_cache.case_stamp(case), self._busy(case.id)

    def _compose(self, case_id: str, lang: Lang | None = None) -> Draft:
        """The offline draft, grounded in retrieved passages when a knowledge base is configured. If
        the knowledge base fails, the draft cites the profile's provisions only and says so."""
        case = self.case(case_id)
        lang = lang or case.settings.language
        key = ("draft", case.id, case.version, lang, self._retrieval_state(case), self._translations_state(case.id))
        return self._remembered(key, lambda: self._compose_now(case, lang))

    # -- the answers' translations (drafting/translation.py: made by the model part, kept per case) --
    def translations(self, case_id: str) -> dict[str, str]:
        """The translations of answers kept for the case (translation key → text)."""
        path = self.store.folder(case_id) / TRANSLATIONS_FILE  # an invalid case id is refused here
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _translations_state(self, case_id: str) -> int:
        path = self.store.folder(case_id) / TRANSLATIONS_FILE
        try:
            return path.stat().st_mtime_ns
        except OSError:
            return 0

    def translate_answers(self, case_id: str, lang: Lang) -> int:
        """Translate the answers the `lang` version would quote in the authority's language: none
        here (offline, they are quoted); the model part (with_model.ModelOps) overrides this."""
        return 0

    def _compose_now(self, case: Case, lang: Lang) -> Draft:
        profile, pages = self.profile(case), self.pages(case.id)
        translations = self.translations(case.id) if lang != profile.submission_language else None
        try:
            with self._serving():
                draft = drafting.compose(profile, case, lang, pages, self.passages_for(case.id, lang), translations)
            waiting = self.documents_waiting(case.id)
            if waiting:
                draft = draft.model_copy(update={"notices": [*draft.notices, words.t("documents_pending", lang, waiting)]})
            return draft
        except (ServiceError, KnowledgeError) as exc:
            offline = drafting.compose(profile, case, lang, pages, None, translations)
            return offline.model_copy(update={"notices": [words.t("retrieval_down", lang, exc)]})

    def draft(
        self, case_id: str, lang: Lang | None = None, *, use_llm: bool = True, passages=None, on_chunk=None
    ) -> Draft:
        """The draft; with a configured language model (and `use_llm`), each section is drafted by the
        model where it passes the grounding checks (see `llm_redraft`), else it is the offline draft."""
        draft = self._compose(case_id, lang)
        if use_llm:
            draft = self.llm_redraft(case_id, draft, passages, on_chunk)
        return revisions.apply_edits(draft, self.case(case_id))

    def llm_redraft(self, case_id: str, draft: Draft, passages=None, on_chunk=None, session=None) -> Draft:
        """The offline `draft` with sections redrafted by a language model: none here (the model part
        of the service, with_model.ModelOps, overrides this)."""
        return draft

    def check(self, case_id: str, lang: Lang = "en") -> list[Finding]:
        """Every finding on the case as it stands (computed once per case version and language)."""
        case = self.case(case_id)
        key = ("check", case.id, case.version, lang, self._retrieval_state(case))
        return list(self._remembered(key, lambda: self._check_now(case, lang)))

    def _check_now(self, case: Case, lang: Lang) -> list[Finding]:
        generated = self._compose(case.id)
        draft = revisions.apply_edits(generated, case)
        grounded = self._knowledge is not None and not generated.notices
        return checks.collect(self.profile(case), case, draft, generated, self.pages(case.id), lang, grounded=grounded)

    def generated_section(self, case_id: str, section_id: str, lang: Lang) -> SectionDraft:
        """A section as the drafter writes it from the case, before any reviewer's edit (version 0)."""
        return self._compose(case_id, lang).section(section_id)

    def _authorise(self, case_id: str, actor: Actor, action: str) -> None:
        """Forbidden unless `actor` may do `action` on this case: its role allows the action and, for
        a role bound to a link (the clinician), its token opens an active link of this very case."""
        validate_case_id(case_id)  # a path is the user's error whoever sends it
        access.require_change(actor.role, action)
        if access.needs_link(actor.role) and not self._link_opens(case_id, actor.token):
            raise Forbidden(f"a {actor.role} acts on a case only through an active link to it: "
                            "this one is unknown, revoked or another case's")

    def _authorise_read(self, case_id: str, actor: Actor, *views: str) -> None:
        """Forbidden unless `actor` may read this case (through one of `views`, if given): a role
        bound to a link reads only the case an active link of its token opens."""
        validate_case_id(case_id)
        if views and not any(access.may_view(actor.role, v) for v in views):
            access.require_view(actor.role, views[0])
        if access.needs_link(actor.role) and not self._link_opens(case_id, actor.token):
            raise Forbidden(f"a {actor.role} opens a case only through an active link to it: "
                            "this one is unknown, revoked or another case's")

    def _link_opens(self, case_id: str, token: str) -> bool:
        if not token:
            return False
        try:
            links = self.case(case_id).clinician_links
        except ServiceError:
            return False
        digest = hashlib.sha256(token.encode()).hexdigest()
        return any(not link.revoked and hmac.compare_digest(digest, link.token_sha256) for link in links)

    def _commit(self, case_id: str, type_: str, data: dict, actor: Actor, expected_version: int | None = None) -> Case:
        self._authorise(case_id, actor, type_)
        try:
            return self.store.commit(case_id, type_, data, by=actor.name, role=actor.role, expected_version=expected_version)
        except StoreConflict as exc:
            raise ConflictError(str(exc)) from exc
        except StoreError as exc:
            raise ServiceError(str(exc)) from exc


def _validate(case_id: str) -> None:
    from assistant.case.store import validate_case_id

    try:
        validate_case_id(case_id)
    except StoreError as exc:
        raise ServiceError(str(exc)) from exc


def _source_key(p: Passage) -> str:
    """A note's translations share a key (`mdr-61.en.md` and `mdr-61.fr.md`); else the citation."""
    m = re.match(r"(.+)\.(?:en|fr)\.md$", Path(p.source).name)
    return f"note:{m.group(1)}" if m else (p.citation or p.id)
