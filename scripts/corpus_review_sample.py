"""Draw the random sample for the independent second labelling (reproducible by id hash).

Usage: python scripts/corpus_review_sample.py --lang ar --share 0.12 --parts 2
Writes data/review/sample-<lang>-<k>.jsonl with only `id` and `text` (the second
annotator must not see the first labels).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cxnlp.data.splits import id_hash

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lang", required=True)
    ap.add_argument("--share", type=float, default=0.12)
    ap.add_argument("--parts", type=int, default=1)
    args = ap.parse_args()
    rows = []
    for f in sorted((ROOT / "data" / "corpus").glob(f"{args.lang}-*.jsonl")):
        rows += [json.loads(line) for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    picked = [r for r in rows if id_hash(r["id"], salt="review") % 10_000 < args.share * 10_000]
    picked.sort(key=lambda r: id_hash(r["id"], salt="review-order"))
    out = ROOT / "data" / "review"
    out.mkdir(parents=True, exist_ok=True)
    for k in range(args.parts):
        part = picked[k::args.parts]
        path = out / f"sample-{args.lang}-{k + 1}.jsonl"
        path.write_text("".join(json.dumps({"id": r["id"], "text": r["text"]}, ensure_ascii=False) + "\n" for r in part),
                        encoding="utf-8")
        print(f"{path}: {len(part)} records")
    print(f"{len(picked)} of {len(rows)} {args.lang} records sampled ({len(picked) / max(len(rows), 1):.1%})")


if __name__ == "__main__":
    main()
