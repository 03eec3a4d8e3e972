"""JSON logs for the service, one object per line, without customer texts.

Log shippers parse JSON lines without custom grammars, and a fixed set of fields makes
dashboards possible. Feedback texts are customer data: nothing here logs them; the
classify router adds them only when `CXNLP_LOG_TEXTS=true`.

All records go through one JSON handler on the root logger: the service's own loggers
(`serve.*`, `cxnlp.*`, `uvicorn.*`) at the configured level, other libraries at WARNING.
`cxnlp serve` installs the same formatter through uvicorn's `log_config` (by the import
string `serve.logs.json_formatter`), so even uvicorn's first lines are JSON.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

SERVICE_LOGGERS = ("serve", "cxnlp", "uvicorn")


def json_formatter() -> logging.Formatter:
    return JsonFormatter(
        "{asctime}{levelname}{name}{message}", style="{",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        datefmt="%Y-%m-%dT%H:%M:%S%z", json_ensure_ascii=False,
        # uvicorn attaches an ANSI-coloured copy of some messages: noise in JSON.
        reserved_attrs=[*RESERVED_ATTRS, "color_message"],
    )


def configure_logging(level: str = "info", stream: TextIO | None = None) -> None:
    """Route every log record through one JSON handler; the service's loggers at `level`.

    uvicorn's access log is switched off: `serve.access` logs each request with its route
    template, status, duration and request id instead (uvicorn's line is one preformatted
    message with the raw query string and the client address).
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(json_formatter())
    logging.captureWarnings(True)  # Python warnings would otherwise print plain text to stderr
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(logging.WARNING)
    numeric = logging.getLevelName(level.upper())
    for name in SERVICE_LOGGERS:
        log = logging.getLogger(name)
        log.handlers = []
        log.setLevel(numeric)
        log.propagate = True
    for name in ("uvicorn.error", "uvicorn.asgi"):
        log = logging.getLogger(name)
        log.handlers = []
        log.setLevel(logging.NOTSET)
        log.propagate = True
    access = logging.getLogger("uvicorn.access")
    access.handlers = []
    access.propagate = False
    access.disabled = True
