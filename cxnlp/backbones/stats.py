"""Size, shape and vocabulary of a backbone directory, read without loading the model.

`cxnlp backbone info` and the trimming report need parameter counts and sizes of models
that may be hundreds of megabytes; the safetensors header has every tensor's shape, so
nothing is loaded into memory to answer.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_WEIGHT_SUFFIXES = (".safetensors", ".bin")


@dataclass
class BackboneStats:
    """Facts about one backbone directory."""

    path: Path
    """The directory described."""
    model_type: str
    """`config.json`'s model_type (e.g. `bert`, `xlm-roberta`)."""
    num_layers: int | None
    """Transformer layers."""
    hidden_size: int | None
    """Width of token vectors."""
    num_heads: int | None
    """Attention heads per layer."""
    vocab_size: int | None
    """Rows of the word-embedding table (`config.json`)."""
    tokenizer_vocab_size: int | None
    """Entries in the tokenizer's vocabulary (may be smaller than the embedding table)."""
    max_positions: int | None
    """Longest input in tokens."""
    parameters: int | None
    """Number of weights, counted from the weight files' headers."""
    embedding_parameters: int | None
    """Of which in the word-embedding table."""
    weights_bytes: int
    """Size of the weight files on disk."""
    total_bytes: int
    """Size of the whole directory on disk."""

    def as_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items()}


def _parameter_counts(path: Path) -> tuple[int | None, int | None]:
    files = sorted(path.glob("*.safetensors"))
    if files:
        from safetensors import safe_open

        total = emb = 0
        for f in files:
            with safe_open(str(f), framework="np") as handle:
                for key in handle.keys():  # noqa: SIM118 -- safe_open is not a mapping
                    n = math.prod(handle.get_slice(key).get_shape())
                    total += n
                    if key.endswith("word_embeddings.weight"):
                        emb += n
        return total, emb
    bins = sorted(path.glob("pytorch_model*.bin"))
    if bins:
        import torch

        total = emb = 0
        for f in bins:
            state = torch.load(f, map_location="meta", weights_only=True)
            for key, tensor in state.items():
                total += tensor.numel()
                if key.endswith("word_embeddings.weight"):
                    emb += tensor.numel()
        return total, emb
    return None, None


def _tokenizer_vocab_size(path: Path) -> int | None:
    tok_file = path / "tokenizer.json"
    if not tok_file.is_file():
        return None
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(tok_file)).get_vocab_size(with_added_tokens=True)


def describe_backbone(path: str | Path) -> BackboneStats:
    """Shape, vocabulary, parameter count and on-disk size of a `save_pretrained` directory."""
    root = Path(path)
    config = json.loads((root / "config.json").read_text(encoding="utf-8"))
    params, emb = _parameter_counts(root)
    files = [p for p in root.rglob("*") if p.is_file()]
    return BackboneStats(
        path=root,
        model_type=str(config.get("model_type", "?")),
        num_layers=config.get("num_hidden_layers"),
        hidden_size=config.get("hidden_size"),
        num_heads=config.get("num_attention_heads"),
        vocab_size=config.get("vocab_size"),
        tokenizer_vocab_size=_tokenizer_vocab_size(root),
        max_positions=config.get("max_position_embeddings"),
        parameters=params,
        embedding_parameters=emb,
        weights_bytes=sum(p.stat().st_size for p in files if p.name.endswith(_WEIGHT_SUFFIXES)),
        total_bytes=sum(p.stat().st_size for p in files),
    )
