"""`cxnlp serve MODEL`: run the classify service on a model directory.

The library must not import the service package (`serve/` depends on `cxnlp`, not the
other way round), so this command only checks the model directory, puts the options into
the `CXNLP_*` environment that the service's settings read, and starts uvicorn with the
import string `serve.app:create_app`. The same environment reaches every worker process.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import typer

from cxnlp.model_dir import ModelDirectoryError, load_meta

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def serve(
    model: Path = typer.Argument(..., help="Model directory written by `cxnlp train` (transformer or linear)."),
    host: str = typer.Option("127.0.0.1", help="Interface to listen on (0.0.0.0 for all)."),
    port: int = typer.Option(8000, min=0, max=65535, help="TCP port."),
    workers: int = typer.Option(1, min=1, help="Worker processes; each loads its own copy of the model."),
    threads: int | None = typer.Option(None, min=1, help="Torch threads per worker (default: torch's choice)."),
    max_texts: int | None = typer.Option(None, min=1, help="Most texts per request (default 64)."),
    batch_size: int | None = typer.Option(None, min=1, help="Most texts per model call (default 32)."),
    model_batch_size: int | None = typer.Option(None, min=1,
                                                help="Texts per padded forward pass within a call (default 8)."),
    batch_wait_ms: float | None = typer.Option(None, min=0.0, help="Micro-batch gathering time (default 5 ms)."),
    queue_limit: int | None = typer.Option(None, min=1, help="Most texts queued before 503 (default 256)."),
    log_level: str = typer.Option("info", help="critical, error, warning, info or debug."),
    log_texts: bool = typer.Option(False, "--log-texts", help="Allow feedback texts in logs (customer data!)."),
) -> None:
    """Serve MODEL over HTTP (POST /v1/classify, GET /v1/labels, /v1/model, /healthz, /readyz, /metrics).

    API keys, CORS origins and the other limits come from the environment
    (CXNLP_API_KEYS, CXNLP_CORS_ORIGINS, ...; see docs/serve.md).
    """
    if log_level.lower() not in LOG_LEVELS:
        typer.secho(f"--log-level must be one of {', '.join(LOG_LEVELS)}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    try:
        load_meta(model)
    except ModelDirectoryError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    try:
        import uvicorn
    except ImportError:
        typer.secho('the service needs its extra dependencies: pip install "cxnlp[serve]"', fg=typer.colors.RED,
                    err=True)
        raise typer.Exit(2) from None

    env = {
        "CXNLP_MODEL": str(model.resolve()),
        "CXNLP_LOG_LEVEL": log_level.lower(),
        "CXNLP_NUM_THREADS": threads,
        "CXNLP_MAX_TEXTS": max_texts,
        "CXNLP_BATCH_SIZE": batch_size,
        "CXNLP_MODEL_BATCH_SIZE": model_batch_size,
        "CXNLP_BATCH_WAIT_MS": batch_wait_ms,
        "CXNLP_QUEUE_LIMIT": queue_limit,
        "CXNLP_LOG_TEXTS": "true" if log_texts else None,
    }
    for key, value in env.items():
        if value is not None:
            os.environ[key] = str(value)
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each worker is a process with its own counters; /metrics aggregates them through
        # files in this directory (read by prometheus-client when the workers start).
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="cxnlp-metrics-")
    # Library warnings become log records, so they reach the JSON handler like the rest.
    logging.captureWarnings(True)
    uvicorn.run(
        "serve.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # uvicorn restarts a worker that misses a health ping for this long; importing torch
        # and transformers on a busy machine takes longer than its default of 5 s.
        timeout_worker_healthcheck=60,
        log_level=log_level.lower(),
        log_config=_log_config(log_level.lower()),
        # The service logs one JSON line per request itself (without the query string).
        access_log=False,
    )


def _log_config(level: str) -> dict:
    """uvicorn's logging, as JSON from the first line. The formatter is named by import
    string, like the app, so this package still does not import the service."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "serve.logs.json_formatter"}},
        "handlers": {"json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["json"], "level": "WARNING"},
        "loggers": {
            "uvicorn": {"handlers": [], "level": level.upper(), "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},
        },
    }
