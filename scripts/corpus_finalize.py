"""Finalise the shipped corpus in place: drop exact duplicates, apply adjudicated labels and
the consistency-sweep corrections (data/review/), assign the deterministic train/dev/test
split. Idempotent; run after any corpus edit.

Usage: python scripts/corpus_finalize.py [--dry-run]
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path

from cxnlp.data.splits import assign_splits

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "corpus"
REVIEW = ROOT / "data" / "review"
KEY_ORDER = ("id", "text", "lang", "variety", "script", "channel", "domain", "labels", "split")
SPLIT_SALT = "cxnlp-corpus-v1"


def _key(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dry-run", action="store_true")
    args = ap.parse_args()
    files = sorted(CORPUS.glob("*.jsonl"))
    data = {f: [json.loads(line) for line in f.read_text(encoding="utf-8").splitlines() if line.strip()] for f in files}
    resolutions: dict[str, dict] = {}
    # Adjudicated disagreements first, then the consistency sweep of records outside the sample.
    decisions = sorted(REVIEW.glob("resolved-*.jsonl")) + sorted(
        f for f in REVIEW.glob("sweep-*.jsonl") if not f.name.startswith("sweep-input"))
    for f in decisions:
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                resolutions.setdefault(r["id"], {}).update(r["final"])
    seen: dict[tuple[str, str], str] = {}
    dropped, changed = [], Counter()
    kept: dict[Path, list[dict]] = {}
    for f, rows in data.items():
        kept[f] = []
        for r in rows:
            k = (r["lang"], _key(r["text"]))
            if k in seen:
                dropped.append((r["id"], seen[k]))
                continue
            seen[k] = r["id"]
            for head, value in resolutions.get(r["id"], {}).items():
                if r["labels"].get(head) != value:
                    r["labels"][head] = value
                    changed[head] += 1
            kept[f].append(r)
    everything = [r for rows in kept.values() for r in rows]
    splits = assign_splits([r["id"] for r in everything], [f"{r['lang']}|{r['variety']}" for r in everything],
                           salt=SPLIT_SALT)
    for r, s in zip(everything, splits, strict=True):
        r["split"] = s
    print(f"{len(everything)} records kept; {len(dropped)} exact duplicates dropped; labels changed by "
          f"adjudication: {dict(changed) or 'none'}; splits {dict(Counter(splits))}")
    for rid, first in dropped[:20]:
        print(f"  dropped {rid} (same text as {first})")
    if args.dry_run:
        return
    for f, rows in kept.items():
        lines = [json.dumps({k: r[k] for k in KEY_ORDER if k in r} | {k: v for k, v in r.items() if k not in KEY_ORDER},
                            ensure_ascii=False) for r in rows]
        f.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
