"""The Predictor: a model directory → prediction records, for Python, HTTP and batch use.

Every interface returns the same record (see the architecture notes):

    {"id": ..., "lang": "ar", "variety": "gulf", "variety_score": 0.71,
     "heads": {"emotion": {"labels": [...], "scores": {...}},
               "effort": {"label": "high", "labels": ["high"], "scores": {...}, "expected": 1.7}},
     "evidence": {"complaint:delay": [{"text": "ثلاث أيام", "start": 12, "end": 21, "weight": 0.42}]}}

Evidence is computed by occlusion on the original text: each word is removed in turn
and the drop of the label's calibrated score is its weight. That is faithful by
construction (the weight is what the word changes in this model's output), and the
offsets index the original text, not the normalised one.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import regex

from cxnlp.model_dir import (
    CALIBRATION_FILE,
    ENCODER_DIR,
    HEADS_FILE,
    LINEAR_FILE,
    METRICS_FILE,
    ModelDirectoryError,
    ModelMeta,
    load_meta,
)
from cxnlp.modeling.decoding import decode, expected_value, probabilities
from cxnlp.taxonomy import Taxonomy
from cxnlp.text import LanguageGuess, Normalizer, NormalizerConfig, detect_language, detect_variety

logger = logging.getLogger("cxnlp.predict")

_WORD_RE = regex.compile(r"\S+")


class Predictor:
    """Loads a model directory once and classifies texts.

    >>> p = Predictor.load("models/cx-default")
    >>> p.predict(["سفارشم هنوز نرسیده"])[0]["heads"]["sentiment"]["label"]
    """

    def __init__(self, path: Path, meta: ModelMeta, taxonomy: Taxonomy, normalizer: Normalizer,
                 calibration: dict[str, Any], backend: Any) -> None:
        self.path = path
        self.meta = meta
        self.taxonomy = taxonomy
        self.normalizer = normalizer
        self.temperatures: dict[str, float] = calibration.get("temperatures", {})
        self.thresholds: dict[str, np.ndarray] = {k: np.asarray(v) for k, v in calibration.get("thresholds", {}).items()}
        self.blend_weights: dict[str, float] | None = calibration.get("blend", {}).get("weights")
        """Blended models (`lexical_blend`): each head's transformer share; None otherwise."""
        self._backend = backend

    # -- loading -----------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path, *, num_threads: int | None = None, batch_size: int = 32,
             max_length: int | None = None) -> Predictor:
        """Load a model directory written by `cxnlp train` (transformer or linear) or `cxnlp export`.

        max_length: token window of a transformer model (default: the one it was trained with);
        longer texts are scored in overlapping windows either way.
        """
        path = Path(path)
        meta = load_meta(path)
        if max_length is not None:
            if max_length < 16:
                raise ValueError(f"max_length must be at least 16 tokens, got {max_length}")
            meta = dataclasses.replace(meta, max_length=max_length)
        taxonomy = Taxonomy.from_yaml(path)
        normalizer = Normalizer(NormalizerConfig.load(path))
        calibration = json.loads((path / CALIBRATION_FILE).read_text(encoding="utf-8"))
        if num_threads:
            import torch

            torch.set_num_threads(num_threads)
        if meta.model_type == "linear":
            from cxnlp.modeling.linear import LinearMultiHead

            backend: Any = _LinearBackend(LinearMultiHead.load(str(path / LINEAR_FILE), taxonomy), normalizer)
        elif meta.extra.get("runtime") == "onnx":
            from cxnlp.exporters.onnx import OnnxBackend

            backend = OnnxBackend.load(path, meta, taxonomy, normalizer, batch_size=batch_size, num_threads=num_threads)
        else:
            backend = _TorchBackend.load(path, meta, taxonomy, normalizer, batch_size=batch_size)
        if "blend" in calibration:
            backend = _BlendBackend.load(path, taxonomy, normalizer, backend, calibration["blend"])
        return cls(path, meta, taxonomy, normalizer, calibration, backend)

    @property
    def metrics(self) -> dict[str, Any]:
        p = self.path / METRICS_FILE
        return json.loads(p.read_text(encoding="utf-8")) if p.exists() else {}

    # -- scoring -----------------------------------------------------------------------

    def logits(self, texts: Sequence[str], langs: Sequence[str | None] | None = None) -> dict[str, np.ndarray]:
        """Head logits per text, before the model's temperature. For a blended model these
        are the two parts' mixed logits (each part already divided by its own temperature)."""
        return self._backend.logits(list(texts), langs)

    def probabilities(self, texts: Sequence[str], langs: Sequence[str | None] | None = None) -> dict[str, np.ndarray]:
        """Calibrated probabilities per head: {head: [N, num_labels]}."""
        z = self.logits(texts, langs)
        return {h.name: probabilities(h, z[h.name], self.temperatures.get(h.name, 1.0)) for h in self.taxonomy.heads}

    def predict(
        self,
        texts: Sequence[str],
        *,
        ids: Sequence[Any] | None = None,
        heads: Sequence[str] | None = None,
        include_scores: bool = True,
        evidence: bool = False,
        thresholds: Mapping[str, Mapping[str, float]] | None = None,
        evidence_top_k: int = 3,
        languages: Sequence[LanguageGuess] | None = None,
    ) -> list[dict[str, Any]]:
        """Classify texts and return one prediction record per text, in input order.

        heads: only these heads (default: all). thresholds: per-request overrides,
        {head: {label: threshold}}, for multilabel heads. evidence: add the words that
        drove each predicted label (slower: one extra forward pass per word).
        languages: `detect_language` results the caller already has for these texts (the
        batch tagger detects first to skip other languages), so they are not detected twice.
        """
        texts = list(texts)
        if ids is not None and len(ids) != len(texts):
            raise ValueError(f"got {len(ids)} ids for {len(texts)} texts")
        if languages is not None and len(languages) != len(texts):
            raise ValueError(f"got {len(languages)} language guesses for {len(texts)} texts")
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise TypeError(f"texts[{i}] must be a string, got {type(t).__name__}")
        selected = self._select_heads(heads)
        thr = self._thresholds(thresholds)
        langs = list(languages) if languages is not None else [detect_language(t) for t in texts]
        lang_codes = [g.lang if g.lang in ("ar", "fa") else None for g in langs]
        probs = self.probabilities(texts, lang_codes) if texts else {}
        records = []
        for i, text in enumerate(texts):
            variety = detect_variety(text, langs[i].lang)
            rec: dict[str, Any] = {}
            if ids is not None:
                rec["id"] = ids[i]
            rec.update({"lang": langs[i].lang, "variety": variety.variety, "variety_score": round(variety.score, 4),
                        "heads": {}})
            for head in selected:
                p = probs[head.name][i:i + 1]
                labels = decode(head, p, thr.get(head.name))[0]
                out: dict[str, Any] = {}
                if head.kind != "multilabel":
                    out["label"] = labels[0]
                out["labels"] = labels
                if include_scores:
                    out["scores"] = {n: round(float(v), 4) for n, v in zip(head.label_names, p[0], strict=True)}
                if head.kind == "ordinal":
                    out["expected"] = round(float(expected_value(p)[0]), 4)
                rec["heads"][head.name] = out
            records.append(rec)
        if evidence:
            for i, rec in enumerate(records):
                rec["evidence"] = self._evidence(texts[i], lang_codes[i], rec, selected, evidence_top_k)
        return records

    def predict_one(self, text: str, **kwargs: Any) -> dict[str, Any]:
        return self.predict([text], **kwargs)[0]

    # -- helpers -----------------------------------------------------------------------

    def _select_heads(self, heads: Sequence[str] | None) -> list:
        if heads is None:
            return list(self.taxonomy.heads)
        unknown = [h for h in heads if h not in self.taxonomy]
        if unknown:
            raise KeyError(f"unknown head(s) {unknown}; this model has {self.taxonomy.head_names}")
        return [self.taxonomy.head(h) for h in heads]

    def _thresholds(self, overrides: Mapping[str, Mapping[str, float]] | None) -> dict[str, np.ndarray]:
        thr = {k: v.copy() for k, v in self.thresholds.items()}
        for head_name, per_label in (overrides or {}).items():
            head = self.taxonomy.head(head_name)
            if not head.is_multilabel:
                raise ValueError(f"thresholds apply to multilabel heads; {head_name!r} is {head.kind}")
            arr = thr.get(head_name, np.full(head.num_labels, 0.5)).astype(np.float64)
            for label, value in per_label.items():
                if not 0.0 <= float(value) <= 1.0:
                    raise ValueError(f"threshold for {head_name}:{label} must be between 0 and 1")
                arr[head.index(label)] = float(value)
            thr[head_name] = arr
        return thr

    def _evidence(self, text: str, lang: str | None, record: dict[str, Any], heads: list, top_k: int) -> dict[str, list]:
        words = [(m.start(), m.end()) for m in _WORD_RE.finditer(text)]
        targets = [(h, label) for h in heads for label in record["heads"][h.name]["labels"]]
        if not words or not targets:
            return {}
        variants = [text] + [text[:s] + text[e:] for s, e in words]
        probs = self.probabilities(variants, [lang] * len(variants))
        out: dict[str, list] = {}
        for head, label in targets:
            j = head.index(label)
            base = probs[head.name][0, j]
            drops = base - probs[head.name][1:, j]
            order = np.argsort(-drops)[:top_k]
            spans = [{"text": text[words[k][0]:words[k][1]], "start": words[k][0], "end": words[k][1],
                      "weight": round(float(drops[k]), 4)} for k in order if drops[k] > 1e-4]
            out[f"{head.name}:{label}"] = sorted(spans, key=lambda s: s["start"])
        return out


class _LinearBackend:
    def __init__(self, model: Any, normalizer: Normalizer) -> None:
        self.model = model
        self.normalizer = normalizer

    def logits(self, texts: list[str], langs: Sequence[str | None] | None,
               normalized: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        return self.model.logits(normalized if normalized is not None else self.normalize(texts, langs))

    def normalize(self, texts: list[str], langs: Sequence[str | None] | None) -> list[str]:
        return self.normalizer.batch(texts, list(langs) if langs else None)


class _BlendBackend:
    """A transformer backend (PyTorch or ONNX) blended with the linear model saved beside it."""

    def __init__(self, transformer: Any, linear: _LinearBackend, blend: Any) -> None:
        self.transformer = transformer
        self.linear = linear
        self.blend = blend

    @classmethod
    def load(cls, path: Path, taxonomy: Taxonomy, normalizer: Normalizer, transformer: Any,
             blend: Mapping[str, Any]) -> _BlendBackend:
        from cxnlp.modeling.blend import Blend
        from cxnlp.modeling.linear import LinearMultiHead

        if not (path / LINEAR_FILE).exists():
            raise ModelDirectoryError(f"{path}: calibration.json blends in a linear model, but {LINEAR_FILE} is missing")
        linear = _LinearBackend(LinearMultiHead.load(str(path / LINEAR_FILE), taxonomy), normalizer)
        return cls(transformer, linear, Blend.from_dict(blend))

    def logits(self, texts: list[str], langs: Sequence[str | None] | None) -> dict[str, np.ndarray]:
        if not texts:
            return self.transformer.logits(texts, langs)
        # Both parts read the same normalised text (one model directory, one normalizer):
        # normalise once, not once per part.
        normalized = self.linear.normalize(texts, langs)
        return self.blend.apply(self.transformer.logits(texts, langs, normalized=normalized),
                                self.linear.logits(texts, langs, normalized=normalized))


def load_torch_model(path: str | Path, meta: ModelMeta | None = None, taxonomy: Taxonomy | None = None) -> tuple[Any, Any]:
    """The trained encoder + heads of a PyTorch model directory (in eval mode) and its tokenizer.
    Directories written before the `pooling` setting existed mean-pool."""
    from safetensors.torch import load_file
    from transformers import AutoTokenizer

    from cxnlp.modeling.encoder import load_encoder
    from cxnlp.modeling.heads import MultiHeadClassifier

    path = Path(path)
    meta = meta or load_meta(path)
    taxonomy = taxonomy or Taxonomy.from_yaml(path)
    enc_dir = path / ENCODER_DIR
    model = MultiHeadClassifier(load_encoder(enc_dir), taxonomy, dropout=0.0, pooling=meta.extra.get("pooling", "mean"))
    model.heads.load_state_dict(load_file(str(path / HEADS_FILE)))
    return model.eval(), AutoTokenizer.from_pretrained(str(enc_dir))


class _TorchBackend:
    def __init__(self, runner: Any) -> None:
        self.runner = runner

    @classmethod
    def load(cls, path: Path, meta: ModelMeta, taxonomy: Taxonomy, normalizer: Normalizer, batch_size: int) -> _TorchBackend:
        from cxnlp.modeling.runner import EncoderRunner

        model, tokenizer = load_torch_model(path, meta, taxonomy)
        return cls(EncoderRunner.for_torch(model, tokenizer, normalizer, max_length=meta.max_length,
                                           text_prefix=meta.text_prefix, batch_size=batch_size))

    def logits(self, texts: list[str], langs: Sequence[str | None] | None,
               normalized: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        return self.runner.logits(texts, langs, normalized=normalized)
