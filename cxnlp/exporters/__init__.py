"""Exporters: write optimised runtimes of a trained model as ordinary model directories."""

from cxnlp.exporters.onnx import OnnxBackend, export_onnx

__all__ = ["OnnxBackend", "export_onnx"]
