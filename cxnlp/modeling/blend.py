"""A transformer blended with the TF-IDF linear model, head by head.

The two read different evidence. The fine-tuned encoder reads context and paraphrase;
the linear model reads exact character and word n-grams (brand and product names,
dialect spellings, emoji runs), which a short fine-tuning budget on a few thousand
records does not teach a small encoder. Blending their logits is the cheap way to get
both.

Each part's logits are first divided by that part's own temperature (fitted on dev), so
both speak in calibrated log-odds; then, per head,

    z = w * z_transformer / T_transformer + (1 - w) * z_linear / T_linear

with `w` chosen on dev. The blended logits have the shapes every head already uses:
per-label logits (multilabel), log-probabilities up to a constant (multiclass) and
cumulative cut-point logits (ordinal: a weighted sum of two decreasing sequences is still
decreasing). They then go through the usual temperature, thresholds and decoding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

BLEND_WEIGHTS: tuple[float, ...] = tuple(round(0.1 * i, 1) for i in range(11))
"""Transformer shares tried on dev: 0 (linear model only), 0.1, ..., 1 (transformer only)."""

PARTS = ("transformer", "linear")


@dataclass
class Blend:
    """How a blended model mixes its two parts' logits (stored in calibration.json → `blend`)."""

    weights: dict[str, float]
    """Per head, the transformer's share of the blended logits; the linear model gets the rest."""
    temperatures: dict[str, dict[str, float]] = field(default_factory=dict)
    """Each part's own per-head temperatures, fitted on dev: {"transformer": {...}, "linear": {...}}."""

    def __post_init__(self) -> None:
        for head, w in self.weights.items():
            if not 0.0 <= w <= 1.0:
                raise ValueError(f"blend weight of head {head!r} must be in [0, 1], got {w}")
        unknown = set(self.temperatures) - set(PARTS)
        if unknown:
            raise ValueError(f"blend temperatures for unknown parts {sorted(unknown)}; expected {PARTS}")

    def apply(self, transformer: Mapping[str, np.ndarray], linear: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Blended logits of every head the transformer scores."""
        t_tr = self.temperatures.get("transformer", {})
        t_lin = self.temperatures.get("linear", {})
        out = {}
        for head, z in transformer.items():
            w = self.weights.get(head, 1.0)
            mixed = w * np.asarray(z, dtype=np.float64) / t_tr.get(head, 1.0)
            if w < 1.0:
                mixed = mixed + (1.0 - w) * np.asarray(linear[head], dtype=np.float64) / t_lin.get(head, 1.0)
            out[head] = mixed.astype(np.float32)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"weights": dict(self.weights), "temperatures": {k: dict(v) for k, v in self.temperatures.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Blend:
        return cls({k: float(v) for k, v in data["weights"].items()},
                   {k: {h: float(t) for h, t in v.items()} for k, v in data.get("temperatures", {}).items()})


def choose_weights(heads: Iterable[str], dev_scores: Callable[[float], Mapping[str, float]],
                   candidates: Iterable[float] = BLEND_WEIGHTS) -> tuple[dict[str, float], dict[str, dict[float, float | None]]]:
    """Per head, the candidate weight with the best dev score (`dev_scores(w)` → {head: score}).

    Ties go to the weight closest to an even mix (then to the larger transformer share):
    with a few hundred dev records, equal scores say nothing about which part to trust
    more. A head no dev record labels has no score and keeps the transformer alone.
    Returns the weights and every candidate's score (None where there is none)."""
    heads = list(heads)
    table: dict[str, dict[float, float | None]] = {h: {} for h in heads}
    for w in candidates:
        scores = dev_scores(w)
        for h in heads:
            s = scores.get(h, float("nan"))
            table[h][w] = float(s) if np.isfinite(s) else None
    chosen = {}
    for h in heads:
        scored = {w: s for w, s in table[h].items() if s is not None}
        if not scored:
            chosen[h] = 1.0
            continue
        best = max(scored.values())
        # round(): 0.8 - 0.5 is 0.30000000000000004 but 0.5 - 0.2 is 0.3 in floating point.
        chosen[h] = min((w for w, s in scored.items() if s >= best - 1e-12), key=lambda w: (round(abs(w - 0.5), 6), -w))
    return chosen, table
