"""The e5 tokenizer's segmentation in plain Python, for queries.

Loading the ``tokenizers`` Unigram model from its 17 MB ``tokenizer.json`` (250,002 pieces)
takes 0.5-0.9 s on this machine, most of a ``derogation search`` process that embeds one
question. The pieces and their scores kept as a newline-joined text and a float64 array load
in ~0.1 s, and a question of a few dozen words is segmented in about a millisecond.

It reproduces, step for step, what the saved tokenizer does (see ``onnx._e5_tokenizer``):
the ``Replace(" {2,}", " ")`` normaliser, the ``Metaspace("▁", prepend_scheme="always",
split=True)`` pre-tokeniser, the Unigram model's best path (``encode_optimized`` in
``tokenizers``: ties keep the shorter piece, an uncovered character is an unknown piece
scored ``min_score - 10``, consecutive unknowns fuse into one), right truncation and the
``<s> … </s>`` template. ``tests/knowledge/test_query_tokenizer.py`` checks the ids against
``tokenizers`` on every chunk of the notes and on hostile strings. Documents are still
tokenised by ``tokenizers`` (batched, in Rust): this is for the one short text of a query.
"""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
from pathlib import Path

import numpy as np

PIECES = "unigram-pieces.txt"
SCORES = "unigram-scores.npy"
SPECIALS = "unigram.json"
_UNK_PENALTY = 10.0  # tokenizers' K_UNK_PENALTY
_SPACES = re.compile(" {2,}")
_META = "\u2581"


class QueryTokenizer:
    """Token ids of a short text, identical to the e5 ``tokenizer.json``'s."""

    def __init__(self, pieces: list[str], scores: np.ndarray, specials: dict[str, int]) -> None:
        self._ids = {piece: i for i, piece in enumerate(pieces)}  # a later duplicate wins, as in tokenizers
        self._scores = scores.tolist()
        self._unk = specials["unk"]
        self._bos = specials["bos"]
        self._eos = specials["eos"]
        self._max_tokens = specials["max_tokens"]
        self._unk_score = float(scores.min()) - _UNK_PENALTY
        self._longest = max(len(p) for p in pieces)

    @classmethod
    def load(cls, folder: Path) -> QueryTokenizer | None:
        """The tokenizer kept in ``folder``, written there from tokenizer.json on first use.

        None when the folder's tokenizer is not a Unigram one of the expected shape, or when
        the compact files can be neither read nor written (the caller then uses tokenizers).
        """
        try:
            if not (folder / SPECIALS).exists():
                _write_compact(folder)
            specials = json.loads((folder / SPECIALS).read_text())
            pieces = (folder / PIECES).read_text(encoding="utf-8").split("\n")
            scores = np.load(folder / SCORES)
        except (OSError, ValueError, KeyError):
            return None
        if not specials or len(pieces) != len(scores):
            return None
        return cls(pieces, scores, specials)

    def encode(self, text: str) -> list[int]:
        text = _SPACES.sub(" ", text).replace(" ", _META)
        if text and not text.startswith(_META):  # tokenizers prepends nothing to an empty text
            text = _META + text
        ids: list[int] = []
        start = 0
        for end in range(1, len(text) + 1):  # Metaspace split: every "▁" starts a new word
            if end == len(text) or text[end] == _META:
                ids.extend(self._segment(text[start:end]))
                start = end
        return [self._bos, *ids[: self._max_tokens - 2], self._eos]

    def _segment(self, word: str) -> list[int]:
        """The best-scoring split of one word into pieces (Viterbi, as tokenizers does it)."""
        size = len(word)
        best = [0.0] * (size + 1)
        starts: list[int | None] = [None] * (size + 1)
        chosen = [0] * (size + 1)
        ids, scores = self._ids, self._scores
        for begin in range(size):
            here = best[begin]
            single = False
            for end in range(begin + 1, min(size, begin + self._longest) + 1):
                piece_id = ids.get(word[begin:end])
                if piece_id is None:
                    continue
                score = scores[piece_id] + here
                if starts[end] is None or score > best[end]:
                    best[end], starts[end], chosen[end] = score, begin, piece_id
                if end == begin + 1:
                    single = True
            if not single:
                score = self._unk_score + here
                if starts[begin + 1] is None or score > best[begin + 1]:
                    best[begin + 1], starts[begin + 1], chosen[begin + 1] = score, begin, self._unk
        out: list[int] = []
        end = size
        while end > 0:
            piece_id = chosen[end]
            if not (piece_id == self._unk and out and out[-1] == self._unk):  # fuse unknowns
                out.append(piece_id)
            begin = starts[end]
            assert begin is not None
            end = begin
        out.reverse()
        return out


def _write_compact(folder: Path) -> None:
    """Write the pieces, scores and special ids beside tokenizer.json (atomically, once)."""
    data = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
    model = data.get("model") or {}
    shape_ok = (
        model.get("type") == "Unigram"
        and not model.get("byte_fallback")
        and (data.get("normalizer") or {}).get("type") == "Replace"
        and (data.get("pre_tokenizer") or {}).get("type") == "Metaspace"
        and (data.get("pre_tokenizer") or {}).get("prepend_scheme") == "always"
        and not data.get("added_tokens")
    )
    specials: dict[str, int] = {}
    if shape_ok:
        post = data["post_processor"]["special_tokens"]
        single = [part["SpecialToken"]["id"] for part in data["post_processor"]["single"] if "SpecialToken" in part]
        specials = {
            "unk": int(model["unk_id"]),
            "bos": int(post[single[0]]["ids"][0]),
            "eos": int(post[single[-1]]["ids"][0]),
            "max_tokens": int((data.get("truncation") or {}).get("max_length", 512)),
        }
    pieces = [piece for piece, _ in model.get("vocab", [])]
    if any("\n" in piece for piece in pieces):
        specials = {}
    scores = io.BytesIO()
    np.save(scores, np.array([score for _, score in model.get("vocab", [])], dtype=np.float64))
    # Written to temporary names, then renamed, the specials file last: it marks a complete set (two
    # processes may do this at once; both write the same bytes).
    for name, payload in ((PIECES, "\n".join(pieces).encode("utf-8")), (SCORES, scores.getvalue()),
                          (SPECIALS, json.dumps(specials).encode())):
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=folder)
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.replace(tmp, folder / name)
