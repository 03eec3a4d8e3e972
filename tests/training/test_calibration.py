from __future__ import annotations

import numpy as np
import torch

from cxnlp.modeling.calibration import expected_calibration_error, fit_temperature, tune_thresholds
from cxnlp.modeling.decoding import decode, expected_value, probabilities
from cxnlp.modeling.heads import OrdinalHead
from cxnlp.modeling.losses import IGNORE, head_loss, multitask_loss
from cxnlp.modeling.targets import encode_targets
from cxnlp.taxonomy import Taxonomy


def test_temperature_recovers_overconfidence(taxonomy):
    head = taxonomy.head("sentiment")
    rng = np.random.default_rng(0)
    true_logits = rng.normal(size=(4000, 4)) * 1.5
    p = np.exp(true_logits) / np.exp(true_logits).sum(1, keepdims=True)
    y = np.array([rng.choice(4, p=row) for row in p])
    t = fit_temperature(head, true_logits * 3.0, y)  # a model 3x too confident
    assert 2.6 < t < 3.4
    before = expected_calibration_error(head, probabilities(head, true_logits * 3.0), y)
    after = expected_calibration_error(head, probabilities(head, true_logits * 3.0, t), y)
    assert after < before / 2


def test_thresholds_maximise_f1_with_floor():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, size=(500, 2))
    probs = np.where(y == 1, rng.uniform(0.3, 0.6, y.shape), rng.uniform(0.0, 0.28, y.shape))
    thr = tune_thresholds(probs, y, floor=0.1)
    assert 0.28 <= thr[0] <= 0.3 and 0.28 <= thr[1] <= 0.3
    floored = tune_thresholds(np.full((10, 1), 0.02) + np.arange(10)[:, None] * 0.001, np.ones((10, 1)), floor=0.2)
    assert floored[0] >= 0.2
    assert tune_thresholds(probs, np.zeros_like(y))[0] == 0.5  # no positives: default


def test_ordinal_head_is_ordered_and_expected_value():
    head = OrdinalHead(8, 3)
    with torch.no_grad():
        head.log_gaps.fill_(-5.0)
    cut = head.cutpoints()
    assert bool((cut[1:] > cut[:-1]).all())
    tax = Taxonomy.default()
    z = head(torch.randn(16, 8)).detach().numpy()
    p = probabilities(tax.head("effort"), z)
    assert np.allclose(p.sum(1), 1.0) and (p >= 0).all()
    assert ((expected_value(p) >= 0) & (expected_value(p) <= 2)).all()


def test_emotion_never_empty_complaint_may_be(taxonomy):
    low = np.full((1, 9), 0.01)
    assert decode(taxonomy.head("emotion"), low) == [["anger"]]
    assert decode(taxonomy.head("complaint"), np.full((1, 11), 0.01)) == [[]]


def test_missing_labels_are_masked(taxonomy):
    labels = [{"emotion": ["anger"], "sentiment": "negative", "effort": "high"},
              {"sentiment": None, "emotion": None, "effort": None},
              {"emotion": ["neutral"], "sentiment": "neutral", "effort": "low"}]
    t = encode_targets(taxonomy, labels)
    assert np.isnan(t["emotion"][1]).all() and t["sentiment"][1] == IGNORE and t["complaint"].shape == (3, 11)
    torch.manual_seed(0)
    logits = {h.name: torch.randn(3, h.num_labels - 1 if h.kind == "ordinal" else h.num_labels) for h in taxonomy.heads}
    full, parts = multitask_loss(taxonomy, logits, {k: torch.from_numpy(v) for k, v in t.items()})
    keep = [0, 2]
    only = {k: torch.from_numpy(v[keep]) for k, v in t.items()}
    sub, _ = multitask_loss(taxonomy, {k: v[keep] for k, v in logits.items()}, only)
    assert torch.allclose(full, sub)
    assert "complaint" not in parts  # no record labels complaint
    assert head_loss("multiclass", logits["sentiment"], torch.tensor([IGNORE] * 3)) is None


def test_ordinal_class_weights_weigh_each_record_by_its_class():
    torch.manual_seed(0)
    logits = torch.randn(4, 2)
    target = torch.tensor([0, 0, 2, IGNORE])
    plain = head_loss("ordinal", logits, target)
    assert torch.allclose(head_loss("ordinal", logits, target, class_weight=torch.ones(3)), plain)
    # All weight on class 2: the loss is that record's own loss.
    only_high = head_loss("ordinal", logits, target, class_weight=torch.tensor([0.0, 0.0, 1.0]))
    assert torch.allclose(only_high, head_loss("ordinal", logits[2:3], target[2:3]))
    assert not torch.allclose(only_high, plain)


def test_ordinal_decodes_the_median_class():
    head = Taxonomy.default().head("effort")
    # Latent scores around two close cut-points (0.0 and 0.4): the middle class is never
    # the most probable one, but a score between the cut-points is its interval.
    scores = np.array([-2.0, 0.2, 3.0])
    p = probabilities(head, scores[:, None] - np.array([[0.0, 0.4]]))
    assert p[1].argmax() != 1
    assert [ls[0] for ls in decode(head, p)] == ["low", "medium", "high"]


def test_ordinal_thresholds_are_tuned_for_macro_f1():
    from cxnlp.modeling.calibration import tune_ordinal_thresholds

    head = Taxonomy.default().head("effort")
    rng = np.random.default_rng(0)
    target = rng.choice(3, size=600, p=[0.7, 0.2, 0.1])
    # An under-confident model: the latent score separates the classes, but the first
    # cut-point sits too high, so "medium" records stay below 0.5.
    score = target * 1.0 + rng.normal(0, 0.3, size=600)
    p = probabilities(head, score[:, None] - np.array([[1.2, 1.6]]))
    thr = tune_ordinal_thresholds(head, p, target)
    assert thr.shape == (2,) and thr[0] < 0.5

    def macro(t):
        from sklearn.metrics import f1_score

        pred = [head.index(ls[0]) for ls in decode(head, p, t)]
        return f1_score(target, pred, average="macro")

    assert macro(thr) > macro(None) + 0.05
    assert np.array_equal(tune_ordinal_thresholds(head, p[:0], target[:0]), np.full(2, 0.5))


def test_vectorised_f1_equals_scikit_learn():
    """Threshold tuning scores candidates with its own vectorised F1; it must be sklearn's."""
    from sklearn.metrics import f1_score

    from cxnlp.modeling.calibration import binary_f1_per_threshold, macro_f1

    rng = np.random.default_rng(3)
    grid = np.round(np.arange(0.05, 0.951, 0.025), 3)
    for n, rate in ((300, 0.3), (40, 0.05), (25, 0.0)):
        y = (rng.uniform(size=n) < rate).astype(int)
        scores = np.clip(0.3 * y + rng.uniform(size=n) * 0.7, 0, 1)
        expected = [f1_score(y, (scores >= t).astype(int), zero_division=0) for t in grid]
        assert np.allclose(binary_f1_per_threshold(scores, y, grid), expected, atol=1e-12)
    for k in (2, 3, 5):
        target, pred = rng.integers(0, k, 200), rng.integers(0, k + 1, 200)  # pred may use a class target lacks
        target[target == 1] = 0
        present = sorted(set(target.tolist()))
        expected = f1_score(target, pred, labels=present, average="macro", zero_division=0)
        assert abs(macro_f1(target, pred, present) - expected) < 1e-12
