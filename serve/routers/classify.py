"""`POST /v1/classify`: texts in, prediction records out, in input order.

The router checks the request (shape by pydantic, content in `serve.validation`), hands
the texts to the micro-batcher and returns the `Predictor.predict` records unchanged
apart from the client ids, so the HTTP answer is the Python answer.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from serve.batching import MicroBatcher, Overloaded, PredictOptions, ShuttingDown
from serve.dependencies import get_batcher, get_metrics, get_settings, require_model
from serve.errors import ApiError
from serve.metrics import Metrics
from serve.model_state import ModelState
from serve.schemas import ClassifyRequest, ClassifyResponse, ErrorResponse
from serve.settings import Settings
from serve.validation import check_options, check_texts

router = APIRouter(prefix="/v1", tags=["classify"])
logger = logging.getLogger("serve.classify")

_ERRORS = {
    400: {"model": ErrorResponse, "description": "Invalid JSON or invalid UTF-8."},
    401: {"model": ErrorResponse, "description": "Missing or invalid API key (when keys are configured)."},
    413: {"model": ErrorResponse, "description": "Request body too large."},
    415: {"model": ErrorResponse, "description": "Not `application/json`."},
    422: {"model": ErrorResponse, "description": "Invalid request: empty or too long text, too many texts, "
                                                 "unknown head or label, bad threshold, forbidden characters."},
    503: {"model": ErrorResponse, "description": "Model not ready, or queue full (see Retry-After)."},
}


@router.post("/classify", response_model=ClassifyResponse, summary="Classify feedback texts", responses=_ERRORS)
async def classify(
    body: ClassifyRequest,
    request: Request,
    state: ModelState = Depends(require_model),
    settings: Settings = Depends(get_settings),
    batcher: MicroBatcher = Depends(get_batcher),
    metrics: Metrics = Depends(get_metrics),
) -> JSONResponse:
    """Tag one text (`text`) or several (`texts`, at most `max_texts`) with every head of the
    taxonomy (or `options.heads`). Each record has the detected language and variety and, per
    head, `labels` (and `label` for single-label heads), calibrated `scores`, `expected` for
    ordinal heads and, when asked, `evidence`: the words that drove each predicted label.
    """
    texts = check_texts(body, settings)
    assert state.predictor is not None
    heads, thresholds = check_options(body.options, texts, state.predictor.taxonomy, settings)
    request.state.n_texts = len(texts)
    if settings.log_texts:
        logger.info("classify request", extra={"request_id": request.state.request_id, "texts": texts})
    options = PredictOptions.make(heads, body.options.include_scores, body.options.include_evidence, thresholds)
    try:
        records = await batcher.submit(texts, options)
    except Overloaded as exc:
        metrics.rejected.labels(reason="queue_full").inc()
        raise ApiError(503, "overloaded", f"the service is busy ({exc}); retry after "
                       f"{settings.retry_after_seconds} s", headers={"Retry-After": str(settings.retry_after_seconds)}
                       ) from None
    except ShuttingDown as exc:
        raise ApiError(503, "unavailable", str(exc), headers={"Retry-After": str(settings.retry_after_seconds)}
                       ) from None
    metrics.texts.inc(len(records))
    metrics.count_labels(records)
    ids = body.all_ids()
    if ids is not None:
        records = [{"id": cid, **rec} for cid, rec in zip(ids, records, strict=True)]
    return JSONResponse({"model": state.model_id, "predictions": records})
