"""Errors raised while resolving, building or trimming a backbone.

They live in their own module so that callers (the CLI, training, the service) can catch
them without importing torch-heavy code, and so every message can tell the user what to
do next rather than only what went wrong.
"""

from __future__ import annotations


class BackboneError(RuntimeError):
    """Base class for every backbone problem cxnlp reports."""


class BackboneNotFoundError(BackboneError):
    """A backbone name could not be resolved to local files (unknown name, or the Hub is unreachable)."""
