"""Property-based fuzzing of POST /v1/classify over real HTTP: no input gives a 5xx.

Bodies come from three generators: shaped like the request schema but with hostile values
(wrong types, nulls, unknown heads, out-of-range thresholds, control characters,
surrogates), arbitrary JSON, and arbitrary bytes. Every answer must be 200 with one
valid record per text, or a 4xx in the common error shape. A fourth property checks the
other direction: every valid request is answered with 200.
"""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serve.schemas import ClassifyResponse
from tests.serve.conftest import LiveServer

HEADS = ["emotion", "sentiment", "effort", "expectation", "execution", "complaint", "journey", "signal"]
LABELS = ["delay", "anger", "negative", "high", "pricing", "neutral"]
SEEDS = ["الطلب تأخر ثلاث أيام", "سفارشم هنوز نرسیده", "ok", "١٠", "مرسی 🙏", "wallah el service 7elw"]

FUZZ = settings(max_examples=120, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
# Any code point, surrogates and controls included, mixed with real feedback.
wild_text = st.text(st.characters(codec=None), max_size=60) | st.sampled_from(SEEDS) | st.builds(
    lambda a, b: a + b, st.sampled_from(SEEDS), st.text(st.characters(codec=None), max_size=10))
options = st.fixed_dictionaries({}, optional={
    "heads": st.lists(st.sampled_from([*HEADS, "nope", ""]), max_size=4) | json_values,
    "include_scores": st.booleans() | json_values,
    "include_evidence": st.booleans(),
    "thresholds": st.dictionaries(st.sampled_from([*HEADS, "x"]), st.dictionaries(
        st.sampled_from([*LABELS, "y"]), st.floats() | st.integers(-2, 2) | json_scalars, max_size=3), max_size=3)
    | json_values,
    "colour": json_values,
})
shaped = st.fixed_dictionaries({}, optional={
    "text": wild_text | json_values,
    "texts": st.lists(wild_text | json_values, max_size=5) | json_values,
    "id": st.text(max_size=10) | st.integers() | json_values,
    "ids": st.lists(st.text(max_size=5) | st.integers(), max_size=5) | json_values,
    "options": options | json_values,
})


def _check(r: httpx.Response, sent: object) -> None:
    assert r.status_code < 500, (r.status_code, r.text, sent)
    body = r.json()
    if r.status_code == 200:
        parsed = ClassifyResponse.model_validate(body)
        n = 1 if isinstance(sent, dict) and isinstance(sent.get("text"), str) else len(sent["texts"])  # type: ignore[index]
        assert len(parsed.predictions) == n
    else:
        assert 400 <= r.status_code < 500
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "field"}, body


@pytest.fixture(scope="module")
def client(server: LiveServer):
    with server.client() as c:
        yield c


@FUZZ
@given(body=shaped)
def test_schema_shaped_bodies(client, body):
    raw = json.dumps(body).encode()  # ensure_ascii: surrogates travel as \\udXXX escapes
    _check(client.post("/v1/classify", content=raw, headers={"content-type": "application/json"}), body)


@FUZZ
@given(body=json_values)
def test_arbitrary_json(client, body):
    raw = json.dumps(body, ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")
    _check(client.post("/v1/classify", content=raw, headers={"content-type": "application/json"}), body)


@FUZZ
@given(raw=st.binary(max_size=200) | st.builds(lambda b, p: p + b, st.binary(max_size=40),
                                                st.sampled_from([b'{"text": "', b'{"texts": [', b"{"])),
       content_type=st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain", ""]))
def test_arbitrary_bytes(client, raw, content_type):
    r = client.post("/v1/classify", content=raw, headers={"content-type": content_type} if content_type else {})
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert set(r.json()["error"]) == {"code", "message", "field"}


valid_text = st.text(st.characters(exclude_categories=["Cs", "Cc", "Cf", "Cn", "Co"]), min_size=1,
                     max_size=80).filter(lambda t: t.strip())


@FUZZ
@given(texts=st.lists(valid_text | st.sampled_from(SEEDS), min_size=1, max_size=6),
       heads=st.none() | st.lists(st.sampled_from(HEADS), min_size=1, max_size=3),
       include_scores=st.booleans(),
       threshold=st.none() | st.floats(0.0, 1.0))
def test_every_valid_request_is_answered(client, texts, heads, include_scores, threshold):
    opts: dict = {"include_scores": include_scores}
    if heads is not None:
        opts["heads"] = heads
    if threshold is not None:
        opts["thresholds"] = {"complaint": {"delay": threshold}}
    r = client.post("/v1/classify", json={"texts": texts, "ids": list(range(len(texts))), "options": opts})
    assert r.status_code == 200, r.text
    preds = r.json()["predictions"]
    assert [p["id"] for p in preds] == list(range(len(texts)))
    assert all(list(p["heads"]) == list(dict.fromkeys(heads or HEADS)) for p in preds)
