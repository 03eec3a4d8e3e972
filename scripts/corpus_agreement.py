"""Agreement between the corpus labels and the independent second labelling.

Usage: python scripts/corpus_agreement.py [--json data/review/agreement.json] [--disagreements FILE]
Reads data/review/second-*.jsonl and the matching records of data/corpus/. Run it before the
adjudicated labels are applied (scripts/corpus_finalize.py): afterwards the corpus holds the
adjudicated labels and the figures would no longer measure the two annotators. Reports per head:
Cohen's kappa for single-label heads, mean Jaccard for multilabel heads (plus Cohen's kappa of
each head's labels taken as binary decisions), raw agreement, and the number of records.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
from sklearn.metrics import cohen_kappa_score

from cxnlp.taxonomy import Taxonomy

ROOT = Path(__file__).resolve().parents[1]


def load(pattern: str) -> dict[str, dict]:
    out = {}
    for f in sorted((ROOT / "data").glob(pattern)):
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                out[r["id"]] = r
    return out


def jaccard(a: list[str], b: list[str]) -> float:
    sa, sb = set(a), set(b)
    return 1.0 if not sa and not sb else len(sa & sb) / len(sa | sb)


def agreement(first: dict[str, dict], second: dict[str, dict], taxonomy: Taxonomy, ids: list[str]) -> dict:
    res: dict = {"n": len(ids), "heads": {}}
    for head in taxonomy.heads:
        a = [first[i]["labels"][head.name] for i in ids]
        b = [second[i]["labels"][head.name] for i in ids]
        if head.is_multilabel:
            jac = float(np.mean([jaccard(x, y) for x, y in zip(a, b, strict=True)]))
            ya = np.array([[int(n in x) for n in head.label_names] for x in a]).ravel()
            yb = np.array([[int(n in y) for n in head.label_names] for y in b]).ravel()
            res["heads"][head.name] = {"kind": head.kind, "jaccard": round(jac, 3),
                                       "kappa_binary": round(float(cohen_kappa_score(ya, yb)), 3),
                                       "exact": round(float(np.mean([set(x) == set(y) for x, y in zip(a, b, strict=True)])), 3)}
        else:
            weights = "linear" if head.kind == "ordinal" else None
            k = cohen_kappa_score(a, b, labels=head.label_names, weights=weights)
            res["heads"][head.name] = {"kind": head.kind, "kappa": round(float(k), 3),
                                       "agreement": round(float(np.mean([x == y for x, y in zip(a, b, strict=True)])), 3)}
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", default=str(ROOT / "data" / "review" / "agreement.json"))
    ap.add_argument("--disagreements", default=None, help="Write disagreeing records (both label sets) as JSONL.")
    args = ap.parse_args()
    taxonomy = Taxonomy.from_yaml(ROOT / "data" / "taxonomy.yaml")
    first = load("corpus/*.jsonl")
    second = load("review/second-*.jsonl")
    # Records dropped from the corpus later (exact duplicates) leave the comparison.
    gone = sorted(set(second) - set(first))
    if gone:
        print(f"{len(gone)} second-labelled records are no longer in the corpus (dropped duplicates): skipped")
        second = {k: v for k, v in second.items() if k in first}
    by_lang = defaultdict(list)
    for i in sorted(second):
        by_lang[first[i]["lang"]].append(i)
    report = {"all": agreement(first, second, taxonomy, sorted(second))}
    for lang, ids in sorted(by_lang.items()):
        report[lang] = agreement(first, second, taxonomy, ids)
    Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    for part, r in report.items():
        print(f"[{part}] {r['n']} records")
        for h, m in r["heads"].items():
            if "kappa" in m:
                print(f"  {h:12s} kappa {m['kappa']:.3f}  raw agreement {m['agreement']:.3f}")
            else:
                print(f"  {h:12s} jaccard {m['jaccard']:.3f}  kappa(binary) {m['kappa_binary']:.3f}  exact {m['exact']:.3f}")
    if args.disagreements:
        with open(args.disagreements, "w", encoding="utf-8") as fh:
            for i in sorted(second):
                diff = {h.name: {"first": first[i]["labels"][h.name], "second": second[i]["labels"][h.name]}
                        for h in taxonomy.heads
                        if (set(first[i]["labels"][h.name]) != set(second[i]["labels"][h.name]) if h.is_multilabel
                            else first[i]["labels"][h.name] != second[i]["labels"][h.name])}
                if diff:
                    fh.write(json.dumps({"id": i, "channel": first[i]["channel"], "text": first[i]["text"], "diff": diff},
                                        ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
