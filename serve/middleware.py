"""ASGI middleware: guard request bodies, and observe every request (metrics, logs, ids).

Both are plain ASGI (not `BaseHTTPMiddleware`) so they add little latency and see every
response, including the ones produced by other middleware.

`BodyGuard` checks what FastAPI would otherwise turn into confusing errors or unbounded
memory: bodies larger than the limit are refused with 413 while streaming (a missing or
lying Content-Length does not help), bodies that are not `application/json` get 415, and
bodies that are not UTF-8 get 400, all before the JSON parser runs.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from serve.errors import error_body
from serve.metrics import Metrics

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access_log = logging.getLogger("serve.access")

_BODY_METHODS = {"POST", "PUT", "PATCH"}
_QUIET_ROUTES = {"/healthz", "/readyz", "/metrics"}
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


async def _send_error(send: Send, status: int, code: str, message: str, field: str | None = None,
                      headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps(error_body(code, message, field), ensure_ascii=False).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _is_json(content_type: str) -> tuple[bool, str | None]:
    """Whether a Content-Type names JSON in UTF-8; returns (ok, charset)."""
    media, _, params = content_type.partition(";")
    media = media.strip().lower()
    charset = None
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    ok_media = media == "application/json" or (media.startswith("application/") and media.endswith("+json"))
    return ok_media and charset in (None, "utf-8", "utf8"), charset


class BodyGuard:
    """Size, media-type and encoding checks on request bodies, before FastAPI parses them."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        declared = _header(scope, b"content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            await _send_error(send, 413, "payload_too_large",
                              f"the request body has {int(declared)} bytes; the limit is {limit} bytes")
            return
        content_type = _header(scope, b"content-type")
        ok, charset = _is_json(content_type or "")
        if not ok:
            if charset and charset not in ("utf-8", "utf8"):
                message = f"JSON bodies must be UTF-8, got charset={charset}"
            else:
                message = f"send JSON with Content-Type: application/json (got {content_type or 'no Content-Type'})"
            await _send_error(send, 415, "unsupported_media_type", message)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _send_error(send, 413, "payload_too_large",
                                  f"the request body is larger than the limit of {limit} bytes")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            await _send_error(send, 400, "invalid_utf8",
                              f"the request body is not valid UTF-8 (byte {exc.start}: {exc.reason})")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class RequestObserver:
    """Counts and times every request by route template, logs one JSON line per request
    (never the body), and gives each request an `X-Request-ID`."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            # Route templates, not raw paths: raw paths would let any client create new series.
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            self.metrics.requests.labels(method=method, route=template, status=str(status)).inc()
            self.metrics.latency.labels(method=method, route=template).observe(elapsed)
            state = scope.get("state", {})
            extra = {"request_id": request_id, "method": method, "route": template, "status": status,
                     "duration_ms": round(elapsed * 1000, 2)}
            if "n_texts" in state:
                extra["n_texts"] = state["n_texts"]
            if "error_code" in state:
                extra["error_code"] = state["error_code"]
            # Probes and scrapes arrive every few seconds; they would drown the real traffic.
            level = logging.DEBUG if template in _QUIET_ROUTES else logging.INFO
            access_log.log(level, "request", extra=extra)
