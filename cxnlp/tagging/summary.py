"""What a tagging run saw and produced: counts, label distribution, duplicates, time.

Counts are plain nested dicts of integers so that a chunk's counts can be stored with its
commit (JSON in the manifest) and a resumed run adds them up to exactly the summary an
uninterrupted run prints. The Spark engine counts its written output with the same
functions.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cxnlp.tagging.columns import OutputColumns

COUNTERS = ("rows_read", "written", "tagged", "skipped", "quarantined", "duplicates", "classified_texts",
            "time_missing")


def merge_counts(into: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """Add nested integer counts of `other` into `into` (in place) and return it."""
    for k, v in other.items():
        if isinstance(v, dict):
            merge_counts(into.setdefault(k, {}), v)
        else:
            into[k] = into.get(k, 0) + v
    return into


def reason_kind(reason: str) -> str:
    """Group quarantine reasons ("invalid JSON: Expecting value (column 3)" → "invalid JSON")."""
    return reason.split(" (")[0].split(":")[0]


def time_buckets(values: Sequence[Any], bucket: str) -> list[str | None]:
    """Timestamps (ISO strings, datetimes, or epoch seconds) → bucket labels; None when unreadable."""
    import pandas as pd

    numeric = [v if isinstance(v, (int, float)) and not isinstance(v, bool) else None for v in values]
    text = [None if n is not None or v is None else v for v, n in zip(values, numeric, strict=True)]
    parsed = pd.to_datetime(pd.Series(text, dtype=object), errors="coerce", utc=True, format="mixed")
    if any(n is not None for n in numeric):
        epoch = pd.to_datetime(pd.Series(numeric, dtype="float64"), errors="coerce", utc=True, unit="s")
        parsed = parsed.where(parsed.notna(), epoch)
    out: list[str | None] = []
    for ts in parsed:
        if pd.isna(ts):
            out.append(None)
        elif bucket == "day":
            out.append(ts.strftime("%Y-%m-%d"))
        elif bucket == "week":
            out.append((ts - pd.Timedelta(days=ts.weekday())).strftime("%Y-%m-%d"))
        else:
            out.append(ts.strftime("%Y-%m"))
    return out


def count_rows(columns: OutputColumns, rows: Sequence[dict[str, Any]], times: Sequence[Any] | None = None,
               bucket: str = "day") -> dict[str, Any]:
    """Counts for written rows (flattened predictions): languages, labels per head and
    language, and (with `times`) labels per time bucket."""
    c: dict[str, Any] = {"written": len(rows), "tagged": 0, "skipped": 0, "by_lang": {}, "tagged_by_lang": {},
                          "labels": {}}
    buckets = time_buckets(times, bucket) if times is not None else None
    if buckets is not None:
        c["time"] = {}
        c["time_missing"] = 0
    label_cols = [(h, columns.label_column(h)) for h in columns.heads]
    for i, row in enumerate(rows):
        lang = row[columns.lang]
        c["by_lang"][lang] = c["by_lang"].get(lang, 0) + 1
        if all(row[col] is None for _, col in label_cols):
            c["skipped"] += 1
            continue
        c["tagged"] += 1
        c["tagged_by_lang"][lang] = c["tagged_by_lang"].get(lang, 0) + 1
        slot = None
        if buckets is not None:
            if buckets[i] is None:
                c["time_missing"] += 1
            else:
                slot = c["time"].setdefault(buckets[i], {"rows": 0, "labels": {}})
                slot["rows"] += 1
        for h, col in label_cols:
            value = row[col]
            labels = value if isinstance(value, list) else [value]
            per_lang = c["labels"].setdefault(h.name, {}).setdefault(lang, {})
            for lab in labels:
                per_lang[lab] = per_lang.get(lab, 0) + 1
            if slot is not None:
                per_head = slot["labels"].setdefault(h.name, {})
                for lab in labels:
                    per_head[lab] = per_head.get(lab, 0) + 1
    return c


@dataclass
class Summary:
    """The end-of-run summary (printed, written as JSON, and drawn by `--report`)."""

    counts: dict[str, Any] = field(default_factory=dict)
    """Merged counts: `rows_read`, `written`, `tagged`, `skipped`, `quarantined`, `duplicates`,
    `classified_texts`, `by_lang`, `tagged_by_lang`, `labels` ({head: {lang: {label: n}}}), `time`,
    `reasons`."""
    distinct_texts: int | None = None
    """Distinct texts among written rows (None when dedup is off)."""
    top_duplicates: list[dict[str, Any]] = field(default_factory=list)
    """The most-copied texts: text, copies, first source, line and id."""
    dedup: bool = True
    """Whether duplicates were looked for."""
    heads: dict[str, list[str]] = field(default_factory=dict)
    """Label names per predicted head, in taxonomy order (for stable reports)."""
    time_bucket: str | None = None
    """Bucket of the over-time view, when a time field was given."""
    output: str = ""
    """Where the tagged table was written."""
    quarantine: str = ""
    """Where malformed rows were written."""

    def get(self, key: str) -> int:
        return int(self.counts.get(key, 0))

    def label_table(self) -> list[dict[str, Any]]:
        """Rows of (head, lang, label, count, share) with `lang` = `all` for the total; the
        share is of the tagged rows in that language (multilabel shares need not sum to 1)."""
        out = []
        labels = self.counts.get("labels", {})
        tagged = self.counts.get("tagged_by_lang", {})
        all_tagged = self.get("tagged")
        for head, names in self.heads.items():
            per_lang = labels.get(head, {})
            langs = sorted(per_lang)
            for n in names:
                total = sum(per_lang[lang].get(n, 0) for lang in langs)
                out.append({"head": head, "lang": "all", "label": n, "count": total,
                            "share": round(total / all_tagged, 6) if all_tagged else 0.0})
            for lang in langs:
                for n in names:
                    k = per_lang[lang].get(n, 0)
                    t = tagged.get(lang, 0)
                    out.append({"head": head, "lang": lang, "label": n, "count": k,
                                "share": round(k / t, 6) if t else 0.0})
        return out

    def time_table(self) -> list[dict[str, Any]]:
        """Rows of (bucket, head, label, count, share) over time (share of the bucket's tagged rows)."""
        out = []
        for b in sorted(self.counts.get("time", {})):
            slot = self.counts["time"][b]
            for head, names in self.heads.items():
                per_head = slot["labels"].get(head, {})
                for n in names:
                    k = per_head.get(n, 0)
                    out.append({"bucket": b, "head": head, "label": n, "count": k,
                                "share": round(k / slot["rows"], 6) if slot["rows"] else 0.0})
        return out

    def totals(self) -> dict[str, Any]:
        t: dict[str, Any] = {k: self.get(k) for k in ("rows_read", "written", "tagged", "skipped", "quarantined")}
        if self.dedup:
            t["duplicates"] = self.get("duplicates")
            t["distinct_texts"] = self.distinct_texts
            t["classified_texts"] = self.get("classified_texts")
        return t

    def to_dict(self) -> dict[str, Any]:
        return {"totals": self.totals(), "by_lang": dict(sorted(self.counts.get("by_lang", {}).items())),
                "quarantine_reasons": dict(sorted(self.counts.get("reasons", {}).items())),
                "labels": self.counts.get("labels", {}), "time_bucket": self.time_bucket,
                "time": self.counts.get("time", {}) if self.time_bucket else None,
                "time_missing": self.get("time_missing") if self.time_bucket else None,
                "top_duplicates": self.top_duplicates, "output": self.output, "quarantine": self.quarantine}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, sort_keys=False)

    def render(self) -> Any:
        """A rich renderable: totals, languages, and the label distribution per head."""
        from rich.console import Group
        from rich.table import Table

        tot = Table(title="tagging summary", show_header=False)
        for k, v in self.totals().items():
            tot.add_row(k.replace("_", " "), f"{v:,}" if isinstance(v, int) else str(v))
        for lang, n in sorted(self.counts.get("by_lang", {}).items()):
            tot.add_row(f"lang {lang}", f"{n:,}")
        for reason, n in sorted(self.counts.get("reasons", {}).items()):
            tot.add_row(f"quarantined: {reason}", f"{n:,}")
        parts: list[Any] = [tot]
        langs = sorted({lang for per in self.counts.get("labels", {}).values() for lang in per})
        if langs:
            lab = Table(title="labels (share of tagged rows)")
            lab.add_column("head")
            lab.add_column("label")
            for lang in ["all", *langs]:
                lab.add_column(lang, justify="right")
            rows: dict[tuple[str, str], dict[str, str]] = {}
            for r in self.label_table():
                rows.setdefault((r["head"], r["label"]), {})[r["lang"]] = f"{r['count']:,} ({r['share']:.0%})"
            for (head, label), cells in rows.items():
                lab.add_row(head, label, *(cells.get(lang, "") for lang in ["all", *langs]))
            parts.append(lab)
        if self.top_duplicates:
            dup = Table(title="most-copied texts")
            dup.add_column("copies", justify="right")
            dup.add_column("text")
            dup.add_column("first seen")
            for d in self.top_duplicates[:10]:
                text = (d["text"] or "")[:80]
                dup.add_row(f"{d['copies']:,}", text, f"{d['first_source']}:{d['first_line']}")
            parts.append(dup)
        return Group(*parts)
