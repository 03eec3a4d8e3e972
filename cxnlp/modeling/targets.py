"""Label values of records → arrays for losses and metrics, per head."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from cxnlp.modeling.losses import IGNORE
from cxnlp.taxonomy import Head, Taxonomy


def encode_head(head: Head, values: Sequence[Any]) -> np.ndarray:
    """Multilabel → float multi-hot [N, L] with NaN rows where unlabelled; other kinds →
    int class index [N] with IGNORE where unlabelled."""
    if head.is_multilabel:
        out = np.zeros((len(values), head.num_labels), dtype=np.float32)
        for i, v in enumerate(values):
            if v is None:
                out[i] = np.nan
                continue
            for label in v:
                out[i, head.index(label)] = 1.0
        return out
    return np.array([IGNORE if v is None else head.index(v) for v in values], dtype=np.int64)


def encode_targets(taxonomy: Taxonomy, labels: Sequence[dict[str, Any]]) -> dict[str, np.ndarray]:
    return {h.name: encode_head(h, [lab.get(h.name) if lab else None for lab in labels]) for h in taxonomy.heads}


def labelled_mask(head: Head, target: np.ndarray) -> np.ndarray:
    return ~np.isnan(target[:, 0]) if head.is_multilabel else target != IGNORE
