"""Normalisation throughput on noisy social posts, beside a named baseline.

Baseline: hazm's `Normalizer()` with its default settings, the way most Persian NLP
code normalises text (it only handles Persian; cxnlp also detects the language, cleans
Arabic with CAMeL Tools and handles links, mentions, hashtags and emojis).

Usage: python bench/bench_normalize.py [--n 10000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

from cxnlp.text import Normalizer

ROOT = Path(__file__).resolve().parents[1]
NOISE = [" @support_team", " https://t.co/x1y2z3", " #خدمة_سيئة", " #سفارش_دیرکرد", " 😡😡😡", " 🙏",
         "!!!!!", " 0501234567", " ۱۲۳۴", " ١٢٣", "\u200f", " ووووو"]


def corpus_texts() -> list[str]:
    texts = []
    for f in sorted((ROOT / "data" / "corpus").glob("*.jsonl")):
        texts += [json.loads(line)["text"] for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    return texts or ["الطلب تأخر ثلاث أيام وما حد رد علي", "سفارشم هنوز نرسیده، سه بار زنگ زدم"]


def make_posts(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    base = corpus_texts()
    return [rng.choice(base) + "".join(rng.sample(NOISE, rng.randint(0, 3))) for _ in range(n)]


def timeit(fn, texts: list[str], repeats: int) -> float:
    runs = []
    for _ in range(repeats):
        t = time.perf_counter()
        for x in texts:
            fn(x)
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    posts = make_posts(args.n)
    norm = Normalizer()
    norm("warm up"), norm("سلام", "fa")
    from hazm import Normalizer as HazmNormalizer

    hazm_norm = HazmNormalizer()
    hazm_norm.normalize("سلام")
    ours = timeit(norm, posts, args.repeats)
    base = timeit(hazm_norm.normalize, posts, args.repeats)
    print(f"| normaliser | {args.n} posts (median of {args.repeats}) | texts/s |")
    print("|---|---|---|")
    print(f"| cxnlp Normalizer (detect + ar/fa + social noise) | {ours:.2f} s | {args.n / ours:,.0f} |")
    print(f"| baseline: hazm Normalizer() defaults (Persian only) | {base:.2f} s | {args.n / base:,.0f} |")
    print(f"cxnlp / baseline throughput ratio: {base / ours:.2f}")


if __name__ == "__main__":
    main()
