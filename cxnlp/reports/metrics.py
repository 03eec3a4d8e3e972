"""Per-head metrics from logits and encoded targets (scikit-learn under the hood).

Records that do not label a head are left out of that head's metrics, so partially
annotated evaluation sets are measured correctly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.metrics import (
    confusion_matrix,
    f1_score,
    hamming_loss,
    jaccard_score,
    mean_absolute_error,
    precision_recall_fscore_support,
)

from cxnlp.modeling.calibration import expected_calibration_error, reliability_bins
from cxnlp.modeling.decoding import decode, expected_value, probabilities
from cxnlp.modeling.targets import labelled_mask
from cxnlp.taxonomy import Head, Taxonomy


def predictions_matrix(head: Head, labels: list[list[str]]) -> np.ndarray:
    """Label lists → multi-hot (multilabel) or class indices (others)."""
    if head.is_multilabel:
        out = np.zeros((len(labels), head.num_labels), dtype=int)
        for i, ls in enumerate(labels):
            for label in ls:
                out[i, head.index(label)] = 1
        return out
    return np.array([head.index(ls[0]) for ls in labels], dtype=int)


def head_metrics(head: Head, probs: np.ndarray, pred: np.ndarray, target: np.ndarray) -> dict[str, Any]:
    """Metrics of one head over labelled rows. pred/target: multi-hot or class indices."""
    names = head.label_names
    out: dict[str, Any] = {"kind": head.kind, "n": int(len(target))}
    if len(target) == 0:
        out.update({"macro_f1": float("nan"), "micro_f1": float("nan"), "per_label": {}})
        return out
    if head.is_multilabel:
        t = target.astype(int)
        p, r, f, s = precision_recall_fscore_support(t, pred, zero_division=0)
        present = t.sum(axis=0) > 0
        out["macro_f1"] = float(f[present].mean()) if present.any() else float("nan")
        out["micro_f1"] = float(f1_score(t, pred, average="micro", zero_division=0))
        out["samples_jaccard"] = float(jaccard_score(t, pred, average="samples", zero_division=1))
        out["hamming_loss"] = float(hamming_loss(t, pred))
        out["exact_match"] = float((t == pred).all(axis=1).mean())
    else:
        labels = list(range(head.num_labels))
        p, r, f, s = precision_recall_fscore_support(target, pred, labels=labels, zero_division=0)
        present = np.bincount(target, minlength=head.num_labels) > 0
        out["macro_f1"] = float(f[present].mean())
        out["micro_f1"] = float((pred == target).mean())  # = accuracy for single-label heads
        out["accuracy"] = out["micro_f1"]
        out["confusion"] = {"labels": names, "matrix": confusion_matrix(target, pred, labels=labels).tolist()}
        if head.kind == "ordinal":
            out["mae"] = float(mean_absolute_error(target, pred))
            out["expected_mae"] = float(np.abs(expected_value(probs) - target).mean())
    out["per_label"] = {n: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
                        for i, n in enumerate(names)}
    out["ece"] = expected_calibration_error(head, probs, target)
    out["reliability"] = reliability_bins(head, probs, target)
    return out


def evaluate_logits(taxonomy: Taxonomy, logits: Mapping[str, np.ndarray], targets: Mapping[str, np.ndarray],
                    temperatures: Mapping[str, float] | None = None,
                    thresholds: Mapping[str, list[float]] | None = None) -> dict[str, Any]:
    """Decode logits as the Predictor does and score every head."""
    temperatures = temperatures or {}
    thresholds = thresholds or {}
    heads: dict[str, Any] = {}
    for head in taxonomy.heads:
        y = targets[head.name]
        keep = labelled_mask(head, y)
        probs = probabilities(head, logits[head.name][keep], temperatures.get(head.name, 1.0))
        thr = thresholds.get(head.name)
        labels = decode(head, probs, np.asarray(thr) if thr is not None else None)
        pred = predictions_matrix(head, labels) if len(labels) else np.zeros((0,), dtype=int)
        heads[head.name] = head_metrics(head, probs, pred, y[keep].astype(int) if head.is_multilabel else y[keep])
    return {"heads": heads, "macro_f1_mean": headline({"heads": heads})}


def headline(metrics: Mapping[str, Any]) -> float:
    """Mean over heads of macro-F1 (heads with no labelled data are left out)."""
    vals = [m["macro_f1"] for m in metrics["heads"].values() if m["n"] > 0 and not np.isnan(m["macro_f1"])]
    return float(np.mean(vals)) if vals else 0.0
