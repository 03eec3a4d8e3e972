"""Texts → prediction records, the one step both engines share.

Posts detected as neither Arabic nor Persian get `lang: other` and no head predictions
unless asked for: the model was not trained on them, and a confident-looking label on an
English ad would pollute every chart downstream. Language detection is cheap next to
the encoder, so it runs first and the model only sees the posts it is meant for.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cxnlp.predict import Predictor
from cxnlp.text import detect_language, detect_variety

CLASSIFIED_LANGS = ("ar", "fa")

_CACHE: dict[tuple[str, int | None, int], Predictor] = {}


def cached_predictor(path: str | Path, threads: int | None = None, batch_size: int = 32) -> Predictor:
    """One Predictor per model path and Python process: Spark reuses its Python workers
    across tasks, so each worker loads the model once, not once per partition."""
    key = (str(path), threads, batch_size)
    if key not in _CACHE:
        _CACHE[key] = Predictor.load(path, num_threads=threads, batch_size=batch_size)
    return _CACHE[key]


def classify(predictor: Predictor, texts: Sequence[str], *, heads: Sequence[str] | None = None,
             scores: bool = False, classify_other: bool = False) -> list[dict[str, Any]]:
    """One prediction record per text, in order; `heads` is None for unclassified posts."""
    records: list[dict[str, Any] | None] = [None] * len(texts)
    todo: list[int] = []
    guesses = [detect_language(text) for text in texts]
    for i, text in enumerate(texts):
        lang = guesses[i].lang
        if classify_other or lang in CLASSIFIED_LANGS:
            todo.append(i)
            continue
        variety = detect_variety(text, lang)
        records[i] = {"lang": lang, "variety": variety.variety, "variety_score": round(variety.score, 4),
                      "heads": None}
    if todo:
        preds = predictor.predict([texts[i] for i in todo], heads=heads, include_scores=scores,
                                  languages=[guesses[i] for i in todo])
        for i, rec in zip(todo, preds, strict=True):
            records[i] = rec
    return records  # type: ignore[return-value]
