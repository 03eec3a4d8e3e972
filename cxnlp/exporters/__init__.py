"""Exporters: write optimised runtimes of a trained model as ordinary model directories."""

from __future__ import annotations

from typing import Any

from cxnlp.exporters.quantize import Quantization

__all__ = ["OnnxBackend", "Quantization", "export_onnx"]


def __getattr__(name: str) -> Any:  # noqa: ANN401
    # The ONNX exporter pulls in the text pipeline and model-directory code; the CLI only
    # needs `Quantization` to describe its options, so the rest loads on first use.
    if name in ("OnnxBackend", "export_onnx"):
        from cxnlp.exporters import onnx

        return getattr(onnx, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
