"""Service throughput and latency under concurrent clients, beside offline batch throughput.

Baseline: `Predictor.predict` on the same model and texts, offline, the way a batch job
runs it (calls of 256 texts, split by the predictor into length-sorted passes of the
service's model batch size), in this process with nothing else running: the ceiling the
service approaches when micro-batching works. The service is started by this script
(`cxnlp serve MODEL` on 127.0.0.1, a random port), loaded by N concurrent clients each
sending one text per request for T seconds, then stopped. With `--compare-unbatched`
the run is repeated with micro-batching off (batch size 1) to show what batching buys.

All traffic goes to loopback; every loop is bounded by time and by `--max-requests`.

Usage:
    python bench/bench_serve.py --model models/cx-default [--clients 16] [--duration 10]
        [--batch-size 32] [--model-batch-size 8] [--batch-wait-ms 5] [--threads N] [--compare-unbatched]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def corpus_texts(n: int, seed: int = 0) -> list[str]:
    texts = []
    for f in sorted((ROOT / "data" / "corpus").glob("*.jsonl")):
        texts += [json.loads(line)["text"] for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    rng = random.Random(seed)
    rng.shuffle(texts)
    return (texts * (n // max(len(texts), 1) + 1))[:n]


def offline_throughput(model: Path, texts: list[str], chunk: int, model_batch_size: int, threads: int | None,
                       min_seconds: float) -> float:
    """Texts per second of Predictor.predict over calls of `chunk` texts."""
    from cxnlp import Predictor

    predictor = Predictor.load(model, num_threads=threads, batch_size=model_batch_size)
    predictor.predict(texts[:model_batch_size])  # warm-up
    done, started = 0, time.perf_counter()
    while True:
        for i in range(0, len(texts), chunk):
            predictor.predict(texts[i:i + chunk])
            done += len(texts[i:i + chunk])
            if time.perf_counter() - started >= min_seconds:
                return done / (time.perf_counter() - started)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`cxnlp serve` in a child process on loopback."""

    def __init__(self, model: Path, batch_size: int, model_batch_size: int, batch_wait_ms: float,
                 threads: int | None, queue_limit: int) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        args = [sys.executable, "-m", "cxnlp", "serve", str(model), "--host", "127.0.0.1", "--port", str(self.port),
                "--batch-size", str(batch_size), "--model-batch-size", str(model_batch_size),
                "--batch-wait-ms", str(batch_wait_ms),
                "--queue-limit", str(queue_limit), "--log-level", "warning"]
        if threads:
            args += ["--threads", str(threads)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("CXNLP_")}
        env.setdefault("HF_HUB_OFFLINE", "1")
        # A file, not a pipe: a pipe nobody reads would block the server once full.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server; closed in stop()
        self.proc = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)

    def wait_ready(self, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise SystemExit(f"server exited: {self.log.read().decode(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise SystemExit("server not ready in time")

    def batch_stats(self) -> tuple[float, float]:
        """(model calls, texts) from the server's batch-size histogram."""
        from prometheus_client.parser import text_string_to_metric_families

        samples = {s.name: s.value for fam in text_string_to_metric_families(httpx.get(f"{self.base}/metrics").text)
                   for s in fam.samples}
        return samples.get("cxnlp_batch_size_texts_count", 0.0), samples.get("cxnlp_batch_size_texts_sum", 0.0)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    """Seconds per successful request (after the warm-up)."""
    errors: dict[str, int] = field(default_factory=dict)
    """Failed requests by status code or exception name."""
    seconds: float = 0.0
    """Measured wall time (after the warm-up)."""


async def load(base: str, texts: list[str], clients: int, duration: float, warmup: float,
               max_requests: int) -> LoadResult:
    result = LoadResult()
    loop = asyncio.get_running_loop()
    start = loop.time()
    measure_from, stop_at = start + warmup, start + warmup + duration
    counter = iter(range(max_requests))

    async def client(c: httpx.AsyncClient) -> None:
        for i in counter:  # shared: all clients together send at most max_requests
            now = loop.time()
            if now >= stop_at:
                return
            t0 = time.perf_counter()
            try:
                r = await c.post("/v1/classify", json={"text": texts[i % len(texts)], "id": i})
                status = str(r.status_code) if r.status_code != 200 else None
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            if now >= measure_from:
                if status is None:
                    result.latencies.append(time.perf_counter() - t0)
                else:
                    result.errors[status] = result.errors.get(status, 0) + 1

    async with httpx.AsyncClient(base_url=base, timeout=60,
                                 limits=httpx.Limits(max_connections=clients, max_keepalive_connections=clients)) as c:
        await asyncio.gather(*(client(c) for _ in range(clients)))
    result.seconds = min(loop.time(), stop_at) - measure_from
    return result


def run_service(label: str, args: argparse.Namespace, texts: list[str], batch_size: int) -> dict:
    server = Server(args.model, batch_size, min(args.model_batch_size, batch_size), args.batch_wait_ms, args.threads,
                    queue_limit=max(256, 4 * args.clients))
    try:
        server.wait_ready()
        calls0, texts0 = server.batch_stats()
        res = asyncio.run(load(server.base, texts, args.clients, args.duration, args.warmup, args.max_requests))
        calls1, texts1 = server.batch_stats()
    finally:
        server.stop()
    lat = np.asarray(res.latencies) * 1000
    ok = len(res.latencies)
    return {
        "label": label, "ok": ok, "errors": res.errors, "throughput": ok / res.seconds if res.seconds > 0 else 0.0,
        "p50": float(np.percentile(lat, 50)) if ok else float("nan"),
        "p95": float(np.percentile(lat, 95)) if ok else float("nan"),
        "p99": float(np.percentile(lat, 99)) if ok else float("nan"),
        "mean_batch": (texts1 - texts0) / (calls1 - calls0) if calls1 > calls0 else float("nan"),
    }


def main() -> None:
    default_model = ROOT / "models" / "cx-default"
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=default_model if default_model.exists() else None,
                    required=not default_model.exists(), help="model directory (default: models/cx-default)")
    ap.add_argument("--clients", type=int, default=16, help="concurrent clients")
    ap.add_argument("--duration", type=float, default=10.0, help="measured seconds per service run")
    ap.add_argument("--warmup", type=float, default=2.0, help="seconds of load before measuring")
    ap.add_argument("--max-requests", type=int, default=200_000, help="hard bound on requests per run")
    ap.add_argument("--batch-size", type=int, default=32, help="most texts per model call (micro-batch)")
    ap.add_argument("--model-batch-size", type=int, default=8, help="texts per padded forward pass")
    ap.add_argument("--offline-chunk", type=int, default=256, help="texts per offline predict call")
    ap.add_argument("--batch-wait-ms", type=float, default=5.0)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (server and offline baseline)")
    ap.add_argument("--offline-seconds", type=float, default=5.0)
    ap.add_argument("--compare-unbatched", action="store_true", help="also run the service with batch size 1")
    args = ap.parse_args()

    texts = corpus_texts(2_000)
    print(f"model: {args.model}  clients: {args.clients}  duration: {args.duration:g} s  "
          f"batch: {args.batch_size} / {args.batch_wait_ms:g} ms, passes of {args.model_batch_size}  threads: {args.threads or 'torch default'}  "
          f"cores: {os.cpu_count()}")
    offline = offline_throughput(args.model, texts, args.offline_chunk, args.model_batch_size, args.threads,
                                 args.offline_seconds)
    runs = [run_service("service, micro-batched", args, texts, args.batch_size)]
    if args.compare_unbatched:
        runs.append(run_service("service, batch size 1", args, texts, 1))

    print()
    print(f"{'':<26}{'texts/s':>10}{'vs offline':>12}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
          f"{'texts/call':>12}{'errors':>8}")
    print(f"{'offline Predictor.predict':<26}{offline:>10.1f}{'1.00':>12}{'':>9}{'':>9}{'':>9}"
          f"{args.offline_chunk:>12}{'':>8}")
    for r in runs:
        errors = sum(r["errors"].values())
        print(f"{r['label']:<26}{r['throughput']:>10.1f}{r['throughput'] / offline:>12.2f}{r['p50']:>9.1f}"
              f"{r['p95']:>9.1f}{r['p99']:>9.1f}{r['mean_batch']:>12.1f}{errors:>8}")
        if errors:
            print(f"  errors by kind: {r['errors']}")
    print("\nThe clients run on the same cores as the server; the offline baseline had the machine to itself.")


if __name__ == "__main__":
    main()
