"""Near-duplicate detection by character 5-gram Jaccard similarity.

Used to keep the shipped corpus free of copy-paste records (a test enforces it) and
available to users for their own data. Exact pairwise comparison, computed in blocks of
sparse matrix products so that tens of thousands of texts fit in memory.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer


def near_duplicate_pairs(texts: Sequence[str], threshold: float = 0.8, n: int = 5,
                         block: int = 512) -> list[tuple[int, int, float]]:
    """All pairs (i, j, jaccard) with i < j whose character n-gram sets have Jaccard > threshold."""
    if len(texts) < 2:
        return []
    # Texts shorter than n are padded so that "ok" and "OK" still compare.
    vec = CountVectorizer(analyzer="char", ngram_range=(n, n), binary=True,
                          preprocessor=lambda t: " ".join(t.lower().split()).ljust(n, "_"))
    X = vec.fit_transform(list(texts)).astype(np.int32).tocsr()
    sizes = np.asarray(X.sum(axis=1)).ravel()
    XT = X.T.tocsc()
    pairs = []
    for start in range(0, X.shape[0], block):
        inter = (X[start:start + block] @ XT).toarray()
        rows = np.arange(start, min(start + block, X.shape[0]))
        union = sizes[rows, None] + sizes[None, :] - inter
        jac = np.divide(inter, union, out=np.zeros_like(inter, dtype=np.float64), where=union > 0)
        ii, jj = np.nonzero(jac > threshold)
        for a, b in zip(ii, jj, strict=True):
            i, j = int(rows[a]), int(b)
            if i < j:
                pairs.append((i, j, float(jac[a, b])))
    return pairs
