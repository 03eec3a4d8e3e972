"""Vocabulary trimming of a trained transformer model directory.

A multilingual backbone spends most of its weights on the word-embedding table (250k rows
for XLM-R / e5), yet Arabic and Persian feedback touches a few thousand of them. Trimming
keeps the pieces the training texts use plus the most frequent Arabic-script pieces (so
unseen real-world words still split into their usual pieces), and leaves the heads as
they are.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

import yaml

from cxnlp.backbones import TrimReport, trim_backbone
from cxnlp.model_dir import (
    ENCODER_DIR,
    TRAINING_CONFIG_FILE,
    ModelDirectoryError,
    atomic_directory,
    load_meta,
)


def training_texts(model_dir: str | Path, data: str | Path | None = None) -> list[str]:
    """Texts to keep the vocabulary of: `data`, or the training data the model directory records.

    Records carrying a `split` field contribute only when it is `train`, so the quality
    measured on dev/test after trimming is not flattered by their vocabulary.
    """
    from cxnlp.data.loading import iter_raw_rows

    model_dir = Path(model_dir)
    cfg_file = model_dir / TRAINING_CONFIG_FILE
    cfg = (yaml.safe_load(cfg_file.read_text(encoding="utf-8")) if cfg_file.exists() else None) or {}
    text_field = cfg.get("text_field", "text")
    if data is None:
        data = cfg.get("data")
        if not data:
            raise ModelDirectoryError(
                f"{model_dir} does not record its training data; pass the texts to trim for (--trim-data)"
            )
    try:
        _, rows = iter_raw_rows(str(data))
        texts = [
            row.data[text_field]
            for row in rows
            if row.data and isinstance(row.data.get(text_field), str) and row.data.get("split", "train") == "train"
        ]
    except FileNotFoundError as exc:
        raise ModelDirectoryError(
            f"cannot read the texts to trim the vocabulary for ({exc}); pass --trim-data PATH, or --no-trim"
        ) from exc
    if not texts:
        raise ModelDirectoryError(f"{data} has no `{text_field}` texts to trim the vocabulary for")
    return texts


def texts_to_trim(model_dir: str | Path, data: str | Path | None = None) -> list[str] | None:
    """What an export should trim the vocabulary to: `data`, else the model's training texts,
    or None for a model trained on a trimmed vocabulary (trimming it again to the same texts
    would only re-segment the odd unseen word differently from training, a pure quality loss)."""
    if data is None and "vocabulary_trimmed" in load_meta(model_dir).extra:
        return None
    return training_texts(model_dir, data)


def trim_model(src: str | Path, out: str | Path, texts: Iterable[str], *, arabic_top_k: int = 10_000) -> TrimReport:
    """Write to `out` a copy of transformer model directory `src` with a trimmed vocabulary."""
    src, out = Path(src), Path(out)
    meta = load_meta(src)
    if meta.model_type != "transformer" or not (src / ENCODER_DIR).is_dir():
        raise ModelDirectoryError(f"{src} is not a PyTorch transformer model directory; nothing to trim")
    with atomic_directory(out) as tmp:
        for item in src.iterdir():
            if item.name == ENCODER_DIR:
                continue
            (shutil.copytree if item.is_dir() else shutil.copy2)(item, tmp / item.name)
        report = trim_backbone(src / ENCODER_DIR, tmp / ENCODER_DIR, texts, text_prefix=meta.text_prefix,
                               arabic_top_k=arabic_top_k)
    return report
