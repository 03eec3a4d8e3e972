"""CPU inference: the cxnlp Predictor vs plain transformers, and what each optimisation buys.

Every figure is measured in this run, each variant in its own subprocess (so peak memory is
its own), as the median of several repeats:

1. Throughput (texts/s) and latency on short social posts and on long reviews:
   - baseline A "transformers, one text at a time": tokenizer(text, padding="max_length") →
     encoder → pooling → heads, one call per text (how most people use a pipeline);
   - baseline B "transformers, batches padded to max length" (batch 32);
   - the cxnlp Predictor (normalisation, length-sorted batches, dynamic padding, windows).
2. Optimisations applied to the same trained model — vocabulary trimming, a shorter max
   length, ONNX Runtime with fp32 weights, int8 embeddings (the `cxnlp export` default) or
   int8 for every MatMul too, fewer threads, other trained models (e.g. fewer layers) —
   each with speed, peak RSS, size on disk and macro-F1 per head on the corpus test split
   (quality cost vs the unoptimised model).
3. How often the exported model's labels equal the fp32 model's on the test split.

Usage: python bench/bench_inference.py [--model models/cx-default] [--repeats 3] [--n-short 512]
Variants are written to runs/bench-inference/ (not tracked).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "runs" / "bench-inference"


def corpus(split: str = "test") -> list[dict]:
    rows = []
    for f in sorted((ROOT / "data" / "corpus").glob("*.jsonl")):
        rows += [json.loads(x) for x in f.read_text(encoding="utf-8").splitlines() if x.strip()]
    return [r for r in rows if r.get("split", split) == split]


def texts_for(kind: str, n: int) -> list[str]:
    rows = corpus("test") + corpus("dev")
    if kind == "short":
        pool = [r["text"] for r in rows if len(r["text"].split()) <= 30]
    else:
        pool = [r["text"] for r in rows if len(r["text"].split()) >= 40]
        pool = [" ".join([t, pool[(i + 7) % len(pool)]]) for i, t in enumerate(pool)]  # review-length texts
    return [pool[i % len(pool)] for i in range(n)]


def dir_size(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


# -- worker: runs one variant in this process and prints JSON -----------------------------


def _baseline(model_dir: Path, batch: int, max_length: int):  # noqa: ANN202
    """Plain transformers usage on the same trained model: returns a function over texts."""
    import torch

    from cxnlp.model_dir import load_meta
    from cxnlp.predict import load_torch_model

    meta = load_meta(model_dir)
    model, tok = load_torch_model(model_dir, meta)

    @torch.inference_mode()
    def run(texts: list[str]) -> None:
        for i in range(0, len(texts), batch):
            enc = tok([meta.text_prefix + t for t in texts[i:i + batch]], padding="max_length", truncation=True,
                      max_length=max_length, return_tensors="pt")
            model(enc["input_ids"], enc["attention_mask"])

    return run


def worker(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(args.threads)
    texts = texts_for(args.kind, args.n)
    model_dir = Path(args.model)
    if args.mode.startswith("baseline"):
        fn = _baseline(model_dir, 1 if args.mode == "baseline-single" else 32, args.max_length)
        fn(texts[:4])
        run = lambda: fn(texts)  # noqa: E731
    else:
        from cxnlp.predict import Predictor

        predictor = Predictor.load(model_dir, num_threads=args.threads, batch_size=32,
                                   max_length=args.max_length if args.override_length else None)
        predictor.predict(texts[:8])
        run = lambda: predictor.predict(texts, include_scores=True)  # noqa: E731
    runs = []
    for _ in range(args.repeats):
        t = time.perf_counter()
        run()
        runs.append(time.perf_counter() - t)
    secs = statistics.median(runs)
    out = {"texts_per_s": len(texts) / secs, "ms_per_text": 1000 * secs / len(texts),
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if args.quality:
        from cxnlp.reports.evaluation import evaluate_model

        ev = evaluate_model(predictor, str(ROOT / "data" / "corpus"), split="test")
        out["macro_f1"] = {h: m["macro_f1"] for h, m in ev.overall["heads"].items()}
        out["macro_f1_mean"] = ev.overall["macro_f1_mean"]
    print("RESULT " + json.dumps(out))


def measure(model: Path, mode: str, kind: str, n: int, repeats: int, threads: int, max_length: int,
            quality: bool = False, override_length: bool = False) -> dict:
    cmd = [sys.executable, __file__, "--worker", "--model", str(model), "--mode", mode, "--kind", kind, "--n", str(n),
           "--repeats", str(repeats), "--threads", str(threads), "--max-length", str(max_length)]
    if quality:
        cmd.append("--quality")
    if override_length:
        cmd.append("--override-length")
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    line = next((x for x in res.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"{mode} on {model} failed:\n{res.stderr[-2000:]}")
    return json.loads(line[7:])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=str(ROOT / "models" / "cx-default"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--n-short", type=int, default=512)
    ap.add_argument("--n-long", type=int, default=96)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--mode", default="cxnlp", help=argparse.SUPPRESS)
    ap.add_argument("--kind", default="short", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, default=256, help=argparse.SUPPRESS)
    ap.add_argument("--max-length", type=int, default=128, help=argparse.SUPPRESS)
    ap.add_argument("--quality", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--override-length", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--also", action="append", default=[], metavar="MODEL",
                    help="Another trained model directory to measure in the same table (e.g. one trained with "
                         "fewer layers: models/cx-quick).")
    ap.add_argument("--short-length", type=int, default=32, help="The shorter max length variant.")
    args = ap.parse_args()
    if args.worker:
        worker(args)
        return 0
    from cxnlp.exporters import Quantization, export_onnx
    from cxnlp.exporters.trimmed import texts_to_trim, trim_model
    from cxnlp.model_dir import load_meta

    model = Path(args.model)
    if not (model / "cxnlp.json").exists():
        print(f"no model at {model}: train one first (make train-default)")
        return 2
    meta = load_meta(model)
    max_len = meta.max_length
    WORK.mkdir(parents=True, exist_ok=True)

    trained_trim = meta.extra.get("vocabulary_trimmed")
    already_trimmed = trained_trim is not None
    trim_texts = texts_to_trim(model)  # what `cxnlp export MODEL` trims to (None: trained trimmed)
    exported = WORK / f"{model.name}-export"
    if not (exported / "cxnlp.json").exists():
        export_onnx(model, exported, trim_texts=trim_texts)
    trim = load_meta(exported).extra["vocabulary_trimmed"]

    print(f"## Predictor vs plain transformers ({model.name}, {args.threads} threads, median of {args.repeats})\n")
    print("Plain transformers: the same trained model, tokenizer(padding='max_length', "
          f"max_length={max_len}) → encoder → pooling → heads, fp32 PyTorch.\n")
    print("| texts | plain, one at a time | plain, batch 32 padded to max length | cxnlp Predictor, fp32 PyTorch | "
          "cxnlp Predictor, `cxnlp export` (ONNX, int8 embeddings) | × vs one at a time | × vs padded batches |")
    print("|---|---|---|---|---|---|---|")
    for kind, n in (("short", args.n_short), ("long", args.n_long)):
        single = measure(model, "baseline-single", kind, max(n // 4, 32), args.repeats, args.threads, max_len)
        batch = measure(model, "baseline-batch", kind, n, args.repeats, args.threads, max_len)
        ours = measure(model, "cxnlp", kind, n, args.repeats, args.threads, max_len)
        fast = measure(exported, "cxnlp", kind, n, args.repeats, args.threads, max_len)
        print(f"| {kind} ({n}) | {single['texts_per_s']:.1f}/s | {batch['texts_per_s']:.1f}/s | "
              f"{ours['texts_per_s']:.1f}/s | {fast['texts_per_s']:.1f}/s ({fast['ms_per_text']:.1f} ms/text) | "
              f"{ours['texts_per_s'] / single['texts_per_s']:.2f} / {fast['texts_per_s'] / single['texts_per_s']:.2f} | "
              f"{ours['texts_per_s'] / batch['texts_per_s']:.2f} / {fast['texts_per_s'] / batch['texts_per_s']:.2f} |")
    print("\n(ratios: fp32 Predictor / exported Predictor)")

    variants: list[tuple[str, Path, int, int | None]] = [("fp32 PyTorch (unoptimised)", model, args.threads, None)]
    if not already_trimmed:
        trimmed = WORK / f"{model.name}-trimmed"
        if not (trimmed / "cxnlp.json").exists():
            trim_model(model, trimmed, trim_texts)
        variants.append(("vocabulary trimmed", trimmed, args.threads, None))
    variants.append((f"max length {args.short_length}", model, args.threads, args.short_length))
    for name, quant in (("ONNX fp32", Quantization.none), ("ONNX, every MatMul int8 too", Quantization.int8)):
        out = WORK / f"{model.name}-onnx-{quant.value}"
        if not (out / "cxnlp.json").exists():
            export_onnx(model, out, quantize=quant, trim_texts=trim_texts)
        variants.append((name, out, args.threads, None))
    variants.append(("`cxnlp export`: ONNX, int8 embeddings", exported, args.threads, None))
    variants.append(("`cxnlp export`, 1 thread", exported, 1, None))
    for other in args.also:
        other_meta = load_meta(other)
        variants.append((f"{Path(other).name} ({other_meta.extra.get('num_layers', '?')} layers)", Path(other),
                         args.threads, None))

    print(f"\nvocabulary: {trim['vocab_before']} → {trim['vocab_after']} pieces"
          + (" (the model was already trained on a trimmed vocabulary" if already_trimmed else "")
          + (f"; untrimmed its encoder would hold {trained_trim['params_before'] / 1e6:.1f}M parameters before "
             f"layer truncation, {trained_trim['params_before'] * 4 / 1e6:.0f} MB fp32)" if already_trimmed else ""))
    print(f"\n## Optimisations ({args.n_short} short posts, {args.repeats} repeats; quality = macro-F1 on the corpus test split)\n")
    print("| variant | texts/s | ms/text | peak RSS MB | size on disk MB | mean macro-F1 | Δ vs fp32 (worst head) |")
    print("|---|---|---|---|---|---|---|")
    base_f1 = None
    for name, path, threads, length in variants:
        r = measure(path, "cxnlp", "short", args.n_short, args.repeats, threads, length or max_len,
                    quality=not args.skip_quality, override_length=length is not None)
        if "macro_f1" in r:
            base_f1 = base_f1 or r["macro_f1"]
            worst = min(r["macro_f1"][h] - base_f1[h] for h in base_f1)
            q = f"{r['macro_f1_mean']:.3f} | {worst:+.3f}"
        else:
            q = "– | –"
        print(f"| {name} | {r['texts_per_s']:.1f} | {r['ms_per_text']:.1f} | {r['peak_rss_mb']:.0f} | "
              f"{dir_size(path):.1f} | {q} |")

    if not args.skip_quality:
        from cxnlp.predict import Predictor

        texts = [r["text"] for r in corpus("test")]
        a, b = Predictor.load(model).predict(texts), Predictor.load(exported).predict(texts)
        same = [ra["heads"][h]["labels"] == rb["heads"][h]["labels"] for ra, rb in zip(a, b, strict=True)
                for h in ra["heads"]]
        print(f"\n`cxnlp export` vs fp32: labels equal on {100 * sum(same) / len(same):.2f}% of "
              f"{len(texts)} test records × {len(a[0]['heads'])} heads")

    print("\n## Training (as recorded in the model directories)\n")
    print("| model | layers | max length | epochs | seconds per epoch | total training s | peak RSS MB |")
    print("|---|---|---|---|---|---|---|")
    for path in [model, *map(Path, args.also)]:
        metrics = json.loads((path / "metrics.json").read_text())
        hist = metrics.get("history") or []
        elapsed = [h["elapsed_s"] for h in hist]
        per_epoch = statistics.median([b - a for a, b in zip([0.0, *elapsed[:-1]], elapsed, strict=True)]) if elapsed else float("nan")
        meta = load_meta(path)
        print(f"| {path.name} | {meta.extra.get('num_layers', '?')} | {meta.max_length} | {len(hist)} | "
              f"{per_epoch:.0f} | {metrics.get('train_seconds', '?')} | {metrics.get('peak_rss_mb', '–')} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
