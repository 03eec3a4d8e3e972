"""FastAPI dependencies: settings, the model, and API-key authentication.

Keys are compared in constant time (on SHA-256 digests, so neither the content nor the
length of a configured key leaks through timing) and every configured key is checked,
matching or not. `/healthz`, `/readyz` and `/metrics` do not use these dependencies, so
probes and scrapers need no key.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from serve.batching import MicroBatcher
from serve.errors import ApiError
from serve.metrics import Metrics
from serve.model_state import ModelState
from serve.settings import Settings

bearer_scheme = HTTPBearer(auto_error=False, scheme_name="bearer",
                           description="`Authorization: Bearer <key>` with a key from CXNLP_API_KEYS.")
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="apiKey",
                              description="`X-API-Key: <key>` with a key from CXNLP_API_KEYS.")


# Dependencies are `async def` on purpose: FastAPI runs plain `def` dependencies in a
# thread pool, a thread hop per dependency per request for what is an attribute lookup.


def _settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_settings(request: Request) -> Settings:
    return _settings(request)


async def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics


async def get_model_state(request: Request) -> ModelState:
    return request.app.state.model


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


def key_matches(supplied: str, keys: list[str]) -> bool:
    """Constant-time membership test: every key is compared, whatever the outcome."""
    d = _digest(supplied)
    found = False
    for key in keys:
        found |= hmac.compare_digest(d, _digest(key))
    return found


async def require_api_key(
    request: Request,
    bearer: HTTPAuthorizationCredentials | None = Security(bearer_scheme),
    api_key: str | None = Security(api_key_scheme),
) -> None:
    """When CXNLP_API_KEYS is set, a /v1 request needs one of the keys."""
    settings = _settings(request)
    if not settings.auth_enabled:
        return
    supplied = [k for k in (api_key, bearer.credentials if bearer else None) if k]
    if not supplied:
        raise ApiError(401, "missing_api_key",
                       "this service needs an API key: send `Authorization: Bearer <key>` or `X-API-Key: <key>`",
                       headers={"WWW-Authenticate": "Bearer"})
    if not any(key_matches(k, settings.api_keys) for k in supplied):
        raise ApiError(401, "invalid_api_key", "the API key is not valid", headers={"WWW-Authenticate": "Bearer"})


def _retry_after(request: Request) -> dict[str, str]:
    return {"Retry-After": str(_settings(request).retry_after_seconds)}


async def require_model(request: Request, state: ModelState = Depends(get_model_state)) -> ModelState:
    """The model, or 503 while it is not loaded."""
    if state.ready:
        return state
    reasons = {
        "no_model": "no model is configured (set CXNLP_MODEL)",
        "loading": "the model is loading",
        "failed": f"the model failed to load: {state.error}",
    }
    raise ApiError(503, "not_ready", reasons.get(state.status, "the model is not ready"),
                   headers=_retry_after(request) if state.status == "loading" else None)


async def get_batcher(request: Request) -> MicroBatcher:
    batcher = request.app.state.batcher
    if batcher is None:
        raise ApiError(503, "not_ready", "the service is starting or stopping", headers=_retry_after(request))
    return batcher
