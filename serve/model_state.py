"""The served model's life cycle: not configured → loading → ready (or failed).

Loading a transformer takes seconds; doing it in the background lets the process answer
liveness probes at once and report readiness only after a warm-up, so an orchestrator
sends traffic to a replica only when its first request will be as fast as the rest.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cxnlp.model_dir import CALIBRATION_FILE, META_FILE
from cxnlp.predict import Predictor
from cxnlp.taxonomy import TAXONOMY_FILE
from serve.batching import PredictOptions
from serve.metrics import Metrics
from serve.settings import Settings

logger = logging.getLogger("serve.model")

Status = Literal["no_model", "loading", "ready", "failed"]

# One Arabic, one Persian and one text longer than any window: the first real request
# then meets warmed-up kernels, tokenizer caches and hazm's lazily loaded resources.
WARMUP_TEXTS = [
    "الطلب تأخر ثلاث أيام وما حد رد علي",
    "سفارشم هنوز نرسیده، سه بار زنگ زدم",
    "خدمة العملاء ممتازة والتوصيل كان سريع " * 60,
]


def model_id(path: Path) -> str:
    """Directory name plus a hash of the files that define the model's behaviour."""
    digest = hashlib.sha256()
    for name in (META_FILE, CALIBRATION_FILE, TAXONOMY_FILE):
        f = path / name
        if f.exists():
            digest.update(f.read_bytes())
    return f"{path.name}@{digest.hexdigest()[:12]}"


@dataclass
class ModelState:
    """What the routers need to know about the model."""

    status: Status = "no_model"
    """Where the model is in its life cycle."""
    predictor: Predictor | None = None
    """The loaded predictor (when ready)."""
    model_id: str | None = None
    """Directory name and content hash (when ready)."""
    error: str | None = None
    """Why loading failed."""
    load_seconds: float | None = None
    """Time to load and warm up."""

    @property
    def ready(self) -> bool:
        return self.status == "ready" and self.predictor is not None

    async def load(self, settings: Settings, executor: Executor, metrics: Metrics) -> None:
        """Load and warm up `settings.model` in the model thread; never raises."""
        assert settings.model is not None
        self.status = "loading"
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        try:
            predictor = await loop.run_in_executor(executor, _load, Path(settings.model), settings)
        except Exception as exc:  # a broken model must leave a not-ready service with a reason
            self.status = "failed"
            # The probe endpoints are open: they get the kind of failure, the log gets the
            # details (which may name paths on the server).
            self.error = f"{type(exc).__name__} (details in the service log)"
            logger.error("could not load the model from %s", settings.model, exc_info=exc)
            return
        self.predictor = predictor
        self.model_id = model_id(Path(settings.model))
        self.load_seconds = round(time.perf_counter() - started, 3)
        self.status = "ready"
        metrics.ready.set(1)
        logger.info("model ready", extra={"model": self.model_id, "model_type": predictor.meta.model_type,
                                           "load_seconds": self.load_seconds})

    def predict(self, texts: list[str], options: PredictOptions) -> list[dict[str, Any]]:
        """The batcher's model call (runs in the model thread)."""
        assert self.predictor is not None
        return self.predictor.predict(texts, heads=options.heads, include_scores=options.include_scores,
                                      evidence=options.evidence, thresholds=options.thresholds)


def _load(path: Path, settings: Settings) -> Predictor:
    # Progress bars write carriage-return lines to stderr; in a service log they are noise.
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    predictor = Predictor.load(path, num_threads=settings.num_threads, batch_size=settings.model_batch_size)
    if settings.warmup:
        predictor.predict(WARMUP_TEXTS)
    return predictor
