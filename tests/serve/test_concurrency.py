"""Micro-batching under concurrency: every client gets its own answer, metrics add up."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from tests.serve.conftest import LiveServer, assert_same_records, live_server, make_settings, sample_texts

N = 50
# Mixed options, so that one gathered batch holds several option groups.
OPTIONS = [
    {},
    {"heads": ["sentiment", "complaint"]},
    {"include_scores": False},
    {"heads": ["complaint"], "thresholds": {"complaint": {"delay": 0.05, "pricing": 0.9}}},
]


@pytest.fixture(scope="module")
def batching_server(tiny_model_dir) -> Iterator[LiveServer]:
    # A long gathering window makes batches of many requests certain, not a matter of timing.
    yield from live_server(make_settings(model=tiny_model_dir, batch_size=16, batch_wait_ms=100.0))


async def _fire(base_url: str, bodies: list[dict]) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=base_url, timeout=120,
                                 limits=httpx.Limits(max_connections=N + 5)) as client:
        return await asyncio.gather(*(client.post("/v1/classify", json=b) for b in bodies))


def test_50_concurrent_requests_get_their_own_results(batching_server, tiny_predictor):
    texts = sample_texts(N)
    bodies = [{"text": t, "id": f"c-{i}", "options": OPTIONS[i % len(OPTIONS)]} for i, t in enumerate(texts)]
    before = batching_server.metrics()
    responses = asyncio.run(_fire(batching_server.base_url, bodies))
    after = batching_server.metrics()

    assert [r.status_code for r in responses] == [200] * N
    for i, (body, r) in enumerate(zip(bodies, responses, strict=True)):
        got = r.json()["predictions"]
        opts = OPTIONS[i % len(OPTIONS)]
        expected = tiny_predictor.predict([texts[i]], ids=[body["id"]], heads=opts.get("heads"),
                                          include_scores=opts.get("include_scores", True),
                                          thresholds=opts.get("thresholds"))
        assert_same_records(got, expected)

    # The texts really differ in their scores, so a swapped answer could not pass the check above.
    full = tiny_predictor.predict(texts)
    vectors = [tuple(rec["heads"]["sentiment"]["scores"].values()) + tuple(rec["heads"]["emotion"]["scores"].values())
               for rec in full]
    close = [(a, b) for a in range(N) for b in range(a + 1, N)
             if max(abs(x - y) for x, y in zip(vectors[a], vectors[b], strict=True)) <= 1e-3]
    assert len(close) <= 2, close  # duplicates-in-meaning aside, answers are distinguishable

    calls = after[("cxnlp_batch_size_texts_count", ())] - before.get(("cxnlp_batch_size_texts_count", ()), 0)
    texts_run = after[("cxnlp_batch_size_texts_sum", ())] - before.get(("cxnlp_batch_size_texts_sum", ()), 0)
    assert texts_run == N
    assert calls < N  # requests shared model calls
    assert after[("cxnlp_texts_in_flight", ())] == 0


def test_metrics_increase(server):
    before = server.metrics()
    key = ("cxnlp_http_requests_total", (("method", "POST"), ("route", "/v1/classify"), ("status", "200")))
    with server.client() as c:
        answers = [c.post("/v1/classify", json={"texts": ["التوصيل تأخر كثير", "خیلی ممنون از پشتیبانی"]}).json()
                   for _ in range(3)]
        c.post("/v1/classify", json={"text": ""})
    after = server.metrics()

    def delta(name, labels=()):
        return after.get((name, labels), 0.0) - before.get((name, labels), 0.0)

    assert delta(*key) == 3
    assert delta("cxnlp_http_requests_total", (("method", "POST"), ("route", "/v1/classify"), ("status", "422"))) == 1
    assert delta("cxnlp_http_request_duration_seconds_count", (("method", "POST"), ("route", "/v1/classify"))) == 4
    assert delta("cxnlp_texts_classified_total") == 6
    assert delta("cxnlp_batch_size_texts_sum") == 6
    expected_labels: dict[tuple, int] = {}
    for ans in answers:
        for rec in ans["predictions"]:
            for head, out in rec["heads"].items():
                for label in out["labels"]:
                    k = (("head", head), ("label", label))
                    expected_labels[k] = expected_labels.get(k, 0) + 1
    for labels, count in expected_labels.items():
        assert delta("cxnlp_predicted_labels_total", labels) == count
    assert after[("cxnlp_model_ready", ())] == 1
