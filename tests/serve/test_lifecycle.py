"""Readiness before and after loading, a model that fails to load, and the linear model."""

from __future__ import annotations

import shutil

from serve.schemas import ClassifyResponse
from tests.serve.conftest import assert_error, assert_same_records, live_server, make_settings, sample_texts


def test_readiness_follows_loading(tiny_model_dir):
    gen = live_server(make_settings(model=tiny_model_dir), ready=False)
    srv = next(gen)
    try:
        with srv.client() as c:
            assert c.get("/healthz").status_code == 200  # alive before the model is
            first = c.get("/readyz")
            if first.status_code == 503:  # still loading: /v1 refuses, with a retry hint
                assert first.json()["status"] == "loading"
                r = c.post("/v1/classify", json={"text": "سلام"})
                if r.status_code == 503:
                    assert_error(r, 503, "not_ready")
                    assert r.headers["retry-after"] == "1"
        seen = srv.wait_ready()
        assert seen[-1] == (200, "ready")
        assert all(s == (503, "loading") for s in seen[:-1]), seen
        with srv.client() as c:
            assert c.post("/v1/classify", json={"text": "سلام"}).status_code == 200
            assert c.get("/readyz").json()["model"].startswith(tiny_model_dir.name + "@")
    finally:
        gen.close()


def test_without_a_model_the_service_is_alive_but_not_ready():
    for srv in live_server(make_settings(model=None), ready=False):
        with srv.client() as c:
            assert c.get("/healthz").json() == {"status": "ok"}
            ready = c.get("/readyz")
            assert ready.status_code == 503 and ready.json()["status"] == "no_model"
            assert "CXNLP_MODEL" in ready.json()["reason"]
            err = assert_error(c.post("/v1/classify", json={"text": "سلام"}), 503, "not_ready")
            assert "CXNLP_MODEL" in err["message"]
            assert_error(c.get("/v1/labels"), 503, "not_ready")
            assert srv.metrics()[("cxnlp_model_ready", ())] == 0


def test_a_broken_model_directory_is_reported(tiny_model_dir, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, broken)
    (broken / "heads.safetensors").write_bytes(b"not a safetensors file")
    for srv in live_server(make_settings(model=broken), ready=False):
        seen = srv.wait_ready()
        assert seen[-1] == (503, "failed")
        with srv.client() as c:
            reason = c.get("/readyz").json()["reason"]
            assert "failed to load" in reason
            assert_error(c.post("/v1/classify", json={"text": "سلام"}), 503, "not_ready")
            assert c.get("/healthz").status_code == 200


def test_linear_model_is_served_the_same_way(linear_model_dir):
    from cxnlp import Predictor

    predictor = Predictor.load(linear_model_dir)
    texts = sample_texts(6)
    for srv in live_server(make_settings(model=linear_model_dir)):
        with srv.client() as c:
            r = c.post("/v1/classify", json={"texts": texts, "ids": list(range(6))})
            model = c.get("/v1/model").json()
            ev = c.post("/v1/classify", json={"text": texts[0], "options": {"include_evidence": True,
                                                                          "heads": ["sentiment"]}})
        assert r.status_code == 200, r.text
        ClassifyResponse.model_validate(r.json())
        assert_same_records(r.json()["predictions"], predictor.predict(texts, ids=list(range(6))))
        assert model["type"] == "linear" and model["backbone"] is None
        assert ev.json()["predictions"][0]["evidence"] == predictor.predict(
            [texts[0]], heads=["sentiment"], evidence=True)[0]["evidence"]
