"""Fixtures for the service tests: the real app under uvicorn on 127.0.0.1, a random port.

Servers run in a thread of the test process (started and stopped per module), so a test
talks HTTP to exactly the code that `uvicorn serve.app:app` runs; the subprocess tests in
test_cli.py cover the two command lines themselves.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from prometheus_client.parser import text_string_to_metric_families

from cxnlp import Predictor
from serve.app import create_app
from serve.settings import Settings

API_KEYS = ["k-alpha-7f3c", "k-beta-91d2"]


def make_settings(**overrides: Any) -> Settings:
    """Settings from defaults and `overrides` only: a developer's CXNLP_* variables must
    not change what the tests test."""
    values = {name: f.get_default(call_default_factory=True) for name, f in Settings.model_fields.items()}
    values["configure_logging"] = False  # keep the test process's logging as pytest set it up
    values.update(overrides)
    return Settings(**values)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """`create_app(settings)` served by uvicorn in a background thread."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = create_app(settings)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_config=None,
                                                    access_log=False, lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, name=f"uvicorn-{self.port}", daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def wait_ready(self, timeout: float = 120.0) -> list[tuple[int, str]]:
        """Poll /readyz until 200; returns every (status code, status) seen on the way."""
        seen = []
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.base_url) as c:
            while time.monotonic() < deadline:
                r = c.get("/readyz")
                seen.append((r.status_code, r.json()["status"]))
                if r.status_code == 200 or r.json()["status"] == "failed":
                    return seen
                time.sleep(0.02)
        raise TimeoutError(f"not ready after {timeout} s: {seen[-1:]}")

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=60, **kwargs)

    def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """Current samples: {(sample name, sorted labels): value}."""
        with self.client() as c:
            text = c.get("/metrics").text
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for fam in text_string_to_metric_families(text) for s in fam.samples}

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def live_server(settings: Settings, ready: bool = True) -> Iterator[LiveServer]:
    srv = LiveServer(settings).start()
    try:
        if ready:
            status = srv.wait_ready()
            assert status[-1][0] == 200, status
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def server(tiny_model_dir: Path) -> Iterator[LiveServer]:
    """The tiny transformer model, no API keys, default limits. Forward passes as large as
    `Predictor.load`'s default, so a lone request computes exactly what `tiny_predictor` does."""
    yield from live_server(make_settings(model=tiny_model_dir, cors_origins=["https://cx.example"],
                                         model_batch_size=32))


@pytest.fixture(scope="session")
def tiny_predictor(tiny_model_dir: Path) -> Predictor:
    return Predictor.load(tiny_model_dir)


def sample_texts(n: int) -> list[str]:
    """n distinct corpus texts, Arabic and Persian interleaved."""
    from tests.conftest import corpus_records

    seen, out = set(), []
    for r in corpus_records(4 * n):
        if r["text"] not in seen:
            seen.add(r["text"])
            out.append(r["text"])
        if len(out) == n:
            break
    return out


def assert_error(response: httpx.Response, status: int, code: str | None = None, field: str | None = None) -> dict:
    """The common error shape, with the expected status (and code and field when given)."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert set(err) == {"code", "message", "field"}, err
    assert isinstance(err["code"], str) and isinstance(err["message"], str) and err["message"]
    if code is not None:
        assert err["code"] == code, err
    if field is not None:
        assert err["field"] == field, err
    return err


def assert_same_records(got: list[dict], expected: list[dict], tol: float = 1e-3) -> None:
    """Labels equal; scores equal up to float noise from different batch padding."""
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert g.get("id") == e.get("id")
        assert (g["lang"], g["variety"]) == (e["lang"], e["variety"])
        assert set(g["heads"]) == set(e["heads"])
        for head, out in e["heads"].items():
            assert g["heads"][head]["labels"] == out["labels"], head
            assert g["heads"][head].get("label") == out.get("label")
            assert set(g["heads"][head]) == set(out)
            for label, score in out.get("scores", {}).items():
                assert abs(g["heads"][head]["scores"][label] - score) <= tol, (head, label)
            if "expected" in out:
                assert abs(g["heads"][head]["expected"] - out["expected"]) <= tol
        assert ("evidence" in g) == ("evidence" in e)
