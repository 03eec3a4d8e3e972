"""Request and response models of the HTTP API; they are also its OpenAPI documentation.

Request models are strict (no coercion of numbers to strings, no unknown fields) so that a
client bug surfaces as a clear 422 instead of a quietly wrong answer. Response models
describe the prediction record of the architecture notes: the service returns
`Predictor.predict` records unchanged, so Python, HTTP and batch output agree.
Limits that depend on settings (texts per request, characters per text) are checked in
the classify router and reported by `GET /v1/model`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, model_validator
from pydantic_core import PydanticCustomError

ClientId = StrictStr | StrictInt

EXAMPLE_AR = "الطلب تأخر ثلاث أيام وكل مرة يحولوني لقسم ثاني وما حد يرد"
EXAMPLE_FA = "سفارشم هنوز نرسیده، سه بار زنگ زدم و هر بار یه چیز گفتن"
MAX_ID_CHARS = 256


# -- requests ------------------------------------------------------------------------------


class ClassifyOptions(BaseModel):
    """How to classify: which heads, and what to include in each record."""

    model_config = ConfigDict(extra="forbid", strict=True)

    heads: list[StrictStr] | None = Field(None, min_length=1, examples=[["sentiment", "complaint"]])
    """Only these heads (default: every head of the model's taxonomy)."""
    include_scores: bool = True
    """Add calibrated scores for every label of each head."""
    include_evidence: bool = False
    """Add, per predicted label, the words that drove it (occlusion; slower, limited in words)."""
    thresholds: dict[StrictStr, dict[StrictStr, StrictFloat | StrictInt]] | None = Field(
        None, examples=[{"complaint": {"delay": 0.3}}]
    )
    """Per-request thresholds for multilabel heads, `{head: {label: 0..1}}`, replacing the
    model's tuned thresholds for those labels only."""


class ClassifyRequest(BaseModel):
    """One text (`text`, optional `id`) or several (`texts`, optional `ids` of the same length)."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {"text": EXAMPLE_AR},
                {"texts": [EXAMPLE_AR, EXAMPLE_FA], "ids": ["survey-881", "app-review-17"],
                 "options": {"heads": ["sentiment", "complaint", "effort"], "include_evidence": True}},
            ]
        },
    )

    text: StrictStr | None = Field(None, examples=[EXAMPLE_FA])
    """A single feedback text."""
    texts: list[StrictStr] | None = Field(None, examples=[[EXAMPLE_AR, EXAMPLE_FA]])
    """Several feedback texts (at most `max_texts`, see `GET /v1/model`); answers keep this order."""
    id: ClientId | None = None
    """Your id for `text`, echoed in the prediction."""
    ids: list[ClientId] | None = None
    """Your ids for `texts`, one per text, echoed in the predictions."""
    options: ClassifyOptions = Field(default_factory=ClassifyOptions)
    """What to compute and return."""

    @model_validator(mode="after")
    def _one_form(self) -> ClassifyRequest:
        given = self.model_fields_set
        for name in ("text", "texts", "id", "ids"):
            if name in given and getattr(self, name) is None:
                raise PydanticCustomError("null_value", "{field} must not be null", {"field": name})
        if self.text is None and self.texts is None:
            raise PydanticCustomError("missing_text", "give `text` (one string) or `texts` (a list of strings)")
        if self.text is not None and self.texts is not None:
            raise PydanticCustomError("ambiguous_input", "give either `text` or `texts`, not both")
        if self.texts is not None:
            if not self.texts:
                raise PydanticCustomError("empty_list", "`texts` must contain at least one text", {"field": "texts"})
            if self.id is not None:
                raise PydanticCustomError("id_mismatch", "use `ids` (a list) with `texts`; `id` goes with `text`",
                                          {"field": "id"})
            if self.ids is not None and len(self.ids) != len(self.texts):
                raise PydanticCustomError("id_mismatch", "`ids` has {n_ids} items for {n_texts} texts",
                                          {"n_ids": len(self.ids), "n_texts": len(self.texts), "field": "ids"})
        elif self.ids is not None:
            raise PydanticCustomError("id_mismatch", "use `id` with `text`; `ids` (a list) goes with `texts`",
                                      {"field": "ids"})
        for i, cid in enumerate(self.all_ids() or []):
            if isinstance(cid, str) and len(cid) > MAX_ID_CHARS:
                raise PydanticCustomError("id_too_long", "id #{index} has {n} characters; the limit is {limit}",
                                          {"index": i, "n": len(cid), "limit": MAX_ID_CHARS,
                                           "field": "id" if self.text is not None else f"ids[{i}]"})
        return self

    def all_texts(self) -> list[str]:
        return [self.text] if self.text is not None else list(self.texts or [])

    def all_ids(self) -> list[str | int] | None:
        if self.text is not None:
            return None if self.id is None else [self.id]
        return None if self.ids is None else list(self.ids)

    def text_field(self, index: int) -> str:
        """Name of the request field holding text number `index`, for error messages."""
        return "text" if self.text is not None else f"texts[{index}]"


# -- prediction records --------------------------------------------------------------------


class HeadPrediction(BaseModel):
    """The decoded output of one head."""

    label: str | None = None
    """The label (multiclass and ordinal heads only)."""
    labels: list[str]
    """Predicted labels: any number for multilabel heads, exactly one otherwise."""
    scores: dict[str, float] | None = None
    """Calibrated score of every label (when `include_scores`)."""
    expected: float | None = None
    """Ordinal heads: expected position on the 0…n−1 scale."""


class EvidenceSpan(BaseModel):
    """A word of the original text that drove a predicted label."""

    text: str
    """The word as written in the request."""
    start: int
    """Start offset (characters) in the original text."""
    end: int
    """End offset (exclusive) in the original text."""
    weight: float
    """How much the label's score drops when the word is removed."""


class Prediction(BaseModel):
    """The prediction record, identical to `Predictor.predict` output."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{
                "id": "survey-881", "lang": "ar", "variety": "gulf", "variety_score": 0.71,
                "heads": {
                    "sentiment": {"label": "negative", "labels": ["negative"],
                                  "scores": {"negative": 0.93, "neutral": 0.03, "positive": 0.02, "mixed": 0.02}},
                    "effort": {"label": "high", "labels": ["high"],
                               "scores": {"low": 0.05, "medium": 0.2, "high": 0.75}, "expected": 1.7},
                    "complaint": {"labels": ["delay", "handoff"], "scores": {"delay": 0.88, "handoff": 0.71}},
                },
                "evidence": {"complaint:delay": [{"text": "تأخر", "start": 6, "end": 10, "weight": 0.42}]},
            }]
        }
    )

    id: ClientId | None = None
    """Your id, when given."""
    lang: str
    """Detected language: `ar`, `fa` or `other`."""
    variety: str | None
    """Detected variety (e.g. `gulf`, `egyptian`, `colloquial`)."""
    variety_score: float
    """Confidence of the variety guess (0…1)."""
    heads: dict[str, HeadPrediction]
    """One entry per requested head."""
    evidence: dict[str, list[EvidenceSpan]] | None = None
    """`head:label` → the words that drove it (when `include_evidence`)."""


class ClassifyResponse(BaseModel):
    """Predictions in the order of the request's texts."""

    model: str
    """Id of the model that answered (directory name and content hash)."""
    predictions: list[Prediction]
    """One record per input text, in input order."""


# -- other endpoints -----------------------------------------------------------------------


class LabelInfo(BaseModel):
    """One label of a head."""

    name: str
    """Identifier used in predictions."""
    description: str | None = None
    """What the label means."""


class HeadInfo(BaseModel):
    """One head of the taxonomy."""

    name: str
    """Identifier used in predictions and in `options.heads`."""
    kind: str
    """`multilabel`, `multiclass` or `ordinal`."""
    allow_empty: bool | None = None
    """Multilabel heads: whether an empty label set is a valid answer."""
    description: str | None = None
    """What the head measures."""
    labels: list[LabelInfo]
    """Labels in order (ordinal heads: low to high)."""


class LabelsResponse(BaseModel):
    """The taxonomy the served model predicts."""

    name: str
    """Taxonomy name."""
    version: str
    """Taxonomy version."""
    heads: list[HeadInfo]
    """The heads, in taxonomy order."""


class Limits(BaseModel):
    """Request limits enforced by this service."""

    max_texts: int
    """Most texts per request."""
    max_text_chars: int
    """Most characters per text."""
    max_body_bytes: int
    """Largest request body."""
    evidence_max_words: int
    """Most words (summed over a request) for which evidence may be asked."""


class ModelResponse(BaseModel):
    """Model card metadata of the served model."""

    id: str
    """Directory name and a hash of the model's metadata and calibration."""
    type: str
    """`transformer` or `linear`."""
    format_version: int
    """Model directory format version."""
    backbone: str | None
    """Backbone the encoder was fine-tuned from (transformer models)."""
    blend: dict[str, float] | None = None
    """Transformer models blended with a linear model (`lexical_blend`): each head's
    transformer share of the logits (the linear model has the rest); null otherwise."""
    max_length: int
    """Token window; longer texts are read in overlapping windows."""
    taxonomy: dict[str, str]
    """Name and version of the taxonomy."""
    created_at: str
    """When the model directory was written (UTC)."""
    git_commit: str | None
    """Commit of the training code."""
    data_fingerprint: str | None
    """SHA-256 of the training data."""
    versions: dict[str, str]
    """Library versions that produced the model."""
    metrics: dict[str, Any]
    """Evaluation results stored with the model (`metrics.json`)."""
    card: str | None
    """The model card (`README.md` of the model directory), Markdown."""
    cxnlp_version: str
    """Version of the cxnlp library serving it."""
    limits: Limits
    """Request limits of this service."""


class HealthResponse(BaseModel):
    """Liveness: the process answers."""

    status: str
    """Always `ok`."""


class ReadyResponse(BaseModel):
    """Readiness: whether the model is loaded and warmed up."""

    status: str
    """`ready`, `loading`, `failed` or `no_model`."""
    model: str | None = None
    """Id of the loaded model, when ready."""
    reason: str | None = None
    """Why the service is not ready."""


class ErrorDetail(BaseModel):
    """What went wrong."""

    code: str
    """Stable machine-readable code, e.g. `text_too_long`, `invalid_json`, `overloaded`."""
    message: str
    """Explanation for a person, with the limit when one was exceeded."""
    field: str | None = None
    """The request field at fault (`texts[3]`, `options.heads[0]`), when there is one."""


class ErrorResponse(BaseModel):
    """The body of every 4xx and 5xx response."""

    error: ErrorDetail
    """The error."""
