"""Check one corpus slice file while it is being written (used by corpus writers).

Usage: python scripts/check_slice.py data/corpus/FILE.jsonl [--min-per-label 12] [--min-rare 8]
Prints every problem with its line number, then label counts and coverage.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
RARE_SIGNAL = {"campaign", "unreasonable", "careless", "irrelevant"}
CHANNELS = {"survey", "social", "app_review", "chat", "email", "call_note"}
DOMAINS = {"telecom", "banking", "ecommerce", "food_delivery", "ride_hailing", "travel",
           "government", "healthcare", "utilities", "insurance", "retail"}
VARIETIES = {"ar": {"msa", "gulf", "egyptian", "levantine", "maghrebi"}, "fa": {"formal", "colloquial"}}
SCRIPTS = {"arabic", "latin", "mixed"}


def shingles(text: str, n: int = 5) -> set[str]:
    t = re.sub(r"\s+", " ", text.strip().lower())
    return {t[i:i + n] for i in range(max(1, len(t) - n + 1))}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("--min-per-label", type=int, default=12)
    ap.add_argument("--min-rare", type=int, default=8)
    args = ap.parse_args()
    tax = yaml.safe_load((ROOT / "data" / "taxonomy.yaml").read_text(encoding="utf-8"))
    heads = {h["name"]: (h["kind"], [lab["name"] for lab in h["labels"]]) for h in tax["heads"]}
    problems, records = [], []
    for no, line in enumerate(Path(args.path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            r = json.loads(line)
        except json.JSONDecodeError as e:
            problems.append(f"line {no}: bad JSON: {e}")
            continue
        for f in ("id", "text", "lang", "variety", "script", "channel", "domain", "labels"):
            if f not in r:
                problems.append(f"line {no}: missing field {f}")
        if not isinstance(r.get("text"), str) or not r.get("text", "").strip():
            problems.append(f"line {no}: empty text")
        lang = r.get("lang")
        if lang not in VARIETIES or r.get("variety") not in VARIETIES.get(lang, ()):
            problems.append(f"line {no}: bad lang/variety {lang}/{r.get('variety')}")
        if r.get("script") not in SCRIPTS:
            problems.append(f"line {no}: bad script {r.get('script')}")
        if r.get("channel") not in CHANNELS:
            problems.append(f"line {no}: bad channel {r.get('channel')}")
        if r.get("domain") not in DOMAINS:
            problems.append(f"line {no}: bad domain {r.get('domain')}")
        if not re.fullmatch(rf"{lang}-{r.get('variety')}-\d{{6}}", str(r.get("id"))):
            problems.append(f"line {no}: bad id {r.get('id')}")
        labels = r.get("labels") or {}
        for head, (kind, names) in heads.items():
            v = labels.get(head)
            if kind == "multilabel":
                if not isinstance(v, list) or any(x not in names for x in v) or len(set(v)) != len(v):
                    problems.append(f"line {no}: bad {head} {v!r}")
            elif v not in names:
                problems.append(f"line {no}: bad {head} {v!r}")
        emo = labels.get("emotion") or []
        if not emo:
            problems.append(f"line {no}: emotion empty (use neutral)")
        if "neutral" in emo and len(emo) > 1:
            problems.append(f"line {no}: neutral combined with other emotions")
        for k in labels:
            if k not in heads:
                problems.append(f"line {no}: unknown head {k}")
        records.append((no, r))
    ids = Counter(r.get("id") for _, r in records)
    problems += [f"duplicate id {i}" for i, c in ids.items() if c > 1]
    sh = [(no, shingles(r.get("text", ""))) for no, r in records]
    for i in range(len(sh)):
        for j in range(i + 1, len(sh)):
            a, b = sh[i][1], sh[j][1]
            if a and b and len(a & b) / len(a | b) > 0.8:
                problems.append(f"near-duplicate texts: lines {sh[i][0]} and {sh[j][0]}")
    counts = {h: Counter() for h in heads}
    for _, r in records:
        for h in heads:
            v = r.get("labels", {}).get(h)
            for x in (v if isinstance(v, list) else [v]):
                counts[h][x] += 1
    short = []
    for h, (_kind, names) in heads.items():
        for n in names:
            need = args.min_rare if (h == "signal" and n in RARE_SIGNAL) else args.min_per_label
            if counts[h][n] < need:
                short.append(f"{h}:{n} {counts[h][n]}/{need}")
    for p in problems:
        print("PROBLEM", p)
    print(f"records: {len(records)}")
    for h in heads:
        print(f"{h}: " + ", ".join(f"{k}={v}" for k, v in counts[h].most_common()))
    for f in ("variety", "script", "channel", "domain"):
        print(f"{f}: " + ", ".join(f"{k}={v}" for k, v in Counter(r.get(f) for _, r in records).most_common()))
    missing = [f"channel:{c}" for c in CHANNELS - {r.get('channel') for _, r in records}]
    missing += [f"domain:{d}" for d in DOMAINS - {r.get('domain') for _, r in records}]
    print("below quota: " + (", ".join(short) if short else "none"))
    print("missing coverage: " + (", ".join(missing) if missing else "none"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
