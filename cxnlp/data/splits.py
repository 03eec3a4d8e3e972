"""Deterministic, stratified train/dev/test splits by id hash.

The same ids always land in the same split on any machine and Python version (no
random state involved), and every stratum (e.g. language × variety) is divided in the
requested proportions, so small varieties are represented in dev and test too.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence

import datasets

SPLITS = ("train", "dev", "test")


def id_hash(record_id: str, salt: str = "cxnlp") -> int:
    return int.from_bytes(hashlib.sha256(f"{salt}:{record_id}".encode()).digest()[:8], "big")


def assign_splits(
    ids: Sequence[str],
    strata: Sequence[str] | None = None,
    ratios: Sequence[float] = (0.8, 0.1, 0.1),
    salt: str = "cxnlp",
) -> list[str]:
    """Return the split name of every id. Within each stratum, ids are ordered by hash and
    cut at the cumulative ratios (rounded), so proportions hold per stratum."""
    if len(ratios) != len(SPLITS) or any(r < 0 for r in ratios) or abs(sum(ratios) - 1.0) > 1e-6:
        raise ValueError(f"ratios must be three non-negative numbers summing to 1, got {tuple(ratios)}")
    if len(set(ids)) != len(ids):
        raise ValueError("ids must be unique to split by id hash")
    strata = strata if strata is not None else ["all"] * len(ids)
    groups: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(strata):
        groups[s].append(i)
    out = [""] * len(ids)
    for members in groups.values():
        members.sort(key=lambda i: id_hash(ids[i], salt))
        n = len(members)
        cut_train = round(n * ratios[0])
        cut_dev = round(n * (ratios[0] + ratios[1]))
        for rank, i in enumerate(members):
            out[i] = "train" if rank < cut_train else "dev" if rank < cut_dev else "test"
    return out


def split_dataset(
    ds: datasets.Dataset,
    ratios: Sequence[float] = (0.8, 0.1, 0.1),
    stratify_by: Sequence[str] = ("lang", "variety"),
    salt: str = "cxnlp",
    use_existing: bool = True,
) -> datasets.DatasetDict:
    """Split into a DatasetDict with `train`, `dev`, `test`.

    If the dataset has a `split` column and `use_existing` is set, that column decides.
    Stratification columns missing from the dataset are ignored.
    """
    if use_existing and "split" in ds.column_names:
        names = ds["split"]
        bad = sorted({n for n in names if n not in SPLITS})
        if bad:
            raise ValueError(f"unknown values in the 'split' column: {bad}; expected {SPLITS}")
    else:
        cols = [c for c in stratify_by if c in ds.column_names]
        strata = ["|".join(str(ds[c][i]) for c in cols) for i in range(len(ds))] if cols else None
        names = assign_splits(ds["id"], strata, ratios, salt)
    index: dict[str, list[int]] = {s: [] for s in SPLITS}
    for i, n in enumerate(names):
        index[n].append(i)
    return datasets.DatasetDict({s: ds.select(index[s]) for s in SPLITS})
