"""`cxnlp serve MODEL` and `uvicorn serve.app:app` as real processes, and what they log."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from cxnlp.cli import app as cli_app
from tests.serve.conftest import API_KEYS, free_port

# Feedback that must never reach the logs unless texts are allowed there.
SECRET = "رقم حسابي ٤٤٥٥٦٦ والموظف سعيد ما رد"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CXNLP_")}
    env.update({"HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", **extra})
    return env


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "wb") as fh:
        return subprocess.Popen(args, env=env, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def _wait_ready(base: str, timeout: float = 180.0, proc: subprocess.Popen | None = None,
                log: Path | None = None) -> None:
    """Wait for /readyz to answer 200, failing at once if the server process `proc` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"not ready after {timeout} s" + (f":\n{log.read_text(errors='replace')}" if log else ""))


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def test_cxnlp_serve_logs_json_without_texts(tiny_model_dir, tmp_path):
    """The command line as a user runs it: a separate process, options reaching the
    settings, JSON logs on stderr in which the feedback text never appears."""
    port, log = free_port(), tmp_path / "cxnlp-serve.log"
    proc = _start([sys.executable, "-m", "cxnlp", "serve", str(tiny_model_dir), "--port", str(port),
                   "--max-texts", "8"], _env(), log)
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_ready(base, proc=proc, log=log)
        r = httpx.post(f"{base}/v1/classify", json={"text": SECRET, "id": "x1"}, timeout=60)
        assert r.status_code == 200, r.text
        assert r.json()["predictions"][0]["id"] == "x1"
        assert httpx.get(f"{base}/v1/model", timeout=60).json()["limits"]["max_texts"] == 8
        assert httpx.post(f"{base}/v1/classify", json={"texts": [SECRET] * 9}, timeout=60).status_code == 422
    finally:
        _stop(proc)
    assert proc.returncode == 0  # a clean shutdown on SIGINT

    text = log.read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert records[0]["logger"] == "uvicorn.error"  # JSON from uvicorn's very first line
    access = [r for r in records if r.get("logger") == "serve.access" and r.get("route") == "/v1/classify"]
    assert sorted(r["status"] for r in access) == [200, 422]
    assert all({"request_id", "duration_ms", "method", "time", "level"} <= set(r) for r in access)
    assert any(r.get("message") == "model ready" for r in records)
    assert SECRET not in text and "٤٤٥٥٦٦" not in text


def test_uvicorn_serve_app_reads_the_environment(tiny_model_dir, monkeypatch, caplog):
    """`uvicorn serve.app:app`: the import string, settings from CXNLP_* variables (model,
    API keys, texts allowed in logs), served by uvicorn on loopback."""
    import uvicorn

    import serve.app

    monkeypatch.delattr(serve.app, "app", raising=False)  # built on first access, from the environment
    for key in [k for k in os.environ if k.startswith("CXNLP_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("CXNLP_MODEL", str(tiny_model_dir))
    monkeypatch.setenv("CXNLP_API_KEYS", " , ".join(API_KEYS))
    monkeypatch.setenv("CXNLP_LOG_TEXTS", "true")
    monkeypatch.setenv("CXNLP_CONFIGURE_LOGGING", "false")  # leave the test process's logging alone
    port = free_port()
    server = uvicorn.Server(uvicorn.Config("serve.app:app", host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    caplog.set_level(logging.INFO, logger="serve")
    thread.start()
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_ready(base, timeout=120)
        assert httpx.post(f"{base}/v1/classify", json={"text": SECRET}, timeout=60).status_code == 401
        r = httpx.post(f"{base}/v1/classify", json={"text": SECRET}, headers={"X-API-Key": API_KEYS[1]}, timeout=60)
        assert r.status_code == 200, r.text
    finally:
        server.should_exit = True
        thread.join(30)
        application = vars(serve.app).pop("app", None)  # do not keep a model alive for later tests
    assert application is not None and application.state.settings.model == tiny_model_dir
    assert any(getattr(rec, "texts", None) == [SECRET] for rec in caplog.records)  # the operator allowed it


def test_cxnlp_serve_refuses_a_non_model_directory(tmp_path):
    result = CliRunner().invoke(cli_app, ["serve", str(tmp_path)])
    assert result.exit_code == 2
    assert "not a cxnlp model directory" in result.output
    result = CliRunner().invoke(cli_app, ["serve", str(tmp_path / "missing")])
    assert result.exit_code == 2
    assert "not found" in result.output
