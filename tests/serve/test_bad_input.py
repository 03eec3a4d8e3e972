"""Bad input never becomes a 500: each case of the issue gets a 4xx in the common error shape."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.serve.conftest import LiveServer, assert_error, live_server, make_settings

JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def small_limits(tiny_model_dir) -> Iterator[LiveServer]:
    """Tight limits so that limit errors are cheap to provoke."""
    yield from live_server(make_settings(model=tiny_model_dir, max_texts=4, max_text_chars=200, max_body_bytes=4096,
                                         evidence_max_words=30, queue_limit=4))


BAD_JSON_BODIES = [
    # (body, status, code, field)
    ({"text": ""}, 422, "empty_text", "text"),
    ({"text": "   \n\t "}, 422, "empty_text", "text"),
    ({"text": "\u200f \u200c"}, 422, "empty_text", "text"),  # only direction mark and ZWNJ
    ({"texts": ["سلام", " "]}, 422, "empty_text", "texts[1]"),
    ({"text": None}, 422, "null_value", "text"),
    ({"texts": None}, 422, "null_value", "texts"),
    ({"texts": ["ok", None]}, 422, "invalid_type", "texts[1]"),
    ({"text": 5}, 422, "invalid_type", "text"),
    ({"text": 5.5}, 422, "invalid_type", "text"),
    ({"text": True}, 422, "invalid_type", "text"),
    ({"texts": [1, 2]}, 422, "invalid_type", "texts[0]"),
    ({"text": {"text": "nested"}}, 422, "invalid_type", "text"),
    ({"texts": [["nested"]]}, 422, "invalid_type", "texts[0]"),
    ({"texts": "not a list"}, 422, "invalid_type", "texts"),
    ({"texts": []}, 422, "empty_list", "texts"),
    ({}, 422, "missing_text", None),
    ({"text": "a", "texts": ["b"]}, 422, "ambiguous_input", None),
    ({"text": "a", "extra": 1}, 422, "unknown_field", "extra"),
    ({"texts": ["a", "b"], "ids": [1]}, 422, "id_mismatch", "ids"),
    ({"texts": ["a"], "id": "x"}, 422, "id_mismatch", "id"),
    ({"text": "a", "id": {"x": 1}}, 422, "invalid_type", "id"),
    ({"text": "a", "id": "x" * 300}, 422, "id_too_long", "id"),
    ({"text": "a\u202eb"}, 422, "invalid_characters", "text"),  # right-to-left override
    ({"text": "a\u2067b"}, 422, "invalid_characters", "text"),  # right-to-left isolate
    ({"text": "a\x00b"}, 422, "invalid_characters", "text"),
    ({"text": "a\x1bb"}, 422, "invalid_characters", "text"),
    ({"text": "a\x85b"}, 422, "invalid_characters", "text"),  # C1 control
    ({"text": "a\ud800b"}, 422, "invalid_characters", "text"),  # lone surrogate via \\ud800 escape
    ({"text": "x" * 201}, 422, "text_too_long", "text"),
    ({"texts": ["a"] * 5}, 422, "too_many_texts", "texts"),
    ({"text": "a", "options": {"heads": ["nope"]}}, 422, "unknown_head", "options.heads[0]"),
    ({"text": "a", "options": {"heads": []}}, 422, "too_short", "options.heads"),
    ({"text": "a", "options": {"heads": "sentiment"}}, 422, "invalid_type", "options.heads"),
    ({"text": "a", "options": {"include_scores": "yes"}}, 422, "invalid_type", "options.include_scores"),
    ({"text": "a", "options": {"colour": 1}}, 422, "unknown_field", "options.colour"),
    ({"text": "a", "options": {"thresholds": {"sentiment": {"negative": 0.5}}}}, 422, "not_multilabel",
     "options.thresholds.sentiment"),
    ({"text": "a", "options": {"thresholds": {"complaint": {"nope": 0.5}}}}, 422, "unknown_label",
     "options.thresholds.complaint.nope"),
    ({"text": "a", "options": {"thresholds": {"complaint": {"delay": 1.5}}}}, 422, "invalid_threshold",
     "options.thresholds.complaint.delay"),
    ({"text": "a", "options": {"thresholds": {"complaint": {"delay": "0.5"}}}}, 422, "invalid_type",
     "options.thresholds.complaint.delay"),
    ({"text": "a", "options": {"thresholds": {"nohead": {"x": 0.5}}}}, 422, "unknown_head",
     "options.thresholds.nohead"),
    ({"text": " ".join(["كلمة"] * 31), "options": {"include_evidence": True}}, 422, "evidence_too_long",
     "options.include_evidence"),
    ([{"text": "a list, not an object"}], 422, "invalid_type", None),
    ("just a string", 422, "invalid_type", None),
]


@pytest.mark.parametrize(("body", "status", "code", "field"), BAD_JSON_BODIES,
                         ids=[f"{i}-{case[2]}" for i, case in enumerate(BAD_JSON_BODIES)])
def test_bad_json_bodies(small_limits, body, status, code, field):
    with small_limits.client() as c:
        r = c.post("/v1/classify", content=json.dumps(body).encode(), headers=JSON)
    err = assert_error(r, status, code, field)
    if code in ("text_too_long", "too_many_texts", "evidence_too_long"):
        assert any(limit in err["message"] for limit in ("200", "4 per request", "30 words")), err["message"]


RAW_BODIES = [
    (b'{"text": "unterminated', JSON, 400, "invalid_json"),
    (b'{"text": "a",}', JSON, 400, "invalid_json"),
    (b"", JSON, 422, "empty_body"),
    (b'{"text": ' + b"[" * 2000 + b"]" * 2000 + b"}", JSON, 400, "invalid_json"),  # beyond the parser's depth
    (b'{"text": "\xd8\xa7\xff\xfe"}', JSON, 400, "invalid_utf8"),
    (b'{"text": "\xed\xa0\x80"}', JSON, 400, "invalid_utf8"),  # an encoded surrogate is not UTF-8
    (b'{"text": NaN}', JSON, 422, "invalid_type"),
    (b'{"text": "a"}', {"content-type": "text/plain"}, 415, "unsupported_media_type"),
    (b'{"text": "a"}', {"content-type": "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"),
    (b'{"text": "a"}', {"content-type": "application/json; charset=latin-1"}, 415, "unsupported_media_type"),
    (b'{"text": "a"}', {}, 415, "unsupported_media_type"),
    (b'{"text": "' + b"a" * 5000 + b'"}', JSON, 413, "payload_too_large"),
]


@pytest.mark.parametrize(("body", "headers", "status", "code"), RAW_BODIES,
                         ids=[f"{i}-{case[3]}" for i, case in enumerate(RAW_BODIES)])
def test_bad_raw_bodies(small_limits, body, headers, status, code):
    with small_limits.client() as c:
        r = c.post("/v1/classify", content=body, headers=headers)
    err = assert_error(r, status, code)
    if code == "payload_too_large":
        assert "4096" in err["message"]


def test_chunked_body_over_the_limit_is_refused_while_streaming(small_limits):
    """No Content-Length: the guard counts bytes as they arrive."""

    def chunks():
        yield b'{"text": "'
        for _ in range(100):
            yield b"a" * 100
        yield b'"}'

    with small_limits.client() as c:
        r = c.post("/v1/classify", content=chunks(), headers=JSON)
    assert "content-length" not in r.request.headers
    assert_error(r, 413, "payload_too_large")


def test_accepted_edge_cases(small_limits):
    """What the checks must not refuse: JSON content types with parameters, UTF-8 BOM,
    direction marks and ZWNJ inside real text, limits reached exactly."""
    with small_limits.client() as c:
        ok = [
            c.post("/v1/classify", content=json.dumps({"text": "سلام"}).encode(),
                   headers={"content-type": "application/json; charset=UTF-8"}),
            c.post("/v1/classify", content=b"\xef\xbb\xbf" + json.dumps({"text": "سلام"}).encode(), headers=JSON),
            c.post("/v1/classify", json={"text": "\u200fمی\u200cخواهم سفارشم رو لغو کنم"}),
            c.post("/v1/classify", json={"text": "x" * 200}),
            c.post("/v1/classify", json={"texts": ["a", "b", "c", "d"]}),
        ]
    for r in ok:
        assert r.status_code == 200, r.text


def test_queue_full_gives_503_with_retry_after(small_limits):
    """While 4 texts (the queue limit) are being classified, any further text is refused at
    once, and the refused client is told when to come back."""
    heavy = {"texts": [" ".join(["التوصيل تأخر"] * 3)] * 4, "options": {"include_evidence": True}}
    done = threading.Event()
    result: dict[str, httpx.Response] = {}

    def send_heavy() -> None:
        with small_limits.client() as c:
            for _ in range(1000):  # refused while a probe holds a slot: try again
                result["heavy"] = c.post("/v1/classify", json=heavy)
                if result["heavy"].status_code != 503:
                    break
        done.set()

    refused = None
    with small_limits.client() as c:
        worker = threading.Thread(target=send_heavy)
        worker.start()
        deadline = time.monotonic() + 60
        while not done.is_set() and time.monotonic() < deadline:
            r = c.post("/v1/classify", json={"text": "سلام"})
            if r.status_code == 503:
                refused = r
                break
        worker.join(60)
    assert refused is not None, "no request was refused while the queue was full"
    err = assert_error(refused, 503, "overloaded")
    assert "queue" in err["message"]
    assert int(refused.headers["retry-after"]) >= 1
    assert result["heavy"].status_code == 200  # the admitted request is unaffected
    assert small_limits.metrics()[("cxnlp_requests_rejected_total", (("reason", "queue_full"),))] >= 1
