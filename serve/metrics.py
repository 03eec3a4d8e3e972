"""Prometheus metrics of the service: traffic, latency, micro-batch sizes, predicted labels.

Each app owns its registry, so several apps in one process (tests, embedding) do not
collide. Under `uvicorn --workers N` every worker is its own process: set
`PROMETHEUS_MULTIPROC_DIR` (the `cxnlp serve` command does it for N > 1) and
`/metrics` aggregates all workers through prometheus-client's multiprocess collector.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prom_multiprocess

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class Metrics:
    """The service's metric families, registered in one registry."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.requests = Counter("cxnlp_http_requests", "HTTP requests answered, by route template and status.",
                                ["method", "route", "status"], registry=r)
        self.latency = Histogram("cxnlp_http_request_duration_seconds", "Time to answer an HTTP request.",
                                 ["method", "route"], buckets=LATENCY_BUCKETS, registry=r)
        self.texts = Counter("cxnlp_texts_classified", "Texts classified.", registry=r)
        self.batch_size = Histogram("cxnlp_batch_size_texts", "Texts per model call made by the micro-batcher.",
                                    buckets=BATCH_BUCKETS, registry=r)
        self.batch_duration = Histogram("cxnlp_batch_duration_seconds", "Time of one model call.",
                                        buckets=LATENCY_BUCKETS, registry=r)
        self.queue_wait = Histogram("cxnlp_queue_wait_seconds", "Time a request waited before its model call began.",
                                    buckets=LATENCY_BUCKETS, registry=r)
        self.in_flight = Gauge("cxnlp_texts_in_flight", "Texts queued or being classified.", registry=r,
                               multiprocess_mode="livesum")
        self.rejected = Counter("cxnlp_requests_rejected", "Requests refused before classification, by reason.",
                                ["reason"], registry=r)
        self.labels = Counter("cxnlp_predicted_labels", "Labels predicted, by head and label.", ["head", "label"],
                              registry=r)
        self.ready = Gauge("cxnlp_model_ready", "1 when the model is loaded and warmed up.", registry=r,
                           multiprocess_mode="livemax")

    def count_labels(self, records: Iterable[Mapping[str, Any]]) -> None:
        for rec in records:
            for head, out in rec.get("heads", {}).items():
                for label in out.get("labels", ()):
                    self.labels.labels(head=head, label=label).inc()

    def exposition(self) -> bytes:
        """The text format for `GET /metrics`."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            prom_multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)
