"""One error shape for every failure: `{"error": {"code", "message", "field"}}`.

Clients branch on `code`, show `message` to a person and highlight `field`. FastAPI's own
shapes (`{"detail": [...]}` for validation, `{"detail": "Not Found"}` for routing) are
replaced here, and pydantic's echo of the offending input is never returned or logged:
the input is customer feedback.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger("serve.errors")


class ApiError(Exception):
    """An error answered with the common error body."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = dict(headers or {})


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}


def error_response(status: int, code: str, message: str, field: str | None = None,
                   headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message, field), status_code=status, headers=dict(headers or {}))


# Pydantic error types → the codes clients see. Types not listed keep their own name
# (the custom ones raised in serve.schemas are already client-facing).
_CODES = {
    "missing": "missing_field",
    "extra_forbidden": "unknown_field",
    "too_short": "too_short",
    "too_long": "too_long",
    "model_attributes_type": "invalid_type",
    "finite_number": "invalid_number",
}
# Union members show up in pydantic locations (`id.str`, `ids.0.int`); they are not fields.
_UNION_TAG = re.compile(r"^(str|int|float|bool|none|list\[.*\]|dict\[.*\]|function-.*|.*\[.*\])$")
_STATUS_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    406: "not_acceptable", 413: "payload_too_large", 415: "unsupported_media_type", 429: "too_many_requests",
    503: "unavailable",
}


def field_path(loc: Sequence[Any]) -> str | None:
    """('body', 'texts', 3) → 'texts[3]'; ('body', 'options', 'heads', 0) → 'options.heads[0]'."""
    parts = list(loc)
    if parts and parts[0] == "body":
        parts = parts[1:]
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        elif isinstance(p, str) and not _UNION_TAG.match(p):
            out += f".{p}" if out else p
    return out or None


def _code(error_type: str) -> str:
    if error_type in _CODES:
        return _CODES[error_type]
    if error_type.endswith("_type") or error_type.endswith("_parsing"):
        return "invalid_type"
    return error_type


def validation_error(errors: Sequence[Mapping[str, Any]]) -> tuple[int, dict[str, Any]]:
    """Pydantic/FastAPI validation errors → (status, error body) for the first faulty field."""
    if not errors:
        return 422, error_body("invalid_request", "the request is not valid")
    first = errors[0]
    if first.get("type") == "json_invalid":
        detail = (first.get("ctx") or {}).get("error", "JSON decode error")
        pos = [p for p in first.get("loc", ()) if isinstance(p, int)]
        where = f" at character {pos[0]}" if pos else ""
        return 400, error_body("invalid_json", f"the request body is not valid JSON: {detail}{where}")
    ctx = first.get("ctx") or {}
    field = ctx.get("field") if isinstance(ctx.get("field"), str) else field_path(first.get("loc", ()))
    if first.get("type") == "missing" and field is None:
        return 422, error_body("empty_body", "the request body is empty; send a JSON object such as "
                               "{\"text\": \"...\"}")
    if first.get("type") == "model_attributes_type" and field is None:
        return 422, error_body("invalid_type", "the request body must be a JSON object, e.g. {\"text\": \"...\"}")
    # A union that failed on every member gives one error per member: join them.
    same = [e for e in errors if field_path(e.get("loc", ())) == field_path(first.get("loc", ()))]
    messages = list(dict.fromkeys(str(e.get("msg", "")) for e in same))
    message = " or ".join(m[:1].lower() + m[1:] if i else m for i, m in enumerate(messages))
    more = len({field_path(e.get("loc", ())) for e in errors}) - 1
    if more > 0:
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    if field and first.get("type") not in ("null_value", "id_too_long", "id_mismatch", "empty_list"):
        message = f"{field}: {message}"
    return 422, error_body(_code(str(first.get("type", "invalid_request"))), message, field)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        request.state.error_code = exc.code
        return error_response(exc.status, exc.code, exc.message, exc.field, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        status, body = validation_error(exc.errors())
        request.state.error_code = body["error"]["code"]
        return JSONResponse(body, status_code=status)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        if exc.status_code == 404:
            message = f"no such endpoint: {request.method} {request.url.path}"
        elif exc.status_code == 400:
            # FastAPI's only 400 here: a body its JSON parser gave up on (e.g. nested so
            # deeply that the parser hit its recursion limit).
            code, message = "invalid_json", "the request body could not be parsed as JSON (nested too deeply?)"
        elif exc.status_code == 405:
            allowed = (getattr(exc, "headers", None) or {}).get("Allow")
            message = f"{request.method} is not allowed on {request.url.path}" + (f"; use {allowed}" if allowed else "")
        return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return error_response(500, "internal_error", "an unexpected error occurred; it has been logged")
