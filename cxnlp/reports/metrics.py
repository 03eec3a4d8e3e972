"""Per-head metrics from logits and encoded targets (scikit-learn under the hood).

Records that do not label a head are left out of that head's metrics, so partially
annotated evaluation sets are measured correctly.

Two models scored on the same records are compared with a paired bootstrap: the records
are resampled with replacement, both models' macro-F1 are recomputed on each resample,
and the spread of the difference gives a confidence interval. On a test split of a few
hundred records, with classes of 20-40 examples, single-run differences of a few points
per head are often inside that interval.
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


def head_decisions(taxonomy: Taxonomy, logits: Mapping[str, np.ndarray], targets: Mapping[str, np.ndarray],
                   temperatures: Mapping[str, float] | None = None,
                   thresholds: Mapping[str, list[float]] | None = None) -> dict[str, dict[str, np.ndarray]]:
    """Decode logits as the Predictor does. Per head, over the records labelling it:
    `keep` (row mask over all records), `probs`, `labels` (decoded label lists), `pred` and
    `target` (multi-hot or class indices)."""
    temperatures = temperatures or {}
    thresholds = thresholds or {}
    out: dict[str, dict[str, np.ndarray]] = {}
    for head in taxonomy.heads:
        y = targets[head.name]
        keep = labelled_mask(head, y)
        probs = probabilities(head, logits[head.name][keep], temperatures.get(head.name, 1.0))
        thr = thresholds.get(head.name)
        labels = decode(head, probs, np.asarray(thr) if thr is not None else None)
        pred = predictions_matrix(head, labels) if len(labels) else np.zeros((0,), dtype=int)
        out[head.name] = {"keep": keep, "probs": probs, "labels": labels, "pred": pred,
                          "target": y[keep].astype(int) if head.is_multilabel else y[keep]}
    return out


def evaluate_logits(taxonomy: Taxonomy, logits: Mapping[str, np.ndarray], targets: Mapping[str, np.ndarray],
                    temperatures: Mapping[str, float] | None = None,
                    thresholds: Mapping[str, list[float]] | None = None) -> dict[str, Any]:
    """Decode logits as the Predictor does and score every head."""
    return score_decisions(taxonomy, head_decisions(taxonomy, logits, targets, temperatures, thresholds))


def score_decisions(taxonomy: Taxonomy, decisions: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Metrics of every head from its `head_decisions`."""
    heads = {head.name: head_metrics(head, d["probs"], d["pred"], d["target"])
             for head in taxonomy.heads for d in [decisions[head.name]]}
    return {"heads": heads, "macro_f1_mean": headline({"heads": heads})}


# -- paired bootstrap ---------------------------------------------------------------------


def resample_counts(n: int, n_boot: int = 1000, seed: int = 0) -> np.ndarray:
    """[n_boot, n] how many times each record is drawn in each bootstrap resample."""
    rng = np.random.default_rng(seed)
    counts = np.zeros((n_boot, n), dtype=np.float64)
    np.add.at(counts, (np.arange(n_boot)[:, None], rng.integers(0, n, size=(n_boot, n))), 1.0)
    return counts


def _multi_hot(head: Head, y: np.ndarray) -> np.ndarray:
    return y.astype(np.float64) if head.is_multilabel else np.eye(head.num_labels)[y]


def resampled_macro_f1(head: Head, target: np.ndarray, pred: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Macro-F1 of one head on every resample ([n_boot]), computed as `head_metrics` does
    (labels without support in a resample are left out of its mean). `counts` holds one
    column per labelled record of the head."""
    t, p = _multi_hot(head, target), _multi_hot(head, pred)
    tp, predicted, true = counts @ (t * p), counts @ p, counts @ t
    denom = predicted + true
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    present = true > 0
    return (f1 * present).sum(axis=1) / np.maximum(present.sum(axis=1), 1)


def paired_bootstrap(taxonomy: Taxonomy, a: Mapping[str, Mapping[str, np.ndarray]],
                     b: Mapping[str, Mapping[str, np.ndarray]], *, n_boot: int = 1000, seed: int = 0,
                     level: float = 0.95) -> dict[str, dict[str, float]]:
    """Macro-F1 of model a minus model b, per head and for the mean over heads, with a
    percentile confidence interval from resampling the records (the same resamples for
    both models and all heads). `a`, `b`: `head_decisions` of the two models on the same
    records. Returns {head or "mean": {"delta", "low", "high", "share_above_zero"}}."""
    n = len(next(iter(a.values()))["keep"])
    counts = resample_counts(n, n_boot, seed)
    out: dict[str, dict[str, float]] = {}
    per_head = []
    for head in taxonomy.heads:
        da, db = a[head.name], b[head.name]
        if not np.array_equal(da["keep"], db["keep"]) or not np.array_equal(da["target"], db["target"]):
            raise ValueError(f"head {head.name}: the two models were not scored on the same records")
        if not da["keep"].any():
            continue
        c = counts[:, da["keep"]]
        full = np.ones((1, c.shape[1]))
        delta = resampled_macro_f1(head, da["target"], da["pred"], c) - resampled_macro_f1(head, db["target"], db["pred"], c)
        point = float((resampled_macro_f1(head, da["target"], da["pred"], full)
                       - resampled_macro_f1(head, db["target"], db["pred"], full))[0])
        out[head.name] = _interval(point, delta, level)
        per_head.append((point, delta))
    if per_head:
        out["mean"] = _interval(float(np.mean([pt for pt, _ in per_head])),
                                np.mean([d for _, d in per_head], axis=0), level)
    return out


def _interval(point: float, deltas: np.ndarray, level: float) -> dict[str, float]:
    lo, hi = np.quantile(deltas, [(1 - level) / 2, 1 - (1 - level) / 2])
    return {"delta": point, "low": float(lo), "high": float(hi), "share_above_zero": float((deltas > 0).mean())}


def headline(metrics: Mapping[str, Any]) -> float:
    """Mean over heads of macro-F1 (heads with no labelled data are left out)."""
    vals = [m["macro_f1"] for m in metrics["heads"].values() if m["n"] > 0 and not np.isnan(m["macro_f1"])]
    return float(np.mean(vals)) if vals else 0.0
