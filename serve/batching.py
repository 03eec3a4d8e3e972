"""The micro-batcher: concurrent requests share model calls, off the event loop.

A model call on a batch of 32 texts costs little more than on one text, so answering
each request on its own wastes most of the CPU under concurrency. Requests are queued;
one worker task takes the first, gathers whatever else arrives within `wait_s` (up to
`batch_size` texts), and runs the batch in a single model thread so the event loop keeps
accepting connections. Requests with different options (heads, thresholds, evidence) are
grouped and each group is one `Predictor.predict` call, so every answer comes from the
same code path as offline prediction.

Memory is bounded: texts queued or in a running batch are counted, and a request that
would push the count past `queue_limit` is refused at once (`Overloaded` → 503 with
Retry-After) instead of waiting in an ever longer queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from serve.metrics import Metrics

logger = logging.getLogger("serve.batching")


class Overloaded(Exception):
    """The queue is full; the client should retry later."""


class ShuttingDown(Exception):
    """The service stopped before the request was classified."""


@dataclass(frozen=True)
class PredictOptions:
    """The options of one request that change what `Predictor.predict` computes; requests
    with equal options can share a call."""

    heads: tuple[str, ...] | None = None
    """Heads to decode (None: all)."""
    include_scores: bool = True
    """Return scores of every label."""
    evidence: bool = False
    """Compute evidence spans."""
    thresholds_json: str | None = None
    """Threshold overrides as canonical JSON (hashable, so it can be a grouping key)."""

    @classmethod
    def make(cls, heads: Sequence[str] | None = None, include_scores: bool = True, evidence: bool = False,
             thresholds: Mapping[str, Mapping[str, float]] | None = None) -> PredictOptions:
        return cls(tuple(heads) if heads is not None else None, include_scores, evidence,
                   json.dumps(thresholds, sort_keys=True) if thresholds else None)

    @property
    def thresholds(self) -> dict[str, dict[str, float]] | None:
        return json.loads(self.thresholds_json) if self.thresholds_json else None


PredictFn = Callable[[list[str], PredictOptions], list[dict[str, Any]]]


@dataclass
class _Job:
    texts: list[str]
    options: PredictOptions
    future: asyncio.Future[list[dict[str, Any]]]
    enqueued_at: float = field(default_factory=time.perf_counter)


class MicroBatcher:
    """Gathers concurrent requests into model calls run in `executor` (one model thread)."""

    def __init__(self, predict: PredictFn, executor: Executor, metrics: Metrics, *, batch_size: int = 32,
                 wait_s: float = 0.005, queue_limit: int = 256) -> None:
        self._predict = predict
        self._executor = executor
        self._metrics = metrics
        self.batch_size = batch_size
        self.wait_s = wait_s
        self.queue_limit = queue_limit
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._carry: deque[_Job] = deque()
        self._in_flight = 0
        self._task: asyncio.Task[None] | None = None

    @property
    def in_flight(self) -> int:
        """Texts queued or being classified."""
        return self._in_flight

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="cxnlp-micro-batcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        while self._carry or not self._queue.empty():
            job = self._carry.popleft() if self._carry else self._queue.get_nowait()
            self._finish(job, exc=ShuttingDown("the service is shutting down"))

    async def submit(self, texts: list[str], options: PredictOptions) -> list[dict[str, Any]]:
        """Classify `texts`; raises `Overloaded` at once when the queue is full."""
        if self._task is None:
            raise ShuttingDown("the micro-batcher is not running")
        n = len(texts)
        if self._in_flight + n > self.queue_limit:
            raise Overloaded(f"{self._in_flight} texts are waiting; the queue holds {self.queue_limit}")
        # Counted here and released by the worker, even if the client goes away meanwhile,
        # so the count always matches what the worker still holds.
        self._in_flight += n
        self._metrics.in_flight.set(self._in_flight)
        job = _Job(texts, options, asyncio.get_running_loop().create_future())
        # A client that went away leaves its result unread; mark it read so asyncio does
        # not log "exception was never retrieved".
        job.future.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._queue.put_nowait(job)
        return await asyncio.shield(job.future)

    # -- worker ------------------------------------------------------------------------

    async def _next(self, timeout: float | None) -> _Job | None:
        if self._carry:
            return self._carry.popleft()
        if timeout is None:
            return await self._queue.get()
        if timeout <= 0:
            try:
                return self._queue.get_nowait()
            except asyncio.QueueEmpty:
                return None
        try:
            return await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return None

    async def _gather(self) -> list[_Job]:
        loop = asyncio.get_running_loop()
        first = await self._next(None)
        assert first is not None
        batch, size = [first], len(first.texts)
        deadline = loop.time() + self.wait_s
        try:
            while size < self.batch_size:
                job = await self._next(deadline - loop.time())
                if job is None:
                    break
                if size + len(job.texts) > self.batch_size:
                    self._carry.appendleft(job)  # first in the next batch: order of arrival is kept
                    break
                batch.append(job)
                size += len(job.texts)
        except asyncio.CancelledError:
            self._carry.extendleft(reversed(batch))  # `stop` answers them
            raise
        return batch

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            live = await self._gather()
            groups: dict[PredictOptions, list[_Job]] = {}
            for job in live:
                groups.setdefault(job.options, []).append(job)
            started = time.perf_counter()
            for job in live:
                self._metrics.queue_wait.observe(started - job.enqueued_at)
            try:
                results = await loop.run_in_executor(self._executor, self._run_groups, list(groups.items()))
            except asyncio.CancelledError:  # stopped mid-call: the answers will not come
                for job in live:
                    self._finish(job, exc=ShuttingDown("the service is shutting down"))
                raise
            except Exception as exc:  # e.g. the executor is already shut down; keep serving the rest
                logger.error("could not run a batch: %s", exc)
                for job in live:
                    self._finish(job, exc=ShuttingDown(f"could not run the model: {exc}"))
                continue
            for (_, jobs), result in zip(groups.items(), results, strict=True):
                if isinstance(result, BaseException):
                    for job in jobs:
                        self._finish(job, exc=result)
                    continue
                offset = 0
                for job in jobs:
                    self._finish(job, result=result[offset:offset + len(job.texts)])
                    offset += len(job.texts)

    def _run_groups(self, groups: list[tuple[PredictOptions, list[_Job]]]) -> list[list[dict[str, Any]] | Exception]:
        """Runs in the model thread: one `predict` call per group of equal options."""
        out: list[list[dict[str, Any]] | Exception] = []
        for options, jobs in groups:
            texts = [t for job in jobs for t in job.texts]
            t0 = time.perf_counter()
            try:
                out.append(self._predict(texts, options))
            except Exception as exc:  # one bad group must not fail the others
                logger.exception("model call failed for a batch of %d texts", len(texts))
                out.append(exc)
            self._metrics.batch_duration.observe(time.perf_counter() - t0)
            self._metrics.batch_size.observe(len(texts))
        return out

    def _finish(self, job: _Job, *, result: list[dict[str, Any]] | None = None, exc: BaseException | None = None) -> None:
        self._in_flight -= len(job.texts)
        self._metrics.in_flight.set(self._in_flight)
        if job.future.done():
            return
        if exc is not None:
            job.future.set_exception(exc)
        else:
            job.future.set_result(result or [])
