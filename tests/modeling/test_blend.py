from __future__ import annotations

import numpy as np
import pytest

from cxnlp.modeling.blend import BLEND_WEIGHTS, Blend, choose_weights


def _parts(seed: int = 0):
    rng = np.random.default_rng(seed)
    transformer = {"sentiment": rng.normal(size=(5, 3)), "effort": np.sort(rng.normal(size=(5, 2)), axis=1)[:, ::-1]}
    linear = {"sentiment": rng.normal(size=(5, 3)), "effort": np.sort(rng.normal(size=(5, 2)), axis=1)[:, ::-1]}
    return transformer, linear


def test_weights_one_and_zero_give_each_part_over_its_temperature():
    transformer, linear = _parts()
    temps = {"transformer": {"sentiment": 2.0, "effort": 0.5}, "linear": {"sentiment": 4.0, "effort": 1.5}}
    only_tr = Blend({"sentiment": 1.0, "effort": 1.0}, temps).apply(transformer, linear)
    only_lin = Blend({"sentiment": 0.0, "effort": 0.0}, temps).apply(transformer, linear)
    for h in transformer:
        assert np.allclose(only_tr[h], transformer[h] / temps["transformer"][h], atol=1e-6)
        assert np.allclose(only_lin[h], linear[h] / temps["linear"][h], atol=1e-6)
    mixed = Blend({"sentiment": 0.3, "effort": 0.3}, temps).apply(transformer, linear)
    assert np.allclose(mixed["sentiment"], 0.3 * only_tr["sentiment"] + 0.7 * only_lin["sentiment"], atol=1e-5)


def test_ordinal_cut_point_logits_stay_ordered():
    """P(y > k) must fall with k; a mix of two decreasing sequences keeps that."""
    transformer, linear = _parts(1)
    z = Blend({"sentiment": 0.5, "effort": 0.4}).apply(transformer, linear)["effort"]
    assert (np.diff(z, axis=1) <= 1e-6).all()


def test_round_trip_and_validation():
    b = Blend({"sentiment": 0.7}, {"transformer": {"sentiment": 1.3}, "linear": {"sentiment": 0.9}})
    assert Blend.from_dict(b.to_dict()) == b
    with pytest.raises(ValueError, match="in \\[0, 1\\]"):
        Blend({"sentiment": 1.5})
    with pytest.raises(ValueError, match="unknown parts"):
        Blend({"sentiment": 0.5}, {"lexicon": {}})


def test_choose_weights_takes_the_best_and_breaks_ties_towards_an_even_mix():
    def scores(w: float) -> dict[str, float]:
        return {"peaked": 1 - abs(w - 0.8), "flat": 0.5, "linear_only": 1 - w, "unlabelled": float("nan"),
                "tie_0.2_0.8": 1.0 if w in (0.2, 0.8) else 0.0, "tie_0.4_0.6": 1.0 if w in (0.4, 0.6) else 0.0}

    chosen, table = choose_weights(list(scores(0.5)), scores)
    assert chosen == {"peaked": 0.8, "flat": 0.5, "linear_only": 0.0, "unlabelled": 1.0,
                      "tie_0.2_0.8": 0.8, "tie_0.4_0.6": 0.6}
    assert set(table["peaked"]) == set(BLEND_WEIGHTS)
    assert set(table["unlabelled"].values()) == {None}
