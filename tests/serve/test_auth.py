"""API keys: off by default; when set, every /v1 request needs one, probes stay open."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from serve.dependencies import key_matches
from tests.serve.conftest import API_KEYS, LiveServer, assert_error, live_server, make_settings

V1 = [("POST", "/v1/classify", {"text": "الخدمة ممتازة"}), ("GET", "/v1/labels", None), ("GET", "/v1/model", None)]


@pytest.fixture(scope="module")
def auth_server(tiny_model_dir) -> Iterator[LiveServer]:
    yield from live_server(make_settings(model=tiny_model_dir, api_keys=API_KEYS))


@pytest.mark.parametrize(("method", "path", "body"), V1)
def test_v1_needs_a_key(auth_server, method, path, body):
    with auth_server.client() as c:
        missing = c.request(method, path, json=body)
        wrong = c.request(method, path, json=body, headers={"Authorization": "Bearer k-alpha-7f3"})
        wrong_header = c.request(method, path, json=body, headers={"X-API-Key": "nope"})
        basic = c.request(method, path, json=body, headers={"Authorization": "Basic azphbHBoYQ=="})
        bearer = c.request(method, path, json=body, headers={"Authorization": f"Bearer {API_KEYS[0]}"})
        header = c.request(method, path, json=body, headers={"X-API-Key": API_KEYS[1]})
    assert_error(missing, 401, "missing_api_key")
    assert missing.headers["www-authenticate"] == "Bearer"
    assert_error(wrong, 401, "invalid_api_key")
    assert_error(wrong_header, 401, "invalid_api_key")
    assert_error(basic, 401, "missing_api_key")
    assert bearer.status_code == 200, bearer.text
    assert header.status_code == 200, header.text


def test_probes_and_metrics_stay_open(auth_server):
    with auth_server.client() as c:
        assert c.get("/healthz").status_code == 200
        assert c.get("/readyz").status_code == 200
        assert c.get("/metrics").status_code == 200


def test_no_keys_means_no_auth(server):
    with server.client() as c:
        for method, path, body in V1:
            assert c.request(method, path, json=body).status_code == 200


def test_key_matching():
    assert key_matches("k-beta-91d2", API_KEYS)
    assert not key_matches("k-beta-91d", API_KEYS)  # a prefix is not a key
    assert not key_matches("", API_KEYS)
    assert not key_matches("k-alpha-7f3c", [])
