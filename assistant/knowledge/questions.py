"""The questions each reference text answers, written for the search (corpus/questions/).

A regulatory team rarely asks in the words of the text that answers it: "our distributor relabels
the box: is it the manufacturer?" shares few words with Article 16, and a French question shares
none with the English text. For every file of the EU reference corpus (MDR and IVDR articles and
annexes, MDCG guidance, MEDDEV) the project wrote, from reading the text, the questions it answers
in French and in English, each pointing to the passage that answers it by a short quote. They are
data (one YAML file per reference file, mirroring its path), compiled into one file shipped with
the package (corpus/questions.npz: the texts, their postings and their vectors for the default
embedder), so a search reads them in milliseconds and embeds nothing.

A search matches the user's question against these questions (dense and BM25) and hands the
passages they point to to the fusion as two more ranked lists (search.py): question-to-question
similarity holds across paraphrase and language where question-to-law similarity does not. A
question only ever leads to a passage the store holds: its file is found by the last two parts of
its path ("mdr-2017-745/article-021.md"), and the chunk by its quote.

    python -m assistant.knowledge.questions     # (or `make questions`) after editing a YAML file

``tests/knowledge/test_questions.py`` fails when the compiled file is not the YAML files' content,
or a quote is not in the reference text it names.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import package_folder
from assistant.knowledge.bm25 import BM25, tokens
from assistant.knowledge.vectors import nearest, unit
from assistant.knowledge.version import QUESTIONS

__all__ = ["COMPILED", "SOURCES", "QuestionBank", "embed_as_queries", "file_key", "read_sources"]

SOURCES = package_folder("assistant.corpus") / "questions"  # the YAML files
COMPILED = QUESTIONS


def file_key(path: str) -> str:
    """What identifies a reference file wherever it is installed: its folder and name
    ("mdr-2017-745/article-021.md"; the regulations share file names, not folders)."""
    parts = Path(path).parts
    return "/".join(parts[-2:])


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


@dataclass(frozen=True)
class Question:
    text: str
    lang: str
    key: str  # file_key of the reference file that answers it
    quote: str  # words of the answering passage, as in the file


def read_sources(folder: Path = SOURCES) -> list[Question]:
    """Every question of the YAML files under `folder`, in a stable order."""
    import yaml

    out = []
    for path in sorted(folder.rglob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        key = file_key(str(data["file"]))
        for q in data.get("questions") or []:
            out.append(Question(str(q["q"]).strip(), str(q["lang"]), key, str(q["quote"]).strip()))
    return out


def signature(questions: Sequence[Question]) -> str:
    h = hashlib.sha256()
    for q in questions:
        h.update("\0".join((q.text, q.lang, q.key, q.quote)).encode("utf-8") + b"\1")
    return h.hexdigest()


class QuestionBank:
    """The compiled questions: their texts and targets, their BM25 postings and, for one embedding
    model, their unit vectors (rows of `vectors`)."""

    def __init__(self, questions: list[Question], vectors: np.ndarray | None, model_id: str,
                 bm25: BM25 | None = None) -> None:
        self.questions = questions
        self.model_id = model_id
        self.vectors = vectors
        self.bm25 = bm25 or BM25([q.text for q in questions])
        self.signature = signature(questions)
        self._by_key: dict[str, list[int]] = {}
        for i, q in enumerate(questions):
            self._by_key.setdefault(q.key, []).append(i)

    def __len__(self) -> int:
        return len(self.questions)

    # -- the compiled file ---------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path = COMPILED) -> QuestionBank | None:
        """The shipped bank, or None (no file: a checkout without questions, or a damaged file)."""
        try:
            with np.load(path, allow_pickle=False) as data:
                columns = [_strings(data[name]) for name in ("text", "lang", "key", "quote")]
                questions = [Question(*row) for row in zip(*columns, strict=True)]
                bm25 = BM25()
                bm25.n = len(questions)
                bm25.terms = {t: n for n, t in enumerate(data["terms"].tolist())}
                bm25.offsets, bm25.doc_ids, bm25.weights = data["offsets"], data["doc_ids"], data["weights"]
                vectors = np.asarray(data["vectors"], dtype=np.float32)
                return cls(questions, vectors, str(data["model_id"]), bm25)
        except (OSError, KeyError, ValueError):
            return None

    @staticmethod
    def shipped_signature(path: Path = COMPILED) -> str | None:
        """The signature of the shipped bank, read alone (an .npz member is read on access): enough
        to know whether an index resolved the current questions, without loading them."""
        try:
            with np.load(path, allow_pickle=False) as data:
                return str(data["signature"])
        except (OSError, KeyError, ValueError):
            return None

    def save(self, path: Path = COMPILED) -> None:
        qs = self.questions
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(  # not compressed: float16 vectors do not compress, and loading stays a read
            tmp, model_id=np.asarray(self.model_id), text=_packed([q.text for q in qs]),
            lang=_packed([q.lang for q in qs]), key=_packed([q.key for q in qs]),
            quote=_packed([q.quote for q in qs]), vectors=np.asarray(self.vectors, dtype=np.float16),
            signature=np.asarray(self.signature),
            terms=np.asarray(list(self.bm25.terms), dtype=str), offsets=self.bm25.offsets,
            doc_ids=self.bm25.doc_ids, weights=self.bm25.weights,
        )
        tmp.replace(path)

    def for_model(self, model_id: str, embed_queries: Callable[[list[str]], np.ndarray], cache: Path | None) -> QuestionBank:
        """This bank with vectors of `model_id`: the shipped ones when it is the model they were
        computed with; otherwise computed once (the questions embedded as queries) and kept in `cache`."""
        if model_id == self.model_id and self.vectors is not None:
            return self
        if cache is not None:
            try:
                with np.load(cache, allow_pickle=False) as data:
                    if str(data["model_id"]) == model_id and str(data["signature"]) == self.signature:
                        return QuestionBank(self.questions, np.asarray(data["vectors"], np.float32), model_id, self.bm25)
            except (OSError, KeyError, ValueError):
                pass
        vectors = unit(np.asarray(embed_queries([q.text for q in self.questions]), dtype=np.float32))
        if cache is not None:
            try:
                cache.parent.mkdir(parents=True, exist_ok=True)
                np.savez(cache, model_id=np.asarray(model_id), signature=np.asarray(self.signature), vectors=vectors)
            except OSError:  # a read-only home: computed again next time
                pass
        return QuestionBank(self.questions, vectors, model_id, self.bm25)

    # -- where each question leads in a collection ----------------------------------------------------------
    def resolve(self, sources: Sequence[str], texts: Sequence[str]) -> np.ndarray:
        """For each question, the position (in `sources`/`texts`, a collection's chunks) of the chunk
        holding its quote, or -1 when the collection does not hold its file. A quote cut by a chunk
        boundary leads to the chunk of its file holding most of its words."""
        out = np.full(len(self.questions), -1, dtype=np.int32)
        chunks_of: dict[str, list[int]] = {}
        for pos, source in enumerate(sources):
            key = file_key(source) if source else ""
            if key in self._by_key:
                chunks_of.setdefault(key, []).append(pos)
        for key, positions in chunks_of.items():
            normed = {pos: _norm(texts[pos]) for pos in positions}
            words = {pos: set(tokens(texts[pos])) for pos in positions}
            for i in self._by_key[key]:
                quote = _norm(self.questions[i].quote)
                hit = next((pos for pos in positions if quote in normed[pos]), None)
                if hit is None:
                    wanted = set(tokens(quote))
                    hit = max(positions, key=lambda p, w=wanted: len(w & words[p]))
                out[i] = hit
        return out

    # -- matching a user's question --------------------------------------------------------------------------
    def dense(self, qvec: Sequence[float], n: int) -> list[tuple[int, float]]:
        """The `n` questions nearest to the query vector, as (question, cosine similarity)."""
        if self.vectors is None or not len(self.vectors):
            return []
        return nearest(self.vectors, qvec, n)

    def lexical(self, terms: dict[str, float], n: int) -> list[tuple[int, float]]:
        return self.bm25.top(terms, n)


_SEPARATOR = "\x1e"  # ASCII record separator: never in a question, a quote or a path


def _packed(texts: list[str]) -> np.ndarray:
    """Strings as one UTF-8 byte array (numpy's own string arrays take 4 bytes a character, padded
    to the longest)."""
    return np.frombuffer(_SEPARATOR.join(texts).encode("utf-8"), dtype=np.uint8)


def _strings(packed: np.ndarray) -> list[str]:
    return packed.tobytes().decode("utf-8").split(_SEPARATOR) if packed.size else []


def embed_as_queries(embedder: Any, texts: list[str]) -> np.ndarray:
    """`texts` embedded as a user's question is (the e5 models prefix a query and a passage
    differently), in one batch: the local models' `encode`; a remote model embeds both alike."""
    encode = getattr(embedder, "encode", None)
    raw = encode(texts, query=True) if encode else embedder.embed_documents(texts)
    return np.asarray(raw, dtype=np.float32)


def compile_bank(folder: Path = SOURCES, path: Path = COMPILED, models_dir: Path | None = None) -> int:
    """Read the YAML files, embed every question with the default embedder, write `path`."""
    from assistant.config import Config
    from assistant.knowledge.embeddings.factory import default_embedder

    questions = read_sources(folder)
    config = Config.from_env()
    embedder = default_embedder(models_dir or config.models_dir or config.home / "models")
    vectors = embed_as_queries(embedder, [q.text for q in questions])
    QuestionBank(questions, unit(vectors), embedder.model_id).save(path)
    return len(questions)


if __name__ == "__main__":
    print(f"{compile_bank()} question(s) compiled into {COMPILED}")
