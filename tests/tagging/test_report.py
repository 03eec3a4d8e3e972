"""`--report DIR`: CSV files whose numbers are the summary's (and the output's), and PNG charts."""

from __future__ import annotations

import csv
import json
from collections import Counter

from tests.tagging.conftest import make_posts, read_rows, run_tag

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _csv(path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_report_files_match_the_summary_and_the_output(tmp_path, tiny_model_dir):
    posts = make_posts(24, english_every=5, copy_every=6)
    posts[3]["created_at"] = "not a date"
    lines = [json.dumps(p, ensure_ascii=False) for p in posts] + ["{broken"]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = tmp_path / "report"
    summary, out = run_tag(tmp_path, tiny_model_dir, src, chunk_size=5, report=report, time_field="created_at")

    names = {p.name for p in report.iterdir()}
    assert {"summary.json", "totals.csv", "languages.csv", "labels.csv", "labels_over_time.csv", "duplicates.csv",
            "quarantine_reasons.csv"} <= names
    heads = list(summary.heads)
    for head in heads:
        for png in (f"labels_{head}.png", f"over_time_{head}.png"):
            assert (report / png).read_bytes()[:8] == PNG_MAGIC

    totals = {r["metric"]: int(r["value"]) for r in _csv(report / "totals.csv")}
    assert totals == summary.totals()
    assert (totals["rows_read"], totals["quarantined"], totals["written"]) == (25, 1, 24)
    assert totals["duplicates"] == 24 - len({p["text"] for p in posts})
    assert json.loads((report / "summary.json").read_text())["totals"] == summary.totals()
    assert _csv(report / "quarantine_reasons.csv") == [{"reason": "invalid JSON", "rows": "1"}]

    # labels.csv counts are what the output table says.
    rows = read_rows(out)
    tagged = [r for r in rows if r["lang"] != "other"]
    want = Counter()
    for r in tagged:
        for head in heads:
            col = r.get(f"{head}_labels", r.get(f"{head}_label"))
            for label in col if isinstance(col, list) else [col]:
                want[(head, r["lang"], label)] += 1
                want[(head, "all", label)] += 1
    table = _csv(report / "labels.csv")
    assert {(r["head"], r["lang"], r["label"]): int(r["count"]) for r in table if int(r["count"])} == dict(want)
    n_lang = Counter(r["lang"] for r in tagged)
    for r in table:
        n = len(tagged) if r["lang"] == "all" else n_lang[r["lang"]]
        assert float(r["share"]) == round(int(r["count"]) / n, 6)

    # Over time: one bucket per day, the unreadable timestamp counted as missing.
    over_time = _csv(report / "labels_over_time.csv")
    days = Counter(p["created_at"][:10] for p, r in zip(posts, rows, strict=True)
                   if r["lang"] != "other" and p["created_at"] != "not a date")
    sentiment = Counter()
    for r in over_time:
        if r["head"] == "sentiment":
            sentiment[r["bucket"]] += int(r["count"])
    assert dict(sentiment) == dict(days)
    assert summary.to_dict()["time_missing"] == (1 if rows[3]["lang"] != "other" else 0)

    dups = _csv(report / "duplicates.csv")
    assert {d["text"]: int(d["copies"]) for d in dups} == {d["text"]: d["copies"] for d in summary.top_duplicates}
