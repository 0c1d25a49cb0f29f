"""Hybrid search: one dense (Chroma) and one lexical (BM25) ranked list per target, fused by
weighted reciprocal rank, then a section-aware rerank of the short fused list. Where the reference
texts are in the store, two more lists join the fusion: the passages that the questions nearest to
the user's own lead to (questions.py), by dense similarity and by BM25.

A target is a collection and the metadata filters to apply in it; the knowledge base decides
which targets a query has (index.py). Fusing ranks rather than scores needs no calibration
between cosine similarities and BM25 scores, and a passage found by both lists rises above
one found by either alone. Only the two short lists are fused (a few dozen chunks each), so the
cost of a search does not grow with the corpus beyond Chroma's HNSW query and the postings of
the query's own terms. Every returned passage also carries its cosine similarity to the query,
measured for lexical-only hits too, so callers can apply one relevance threshold.

What each step brings is measured on the gold set's validation split (evals/retrieval_gold.py);
`SearchSettings` holds the kept configuration and the alternatives that evaluation compares.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from assistant.knowledge.bm25 import BM25, tokens
from assistant.knowledge.expansion import expand, query_language, render
from assistant.knowledge.passage import Passage, excerpt
from assistant.knowledge.questions import QuestionBank
from assistant.knowledge.references import Named, named
from assistant.knowledge.superseded import AMENDED, PARTIAL
from assistant.knowledge.twins import about, general, twin_instruments
from assistant.knowledge.vectors import nearest, unit

__all__ = ["GET_PAGE", "RRF_K", "LexicalIndexes", "SearchSettings", "Target", "hybrid_search"]

RRF_K = 30  # 60 before the question lists: with them, the first ranks of each list deserve more weight (train split)
GET_PAGE = 5000  # chunks read from Chroma per call when building the lexical index
FILTER_KEYS = ("instrument", "language", "kind")  # the metadata a search may filter on, kept with the postings
NEAR_MIN_WORDS = 20  # distinct words below which a passage is never taken for another's near duplicate
SMALL_PART = 5000  # a filter passing at most this many chunks is searched exactly over their vectors

# (collection name, metadata filters, the case it is scoped to or None for the corpus). A filter's
# value "!x" passes the chunks whose value is not x (the official texts: kind "!note"), "!x|y" neither.
Target = tuple[str, dict[str, str], str | None]


@dataclass(frozen=True)
class SearchSettings:
    """How a query is searched. The defaults are the configuration the validation split
    confirmed; `variants()` are the alternatives the evaluation measures beside it."""

    expansion: float = 0.5  # weight of the glossary's other-language terms in the BM25 query; 0: none
    # Weight of the BM25 list against the dense one (1), per query language. Weights learned on the
    # training split (2.0 / 0.5) were not confirmed alone by the validation split, and 0.5 let dense
    # noise bury an exact, unique match of an added document: equal weights until shown otherwise.
    lexical_fr: float = 1.0
    lexical_en: float = 1.0
    heading_boost: float = 0.5  # section-aware rerank (bonus for query terms in a chunk's heading): 1.0 buried an exact match in an added document
    per_document: int = 2  # at most this many passages from one document (0: no limit)
    depth: int = 0  # candidates taken from each list (0: max(4k, 20))
    # Non-zero: the dense list over the texts in another language than the question's also takes
    # the query rendered in that language by the glossary (expansion.render), each chunk keeping
    # its best similarity to either; 0: the query as typed only. Off: the validation split did not
    # confirm it alone (README); it helps inside `merge_languages`.
    rendering: float = 0.0
    rrf_k: int = RRF_K  # reciprocal-rank constant: lower, the first ranks of each list weigh more
    # Share of the scores of a document's other shortlisted passages added to each of its passages
    # (a document several passages of which match is more likely the one that answers); 0: none.
    document_vote: float = 0.0
    # One dense and one lexical list over all the languages of a collection, each merged by score,
    # instead of one of each per language: the French notes then no longer take as many of the
    # first ranks as the whole English corpus. Off: it helps on the gold set (which never counts a
    # note as a hit) but a French question then sees French notes only, not the English official
    # text (tests/knowledge/test_index.py), which the per-language lists guarantee.
    merge_languages: bool = False
    # The project's notes are its own summaries: useful to draft, never the source a regulatory
    # manager cites. They are ranked on their own and up to `notes` of them follow the official
    # texts' `k` passages (0: none), instead of competing with them for the same places (where the
    # French notes took 3 of the 5 first places of most French questions). `mixed_notes`: one
    # ranking for both (main before this change; for the evaluation).
    notes: int = 3
    mixed_notes: bool = False
    # A question about one of the twin regulations (twins.py: "in vitro", "sur mesure", "MDR"…):
    # the other one's passages keep this share of their score (1: no change), so the parallel
    # article of the regulation asked about ranks above its twin (a question naming neither: `unnamed_twin`).
    twin: float = 0.5
    # A question naming neither twin: the passages of the twin other than the general one (twins.yaml:
    # the MDR) keep this share of their score, so a question about devices in general reads the MDR's
    # article first and the IVDR's parallel one after it; 1: both alike.
    unnamed_twin: float = 0.6
    # A passage of a reference the question names (references.py: "Article 52(8)", "Annex XVI",
    # "MDCG 2022-11") rises by this share of the best fused score (1: above the others); 0: none.
    reference_boost: float = 1.0
    # The questions each reference text answers (questions.py): the passages that the questions
    # nearest to the user's own lead to form one more ranked list, by dense similarity (weight
    # `questions`) and one by BM25 (weight `questions_lexical`), fused with the passages' own lists;
    # 0: that list is not used.
    questions: float = 1.0
    questions_lexical: float = 1.0
    # What is left of a partly superseded text (superseded.py: the 2017 MDR Art. 120 and 123 without
    # their refused paragraphs), and a 2017 provision re-worded since (amended.yaml), keeps this share of its score, so a current text that answers as well
    # ranks above it: "from what date does the MDR apply?" read Art. 123(3)'s 2017 dates first and
    # the Commission's statement of the deferred date fourth. Not for a question naming the article
    # (its current paragraphs are still what it asks about); 1: no change. 0.5 pushed the still-valid
    # Art. 120 paragraphs out of the first five for two training questions; 0.75 keeps them there.
    remains: float = 0.75
    # Two guidance passages sharing at least this share of their words (Jaccard, over the body without
    # the heading line) are one hit: the device-specific vigilance guides (MDCG 2024-1-1 … -5) repeat
    # their template's sections word for word, and a search listed the same text under five
    # numbers; 0: only identical passages are merged.
    near_duplicate: float = 0.9

    def lexical_weight(self, lang: str) -> float:
        return self.lexical_fr if lang == "fr" else self.lexical_en

    def variants(self) -> dict[str, SearchSettings]:
        """The plain hybrid (main before this work) and each of these settings' steps alone on it,
        for the evaluation."""
        plain = SearchSettings(expansion=0.0, lexical_fr=1.0, lexical_en=1.0, heading_boost=0.0, per_document=0,
                               rendering=0.0, merge_languages=False, mixed_notes=True, twin=1.0,
                               reference_boost=0.0, questions=0.0, questions_lexical=0.0,
                               unnamed_twin=1.0, rrf_k=60, remains=1.0, near_duplicate=0.0)
        return {
            "hybrid (plain)": plain,
            "+ expansion": replace(plain, expansion=self.expansion),
            "+ fr/en weights": replace(plain, lexical_fr=self.lexical_fr, lexical_en=self.lexical_en),
            "+ heading rerank": replace(plain, heading_boost=self.heading_boost),
            "+ per-document cap": replace(plain, per_document=self.per_document),
            "+ merged languages": replace(plain, merge_languages=True),
            "+ rendering": replace(plain, rendering=1.0),
            "+ notes apart": replace(plain, mixed_notes=False),
            "+ twin": replace(plain, twin=self.twin, unnamed_twin=self.unnamed_twin),
            "+ named references": replace(plain, reference_boost=self.reference_boost),
            "+ questions": replace(plain, questions=self.questions, questions_lexical=self.questions_lexical),
            "+ remains demoted": replace(plain, remains=self.remains),
            "+ near duplicates merged": replace(plain, near_duplicate=self.near_duplicate),
        }


DEFAULT_SETTINGS = SearchSettings()



class LexicalIndexes:
    """One BM25 index per collection, saved in `folder` (beside the vector store) and loaded on a
    collection's first search; rebuilt from the chunks Chroma holds when its signature (size, and
    the corpus generation) changed. Ingestion drops a collection's index (`drop`)."""

    def __init__(self, folder: Path | None = None, questions: Callable[[], QuestionBank | None] | None = None,
                 questions_signature: Callable[[], str | None] | None = None) -> None:
        self.folder = folder
        self._questions = questions  # the question bank whose targets each index resolves (questions.py)
        # its signature alone, so that loading a saved index does not load the bank (None: the bank's own)
        self._questions_signature = questions_signature
        self._answers: dict[str, np.ndarray] = {}  # collection -> per question, the chunk it leads to (-1: none)
        self._cache: dict[str, tuple[tuple, BM25, list[str], dict[str, np.ndarray]]] = {}
        self._masks: dict[tuple, np.ndarray] = {}
        self._vectors: dict[tuple, tuple[int, list[str], np.ndarray]] = {}  # small filtered parts, normalised
        self._positions: dict[str, tuple[list[str], dict[str, int]]] = {}
        self._counts: dict[str, tuple[int, int]] = {}  # collection -> (generation, chunks)
        self._lock = threading.Lock()

    def count(self, name: str, collection: Any, generation: int) -> int:
        """How many chunks `collection` holds. Counting costs a store query (~10 ms at 50k chunks),
        so for a collection whose changes bump a generation (the corpus, in any process) the count
        is kept until the generation moves or this process drops the index; others are counted."""
        cached = self._counts.get(name)
        if generation and cached and cached[0] == generation:
            return cached[1]
        n = collection.count()
        if generation:
            self._counts[name] = (generation, n)
        return n

    def _path(self, name: str) -> Path | None:
        return self.folder / f"{name}.npz" if self.folder else None

    def get(
        self, name: str, collection: Any, generation: int = 0, count: int | None = None
    ) -> tuple[BM25, list[str], dict[str, np.ndarray]]:
        """The index of `collection`, the chunk ids its positions refer to, and their filter columns."""
        signature = (collection.count() if count is None else count, generation)
        with self._lock:
            cached = self._cache.get(name)
            if cached and cached[0] == signature:
                return cached[1], cached[2], cached[3]
            loaded = self._load(name, signature)
            if loaded is None:
                loaded = self._build(name, collection, signature)
            bm25, ids, columns, answers = loaded
            self._cache[name] = (signature, bm25, ids, columns)
            if answers is None or not (answers >= 0).any():  # no question leads into this collection
                self._answers.pop(name, None)
            else:
                self._answers[name] = answers
            self._masks = {k: v for k, v in self._masks.items() if k[0] != name}
            self._vectors = {k: v for k, v in self._vectors.items() if k[0] != name}
            return bm25, ids, columns

    def answers(self, name: str) -> np.ndarray | None:
        """Where each question of the bank leads in collection `name` (a position in its ids, or -1),
        as resolved when its index was built; None without a bank. Valid after `get`."""
        return self._answers.get(name)

    def _bank(self) -> QuestionBank | None:
        return self._questions() if self._questions else None

    def _signature(self) -> str | None:
        if self._questions_signature is not None:
            return self._questions_signature()
        bank = self._bank()
        return bank.signature if bank is not None else None

    def _load(self, name: str, signature: tuple) -> tuple | None:
        path = self._path(name)
        if path is None or not path.exists():
            return None
        try:
            bm25, extra = BM25.load(path)
        except Exception:  # damaged or from another version: rebuilt below
            return None
        if tuple(int(x) for x in extra.get("signature", ())) != signature:
            return None
        if any(f"col_{k}" not in extra for k in FILTER_KEYS):  # saved before a filter key was added
            return None
        questions = self._signature()
        if questions is not None and str(extra.get("questions", "")) != questions:  # the questions changed
            return None
        answers = extra["answers"] if questions is not None else None
        return bm25, extra["ids"].tolist(), {k: extra[f"col_{k}"] for k in FILTER_KEYS}, answers

    def _build(self, name: str, collection: Any, signature: tuple) -> tuple:
        docs, metas, ids = [], [], []
        for offset in range(0, signature[0], GET_PAGE):  # paged: SQLite caps the variables per query
            data = collection.get(include=["documents", "metadatas"], limit=GET_PAGE, offset=offset)
            docs += data["documents"] or []
            metas += data["metadatas"] or []
            ids += data["ids"] or []
        bm25 = BM25(docs)
        columns = {k: np.asarray([str((m or {}).get(k, "")) for m in metas], dtype=str) for k in FILTER_KEYS}
        bank = self._bank()
        answers = bank.resolve([str((m or {}).get("source", "")) for m in metas], docs) if bank is not None else None
        questions = {"questions": np.asarray(bank.signature), "answers": answers} if bank is not None else {}
        path = self._path(name)
        if path is not None:
            with contextlib.suppress(OSError):  # a read-only home: the index lives in memory only
                bm25.save(path, {"signature": np.asarray(signature), "ids": np.asarray(ids, dtype=str),
                                 **{f"col_{k}": v for k, v in columns.items()}, **questions})
        return bm25, ids, columns, answers

    def mask(self, name: str, columns: dict[str, np.ndarray], filters: dict[str, str]) -> np.ndarray | None:
        """Which chunks pass the metadata filters (computed once per filter set)."""
        key = (name, *sorted((k, v) for k, v in filters.items() if v))
        if len(key) == 1:
            return None
        if key not in self._masks:
            allowed = np.ones(len(next(iter(columns.values()))), dtype=bool)
            for k, v in key[1:]:
                allowed &= ~np.isin(columns[k], v[1:].split("|")) if v.startswith("!") else (columns[k] == v)
            self._masks[key] = allowed
        return self._masks[key]

    def positions(self, name: str, ids: list[str]) -> dict[str, int]:
        """Where each chunk id sits in the collection's index (built once per index)."""
        cached = self._positions.get(name)
        if cached is None or cached[0] is not ids:
            cached = (ids, {vid: i for i, vid in enumerate(ids)})
            self._positions[name] = cached
        return cached[1]

    def vectors(self, name: str, filters: dict[str, str], store: Any, ids: list[str]) -> tuple[list[str], np.ndarray]:
        """The unit vectors of the chunks `ids` (a small filtered part of a collection), read once."""
        key = (name, *sorted((k, v) for k, v in filters.items() if v))
        cached = self._vectors.get(key)
        if cached is None or cached[0] != len(ids):
            got: dict[str, Any] = {}
            for start in range(0, len(ids), GET_PAGE):
                data = store.get(ids=ids[start : start + GET_PAGE], include=["embeddings"])
                got.update(zip(data["ids"], data["embeddings"], strict=True))
            kept = [i for i in ids if i in got]
            vecs = np.asarray([got[i] for i in kept], dtype=np.float32).reshape(len(kept), -1)
            cached = (len(ids), kept, unit(vecs))
            self._vectors[key] = cached
        return cached[1], cached[2]

    def drop(self, name: str) -> None:
        with self._lock:
            self._cache.pop(name, None)
            self._answers.pop(name, None)
            self._counts.pop(name, None)
            self._vectors = {k: v for k, v in self._vectors.items() if k[0] != name}
            path = self._path(name)
            if path is not None:
                path.unlink(missing_ok=True)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()
            self._masks.clear()
            self._vectors.clear()
            self._positions.clear()
            self._counts.clear()
            self._answers.clear()
            if self.folder and self.folder.exists():
                for path in self.folder.glob("*.npz"):
                    path.unlink(missing_ok=True)


def hybrid_search(
    query: str,
    k: int,
    targets: list[Target],
    *,
    collection: Callable[[str, bool], Any],
    embedder_for: Callable[[str], Any],
    lexical: LexicalIndexes,
    generation: Callable[[str], int] = lambda _name: 0,
    settings: SearchSettings | None = None,
    notes_targets: list[Target] | None = None,
    notes: int = 0,
    questions: Callable[[], QuestionBank | None] | None = None,
    general_twin: str | None = None,
) -> list[Passage]:
    """The `k` best passages over `targets`, then up to `notes` passages of `notes_targets` ranked
    on their own (a second shelf: the project's notes; the query is embedded and each collection
    read once for both). `collection(name, create)` opens a collection (None when it does not exist
    and `create` is false); `embedder_for(name)` is the embedder of its vectors (the query is
    embedded once per embedding model: a case's documents may use another); `generation(name)` says
    when a collection changed in another process; `questions()`: the question bank, with vectors of the
    model that embeds the collections the lexical indexes resolved it in (questions.py), asked for
    only when a collection holds passages its questions lead to; `general_twin`: the twin regulation a
    question naming neither is about, when not the general one (twins.yaml): a case's own."""
    s = settings or DEFAULT_SETTINGS
    lang = query_language(query)
    terms = expand(query, s.expansion) if s.expansion else {t: 1.0 for t in tokens(query)}
    w_lex = s.lexical_weight(lang)
    qvecs: dict[str, list[float]] = {}  # per embedding model: a case's documents may use another
    found: dict[str, tuple[str | None, dict | None, float | None]] = {}
    model_of: dict[str, str] = {}
    stores: dict[str, tuple[Any, int]] = {}  # each collection opened and counted once per search
    wide: dict[str, list] = {}  # each collection's unfiltered HNSW list, shared by its targets
    lexical_scores: dict[str, np.ndarray] = {}  # each collection's BM25 scores, shared by its targets
    renderings: dict[str, str] = {}  # the query in each other language the targets hold
    rk = s.rrf_k
    refs = named(query) if s.reference_boost else None
    use_questions = questions is not None and bool(s.questions or s.questions_lexical)
    bank: QuestionBank | None = None
    asked_questions: list[tuple[str, float, list[tuple[int, float]]]] | None = None  # matched once, below
    shelves = [(targets, k)] + ([(notes_targets, notes)] if notes_targets and notes > 0 else [])
    shortlists: list[list[tuple[str, float]]] = []
    for shelf, (shelf_targets, shelf_k) in enumerate(shelves):
        depth = s.depth or max(shelf_k * 4, 20)
        # Ranked lists as (list key, weight, [(chunk id, score)]): the lists of one key are merged by
        # score before the fusion (the same kind of list over the parts of one collection).
        lists: list[tuple[tuple, float, list[tuple[str, float]]]] = []
        for t, (name, filters, scoped_case) in enumerate(shelf_targets):
            if name not in stores:
                store = collection(name, scoped_case is None)
                stores[name] = (store, lexical.count(name, store, generation(name)) if store is not None else 0)
            store, count = stores[name]
            if not count:
                continue
            part = (shelf, name) if s.merge_languages and "language" in filters else (shelf, name, t)
            embedder = embedder_for(name)
            if embedder.model_id not in qvecs:
                qvecs[embedder.model_id] = embedder.embed_query(query)
            qvec = qvecs[embedder.model_id]
            n = min(depth, count)
            bm25, ids, columns = lexical.get(name, store, generation(name), count)
            mask = lexical.mask(name, columns, filters)
            dense = _dense(name, store, count, qvec, n, filters, mask, ids, lexical, wide)
            for vid, sim in dense:
                found[vid] = (None, None, sim)
                model_of[vid] = name
            lists.append(((*part, "dense"), 1.0, dense))
            other = filters.get("language", "")
            if s.rendering and other and other != lang:
                if other not in renderings:
                    renderings[other] = render(query, lang)
                if renderings[other]:
                    key = f"{embedder.model_id}\0{other}"
                    if key not in qvecs:
                        qvecs[key] = embedder.embed_query(renderings[other])
                    hits = _dense(name, store, count, qvecs[key], n, filters, mask, ids, lexical, wide, key=key)
                    for vid, _sim in hits:
                        if vid not in found:
                            found[vid] = (None, None, None)  # its similarity is to the query as typed (_fill)
                            model_of[vid] = name
                    # merged with the dense list: each chunk keeps its best similarity to the typed query
                    # or to its rendering (no list of its own: a part is not given more ranks by it)
                    lists.append(((*part, "dense"), 1.0, hits))
            if name not in lexical_scores:
                lexical_scores[name] = bm25.scores(terms)
            lexical_hits = [(ids[i], score) for i, score in bm25.top(lexical_scores[name], n, mask)]
            for vid, _score in lexical_hits:
                if vid not in found:
                    found[vid] = (None, None, None)
                    model_of[vid] = name
            lists.append(((*part, "lexical"), w_lex, lexical_hits))
            answers = lexical.answers(name) if use_questions else None
            if answers is not None and asked_questions is None:
                bank = questions() if questions is not None else None
                asked_questions = [] if bank is None else _ask(
                    bank, qvec if embedder.model_id == bank.model_id else None, terms, s, k)
            for kind, weight, asked in asked_questions if answers is not None else ():
                led = _led_to(asked, answers, mask, ids, n)
                for vid, _score in led:
                    if vid not in found:
                        found[vid] = (None, None, None)  # its similarity to the query is measured in _fill
                        model_of[vid] = name
                lists.append(((*part, kind), weight, led))
        shortlists.append(_fuse(lists, depth, rk)[: max(3 * shelf_k, 15)])
    _fill([h for shortlist in shortlists for h in shortlist], found, model_of, stores, embedder_for, qvecs)
    typed = set(terms)
    asked = about(query) if s.twin != 1.0 or s.unnamed_twin != 1.0 else None
    twin_of = twin_instruments() - {asked} if asked and s.twin != 1.0 else frozenset()
    share = s.twin
    ground = general_twin or general()
    by_title = general_twin is not None  # a case's own regulation: the other's guidance is off its ground too
    if asked is None and s.unnamed_twin != 1.0 and ground:
        twin_of, share = twin_instruments() - {ground}, s.unnamed_twin
    out: list[Passage] = []
    for shelf, (shortlist, (_targets, shelf_k)) in enumerate(zip(shortlists, shelves, strict=True)):
        if s.document_vote:
            shortlist = _vote(shortlist, found, s.document_vote)
        if s.heading_boost:
            shortlist = _rerank(shortlist, found, terms, s.heading_boost, rk)
        if refs:
            shortlist = _named(shortlist, found, refs, s.reference_boost)
        if twin_of:
            shortlist = _demote(shortlist, found, twin_of, share, guidance=by_title)
        if s.remains != 1.0:  # not those of a reference the question names: it asks about what is left
            shortlist = _scaled(shortlist, found, lambda meta: bool(meta.get(PARTIAL) or meta.get(AMENDED))
                                and not (refs and refs.holds(meta)), s.remains)
        # a note is one short summary: two of its chunks read as the same hit twice (same heading,
        # often the same best sentence), so the notes' shelf shows one passage per note
        ranked, same = _cap(shortlist, found, s.per_document if shelf == 0 else 1, shelf_k, s.near_duplicate)
        out += [_passage(vid, *found[vid], score=score, terms=typed, same_text_in=tuple(same.get(vid, ())))
                for vid, score in ranked]
    return out


def _ask(bank: QuestionBank, qvec: list[float] | None, terms: dict[str, float], s: SearchSettings,
         k: int) -> list[tuple[str, float, list[tuple[int, float]]]]:
    """The bank's questions nearest to the query, as ranked lists (list kind, weight, [(question,
    score)]): by dense similarity when the query vector is of the bank's model, and by BM25."""
    many = max(10 * k, 100)  # several questions lead to one passage: read deeper than the list
    out = []
    if s.questions and qvec is not None and bank.vectors is not None:
        out.append(("questions", s.questions, bank.dense(qvec, many)))
    if s.questions_lexical:
        out.append(("questions-lexical", s.questions_lexical, bank.lexical(terms, many)))
    return out


def _led_to(asked: list[tuple[int, float]], answers: np.ndarray, mask: np.ndarray | None, ids: list[str],
            n: int) -> list[tuple[str, float]]:
    """The passages the `asked` questions lead to (best question first, each passage once), among
    those `mask` passes, at most `n`."""
    out: list[tuple[str, float]] = []
    seen: set[int] = set()
    for question, score in asked:
        pos = int(answers[question])
        if pos < 0 or pos in seen or (mask is not None and not mask[pos]):
            continue
        seen.add(pos)
        out.append((ids[pos], score))
        if len(out) == n:
            break
    return out


def _fuse(lists: list[tuple[tuple, float, list[tuple[str, float]]]], depth: int, rk: int) -> list[tuple[str, float]]:
    """Weighted reciprocal-rank fusion of ranked lists, best first; lists sharing a key are first
    merged by score (each chunk keeping its best) and cut at `depth`."""
    fused: dict[str, float] = {}
    merged: dict[tuple, tuple[float, list[tuple[str, float]]]] = {}
    for key, weight, hits in lists:
        merged[key] = (weight, merged[key][1] + hits if key in merged else list(hits))
    for key, (weight, hits) in merged.items():
        if sum(1 for other in lists if other[0] == key) > 1:
            best: dict[str, float] = {}
            for vid, score in hits:
                best[vid] = max(score, best.get(vid, score))
            hits = sorted(best.items(), key=lambda h: -h[1])[:depth]
        for rank, (vid, _score) in enumerate(hits):
            fused[vid] = fused.get(vid, 0.0) + weight / (rk + rank + 1)
    return sorted(fused.items(), key=lambda kv: -kv[1])


def _dense(name, store, count, qvec, n, filters, mask, ids, lexical, wide, key: str = "") -> list[tuple[str, float]]:
    """The `n` nearest chunks passing `filters`, as (id, cosine similarity); their text and metadata
    are read for the shortlist only (`_fill`). Chroma's filtered HNSW query is slow on a large
    store (a second at 50k chunks: it first lists every chunk the filter passes), so a filter is
    applied differently by how many chunks it passes: a small part of the store (the French notes,
    a rare instrument) is searched exactly over its vectors, kept in memory; a large one takes the
    passing chunks of one unfiltered HNSW query made deep enough for it (filtered by the columns
    kept with the postings, so the query returns ids and distances only)."""
    if mask is not None and int(mask.sum()) <= SMALL_PART:
        if not mask.any():
            return []
        vid_list, vectors = lexical.vectors(name, filters, store, [ids[i] for i in np.flatnonzero(mask)])
        if not vid_list:
            return []
        return [(vid_list[i], sim) for i, sim in nearest(vectors, qvec, n)]
    slot = f"{name}\0{key}"  # one unfiltered query per collection and query vector
    if slot not in wide:
        got = store.query(query_embeddings=[qvec], n_results=min(count, max(3 * n, 60)), include=["distances"])
        wide[slot] = list(zip(got["ids"][0], got["distances"][0], strict=True))
    if mask is None:
        return [(vid, 1 - dist) for vid, dist in wide[slot][:n]]
    position = lexical.positions(name, ids)
    out = []
    for vid, dist in wide[slot]:
        i = position.get(vid)
        if i is not None and mask[i]:
            out.append((vid, 1 - dist))
            if len(out) == n:
                break
    return out


def _fill(shortlist, found, model_of, stores, embedder_for, qvecs) -> None:
    """Text and metadata of the shortlist's chunks, and the cosine similarity of those only the
    lexical list found (so thresholds are comparable across hits): one read per collection."""
    missing = [vid for vid, _ in shortlist if found[vid][0] is None]
    for name in {model_of[v] for v in missing}:
        these = [v for v in missing if model_of[v] == name]
        need_vectors = any(found[v][2] is None for v in these)
        got = stores[name][0].get(ids=these, include=["documents", "metadatas"] + (["embeddings"] if need_vectors else []))
        vectors = got["embeddings"] if need_vectors else [None] * len(got["ids"])
        qvec = np.asarray(qvecs[embedder_for(name).model_id], dtype=float)
        for vid, doc, meta, vec in zip(got["ids"], got["documents"], got["metadatas"], vectors, strict=True):
            sim = found[vid][2]
            if sim is None:
                v = np.asarray(vec, dtype=float)
                norm = float(np.linalg.norm(v) * (np.linalg.norm(qvec) or 1)) or 1.0
                sim = float(v @ qvec) / norm
            found[vid] = (doc, meta or {}, sim)
    for vid, _ in shortlist:  # ids the store no longer holds (removed meanwhile)
        if found[vid][0] is None:
            found[vid] = ("", {}, found[vid][2] or 0.0)


def _rerank(shortlist, found, terms: dict[str, float], boost: float, rrf_k: int = RRF_K) -> list[tuple[str, float]]:
    """Section-aware rerank: a chunk whose heading (document title, section number and title, as
    carried on its first line and metadata) holds the query's terms rises, by up to `boost` times
    a first rank's fused score."""
    total = sum(terms.values()) or 1.0
    out = []
    for vid, score in shortlist:
        doc, meta, _sim = found[vid]
        head = " ".join(str((meta or {}).get(k, "")) for k in ("citation", "title", "heading"))
        head_terms = set(tokens(head + " " + (doc or "").split("\n", 1)[0]))
        share = sum(w for t, w in terms.items() if t in head_terms) / total
        out.append((vid, score + boost * share / (rrf_k + 1)))
    return sorted(out, key=lambda kv: -kv[1])


def _named(shortlist, found, refs: Named, boost: float) -> list[tuple[str, float]]:
    """The passages of the references the question names rise by `boost` times the best fused score
    (1: above every passage of a reference not named; how many lists found a passage varies). Not
    what is left of a partly superseded text (superseded.py): a question naming MDR Art. 120 asks
    about the paragraphs the 2017 text no longer holds, which the guidance quoting the amended
    article answers."""
    top = max((score for _vid, score in shortlist), default=0.0)

    def raised(meta: dict) -> bool:
        return refs.holds(meta) and not meta.get(PARTIAL)

    out = [(vid, score + boost * top if raised(found[vid][1] or {}) else score) for vid, score in shortlist]
    return sorted(out, key=lambda kv: -kv[1])


def _demote(shortlist, found, instruments: frozenset[str], share: float, guidance: bool = False) -> list[tuple[str, float]]:
    """The passages of `instruments` (the twin of the regulation asked about) keep `share` of their
    score; with `guidance`, so do those of a guidance document whose title is about that twin only
    (the Commission's Q&A on the IVDR's transition is not the MDR's, though neither is an article)."""
    def other(meta: dict) -> bool:
        if str(meta.get("instrument", "")) in instruments:
            return True
        return guidance and meta.get("kind") == "guidance" and about(str(meta.get("title", ""))) in instruments

    return _scaled(shortlist, found, other, share)


def _scaled(shortlist, found, which: Callable[[dict], bool], share: float) -> list[tuple[str, float]]:
    """The passages whose metadata `which` picks keep `share` of their score; best first again."""
    out = [(vid, score * share if which(found[vid][1] or {}) else score) for vid, score in shortlist]
    return sorted(out, key=lambda kv: -kv[1])


def _vote(shortlist, found, weight: float) -> list[tuple[str, float]]:
    """Each passage's score plus `weight` times the scores of its document's other shortlisted passages."""
    total: dict[str, float] = {}
    for vid, score in shortlist:
        key = str((found[vid][1] or {}).get("source") or vid)
        total[key] = total.get(key, 0.0) + score
    out = []
    for vid, score in shortlist:
        key = str((found[vid][1] or {}).get("source") or vid)
        out.append((vid, score + weight * (total[key] - score)))
    return sorted(out, key=lambda kv: -kv[1])


def _cap(shortlist, found, per_document: int, k: int,
         near: float = 0.0) -> tuple[list[tuple[str, float]], dict[str, list[str]]]:
    """The first `k`, with at most `per_document` passages of one document when it is set, and
    never the same passage twice: one text stored from two places (a document added from two
    folders, the notes of two checkouts sharing a data home) is one hit, and so is, with `near`,
    a text sharing that share of its words with one already shown (a template's section repeated
    by each document of a series). Also, per hit, the citations of the near duplicates merged into it
    (among the shortlist's passages ranked before the `k`-th hit)."""
    seen: dict[str, int] = {}
    shown: set[tuple[str, str]] = set()
    words_shown: list[tuple[str, set[str]]] = []
    merged: dict[str, list[str]] = {}
    out = []
    for vid, score in shortlist:
        text, meta = found[vid][0], found[vid][1] or {}
        same = (str(meta.get("citation", "")), text)
        if text and same in shown:
            continue
        # guidance only: the MDR's and the IVDR's parallel articles share most words and are two laws
        words = set(tokens(text.split("\n", 1)[-1])) if near and text and meta.get("kind") == "guidance" else set()
        if len(words) < NEAR_MIN_WORDS:  # a short passage shares most of its few words by chance
            words = set()
        twin = next((hit for hit, other in words_shown if len(words & other) >= near * len(words | other)), None)
        if words and twin is not None:
            if same[0] and same[0] != found[twin][1].get("citation") and same[0] not in merged[twin]:
                merged[twin].append(same[0])
            continue
        key = str(meta.get("note_id") or meta.get("source") or vid)
        if per_document and seen.get(key, 0) >= per_document:
            continue
        shown.add(same)
        if words:
            words_shown.append((vid, words))
            merged[vid] = []
        seen[key] = seen.get(key, 0) + 1
        out.append((vid, score))
        if len(out) == k:
            break
    return out, {vid: cites for vid, cites in merged.items() if cites}


def _passage(vid: str, text: str, meta: dict, similarity: float | None, score: float, terms: set[str],
             same_text_in: tuple[str, ...] = ()) -> Passage:
    page = int(meta.get("page") or 0) or None
    body = text.split("\n", 1)[1] if "\n" in text else text
    return Passage(
        id=f"passage:{vid}",
        citation=str(meta.get("citation", "")),
        text=body,
        excerpt=excerpt(body, terms),
        source=str(meta.get("filename") or meta.get("source", "")),
        instrument=str(meta.get("instrument", "")),
        article=str(meta.get("article", "")),
        paragraph=str(meta.get("paragraph", "")),
        page=page,
        language=str(meta.get("language", "")),
        url=str(meta.get("url", "")),
        title=str(meta.get("title", "")),
        case_id=str(meta.get("case_id", "")),
        evidence_kind=str(meta.get("evidence_kind", "")),
        kind=str(meta.get("kind", "")),
        superseded=str(meta.get(PARTIAL, "")),
        amended=str(meta.get(AMENDED, "")),
        same_text_in=same_text_in,
        score=round(score, 6),
        similarity=None if similarity is None else round(similarity, 4),
    )
