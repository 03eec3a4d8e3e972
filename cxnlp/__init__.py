"""cxnlp: customer-experience tagging for Arabic and Persian feedback."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["Predictor", "__version__"]


def __getattr__(name: str):  # noqa: ANN202 - lazy import keeps `import cxnlp` light
    if name == "Predictor":
        from cxnlp.predict import Predictor

        return Predictor
    raise AttributeError(f"module 'cxnlp' has no attribute {name!r}")
