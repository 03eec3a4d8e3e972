"""Bring your own taxonomy: train on a real dataset from ../shared/realdata with its own labels.

This exercises the whole pipeline on text nobody in this project wrote, with a taxonomy
generated from the dataset's label set (e.g. ShortPersianEmo's five emotions, ASTD's four
sentiment classes, SentiPers' -2..2 scale as an ordinal head). It runs only where
../shared/realdata exists; the prepared data is written under runs/ and never committed.

Usage:
  python training/recipes/realdata_custom_taxonomy.py --dataset shortpersianemo
  python training/recipes/realdata_custom_taxonomy.py --dataset sentipers --kind ordinal --model-type linear
  python training/recipes/realdata_custom_taxonomy.py --dataset astd -- --set epochs=1   (extra cxnlp train args)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
REALDATA = ROOT.parent / "shared" / "realdata"


def _numeric(labels: list[str]) -> bool:
    try:
        [float(x) for x in labels]
    except ValueError:
        return False
    return True


def build_taxonomy(meta: dict, column: str, kind: str, name: str) -> dict:
    labels = list(meta["label_counts"][column])
    if _numeric(labels):
        labels.sort(key=float)
    return {"name": f"{name}-{column}", "version": "1",
            "description": f"Generated from {meta['repo']}@{meta['commit'][:10]} label column '{column}'.",
            "heads": [{"name": column, "kind": kind, "labels": [{"name": str(x)} for x in labels]}]}


def prepare(dataset: str, column: str, out: Path) -> Path:
    rows = []
    for i, line in enumerate((REALDATA / dataset / "data.jsonl").read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        r = json.loads(line)
        value = r["labels"].get(column)
        original = str(r.get("split") or "")
        if original.startswith("test"):
            split = "test"
        else:
            # Deterministic dev carve-out from the training part (10%), by a hash of the line id.
            h = int(hashlib.sha256(f"{dataset}-{i}".encode()).hexdigest()[:8], 16) % 100
            split = "dev" if h < 10 else ("test" if not original and h < 20 else "train")
        rows.append({"id": f"{dataset}-{i:06d}", "text": r["text"], "lang": r["lang"],
                     "labels": {column: None if value is None else str(value)}, "split": split})
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="shortpersianemo", help="Folder name under ../shared/realdata.")
    ap.add_argument("--column", default=None, help="Label column (default: the dataset's first).")
    ap.add_argument("--kind", default="multiclass", choices=["multiclass", "ordinal"])
    ap.add_argument("--model-type", default="transformer", choices=["transformer", "linear"])
    ap.add_argument("--config", default=str(ROOT / "training" / "configs" / "quick.yaml"))
    ap.add_argument("extra", nargs="*", help="Extra arguments passed to `cxnlp train` (after --).")
    args = ap.parse_args()
    if not (REALDATA / args.dataset / "data.jsonl").exists():
        print(f"skipped: {REALDATA / args.dataset} not found (the recipe needs ../shared/realdata)")
        return 0
    meta = json.loads((REALDATA / args.dataset / "meta.json").read_text(encoding="utf-8"))
    column = args.column or next(iter(meta["label_counts"]))
    run = ROOT / "runs" / f"byo-{args.dataset}"
    tax_path = run / "taxonomy.yaml"
    run.mkdir(parents=True, exist_ok=True)
    tax_path.write_text(yaml.safe_dump(build_taxonomy(meta, column, args.kind, args.dataset), allow_unicode=True,
                                       sort_keys=False), encoding="utf-8")
    data = prepare(args.dataset, column, run / "prepared.jsonl")
    cmd = [sys.executable, "-m", "cxnlp", "train", "--config", args.config, "--data", str(data),
           "--taxonomy", str(tax_path), "--model-type", args.model_type,
           "--output", str(ROOT / "models" / f"byo-{args.dataset}"), "--set", f"run_dir={run / 'run'}", *args.extra]
    print("running:", " ".join(cmd))
    return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(main())
