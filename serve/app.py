"""The FastAPI application: `create_app(settings)` builds one; `serve.app:app` is the default.

`uvicorn serve.app:app` reads its settings (and the model path, `CXNLP_MODEL`) from the
environment; `cxnlp serve MODEL` starts uvicorn with the factory
`serve.app:create_app`. The module-level `app` is built on first access, so importing
this module (tests, other apps) neither reads the environment nor fails on it.

Start-up order: the process answers `/healthz` at once; the model loads and warms up in
the model thread; `/readyz` turns 200 and `/v1/*` start answering when it is ready.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from cxnlp import __version__
from serve.batching import MicroBatcher
from serve.dependencies import require_api_key
from serve.errors import install_error_handlers
from serve.logs import configure_logging
from serve.metrics import Metrics
from serve.middleware import BodyGuard, RequestObserver
from serve.model_state import ModelState
from serve.routers import classify, health, labels, model
from serve.settings import Settings

DESCRIPTION = """
Tags Arabic and Persian customer feedback with emotion, sentiment, effort, expectation,
execution, complaint categories, journey stage and a triage signal.

* `POST /v1/classify` with `{"text": "..."}` or `{"texts": [...]}`.
* When the service has API keys (`CXNLP_API_KEYS`), send `Authorization: Bearer <key>`
  or `X-API-Key: <key>` with every `/v1` request.
* Every error has the body `{"error": {"code", "message", "field"}}`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service. Without `settings`, they are read from `CXNLP_*` variables."""
    settings = settings if settings is not None else Settings()
    metrics = Metrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.configure_logging:
            configure_logging(settings.log_level)
        # One model thread: torch already spreads a call over the cores, and one caller
        # at a time keeps the predictor free of concurrent use.
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cxnlp-model")
        state: ModelState = app.state.model
        batcher = MicroBatcher(state.predict, executor, metrics, batch_size=settings.batch_size,
                               wait_s=settings.batch_wait_ms / 1000.0, queue_limit=settings.queue_limit)
        batcher.start()
        app.state.batcher = batcher
        loading = asyncio.create_task(state.load(settings, executor, metrics)) if settings.model else None
        try:
            yield
        finally:
            app.state.batcher = None
            await batcher.stop()
            if loading is not None and not loading.done():
                loading.cancel()
            executor.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(
        title="cxnlp classify service",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_tags=[
            {"name": "classify", "description": "Tag feedback texts."},
            {"name": "model", "description": "What the served model predicts and how well."},
            {"name": "operations", "description": "Probes and metrics (no API key needed)."},
        ],
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.model = ModelState()
    app.state.batcher = None

    install_error_handlers(app)
    v1: dict[str, Any] = {"dependencies": [Depends(require_api_key)]}
    app.include_router(classify.router, **v1)
    app.include_router(labels.router, **v1)
    app.include_router(model.router, **v1)
    app.include_router(health.router)

    # Added innermost first: RequestObserver sees every response, including CORS
    # preflights and BodyGuard's refusals.
    app.add_middleware(BodyGuard, max_body_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "X-API-Key", "Content-Type", "X-Request-ID"],
                           expose_headers=["X-Request-ID", "Retry-After"], max_age=600)
    app.add_middleware(RequestObserver, metrics=metrics)
    return app


def __getattr__(name: str) -> Any:
    # `uvicorn serve.app:app` looks up `app`; building it here rather than at import
    # time keeps `from serve.app import create_app` free of side effects.
    if name == "app":
        application = create_app()
        globals()["app"] = application
        return application
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
