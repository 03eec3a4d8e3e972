"""Batch tagging throughput and memory: the `cxnlp tag` engines beside a named baseline.

Baseline "pandas + Predictor loop": read the whole JSONL dump with `pandas.read_json`,
call `Predictor.predict` over it in slices of 1,000, flatten and write Parquet — the
script most people would write first. It holds the whole input and every prediction in
memory, classifies every copy of a retweet again, and loses everything if it dies.

Measured in this run, each variant in its own subprocess (peak RSS is its own):

* rows/s of the baseline, the local engine (with and without dedup) and Spark local[2],
  on N generated noisy posts (default 100,000);
* peak RSS of the baseline and the local engine at 10,000 and at N rows: the engine's
  should be flat, the baseline's grows with the input.

Posts: corpus texts (Arabic and Persian) with social-media noise (mentions, links,
hashtags, emojis, elongation, digits), 3 % English posts (lang: other), and a share of
exact copies (retweets, copy-paste campaigns; `--copies`, default 20 %).

Usage:
    python bench/bench_tag.py                       # tiny model, built into runs/bench-tag/ if missing
    python bench/bench_tag.py --model models/cx-default --n 100000 --threads 1
    python bench/bench_tag.py --skip-spark --n 20000

`--threads` (default 1) is the torch thread count of every local variant: on a machine
shared with other work, one thread avoids spin-wait contention; Spark local[2] runs two
single-threaded tasks. Results are also written to runs/bench-tag/results.json.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "runs" / "bench-tag"
NOISE = [" @support_team", " https://t.co/x1y2z3", " #خدمة_سيئة", " #سفارش_دیرکرد", " 😡😡😡", " 🙏", "!!!!!",
         " 0501234567", " ۱۲۳۴", " ١٢٣", "\u200f", " ووووو", " RT", " 👎👎"]
ENGLISH = ["Great service, thanks!", "Follow us for daily deals", "worst app ever, refund me", "ok", "lol"]


def corpus_texts() -> list[str]:
    texts = []
    for f in sorted((ROOT / "data" / "corpus").glob("*.jsonl")):
        texts += [json.loads(x)["text"] for x in f.read_text(encoding="utf-8").splitlines() if x.strip()]
    return texts


def write_posts(path: Path, n: int, copies: float, seed: int = 0) -> None:
    rng = random.Random(seed)
    base = corpus_texts()
    posts: list[str] = []
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            if posts and rng.random() < copies:
                text = rng.choice(posts[-5000:])
            elif rng.random() < 0.03:
                text = rng.choice(ENGLISH)
            else:
                text = rng.choice(base) + "".join(rng.sample(NOISE, rng.randint(0, 3)))
            posts.append(text)
            fh.write(json.dumps({"id": f"post-{i:07d}", "text": text, "channel": rng.choice(["twitter", "app"]),
                                 "created_at": f"2024-05-{1 + i * 30 // n:02d}T12:00:00Z"}, ensure_ascii=False) + "\n")


def tiny_model() -> Path:
    """The test suite's tiny transformer (2 layers, hidden 32), trained for 2 epochs on 400 records."""
    target = WORK / "tiny-model" / "model"
    if (target / "cxnlp.json").exists():
        return target
    sys.path.insert(0, str(ROOT))
    from cxnlp.backbones import build_tiny_backbone
    from cxnlp.trainer import Trainer
    from tests.conftest import corpus_records, tiny_train_config, write_jsonl

    data = write_jsonl(WORK / "tiny-train.jsonl", corpus_records(400))
    bb = build_tiny_backbone(WORK / "tiny-backbone", [r["text"] for r in corpus_records(1500)], vocab_size=1200,
                             hidden_size=32, num_layers=2, num_heads=2, seed=0)
    return Trainer(tiny_train_config(data, bb, WORK / "tiny-model")).train().output_dir


# -- child: one variant, in its own process ---------------------------------------------------


def child(variant: str, model: str, src: str, out: str, threads: int) -> None:
    t0 = time.perf_counter()
    extra: dict = {}
    if variant == "baseline":
        import pandas as pd

        from cxnlp import Predictor
        from cxnlp.tagging.columns import OutputColumns

        df = pd.read_json(src, lines=True)
        predictor = Predictor.load(model, num_threads=threads)
        cols = OutputColumns.build(predictor.taxonomy, None, False, "")
        texts = df["text"].tolist()
        flat = []
        for i in range(0, len(texts), 1000):
            flat += [cols.flatten(r) for r in predictor.predict(texts[i:i + 1000], include_scores=False)]
        pd.concat([df, pd.DataFrame(flat)], axis=1).to_parquet(out)
        rows = len(df)
    else:
        from cxnlp.tagging import TagOptions, tag

        opts = TagOptions(input=src, output=Path(out), model=Path(model), quiet=True, threads=threads,
                          dedup=variant != "local-nodedup", engine="spark" if variant == "spark" else "local",
                          spark_master="local[2]")
        if variant == "spark":
            from cxnlp.tagging.engines.spark import spark_session

            t = time.perf_counter()
            spark_session("local[2]")
            extra["spark_startup_s"] = round(time.perf_counter() - t, 1)
            t0 = time.perf_counter()
        summary = tag(opts)
        rows = summary.totals()["rows_read"]
        extra["classified_texts"] = summary.totals().get("classified_texts")
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"variant": variant, "rows": rows, "seconds": round(seconds, 2),
                      "rows_per_s": round(rows / seconds, 1), "peak_rss_mb": round(peak_mb), **extra}))


def run_child(variant: str, model: Path, src: Path, threads: int) -> dict:
    out = WORK / f"out-{variant}-{src.stem}.parquet"
    res = subprocess.run([sys.executable, __file__, "--child", variant, str(model), str(src), str(out), str(threads)],
                         capture_output=True, text=True, cwd=ROOT)
    if res.returncode != 0:
        raise SystemExit(f"{variant} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", type=Path, action="append", default=[],
                    help="A model directory to benchmark besides the tiny one (repeatable).")
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--small", type=int, default=10_000, help="Row count of the memory comparison's small input.")
    ap.add_argument("--copies", type=float, default=0.2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--skip-spark", action="store_true")
    ap.add_argument("--skip-tiny", action="store_true")
    args = ap.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    big, small = WORK / f"posts-{args.n}.jsonl", WORK / f"posts-{args.small}.jsonl"
    for path, n in ((big, args.n), (small, args.small)):
        if not path.exists():
            write_posts(path, n, args.copies)
    models = ([] if args.skip_tiny else [("tiny", tiny_model())]) + [(m.name, m) for m in args.model]
    results = []
    for name, model in models:
        variants = [("baseline", big), ("local", big), ("local-nodedup", big), ("baseline", small), ("local", small)]
        if not args.skip_spark:
            variants.append(("spark", big))
        for variant, src in variants:
            r = {"model": name, "input_rows": int(src.stem.split("-")[1]), **run_child(variant, model, src,
                                                                                         args.threads)}
            results.append(r)
            print(json.dumps(r), flush=True)
    (WORK / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"\n{'model':8} {'variant':15} {'rows':>8} {'rows/s':>8} {'× baseline':>10} {'peak RSS MB':>11}")
    for r in results:
        base = next(b for b in results if b["model"] == r["model"] and b["variant"] == "baseline"
                    and b["input_rows"] == r["input_rows"])
        print(f"{r['model']:8} {r['variant']:15} {r['rows']:>8,} {r['rows_per_s']:>8,.0f} "
              f"{r['rows_per_s'] / base['rows_per_s']:>10.2f} {r['peak_rss_mb']:>11,}")
    print("\nThreads per process:", args.threads, "· copies in the input:", f"{args.copies:.0%}",
          "· Spark: local[2], two single-threaded tasks; its session start-up is excluded.")


if __name__ == "__main__":
    main()
