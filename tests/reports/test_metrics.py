from __future__ import annotations

import numpy as np
import pytest

from cxnlp.modeling.targets import encode_targets
from cxnlp.reports.metrics import (
    evaluate_logits,
    head_decisions,
    paired_bootstrap,
    resample_counts,
    resampled_macro_f1,
)


def _logits_from_labels(taxonomy, labels: list[dict]) -> dict[str, np.ndarray]:
    """Logits that decode to exactly the given labels (multilabel: ±5 per label; multiclass:
    one-hot ×10; ordinal: cumulative cut-point logits)."""
    out = {}
    targets = encode_targets(taxonomy, labels)
    for head in taxonomy.heads:
        y = targets[head.name]
        if head.is_multilabel:
            out[head.name] = np.where(np.nan_to_num(y) > 0, 5.0, -5.0)
        elif head.kind == "ordinal":
            k = np.maximum(y, 0)[:, None]
            out[head.name] = np.where(np.arange(head.num_labels - 1)[None, :] < k, 5.0, -5.0)
        else:
            out[head.name] = np.eye(head.num_labels)[np.maximum(y, 0)] * 10
    return out


def _noisy(taxonomy, labels: list[dict], rate: float, seed: int) -> list[dict]:
    """The same labels with a share of each head's values replaced by another label."""
    rng = np.random.default_rng(seed)
    out = []
    for rec in labels:
        new = dict(rec)
        for head in taxonomy.heads:
            if rng.random() < rate:
                names = head.label_names
                new[head.name] = [names[rng.integers(len(names))]] if head.is_multilabel else names[rng.integers(len(names))]
        out.append(new)
    return out


@pytest.fixture(scope="module")
def gold(taxonomy) -> list[dict]:
    from tests.conftest import corpus_records

    return [r["labels"] for r in corpus_records(400)]


def test_resampled_macro_f1_on_the_full_sample_is_the_reported_macro_f1(taxonomy, gold):
    targets = encode_targets(taxonomy, gold)
    logits = _logits_from_labels(taxonomy, _noisy(taxonomy, gold, 0.3, seed=1))
    reported = evaluate_logits(taxonomy, logits, targets)["heads"]
    decisions = head_decisions(taxonomy, logits, targets)
    for head in taxonomy.heads:
        d = decisions[head.name]
        ones = np.ones((1, int(d["keep"].sum())))
        assert resampled_macro_f1(head, d["target"], d["pred"], ones)[0] == pytest.approx(reported[head.name]["macro_f1"])


def test_paired_bootstrap_separates_a_clear_gap_and_not_a_tie(taxonomy, gold):
    targets = encode_targets(taxonomy, gold)
    good = head_decisions(taxonomy, _logits_from_labels(taxonomy, _noisy(taxonomy, gold, 0.1, seed=2)), targets)
    bad = head_decisions(taxonomy, _logits_from_labels(taxonomy, _noisy(taxonomy, gold, 0.6, seed=3)), targets)
    gap = paired_bootstrap(taxonomy, good, bad, n_boot=300)
    assert set(gap) == {*taxonomy.head_names, "mean"}
    for head, d in gap.items():
        assert 0 < d["low"] <= d["delta"] <= d["high"], head
        assert d["share_above_zero"] == 1.0
    # A model against itself: no difference on any resample.
    tie = paired_bootstrap(taxonomy, good, good, n_boot=300)
    assert all(d["delta"] == d["low"] == d["high"] == 0 for d in tie.values())
    # Swapping the models mirrors the interval.
    back = paired_bootstrap(taxonomy, bad, good, n_boot=300)
    assert back["mean"]["delta"] == pytest.approx(-gap["mean"]["delta"])
    assert back["mean"]["low"] == pytest.approx(-gap["mean"]["high"])


def test_paired_bootstrap_refuses_different_records(taxonomy, gold):
    targets = encode_targets(taxonomy, gold)
    a = head_decisions(taxonomy, _logits_from_labels(taxonomy, gold), targets)
    other = encode_targets(taxonomy, gold[::-1])
    b = head_decisions(taxonomy, _logits_from_labels(taxonomy, gold[::-1]), other)
    with pytest.raises(ValueError, match="same records"):
        paired_bootstrap(taxonomy, a, b, n_boot=10)


def test_resample_counts_draw_n_records_each_time():
    counts = resample_counts(50, n_boot=20, seed=0)
    assert counts.shape == (20, 50) and (counts.sum(axis=1) == 50).all()
    assert not np.array_equal(counts[0], counts[1])
    assert np.array_equal(counts, resample_counts(50, n_boot=20, seed=0))
