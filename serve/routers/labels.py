"""`GET /v1/labels`: the taxonomy of the served model, so clients need no copy of the YAML."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from serve.dependencies import require_model
from serve.model_state import ModelState
from serve.schemas import ErrorResponse, LabelsResponse

router = APIRouter(prefix="/v1", tags=["model"])


@router.get("/labels", response_model=LabelsResponse, response_model_exclude_none=True, summary="The label schema",
            responses={503: {"model": ErrorResponse, "description": "Model not loaded."}})
async def labels(state: ModelState = Depends(require_model)) -> dict:
    """Heads (kind, description) and their labels, in the order the model uses."""
    assert state.predictor is not None
    return state.predictor.taxonomy.to_dict()
