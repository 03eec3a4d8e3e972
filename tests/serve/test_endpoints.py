"""Every endpoint of the service over real HTTP, checked against the Predictor itself."""

from __future__ import annotations

import json

from serve.schemas import EXAMPLE_AR, EXAMPLE_FA, ClassifyResponse, LabelsResponse, ModelResponse
from tests.serve.conftest import assert_error, assert_same_records, sample_texts


def test_classify_single_text_matches_predictor(server, tiny_predictor):
    with server.client() as c:
        r = c.post("/v1/classify", json={"text": EXAMPLE_AR, "id": "survey-1"})
    assert r.status_code == 200, r.text
    body = r.json()
    ClassifyResponse.model_validate(body)
    assert body["model"].startswith(server.settings.model.name + "@")
    assert_same_records(body["predictions"], tiny_predictor.predict([EXAMPLE_AR], ids=["survey-1"]))
    rec = body["predictions"][0]
    assert list(rec)[:2] == ["id", "lang"]  # the record layout of the architecture notes
    assert rec["id"] == "survey-1"


def test_classify_many_keeps_order_and_ids(server, tiny_predictor):
    texts = sample_texts(12)
    ids = [f"r-{i}" for i in range(len(texts))]
    ids[3] = 42  # integer ids are echoed as integers
    with server.client() as c:
        forward = c.post("/v1/classify", json={"texts": texts, "ids": ids}).json()["predictions"]
        backward = c.post("/v1/classify", json={"texts": texts[::-1], "ids": ids[::-1]}).json()["predictions"]
    assert [p["id"] for p in forward] == ids
    assert [p["id"] for p in backward] == ids[::-1]
    assert_same_records(forward, tiny_predictor.predict(texts, ids=ids))
    assert_same_records(backward[::-1], forward)


def test_classify_options(server, tiny_predictor):
    text = EXAMPLE_FA
    with server.client() as c:
        subset = c.post("/v1/classify", json={"text": text, "options": {"heads": ["effort", "sentiment", "effort"]}})
        bare = c.post("/v1/classify", json={"text": text, "options": {"include_scores": False}})
        forced = c.post("/v1/classify", json={"text": text, "options": {
            "heads": ["complaint"], "thresholds": {"complaint": {"pricing": 0.0, "delay": 1}}}})
        explained = c.post("/v1/classify", json={"text": text, "options": {"heads": ["sentiment"],
                                                                           "include_evidence": True}})
    rec = subset.json()["predictions"][0]
    assert list(rec["heads"]) == ["effort", "sentiment"]  # asked order, duplicates dropped
    assert 0.0 <= rec["heads"]["effort"]["expected"] <= 2.0
    assert all("scores" not in out for out in bare.json()["predictions"][0]["heads"].values())
    complaint = forced.json()["predictions"][0]["heads"]["complaint"]
    assert "pricing" in complaint["labels"] and "delay" not in complaint["labels"]
    assert_same_records(forced.json()["predictions"], tiny_predictor.predict(
        [text], heads=["complaint"], thresholds={"complaint": {"pricing": 0.0, "delay": 1.0}}))
    ev = explained.json()["predictions"][0]["evidence"]
    label = explained.json()["predictions"][0]["heads"]["sentiment"]["label"]
    assert set(ev) == {f"sentiment:{label}"}
    for span in ev[f"sentiment:{label}"]:
        assert text[span["start"]:span["end"]] == span["text"]  # offsets index the original text
    # A request alone in its batch runs exactly the offline computation.
    assert ev == tiny_predictor.predict([text], heads=["sentiment"], evidence=True)[0]["evidence"]


def test_labels_is_the_model_taxonomy(server, tiny_predictor):
    with server.client() as c:
        r = c.get("/v1/labels")
    assert r.status_code == 200
    body = LabelsResponse.model_validate(r.json())
    assert [h.name for h in body.heads] == tiny_predictor.taxonomy.head_names
    effort = next(h for h in body.heads if h.name == "effort")
    assert effort.kind == "ordinal" and [lab.name for lab in effort.labels] == ["low", "medium", "high"]


def test_model_card_metadata(server, tiny_predictor):
    with server.client() as c:
        r = c.get("/v1/model")
    assert r.status_code == 200
    body = ModelResponse.model_validate(r.json())
    assert body.type == "transformer"
    assert body.id.startswith(tiny_predictor.path.name + "@")
    assert body.max_length == tiny_predictor.meta.max_length
    assert body.data_fingerprint == tiny_predictor.meta.data_fingerprint
    assert "test" in body.metrics
    assert body.card and body.card.strip()
    assert body.limits.max_texts == 64
    assert body.blend is None


def test_a_blended_model_is_served_with_its_blend(blended_model_dir):
    """The service loads a blended model, reports each head's transformer share, and
    classifies exactly as the Python Predictor does."""
    import json

    from cxnlp import Predictor
    from tests.serve.conftest import live_server, make_settings

    texts = ["الطلب تأخر ثلاث أيام وما أحد رد علي", "پشتیبانی خیلی سریع جواب داد، ممنون"]
    expected = Predictor.load(blended_model_dir).predict(texts)
    for srv in live_server(make_settings(model=blended_model_dir, model_batch_size=32)):
        with srv.client() as c:
            model = ModelResponse.model_validate(c.get("/v1/model").json())
            got = c.post("/v1/classify", json={"texts": texts}).json()
    weights = json.loads((blended_model_dir / "calibration.json").read_text())["blend"]["weights"]
    assert model.blend == weights and "parts" in model.metrics
    for record, want in zip(got["predictions"], expected, strict=True):
        assert {h: v["labels"] for h, v in record["heads"].items()} == {h: v["labels"] for h, v in want["heads"].items()}


def test_probes_and_openapi(server):
    with server.client() as c:
        assert c.get("/healthz").json() == {"status": "ok"}
        ready = c.get("/readyz")
        spec = c.get("/openapi.json").json()
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert {"/v1/classify", "/v1/labels", "/v1/model", "/healthz", "/readyz", "/metrics"} <= set(spec["paths"])
    dumped = json.dumps(spec, ensure_ascii=False)
    assert EXAMPLE_AR in dumped and EXAMPLE_FA in dumped  # Arabic and Persian examples in the docs
    assert {"bearer", "apiKey"} <= set(spec["components"]["securitySchemes"])


def test_request_id_and_cors(server):
    with server.client() as c:
        own = c.get("/healthz", headers={"X-Request-ID": "abc-123"})
        made = c.get("/healthz")
        unsafe = c.get("/healthz", headers={"X-Request-ID": "two words"})
        preflight = c.options("/v1/classify", headers={"Origin": "https://cx.example",
                                                        "Access-Control-Request-Method": "POST",
                                                        "Access-Control-Request-Headers": "content-type,x-api-key"})
        other = c.options("/v1/classify", headers={"Origin": "https://evil.example",
                                                    "Access-Control-Request-Method": "POST"})
    assert own.headers["x-request-id"] == "abc-123"
    assert len(made.headers["x-request-id"]) == 32
    assert len(unsafe.headers["x-request-id"]) == 32  # not echoed into logs and headers as sent
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://cx.example"
    assert "access-control-allow-origin" not in other.headers


def test_unknown_route_and_method(server):
    with server.client() as c:
        assert_error(c.get("/v1/nothing"), 404, "not_found")
        assert_error(c.get("/v1/classify"), 405, "method_not_allowed")
