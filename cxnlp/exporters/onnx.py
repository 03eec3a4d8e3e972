"""ONNX Runtime export (optionally int8-quantised) of a transformer model directory.

The exported directory keeps the model-directory contract (taxonomy, normalisation,
calibration, metrics, card, `cxnlp.json`) and replaces `encoder/` + `heads.safetensors`
by one `model.onnx` graph (encoder, pooling and all heads) plus `tokenizer/`, so the
Predictor, the service and the batch tagger load it like any other model directory.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from cxnlp.exporters.quantize import Quantization, quantize_graph
from cxnlp.model_dir import (
    CALIBRATION_FILE,
    ENCODER_DIR,
    LINEAR_FILE,
    METRICS_FILE,
    TRAINING_CONFIG_FILE,
    ModelDirectoryError,
    ModelMeta,
    atomic_directory,
    load_meta,
    save_meta,
)
from cxnlp.taxonomy import TAXONOMY_FILE, Taxonomy
from cxnlp.text import NORMALIZATION_FILE, Normalizer

logger = logging.getLogger("cxnlp.export")

ONNX_FILE = "model.onnx"
TOKENIZER_DIR = "tokenizer"
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "sentencepiece.bpe.model")


def export_onnx(src: str | Path, out: str | Path, *, quantize: Quantization | str = Quantization.embeddings,
                trim_texts: Sequence[str] | None = None, arabic_top_k: int = 10_000, opset: int = 17) -> Path:
    """Export the transformer model in `src` to an ONNX model directory at `out`.

    quantize: how the weights are stored (`cxnlp.exporters.quantize`): `none` (fp32),
    `embeddings` (int8 word-embedding table with per-row scales, fp32 matrix products: the
    default, nearly lossless) or `int8` (all MatMul weights too: smallest, lossier).
    trim_texts: trim the vocabulary to the pieces these texts use plus the `arabic_top_k`
    most frequent Arabic-script pieces first (see `cxnlp.exporters.trimmed`).
    Measure the quality cost of either with `cxnlp evaluate` before adopting it.
    """
    src, out = Path(src), Path(out)
    quantize = Quantization(quantize)
    meta = load_meta(src)
    if meta.model_type != "transformer" or meta.extra.get("runtime") == "onnx":
        raise ModelDirectoryError(f"{src} is not a PyTorch transformer model directory; nothing to export")
    if trim_texts is None:
        return _export(src, out, meta, origin=src, quantize=quantize, opset=opset, trim=None)
    from cxnlp.exporters.trimmed import trim_model

    with tempfile.TemporaryDirectory(prefix=".cxnlp-trim-", dir=out.parent if out.parent.exists() else None) as td:
        report = trim_model(src, Path(td) / "trimmed", trim_texts, arabic_top_k=arabic_top_k)
        trim = {**report.counts(), "arabic_top_k": arabic_top_k}
        return _export(Path(td) / "trimmed", out, meta, origin=src, quantize=quantize, opset=opset, trim=trim)


def _export(src: Path, out: Path, meta: ModelMeta, *, origin: Path, quantize: Quantization, opset: int, trim: dict[str, Any] | None) -> Path:
    import torch

    from cxnlp.predict import load_torch_model

    taxonomy = Taxonomy.from_yaml(src)
    model, _ = load_torch_model(src, load_meta(src), taxonomy)
    heads = taxonomy.head_names

    class _Graph(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
            out = self.model(input_ids, attention_mask)
            return tuple(out[h] for h in heads)

    graph = _Graph().eval()
    example = (torch.full((2, 12), 5, dtype=torch.long), torch.ones((2, 12), dtype=torch.long))
    with atomic_directory(out) as tmp:
        raw = tmp / "model.fp32.onnx"
        with torch.inference_mode():
            torch.onnx.export(
                graph, example, str(raw), input_names=["input_ids", "attention_mask"], output_names=heads,
                dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
                              **{h: {0: "batch"} for h in heads}},
                opset_version=opset, dynamo=False,
            )
        quantize_graph(raw, tmp / ONNX_FILE, quantize)
        raw.unlink()
        (tmp / TOKENIZER_DIR).mkdir()
        for name in _TOKENIZER_FILES:
            f = src / ENCODER_DIR / name
            if f.exists():
                shutil.copy2(f, tmp / TOKENIZER_DIR / name)
        # linear.joblib: the lexical part of a blended model, scored beside the graph.
        for name in (TAXONOMY_FILE, NORMALIZATION_FILE, CALIBRATION_FILE, METRICS_FILE, TRAINING_CONFIG_FILE, LINEAR_FILE):
            if (src / name).exists():
                shutil.copy2(src / name, tmp / name)
        new_meta = ModelMeta(**{**asdict(meta), "extra": {**meta.extra, "runtime": "onnx", "quantized": quantize.value,
                                                          "onnx_opset": opset, "exported_from": str(origin),
                                                          **({"vocabulary_trimmed": trim} if trim else {})}})
        save_meta(tmp, new_meta)
        from cxnlp.reports.model_card import write_model_card

        write_model_card(tmp, name=out.name)
    logger.info("exported %s → %s (weights %s, %.1f MB)", src, out, quantize.value,
                (out / ONNX_FILE).stat().st_size / 1e6)
    return out


class OnnxBackend:
    """Predictor backend running `model.onnx` with ONNX Runtime."""

    def __init__(self, runner: Any) -> None:
        self.runner = runner

    @classmethod
    def load(cls, path: Path, meta: ModelMeta, taxonomy: Taxonomy, normalizer: Normalizer, *, batch_size: int = 32,
             num_threads: int | None = None) -> OnnxBackend:
        import onnxruntime as ort
        from transformers import AutoTokenizer

        from cxnlp.modeling.runner import EncoderRunner

        opts = ort.SessionOptions()
        if num_threads:
            opts.intra_op_num_threads = num_threads
        session = ort.InferenceSession(str(path / ONNX_FILE), opts, providers=["CPUExecutionProvider"])
        names = [o.name for o in session.get_outputs()]

        def forward(input_ids: np.ndarray, attention_mask: np.ndarray) -> dict[str, np.ndarray]:
            outs = session.run(None, {"input_ids": input_ids, "attention_mask": attention_mask})
            return dict(zip(names, outs, strict=True))

        tokenizer = AutoTokenizer.from_pretrained(str(path / TOKENIZER_DIR))
        return cls(EncoderRunner(forward, taxonomy, tokenizer, normalizer, max_length=meta.max_length,
                                 text_prefix=meta.text_prefix, batch_size=batch_size))

    def logits(self, texts: list[str], langs: Any, normalized: Any = None) -> dict[str, np.ndarray]:
        return self.runner.logits(texts, langs, normalized=normalized)
