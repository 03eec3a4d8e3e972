"""Validating raw rows against a taxonomy, and the report of what was wrong where.

A labelled file from a customer-experience team is rarely clean. Every problem is
recorded with its file, line and field; the user chooses to fail (default) or to skip
the bad rows, and in both cases gets the full list, so nothing is lost silently.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cxnlp.data.readers import RawRow
from cxnlp.taxonomy import Head, Taxonomy
from cxnlp.text.detect import detect_language

RESERVED = ("id", "text", "lang", "labels")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one row."""

    source: str
    """The file."""
    line: int
    """Line (or row, see `unit`) in that file, 1-based."""
    code: str
    """Machine-readable kind: `bad_encoding`, `invalid_json`, `bad_row`, `missing_text`, `empty_text`,
    `text_not_string`, `unknown_label`, `wrong_type`, `empty_labels`, `missing_labels`, `duplicate_id`."""
    message: str
    """Human-readable explanation."""
    field: str | None = None
    """The field at fault (`text`, `labels.emotion`, ...), when there is one."""
    unit: str = "line"
    """`line` or `row`."""

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.unit == "line" else f"{self.source} row {self.line}"
        return f"{where}: {self.message}" + (f" [{self.field}]" if self.field else "")


@dataclass
class ValidationReport:
    """What a load saw: counts and every problem."""

    rows: int = 0
    """Rows read (excluding blank lines)."""
    valid: int = 0
    """Rows that passed validation."""
    problems: list[Problem] = field(default_factory=list)
    """Every problem, in file order."""
    sources: list[str] = field(default_factory=list)
    """The files read."""

    @property
    def invalid(self) -> int:
        """Rows with at least one problem."""
        return len({(p.source, p.line) for p in self.problems})

    @property
    def ok(self) -> bool:
        return not self.problems

    def counts_by_code(self) -> dict[str, int]:
        return dict(Counter(p.code for p in self.problems).most_common())

    def summary(self, max_items: int = 10) -> str:
        lines = [f"{self.rows} rows read from {len(self.sources)} file(s): {self.valid} valid, {self.invalid} invalid"]
        if self.problems:
            lines.append("problems by kind: " + ", ".join(f"{k}={v}" for k, v in self.counts_by_code().items()))
            lines += [f"  {p}" for p in self.problems[:max_items]]
            if len(self.problems) > max_items:
                lines.append(f"  ... and {len(self.problems) - max_items} more (see the JSON report)")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "valid": self.valid,
            "invalid": self.invalid,
            "sources": self.sources,
            "counts_by_code": self.counts_by_code(),
            "problems": [asdict(p) for p in self.problems],
        }

    def write_json(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return path


class DataValidationError(ValueError):
    """Raised when rows are invalid and the caller asked to fail on them."""

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        super().__init__(
            "invalid rows in the data (pass skip_invalid / --skip-invalid to skip them, counted):\n"
            + report.summary()
        )


def _parse_multilabel(value: Any, from_text: bool) -> list[Any] | None:
    if isinstance(value, list):
        return value
    if isinstance(value, tuple):
        return list(value)
    if from_text and isinstance(value, str):
        s = value.strip()
        if s.startswith("["):
            parsed = json.loads(s)
            if not isinstance(parsed, list):
                raise TypeError("expected a JSON list")
            return parsed
        return [p.strip() for p in s.split("|") if p.strip()] if s else []
    raise TypeError(f"expected a list of labels, got {type(value).__name__}")


def _parse_single(value: Any) -> str | None:
    if isinstance(value, bool):
        raise TypeError("expected a label, got a boolean")
    if isinstance(value, int | float):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return str(value)
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, list) and len(value) == 1:
        return _parse_single(value[0])
    raise TypeError(f"expected one label, got {type(value).__name__}")


def validate_label(head: Head, value: Any, *, from_text: bool) -> tuple[Any, str | None, str | None]:
    """Return (parsed value or None when unlabelled, problem code, message)."""
    if value is None:
        return None, None, None
    if head.is_multilabel:
        try:
            items = _parse_multilabel(value, from_text)
        except (TypeError, json.JSONDecodeError) as exc:
            return None, "wrong_type", f"head {head.name!r}: {exc}"
        bad_type = [x for x in items if not isinstance(x, str | int) or isinstance(x, bool)]
        if bad_type:
            return None, "wrong_type", f"head {head.name!r}: labels must be strings, got {bad_type[:3]!r}"
        items = list(dict.fromkeys(str(x).strip() for x in items))
        unknown = [x for x in items if x not in head.label_names]
        if unknown:
            return None, "unknown_label", f"head {head.name!r}: unknown label(s) {unknown}; known: {head.label_names}"
        if not items and not head.allow_empty:
            return None, "empty_labels", f"head {head.name!r} does not allow an empty label set"
        return items, None, None
    try:
        label = _parse_single(value)
    except TypeError as exc:
        return None, "wrong_type", f"head {head.name!r}: {exc}"
    if label is None:
        return None, None, None
    if label not in head.label_names:
        return None, "unknown_label", f"head {head.name!r}: unknown label {label!r}; known: {head.label_names}"
    return label, None, None


def validate_row(
    row: RawRow,
    taxonomy: Taxonomy | None,
    *,
    text_field: str = "text",
    id_field: str = "id",
    label_columns: dict[str, str] | None = None,
    require_labels: bool = True,
) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Turn a raw row into a clean record `{id, text, lang, labels, ...extras}` or problems."""

    def problem(code: str, message: str, fld: str | None = None) -> Problem:
        return Problem(row.source, row.line, code, message, fld, row.unit)

    if row.data is None:
        code = "bad_encoding" if row.error and "UTF-8" in row.error else "invalid_json" if row.error and "JSON" in row.error else "bad_row"
        return None, [problem(code, row.error or "unreadable row")]
    data = row.data
    problems: list[Problem] = []
    text = data.get(text_field)
    if text_field not in data or text is None:
        problems.append(problem("missing_text", f"no {text_field!r} field", text_field))
    elif not isinstance(text, str):
        problems.append(problem("text_not_string", f"{text_field!r} must be a string, got {type(text).__name__}", text_field))
    elif not text.strip():
        problems.append(problem("empty_text", f"{text_field!r} is empty", text_field))
    from_text = row.source.lower().endswith(".csv")
    labels_in = data.get("labels")
    if isinstance(labels_in, str) and labels_in.strip().startswith("{"):
        try:
            labels_in = json.loads(labels_in)
        except json.JSONDecodeError as exc:
            problems.append(problem("wrong_type", f"'labels' is not valid JSON: {exc.msg}", "labels"))
            labels_in = {}
    if labels_in is not None and not isinstance(labels_in, dict):
        problems.append(problem("wrong_type", f"'labels' must be an object, got {type(labels_in).__name__}", "labels"))
        labels_in = {}
    labels_in = labels_in or {}
    labels: dict[str, Any] = {}
    if taxonomy is not None:
        label_columns = label_columns or {}
        for head in taxonomy.heads:
            col = label_columns.get(head.name)
            if col is not None:
                value = data.get(col)
            elif head.name in labels_in:
                value = labels_in[head.name]
            else:
                value = data.get(head.name)
            parsed, code, msg = validate_label(head, value, from_text=from_text)
            if code:
                problems.append(problem(code, msg or code, f"labels.{head.name}"))
            labels[head.name] = parsed
        if require_labels and not problems and all(v is None for v in labels.values()):
            problems.append(problem("missing_labels", "the record has no label for any head of the taxonomy", "labels"))
    if problems:
        return None, problems
    rid = data.get(id_field)
    rid = str(rid) if rid not in (None, "") else f"{Path(row.source).stem}-{row.line}"
    lang = data.get("lang")
    if not isinstance(lang, str) or not lang:
        lang = detect_language(text).lang
    used = {text_field, id_field, "lang", "labels"}
    if taxonomy is not None:
        used |= set(taxonomy.head_names) | set((label_columns or {}).values())
    extras = {k: v for k, v in data.items() if k not in used}
    record = {"id": rid, "text": text, "lang": lang, "labels": labels}
    for k, v in extras.items():
        if k not in record:
            record[k] = v
    return record, []
