"""From head logits to calibrated probabilities and labels, the same way everywhere.

Training-time evaluation, the Predictor, the service and the batch tagger all decode
through these functions, with the temperatures and thresholds stored in the model
directory.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from cxnlp.taxonomy import Head, Taxonomy


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -60, 60)))


def _softmax(x: np.ndarray) -> np.ndarray:
    z = x - x.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def probabilities(head: Head, logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """[N, width] logits → [N, num_labels] probabilities (independent per label for
    multilabel heads; a distribution for multiclass and ordinal heads)."""
    x = np.asarray(logits, dtype=np.float64) / float(temperature)
    if head.kind == "multilabel":
        return _sigmoid(x)
    if head.kind == "multiclass":
        return _softmax(x)
    cum = _sigmoid(x)  # P(y > k), k = 0..K-2, non-increasing in k
    n = cum.shape[0]
    upper = np.concatenate([np.ones((n, 1)), cum], axis=1)
    lower = np.concatenate([cum, np.zeros((n, 1))], axis=1)
    p = np.clip(upper - lower, 0.0, 1.0)
    return p / p.sum(axis=1, keepdims=True)


def expected_value(probs: np.ndarray) -> np.ndarray:
    """Ordinal heads: expected position on the 0…K-1 scale."""
    return probs @ np.arange(probs.shape[1], dtype=np.float64)


def class_indices(head: Head, probs: np.ndarray, thresholds: np.ndarray | None = None) -> np.ndarray:
    """Single-label heads: the decoded class index of each row (see `decode`)."""
    if head.kind == "ordinal":
        above = 1.0 - np.cumsum(probs, axis=1)[:, :-1]  # P(y > k), k = 0..K-2
        passed = above >= (0.5 if thresholds is None else np.asarray(thresholds, dtype=np.float64))
        return np.where(passed.all(axis=1), head.num_labels - 1, passed.argmin(axis=1))
    return probs.argmax(axis=1)


def decode(head: Head, probs: np.ndarray, thresholds: np.ndarray | None = None) -> list[list[str]]:
    """Probabilities → label lists (one item for single-label heads).

    Multilabel heads take every label at or above its threshold; a head that does not
    allow an empty set (emotion: "use neutral") falls back to its most probable label.
    Ordinal heads go up the scale while P(y > k) reaches the cut-point's threshold (0.5 by
    default: the median class, i.e. the interval between cut-points the latent score falls
    in; tuned on dev like multilabel thresholds). The most probable class would never pick
    a middle class whose cut-points lie close together, however often it is right.
    """
    names = head.label_names
    if head.kind != "multilabel":
        return [[names[i]] for i in class_indices(head, probs, thresholds)]
    thr = np.full(len(names), 0.5) if thresholds is None else np.asarray(thresholds, dtype=np.float64)
    out = []
    for row in probs:
        picked = [names[i] for i in np.flatnonzero(row >= thr)]
        picked.sort(key=lambda n: -row[names.index(n)])
        if not picked and not head.allow_empty:
            picked = [names[int(row.argmax())]]
        out.append(picked)
    return out


def decode_all(taxonomy: Taxonomy, logits: Mapping[str, np.ndarray], temperatures: Mapping[str, float] | None = None,
               thresholds: Mapping[str, np.ndarray] | None = None) -> dict[str, tuple[np.ndarray, list[list[str]]]]:
    temperatures = temperatures or {}
    thresholds = thresholds or {}
    out = {}
    for head in taxonomy.heads:
        p = probabilities(head, logits[head.name], temperatures.get(head.name, 1.0))
        out[head.name] = (p, decode(head, p, thresholds.get(head.name)))
    return out
