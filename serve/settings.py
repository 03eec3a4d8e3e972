"""Service settings, read from `CXNLP_*` environment variables (or passed to `create_app`).

One settings object drives the limits that keep the service hard to break (texts per
request, characters per text, body bytes, queue depth) and the privacy switches (feedback
texts are customer data and stay out of the logs unless `CXNLP_LOG_TEXTS=true`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

LogLevel = Literal["critical", "error", "warning", "info", "debug"]


def _split_csv(value: object) -> object:
    """`a, b,c` → ["a", "b", "c"]; empty items dropped (so `CXNLP_API_KEYS=` means no auth)."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    """Everything an operator can configure; every field maps to `CXNLP_<FIELD>`."""

    model_config = SettingsConfigDict(env_prefix="CXNLP_", extra="ignore", frozen=True)

    model: Path | None = None
    """Model directory to serve (`CXNLP_MODEL`); without one the service stays not-ready."""
    api_keys: Annotated[list[str], NoDecode] = Field(default_factory=list, repr=False)
    """Accepted API keys, comma-separated in `CXNLP_API_KEYS`; empty = no authentication."""
    max_texts: int = Field(64, ge=1, le=10_000)
    """Most texts in one `POST /v1/classify` request."""
    max_text_chars: int = Field(5_000, ge=1)
    """Most characters in one text (longer texts are rejected with 422, not cut)."""
    max_body_bytes: int = Field(1_048_576, ge=1_024)
    """Largest request body accepted; larger bodies get 413 before they are read into memory."""
    evidence_max_words: int = Field(400, ge=1)
    """Evidence costs one model pass per word: the most words (summed over a request's texts)
    for which evidence may be asked."""
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Origins allowed by CORS, comma-separated (`*` for any); empty = no CORS headers."""
    log_level: LogLevel = "info"
    """Level of the service's JSON logs."""
    configure_logging: bool = True
    """Install the JSON log handler at startup; false leaves logging to the host application
    (an app embedding this one, or uvicorn's `--log-config`)."""
    log_texts: bool = False
    """Whether feedback texts may appear in logs. They are customer data: off by default."""
    batch_size: int = Field(32, ge=1)
    """Most texts the micro-batcher sends to the model in one call."""
    model_batch_size: int = Field(8, ge=1)
    """Texts per padded forward pass within a call. The predictor sorts a call's texts by
    length before splitting them into passes, so on a CPU small passes waste little on
    padding while a large gathered call still amortises the per-call work."""
    batch_wait_ms: float = Field(5.0, ge=0.0, le=1_000.0)
    """How long the micro-batcher waits for more requests once it has one."""
    queue_limit: int = Field(256, ge=1)
    """Most texts waiting or being classified at once; beyond it requests get 503 + Retry-After."""
    retry_after_seconds: int = Field(1, ge=1)
    """Value of the Retry-After header sent with 503 responses."""
    num_threads: int | None = Field(None, ge=1)
    """Torch intra-op threads for the model (default: torch's own choice)."""
    warmup: bool = True
    """Run a few texts through the model after loading, before reporting ready."""

    @field_validator("api_keys", "cors_origins", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.queue_limit < self.max_texts:
            raise ValueError(
                f"queue_limit ({self.queue_limit}) must be at least max_texts ({self.max_texts}), "
                "or a full-size request could never be accepted"
            )
        return self

    @property
    def auth_enabled(self) -> bool:
        return bool(self.api_keys)
