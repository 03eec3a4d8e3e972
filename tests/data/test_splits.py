from __future__ import annotations

from collections import Counter

import datasets
import pytest

from cxnlp.data import assign_splits, split_dataset


def test_deterministic_and_stratified():
    ids = [f"r{i}" for i in range(1000)]
    strata = ["ar|gulf" if i % 10 == 0 else "fa|formal" for i in range(1000)]
    a = assign_splits(ids, strata)
    assert a == assign_splits(list(ids), list(strata))
    per = Counter(zip(strata, a, strict=True))
    assert per[("ar|gulf", "train")] == 80 and per[("ar|gulf", "dev")] == 10 and per[("ar|gulf", "test")] == 10
    assert per[("fa|formal", "train")] == 720


def test_order_of_input_does_not_matter():
    ids = [f"id-{i}" for i in range(200)]
    a = dict(zip(ids, assign_splits(ids), strict=True))
    rev = list(reversed(ids))
    b = dict(zip(rev, assign_splits(rev), strict=True))
    assert a == b


def test_bad_ratios_and_duplicates():
    with pytest.raises(ValueError, match="ratios"):
        assign_splits(["a", "b"], ratios=(0.5, 0.6, 0.1))
    with pytest.raises(ValueError, match="unique"):
        assign_splits(["a", "a"])


def test_split_dataset_uses_existing_column():
    ds = datasets.Dataset.from_list([{"id": str(i), "text": "x", "split": ["train", "dev", "test"][i % 3]} for i in range(9)])
    parts = split_dataset(ds)
    assert {k: len(v) for k, v in parts.items()} == {"train": 3, "dev": 3, "test": 3}
    ds2 = ds.map(lambda r: {"split": "holdout"})
    with pytest.raises(ValueError, match="holdout"):
        split_dataset(ds2)
