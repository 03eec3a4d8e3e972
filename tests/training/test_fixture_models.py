from __future__ import annotations

import json

from cxnlp import Predictor
from cxnlp.model_dir import load_meta


def test_tiny_and_linear_directories_load(tiny_model_dir, linear_model_dir):
    for d, kind in ((tiny_model_dir, "transformer"), (linear_model_dir, "linear")):
        assert load_meta(d).model_type == kind
        rec = Predictor.load(d).predict(["الخدمة ممتازة والتوصيل سريع"])[0]
        assert set(rec["heads"]) == {"emotion", "sentiment", "effort", "expectation", "execution", "complaint",
                                     "journey", "signal"}
        assert json.loads((d / "metrics.json").read_text())["test"]["heads"]["sentiment"]["n"] > 0
