"""Probes and metrics: open without an API key, for orchestrators and scrapers."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from serve.dependencies import get_metrics, get_model_state
from serve.metrics import Metrics
from serve.model_state import ModelState
from serve.schemas import HealthResponse, ReadyResponse

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=HealthResponse, summary="Liveness")
async def healthz() -> HealthResponse:
    """The process is up and its event loop answers (the model may still be loading)."""
    return HealthResponse(status="ok")


@router.get("/readyz", response_model=ReadyResponse, summary="Readiness",
            responses={503: {"model": ReadyResponse, "description": "Model not loaded (yet)."}})
async def readyz(state: ModelState = Depends(get_model_state)) -> JSONResponse:
    """200 once the model is loaded and warmed up; 503 before that or if loading failed."""
    if state.ready:
        return JSONResponse(ReadyResponse(status="ready", model=state.model_id).model_dump(exclude_none=True))
    reason = {"no_model": "no model is configured (set CXNLP_MODEL)", "loading": "the model is loading",
              "failed": f"the model failed to load: {state.error}"}.get(state.status)
    return JSONResponse(ReadyResponse(status=state.status, reason=reason).model_dump(exclude_none=True),
                        status_code=503)


@router.get("/metrics", summary="Prometheus metrics",
            responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}})
async def metrics(request: Request, m: Metrics = Depends(get_metrics)) -> Response:
    """Requests, latency, micro-batch sizes, queue depth and predicted-label counts."""
    return Response(m.exposition(), media_type=m.content_type)
