"""Per-head losses with masking for records that do not label a head.

Partial annotation is common (a dataset labels sentiment only, another complaints only);
a head's loss is computed over the records that label it and skipped when none do, so
such datasets can be mixed in one training run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from cxnlp.taxonomy import Taxonomy

IGNORE = -100


@dataclass
class LossSettings:
    """How each head's loss is weighted and shaped."""

    head_weights: dict[str, float] = field(default_factory=dict)
    """Multiplier per head (default 1.0)."""
    pos_weight: dict[str, torch.Tensor] = field(default_factory=dict)
    """Multilabel heads: positive-class weight per label (counters rare labels)."""
    class_weight: dict[str, torch.Tensor] = field(default_factory=dict)
    """Multiclass and ordinal heads: weight per class (an ordinal record's loss is weighted by its class)."""
    label_smoothing: float = 0.0
    """Multiclass heads: label smoothing for cross-entropy."""


def head_loss(kind: str, logits: torch.Tensor, target: torch.Tensor, *, pos_weight: torch.Tensor | None = None,
              class_weight: torch.Tensor | None = None, label_smoothing: float = 0.0) -> torch.Tensor | None:
    """Loss of one head over the labelled rows, or None when no row labels it.

    target: multilabel → float multi-hot [B, L] with NaN rows for unlabelled records;
    multiclass/ordinal → long [B] with IGNORE for unlabelled records.
    """
    if kind == "multilabel":
        keep = ~torch.isnan(target[:, 0])
        if not keep.any():
            return None
        return F.binary_cross_entropy_with_logits(logits[keep], target[keep], pos_weight=pos_weight)
    keep = target != IGNORE
    if not keep.any():
        return None
    if kind == "multiclass":
        return F.cross_entropy(logits[keep], target[keep], weight=class_weight, label_smoothing=label_smoothing)
    # ordinal: K-1 binary problems "y > k".
    k = logits.shape[1]
    t = target[keep].unsqueeze(1)
    cum_target = (t > torch.arange(k, device=logits.device).unsqueeze(0)).to(logits.dtype)
    if class_weight is None:
        return F.binary_cross_entropy_with_logits(logits[keep], cum_target)
    per_record = F.binary_cross_entropy_with_logits(logits[keep], cum_target, reduction="none").mean(dim=1)
    w = class_weight[target[keep]]
    return (per_record * w).sum() / w.sum()


def multitask_loss(taxonomy: Taxonomy, logits: dict[str, torch.Tensor], targets: dict[str, torch.Tensor],
                   settings: LossSettings | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    """Weighted sum of head losses, and each head's loss for logging."""
    settings = settings or LossSettings()
    total: torch.Tensor | None = None
    parts: dict[str, float] = {}
    for head in taxonomy.heads:
        loss = head_loss(head.kind, logits[head.name], targets[head.name],
                         pos_weight=settings.pos_weight.get(head.name),
                         class_weight=settings.class_weight.get(head.name),
                         label_smoothing=settings.label_smoothing)
        if loss is None:
            continue
        parts[head.name] = float(loss.detach())
        weighted = loss * settings.head_weights.get(head.name, 1.0)
        total = weighted if total is None else total + weighted
    if total is None:
        first = next(iter(logits.values()))
        total = first.sum() * 0.0
    return total, parts
