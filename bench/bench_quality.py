"""Quality bars: the default model vs the linear baseline, on the corpus test split and on real data.

1. Corpus test split: macro-F1 per head for every model given (default: models/cx-default
   and models/cx-linear), side by side, with each model's difference to the linear baseline
   and its 95% paired-bootstrap interval (the same resampled records for both models).
   For a blended model (`lexical_blend`), also each part's own test scores from training,
   so the transformer's share of the gain is visible.
2. Reality checks on ../shared/realdata (text nobody in this project wrote): sentiment and
   emotion mapped onto the taxonomy heads they overlap. Skipped cleanly when the folder is
   absent. Results are also written to data/review/reality_check.json for the datasheet.

Usage: python bench/bench_quality.py [--models models/cx-default models/cx-linear] [--per-dataset 800]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

ROOT = Path(__file__).resolve().parents[1]
REALDATA = ROOT.parent / "shared" / "realdata"

SENTIMENT_MAPS = {
    "astd": ("label", {"NEG": "negative", "POS": "positive", "NEUTRAL": "neutral", "OBJ": "neutral"}),
    "ajgt": ("Sentiment", {"Positive": "positive", "Negative": "negative"}),
    "mac_darija": ("type", {"positive": "positive", "negative": "negative", "neutral": "neutral", "mixed": "mixed"}),
    "sentipers": ("label", {"-2": "negative", "-1": "negative", "0": "neutral", "1": "positive", "2": "positive"}),
}
# Five coarse emotions shared by the real datasets and the taxonomy's emotion head.
EMOTION_GROUPS = {"happy": ["satisfaction", "delight", "gratitude"], "sad": ["disappointment"],
                  "angry": ["anger", "frustration"], "fear": ["anxiety"], "other": ["neutral", "confusion"]}
EMOTION_MAPS = {
    "shortpersianemo": ("label", {"HAPPY": "happy", "SAD": "sad", "ANGRY": "angry", "FEAR": "fear", "OTHER": "other"}),
    "emotone_ar": ("LABEL", {"joy": "happy", "sadness": "sad", "anger": "angry", "fear": "fear", "none": "other"}),
}


def load_real(dataset: str, column: str, mapping: dict[str, str], n: int, seed: int = 0) -> tuple[list[str], list[str]]:
    rows = [json.loads(line) for line in (REALDATA / dataset / "data.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    rows = [r for r in rows if str(r["labels"].get(column)) in mapping]
    random.Random(seed).shuffle(rows)
    rows = rows[:n]
    return [r["text"] for r in rows], [mapping[str(r["labels"][column])] for r in rows]


def reality_checks(predictors: dict, n: int) -> list[dict]:
    out = []
    for dataset, (column, mapping) in SENTIMENT_MAPS.items():
        if not (REALDATA / dataset).exists():
            continue
        texts, gold = load_real(dataset, column, mapping, n)
        labels = sorted(set(gold))
        row = {"dataset": dataset, "head": "sentiment", "metric": "macro-F1", "n": len(texts), "scores": {}}
        for name, p in predictors.items():
            probs = p.probabilities(texts)["sentiment"]
            head = p.taxonomy.head("sentiment")
            idx = [head.index(lab) for lab in labels]  # restrict to the classes the dataset has
            pred = [labels[i] for i in probs[:, idx].argmax(axis=1)]
            row["scores"][name] = float(f1_score(gold, pred, labels=labels, average="macro", zero_division=0))
        out.append(row)
    for dataset, (column, mapping) in EMOTION_MAPS.items():
        if not (REALDATA / dataset).exists():
            continue
        texts, gold = load_real(dataset, column, mapping, n)
        groups = list(EMOTION_GROUPS)
        row = {"dataset": dataset, "head": "emotion (5 coarse groups)", "metric": "macro-F1", "n": len(texts), "scores": {}}
        for name, p in predictors.items():
            probs = p.probabilities(texts)["emotion"]
            head = p.taxonomy.head("emotion")
            grouped = np.stack([probs[:, [head.index(x) for x in EMOTION_GROUPS[g]]].max(axis=1) for g in groups], axis=1)
            pred = [groups[i] for i in grouped.argmax(axis=1)]
            row["scores"][name] = float(f1_score(gold, pred, labels=groups, average="macro", zero_division=0))
        out.append(row)
    return out


def print_parts(model_dir: Path) -> None:
    """For a blended model: what each part scored on its own at training time."""
    from cxnlp.reports.model_card import blend_table

    metrics = json.loads((model_dir / "metrics.json").read_text(encoding="utf-8"))
    calibration = json.loads((model_dir / "calibration.json").read_text(encoding="utf-8"))
    table = blend_table(calibration, metrics, splits=("test",))
    if table and "test" in metrics:
        print(f"\n### {model_dir.name}: its two parts on the test split (each calibrated on dev on its own)\n")
        print("\n".join(table))


def main() -> int:
    from cxnlp.predict import Predictor
    from cxnlp.reports.evaluation import comparison_table, evaluate_model

    ap = argparse.ArgumentParser()
    ap.add_argument("--models", nargs="+", default=["models/cx-default", "models/cx-linear"])
    ap.add_argument("--data", default=str(ROOT / "data" / "corpus"))
    ap.add_argument("--per-dataset", type=int, default=800)
    ap.add_argument("--no-write", action="store_true", help="Do not update data/review/reality_check.json.")
    args = ap.parse_args()
    missing = [m for m in args.models if not (Path(m) / "cxnlp.json").exists()]
    if missing:
        print(f"model directories not found: {missing}; train them first (make train-default train-linear)")
        return 2
    evals = [evaluate_model(m, args.data, split="test") for m in args.models]
    names = [e.name for e in evals]
    base = next((e for e in evals if e.model_type == "linear"), None)
    if not any(e.model_type != "linear" for e in evals):
        base = None  # nothing to compare the baseline with
    rows = comparison_table(evals)
    others = [e.name for e in evals if base is not None and e is not base]
    print(f"## Corpus test split ({evals[0].overall['n']} records): macro-F1 per head\n")
    headers = ["head", *names, *[f"{n} − {base.name} [95% CI]" for n in others]]
    print("| " + " | ".join(headers) + " |")
    print("|---" * len(headers) + "|")
    for row in rows:
        line = f"| {row['head']} | " + " | ".join(f"{row[n]:.3f}" for n in names)
        for n in others:
            d = row["vs"][n]
            line += f" | {d['delta']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]"
        print(line + " |")
    for n in others:
        ds = [row["vs"][n] for row in rows if row["head"] != "mean"]
        above = sum(d["low"] > 0 for d in ds)
        below = sum(d["high"] < 0 for d in ds)
        wins = sum(d["delta"] > 0 for d in ds)
        print(f"\nquality bar for {n} (beats linear on every head): {'MET' if wins == len(ds) else 'NOT MET'} "
              f"({wins}/{len(ds)} heads ahead; 95% interval above 0 on {above}, below 0 on {below}, "
              f"containing 0 on {len(ds) - above - below})")
    for e in evals:
        print_parts(Path(e.path))
    if not REALDATA.exists():
        print("\n(reality checks skipped: ../shared/realdata not found)")
        return 0
    predictors = {Path(m).name: Predictor.load(m) for m in args.models}
    rows = reality_checks(predictors, args.per_dataset)
    print(f"\n## Reality checks on real data (up to {args.per_dataset} rows per dataset, never seen in training)\n")
    print("| dataset | head | n | " + " | ".join(predictors) + " |")
    print("|---|---|---|" + "---|" * len(predictors))
    for r in rows:
        print(f"| {r['dataset']} | {r['head']} | {r['n']} | " + " | ".join(f"{r['scores'][m]:.3f}" for m in predictors) + " |")
    if not args.no_write:
        desc = (f"Models trained on the corpus, scored on up to {args.per_dataset} random rows of each real dataset "
                "in ../shared/realdata, with the dataset's labels mapped onto the taxonomy: sentiment classes "
                "directly (ASTD's OBJ as neutral; SentiPers' -2..2 folded to negative/neutral/positive; predictions "
                "restricted to the classes the dataset has), emotions to five coarse groups (happy = satisfaction/"
                "delight/gratitude, sad = disappointment, angry = anger/frustration, fear = anxiety, other = neutral/"
                "confusion). Macro-F1. Most of these texts are general tweets, not customer feedback: the figures "
                "measure transfer across domain as well as across writers.")
        path = ROOT / "data" / "review" / "reality_check.json"
        path.write_text(json.dumps({"description": desc, "models": list(predictors), "rows": rows}, indent=2) + "\n",
                        encoding="utf-8")
        print(f"\nwritten to {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
