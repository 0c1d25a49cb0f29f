"""The ONNX graph of a BERT-style encoder, written with ``onnx.helper`` from numpy weights.

Conversion time only (it needs the ``onnx`` package; running the graph does not). The graph
takes the word embeddings already looked up (numpy does that from the 4-bit table, see
onnx.py), adds positions, runs the layers with onnxruntime's fused contrib ops (Attention or
MultiHeadAttention, SkipLayerNormalization, BiasGelu) and returns mean-pooled, L2-normalised
sentence vectors, so the caller does no arithmetic after the session.

Node outputs are named ``<op>_<n>`` in creation order: the same weights always give the same
file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from assistant.knowledge.embeddings.weights import Q4_BLOCK, EncoderWeights, LayerWeights, Linear, q4_to_nbits

__all__ = ["build_graph"]

_INPUT, _MASK, _OUTPUT = "inputs_embeds", "attention_mask", "embedding"


class _Graph:
    """Nodes and initialisers being collected, and how matrices are multiplied."""

    def __init__(self, matmul: str) -> None:
        self.matmul = matmul
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self._counter = 0

    def const(self, arr: np.ndarray, name: str) -> str:
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def node(self, op: str, inputs: Sequence[str], domain: str = "", **attrs: Any) -> str:
        self._counter += 1
        out = f"{op.lower()}_{self._counter}"
        self.nodes.append(helper.make_node(op, list(inputs), [out], domain=domain or None, **attrs))
        return out

    def linear(self, x: str, lin: Linear, name: str, with_bias: bool = True) -> str:
        """x @ W.T (+ b): MatMulNBits on the Q4 blocks in the "nbits" modes, else a dense MatMul."""
        if self.matmul.startswith("nbits") and lin.q4 is not None:
            packed, scales = q4_to_nbits(lin.q4)
            ins = [x, self.const(packed, name + ".qweight"), self.const(scales.reshape(-1), name + ".scales")]
            if with_bias:
                ins += ["", "", self.const(lin.bias, name + ".bias")]
            return self.node(
                "MatMulNBits",
                ins,
                domain="com.microsoft",
                K=lin.n_in,
                N=lin.n_out,
                bits=4,
                block_size=Q4_BLOCK,
                accuracy_level=4 if self.matmul == "nbits" else 0,
            )
        y = self.node("MatMul", [x, self.const(lin.dense().T.copy(), name + ".weight")])
        return self.node("Add", [y, self.const(lin.bias, name + ".bias")]) if with_bias else y


def build_graph(enc: EncoderWeights, matmul: str) -> onnx.ModelProto:
    """Encoder graph: inputs_embeds [B,S,H] float, attention_mask [B,S] int64 -> [B,H] unit.

    ``matmul``: "nbits" (ORT MatMulNBits on the Q4 blocks, int8 compute), "nbits-fp32"
    (same weights, fp32 compute) or "fp32" (dense float weights, ORT fused Attention).
    """
    g = _Graph(matmul)
    x, mask32 = _embeddings(g, enc)
    for i, layer in enumerate(enc.layers):
        x = _layer(g, enc, layer, x, mask32, f"l{i}")
    _pool(g, x)
    return _model(g, enc.hidden)


def _embeddings(g: _Graph, enc: EncoderWeights) -> tuple[str, str]:
    """Word embeddings + position embeddings (sliced to the batch's length), layer-normalised;
    and the mask as int32, the type the attention ops take."""
    seq = g.node("Shape", [_INPUT], start=1, end=2)
    pos = g.node(
        "Slice",
        [
            g.const(enc.pos_type, "pos_type"),
            g.const(np.array([0], np.int64), "zero"),
            seq,
            g.const(np.array([0], np.int64), "axis0"),
        ],
    )
    x = g.node("Add", [_INPUT, pos])
    x = g.node(
        "LayerNormalization",
        [x, g.const(enc.emb_ln[0], "emb_ln.w"), g.const(enc.emb_ln[1], "emb_ln.b")],
        axis=-1,
        epsilon=enc.eps,
    )
    mask32 = g.node("Cast", [_MASK], to=TensorProto.INT32)
    return x, mask32


def _attention(g: _Graph, enc: EncoderWeights, layer: LayerWeights, x: str, mask32: str, p: str) -> str:
    """Self-attention context (before the output projection). The "nbits" modes project Q, K and
    V in one MatMulNBits, then MultiHeadAttention; "fp32" uses the fused Attention op."""
    h = enc.hidden
    if g.matmul.startswith("nbits"):
        qkv_q4 = np.concatenate([lin.q4 for lin in (layer.q, layer.k, layer.v) if lin.q4 is not None])
        qkv_bias = np.concatenate([layer.q.bias, layer.k.bias, layer.v.bias])
        qkv = g.linear(x, Linear(3 * h, h, qkv_bias, q4=qkv_q4), p + ".qkv")
        i64 = np.int64
        s0, s1, s2, s3 = (g.const(np.array([j * h], i64), f"{p}.s{j}") for j in range(4))
        ax = g.const(np.array([2], i64), p + ".ax")
        q = g.node("Slice", [qkv, s0, s1, ax])
        k = g.node("Slice", [qkv, s1, s2, ax])
        v = g.node("Slice", [qkv, s2, s3, ax])
        return g.node(
            "MultiHeadAttention",
            [q, k, v, "", mask32],
            domain="com.microsoft",
            num_heads=enc.heads,
        )
    w = np.concatenate([layer.q.dense().T, layer.k.dense().T, layer.v.dense().T], axis=1)
    b = np.concatenate([layer.q.bias, layer.k.bias, layer.v.bias])
    return g.node(
        "Attention",
        [x, g.const(w, p + ".qkv.weight"), g.const(b, p + ".qkv.bias"), mask32],
        domain="com.microsoft",
        num_heads=enc.heads,
    )


def _layer(g: _Graph, enc: EncoderWeights, layer: LayerWeights, x: str, mask32: str, p: str) -> str:
    """One transformer layer. Each projection's bias is left to the op after it (SkipLayerNormalization,
    BiasGelu), which adds it for free."""
    ctx = _attention(g, enc, layer, x, mask32, p)
    ao = g.linear(ctx, layer.attn_out, p + ".ao", with_bias=False)
    x = g.node(
        "SkipLayerNormalization",
        [
            ao,
            x,
            g.const(layer.attn_ln[0], p + ".aln.w"),
            g.const(layer.attn_ln[1], p + ".aln.b"),
            g.const(layer.attn_out.bias, p + ".ao.bias"),
        ],
        domain="com.microsoft",
        epsilon=enc.eps,
    )
    mid = g.linear(x, layer.ffn_in, p + ".fi", with_bias=False)
    mid = g.node("BiasGelu", [mid, g.const(layer.ffn_in.bias, p + ".fi.bias")], domain="com.microsoft")
    fo = g.linear(mid, layer.ffn_out, p + ".fo", with_bias=False)
    return g.node(
        "SkipLayerNormalization",
        [
            fo,
            x,
            g.const(layer.out_ln[0], p + ".oln.w"),
            g.const(layer.out_ln[1], p + ".oln.b"),
            g.const(layer.ffn_out.bias, p + ".fo.bias"),
        ],
        domain="com.microsoft",
        epsilon=enc.eps,
    )


def _pool(g: _Graph, x: str) -> None:
    """Mean pooling over real tokens (the mask zeroes padding), then L2 normalisation."""
    maskf = g.node("Unsqueeze", [g.node("Cast", [_MASK], to=TensorProto.FLOAT), g.const(np.array([2], np.int64), "axis2")])
    summed = g.node("ReduceSum", [g.node("Mul", [x, maskf]), g.const(np.array([1], np.int64), "axis1")], keepdims=0)
    count = g.node("ReduceSum", [maskf, "axis1"], keepdims=0)
    mean = g.node("Div", [summed, g.node("Max", [count, g.const(np.array(1e-9, np.float32), "tiny")])])
    g.nodes.append(helper.make_node("LpNormalization", [mean], [_OUTPUT], axis=1, p=2))


def _model(g: _Graph, h: int) -> onnx.ModelProto:
    graph = helper.make_graph(
        g.nodes,
        "encoder",
        [
            helper.make_tensor_value_info(_INPUT, TensorProto.FLOAT, ["batch", "seq", h]),
            helper.make_tensor_value_info(_MASK, TensorProto.INT64, ["batch", "seq"]),
        ],
        [helper.make_tensor_value_info(_OUTPUT, TensorProto.FLOAT, ["batch", h])],
        g.inits,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)],
        # The name the graph was first written under: kept so that conversions stay byte-identical.
        producer_name="assistant.knowledge.embeddings.onnx",
    )
    model.ir_version = 8
    return model
