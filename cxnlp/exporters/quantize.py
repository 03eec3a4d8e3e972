"""Weight quantisation of an exported ONNX graph.

Three levels, from safest to smallest:

- `none`: fp32 weights.
- `embeddings`: the word-embedding table stored as int8 with one scale per row, looked up
  and rescaled inside the graph; every matrix multiplication stays fp32. The table is
  most of a trimmed small encoder's weights (19k × 384 of ~16M parameters), so this
  takes most of the size gain at almost no quality cost, and runs at fp32 speed.
- `int8`: the above plus ONNX Runtime dynamic int8 quantisation of the MatMul weights
  (per output channel). Smaller again; whether it is faster depends on the CPU (int8
  dot-product instructions such as AVX-512 VNNI), and it costs more quality.

A per-row scale matters for the embedding table: rows differ in norm by an order of
magnitude, and one scale for the whole table (what ONNX Runtime's Gather quantisation
does) rounds the small rows coarsely.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import numpy as np


class Quantization(StrEnum):
    """How an exported model's weights are stored."""

    none = "none"
    embeddings = "embeddings"
    int8 = "int8"


def quantize_embeddings(src: Path, dst: Path, ids_input: str = "input_ids") -> int:
    """Rewrite the lookups of graph input `ids_input` in weight tables as int8 per-row lookups; returns how many.

    Only the word embeddings are looked up by the token ids; the position and token-type
    tables (a few hundred KB, shared by every token) stay fp32.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(src))
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    new_nodes, done = [], 0
    for node in graph.node:
        table = inits.get(node.input[0]) if node.op_type == "Gather" else None
        if (table is None or node.input[1] != ids_input or len(table.dims) != 2
                or table.data_type != TensorProto.FLOAT):
            new_nodes.append(node)
            continue
        w = numpy_helper.to_array(table).astype(np.float32)
        scale = np.maximum(np.abs(w).max(axis=1, keepdims=True), 1e-12) / 127.0
        q = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
        base = table.name
        graph.initializer.remove(table)
        graph.initializer.extend([numpy_helper.from_array(q, f"{base}.int8"),
                                  numpy_helper.from_array(scale.astype(np.float32), f"{base}.scale")])
        ids, out = node.input[1], node.output[0]
        new_nodes += [
            helper.make_node("Gather", [f"{base}.int8", ids], [f"{out}.q"], name=f"{node.name}.q", axis=0),
            helper.make_node("Gather", [f"{base}.scale", ids], [f"{out}.s"], name=f"{node.name}.s", axis=0),
            helper.make_node("Cast", [f"{out}.q"], [f"{out}.f"], name=f"{node.name}.cast", to=TensorProto.FLOAT),
            helper.make_node("Mul", [f"{out}.f", f"{out}.s"], [out], name=f"{node.name}.rescale"),
        ]
        done += 1
    del graph.node[:]
    graph.node.extend(new_nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))
    return done


def quantize_graph(src: Path, dst: Path, level: Quantization) -> None:
    """Write `src` quantised at `level` to `dst` (which may not be `src`)."""
    import shutil

    level = Quantization(level)
    if level is Quantization.none:
        shutil.copyfile(src, dst)
        return
    if level is Quantization.embeddings:
        quantize_embeddings(src, dst)
        return
    from onnxruntime.quantization import QuantType, quantize_dynamic

    staged = dst.with_suffix(".emb.onnx")
    quantize_embeddings(src, staged)
    try:
        quantize_dynamic(str(staged), str(dst), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul"])
    finally:
        staged.unlink(missing_ok=True)
