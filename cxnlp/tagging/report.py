"""`--report DIR`: the run summary as CSV tables and PNG charts, for people who do not
open Parquet files.

Files (each CSV has a header row):

    summary.json              everything below in one document
    totals.csv                metric,value — rows read/written/tagged/skipped/quarantined, duplicates
    languages.csv             lang,rows,tagged
    labels.csv                head,lang,label,count,share — share of the tagged rows of that language
                              (lang `all`: of all tagged rows)
    labels_over_time.csv      bucket,head,label,count,share   (with --time-field)
    duplicates.csv            copies,text,first_source,first_line,first_id   (with dedup)
    quarantine_reasons.csv    reason,rows
    labels_<head>.png         label distribution per language
    over_time_<head>.png      label share per time bucket   (with --time-field)
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from cxnlp.tagging.summary import Summary


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def write_report(summary: Summary, directory: Path) -> list[Path]:
    """Write the CSV files and charts; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def out(name: str) -> Path:
        p = directory / name
        written.append(p)
        return p

    out("summary.json").write_text(summary.to_json() + "\n", encoding="utf-8")
    _write_csv(out("totals.csv"), ["metric", "value"], [(k, "" if v is None else v) for k, v in summary.totals().items()])
    by_lang = summary.counts.get("by_lang", {})
    tagged = summary.counts.get("tagged_by_lang", {})
    _write_csv(out("languages.csv"), ["lang", "rows", "tagged"],
               [(lang, n, tagged.get(lang, 0)) for lang, n in sorted(by_lang.items())])
    labels = summary.label_table()
    _write_csv(out("labels.csv"), ["head", "lang", "label", "count", "share"],
               [(r["head"], r["lang"], r["label"], r["count"], r["share"]) for r in labels])
    _write_csv(out("quarantine_reasons.csv"), ["reason", "rows"],
               sorted(summary.counts.get("reasons", {}).items()))
    if summary.dedup:
        _write_csv(out("duplicates.csv"), ["copies", "text", "first_source", "first_line", "first_id"],
                   [(d["copies"], d["text"], d["first_source"], d["first_line"], d["first_id"] or "")
                    for d in summary.top_duplicates])
    over_time = summary.time_table() if summary.time_bucket else []
    if summary.time_bucket:
        _write_csv(out("labels_over_time.csv"), ["bucket", "head", "label", "count", "share"],
                   [(r["bucket"], r["head"], r["label"], r["count"], r["share"]) for r in over_time])
    written += _charts(summary, labels, over_time, directory)
    return written


def _charts(summary: Summary, labels: list[dict[str, Any]], over_time: list[dict[str, Any]],
            directory: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    for head, names in summary.heads.items():
        langs = sorted({r["lang"] for r in labels if r["head"] == head and r["lang"] != "all"})
        if not langs:
            continue
        share = {(r["lang"], r["label"]): r["share"] for r in labels if r["head"] == head}
        fig, ax = plt.subplots(figsize=(max(6, 0.7 * len(names) * max(len(langs), 1)), 4))
        width = 0.8 / len(langs)
        for j, lang in enumerate(langs):
            ax.bar([i + j * width for i in range(len(names))], [share.get((lang, n), 0.0) for n in names],
                   width=width, label=lang)
        ax.set_xticks([i + 0.4 - width / 2 for i in range(len(names))], names, rotation=30, ha="right")
        ax.set_ylabel("share of tagged posts")
        ax.set_title(f"{head}: label distribution by language")
        ax.legend()
        fig.tight_layout()
        p = directory / f"labels_{head}.png"
        fig.savefig(p, dpi=100)
        plt.close(fig)
        paths.append(p)
    if over_time:
        buckets = sorted({r["bucket"] for r in over_time})
        for head, names in summary.heads.items():
            share = {(r["bucket"], r["label"]): r["share"] for r in over_time if r["head"] == head}
            fig, ax = plt.subplots(figsize=(8, 4))
            for n in names:
                ax.plot(buckets, [share.get((b, n), 0.0) for b in buckets], marker="o", label=n)
            ax.set_ylabel("share of tagged posts")
            ax.set_title(f"{head}: label share per {summary.time_bucket}")
            ax.tick_params(axis="x", rotation=30)
            step = max(1, len(buckets) // 20)  # a year of days stays readable
            ax.set_xticks(range(0, len(buckets), step), buckets[::step])
            ax.legend(fontsize="small", ncol=2)
            fig.tight_layout()
            p = directory / f"over_time_{head}.png"
            fig.savefig(p, dpi=100)
            plt.close(fig)
            paths.append(p)
    return paths
