"""`GET /v1/model`: what is answering: model card metadata, version, metrics, limits."""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Depends

from cxnlp import __version__
from serve.dependencies import get_settings, require_model
from serve.model_state import ModelState
from serve.schemas import ErrorResponse, Limits, ModelResponse
from serve.settings import Settings

router = APIRouter(prefix="/v1", tags=["model"])


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity; metrics of a tiny dev split can contain them."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


@router.get("/model", response_model=ModelResponse, summary="The served model",
            responses={503: {"model": ErrorResponse, "description": "Model not loaded."}})
async def model(state: ModelState = Depends(require_model), settings: Settings = Depends(get_settings)) -> ModelResponse:
    """Type, backbone, taxonomy, provenance, evaluation metrics and model card of the loaded
    model, with the request limits of this service."""
    p = state.predictor
    assert p is not None and state.model_id is not None
    card_file = p.path / "README.md"
    meta = p.meta
    return ModelResponse(
        id=state.model_id, type=meta.model_type, format_version=meta.format_version, backbone=meta.backbone,
        blend=p.blend_weights,
        max_length=meta.max_length, taxonomy={"name": p.taxonomy.name, "version": p.taxonomy.version},
        created_at=meta.created_at, git_commit=meta.git_commit, data_fingerprint=meta.data_fingerprint,
        versions=meta.versions, metrics=_finite(p.metrics),
        card=card_file.read_text(encoding="utf-8") if card_file.exists() else None,
        cxnlp_version=__version__,
        limits=Limits(max_texts=settings.max_texts, max_text_chars=settings.max_text_chars,
                      max_body_bytes=settings.max_body_bytes, evidence_max_words=settings.evidence_max_words),
    )
