"""Temperature scaling, per-label thresholds and calibration error.

Support tools act on scores ("escalate anger above 0.8"), so the scores must mean what
they say. Temperatures are fitted per head on the dev split by minimising the negative
log-likelihood; multilabel thresholds are tuned per label on dev to maximise F1, with
a floor so that a rare label cannot end up predicted for everything; ordinal heads get one
threshold per cut-point, tuned on dev to maximise the head's macro-F1.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar

from cxnlp.modeling.decoding import class_indices, probabilities
from cxnlp.taxonomy import Head

_EPS = 1e-12


def negative_log_likelihood(head: Head, logits: np.ndarray, target: np.ndarray, temperature: float) -> float:
    """target: multi-hot [N, L] for multilabel heads, class indices [N] otherwise."""
    p = probabilities(head, logits, temperature)
    if head.kind == "multilabel":
        t = target.astype(np.float64)
        return float(-np.mean(t * np.log(p + _EPS) + (1 - t) * np.log(1 - p + _EPS)))
    return float(-np.mean(np.log(p[np.arange(len(target)), target] + _EPS)))


def fit_temperature(head: Head, logits: np.ndarray, target: np.ndarray, bounds: tuple[float, float] = (0.05, 20.0)) -> float:
    """The temperature in `bounds` that minimises dev NLL (1.0 when there is no data)."""
    if len(logits) == 0:
        return 1.0
    res = minimize_scalar(lambda log_t: negative_log_likelihood(head, logits, target, float(np.exp(log_t))),
                          bounds=(np.log(bounds[0]), np.log(bounds[1])), method="bounded",
                          options={"xatol": 1e-4})
    return float(np.exp(res.x))


def binary_f1_per_threshold(scores: np.ndarray, target: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """F1 of `scores >= t` against binary `target`, for every t in `grid` at once
    (scikit-learn's F1 with zero_division=0). Threshold tuning scores thousands of
    candidates per model: one vectorised pass instead of one f1_score call each."""
    pred = np.asarray(scores)[:, None] >= np.asarray(grid)[None, :]
    pos = np.asarray(target).astype(bool)[:, None]
    tp = (pred & pos).sum(axis=0)
    wrong = (pred != pos).sum(axis=0)  # false positives + false negatives
    denom = 2 * tp + wrong
    return np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)


def macro_f1(target: np.ndarray, pred: np.ndarray, labels: list[int]) -> float:
    """Macro-F1 of class indices over `labels` (as f1_score(..., labels=labels, average="macro", zero_division=0))."""
    size = max([*labels, int(target.max(initial=0)), int(pred.max(initial=0))]) + 1
    cm = np.bincount(target * size + pred, minlength=size * size).reshape(size, size)
    idx = np.asarray(labels, dtype=int)
    tp = cm[idx, idx]
    denom = 2 * tp + (cm[idx, :].sum(axis=1) - tp) + (cm[:, idx].sum(axis=0) - tp)
    f = np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)
    return float(f.mean()) if len(f) else 0.0


def tune_thresholds(probs: np.ndarray, target: np.ndarray, floor: float = 0.1, default: float = 0.5,
                    grid: np.ndarray | None = None) -> np.ndarray:
    """Per-label threshold maximising F1 on dev; `default` for labels with no positive
    example in dev; never below `floor`. Ties go to the threshold closest to `default`."""
    grid = np.round(np.arange(0.05, 0.951, 0.025), 3) if grid is None else grid
    grid = grid[grid >= floor]
    out = np.full(probs.shape[1], default)
    for j in range(probs.shape[1]):
        y = target[:, j].astype(int)
        if y.sum() == 0:
            continue
        scores = binary_f1_per_threshold(probs[:, j], y, grid).tolist()
        best = max(scores)
        candidates = [t for t, s in zip(grid, scores, strict=True) if s >= best - 1e-12]
        out[j] = min(candidates, key=lambda t: abs(t - default))
    return out


def expected_calibration_error(head: Head, probs: np.ndarray, target: np.ndarray, bins: int = 15) -> float:
    """ECE: for single-label heads over the top-label confidence; for multilabel heads
    over every (record, label) probability."""
    if len(probs) == 0:
        return float("nan")
    if head.kind == "multilabel":
        conf = probs.ravel()
        correct = target.astype(np.float64).ravel()
    else:
        pred = probs.argmax(axis=1)
        conf = probs.max(axis=1)
        correct = (pred == target).astype(np.float64)
        # For single-label heads "accuracy in the bin" compares with the confidence.
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return float(ece)


def reliability_bins(head: Head, probs: np.ndarray, target: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Points of a reliability diagram: mean confidence, observed frequency, count per bin."""
    if head.kind == "multilabel":
        conf, correct = probs.ravel(), target.astype(np.float64).ravel()
    else:
        conf = probs.max(axis=1)
        correct = (probs.argmax(axis=1) == target).astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    out = []
    for b in range(bins):
        m = idx == b
        if m.any():
            out.append({"confidence": float(conf[m].mean()), "accuracy": float(correct[m].mean()), "count": int(m.sum())})
    return out


def tune_ordinal_thresholds(head: Head, probs: np.ndarray, target: np.ndarray, default: float = 0.5,
                            grid: np.ndarray | None = None, sweeps: int = 3) -> np.ndarray:
    """Thresholds on P(y > k), one per cut-point, maximising macro-F1 on dev (coordinate
    ascent from `default`, so it scales to long scales; ties keep the value closest to `default`)."""
    grid = np.round(np.arange(0.05, 0.951, 0.025), 3) if grid is None else grid
    thr = np.full(head.num_labels - 1, default)
    if len(target) == 0:
        return thr
    present = sorted(set(target.tolist()))

    def score(t: np.ndarray) -> float:
        return macro_f1(target, class_indices(head, probs, t), present)

    best = score(thr)
    for _ in range(sweeps):
        improved = False
        for k in range(len(thr)):
            for value in sorted(grid, key=lambda v: abs(v - default)):
                trial = thr.copy()
                trial[k] = value
                s = score(trial)
                if s > best + 1e-12:
                    best, thr, improved = s, trial, True
        if not improved:
            break
    return thr
