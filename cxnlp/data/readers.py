"""Readers that turn JSONL, CSV and Parquet files into raw rows with their line numbers.

Every row keeps where it came from (file and line, or row for Parquet) so that a bad
record can be reported precisely instead of being dropped. Readers never raise on a bad
row: they yield a `RawRow` carrying the error, and the caller decides.
"""

from __future__ import annotations

import csv
import glob
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMATS = ("jsonl", "csv", "parquet")
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv", ".parquet": "parquet",
             ".pq": "parquet"}


@dataclass
class RawRow:
    """One row as read from a file, before validation."""

    source: str
    """The file it came from."""
    line: int
    """1-based line number (JSONL, CSV: the line the record starts on) or row number (Parquet)."""
    data: dict[str, Any] | None
    """The parsed row, or None when it could not be parsed."""
    error: str | None = None
    """Why the row could not be parsed."""
    unit: str = "line"
    """`line` for text formats, `row` for Parquet."""


def detect_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise ValueError(f"cannot tell the format of {path} from its suffix; expected one of {sorted(_SUFFIXES)}")
    return _SUFFIXES[suffix]


def expand_inputs(source: str | Path) -> list[Path]:
    """A file, a directory (its data files, sorted) or a glob → a sorted list of files."""
    s = str(source)
    p = Path(s)
    if p.is_dir():
        files = sorted(f for f in p.iterdir() if f.suffix.lower() in _SUFFIXES and f.is_file())
        if not files:
            raise FileNotFoundError(f"no JSONL/CSV/Parquet files in directory {p}")
        return files
    if any(ch in s for ch in "*?["):
        files = sorted(Path(f) for f in glob.glob(s, recursive=True) if Path(f).is_file())
        if not files:
            raise FileNotFoundError(f"no files match {s}")
        return files
    if not p.exists():
        raise FileNotFoundError(f"no such file: {p}")
    return [p]


def read_jsonl(path: str | Path) -> Iterator[RawRow]:
    src = str(path)
    with open(path, "rb") as fh:
        for no, raw in enumerate(fh, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield RawRow(src, no, None, f"invalid UTF-8 ({exc.reason} at byte {exc.start})")
                continue
            if no == 1:
                line = line.lstrip("\ufeff")
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield RawRow(src, no, None, f"invalid JSON: {exc.msg} (column {exc.colno})")
                continue
            if not isinstance(obj, dict):
                yield RawRow(src, no, None, f"expected a JSON object, got {type(obj).__name__}")
                continue
            yield RawRow(src, no, obj)


def read_csv(path: str | Path, delimiter: str | None = None) -> Iterator[RawRow]:
    src = str(path)
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = None
    if text is None:
        # Decode line by line so the undecodable lines are reported, not the whole file.
        lines = []
        for no, bline in enumerate(raw.splitlines(keepends=True), 1):
            try:
                lines.append(bline.decode("utf-8"))
            except UnicodeDecodeError as exc:
                yield RawRow(src, no, None, f"invalid UTF-8 ({exc.reason} at byte {exc.start})")
                lines.append("\n")
        text = "".join(lines)
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",;\t").delimiter
        except csv.Error:
            delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    header = [h.strip() for h in header]
    start = reader.line_num + 1
    for values in reader:
        line = start
        start = reader.line_num + 1
        if not values or all(not v.strip() for v in values):
            continue
        if len(values) != len(header):
            yield RawRow(src, line, None, f"expected {len(header)} columns, got {len(values)}")
            continue
        yield RawRow(src, line, dict(zip(header, values, strict=True)))


def read_parquet(path: str | Path, batch_size: int = 10_000) -> Iterator[RawRow]:
    import pyarrow.parquet as pq

    src = str(path)
    row = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_size):
        for rec in batch.to_pylist():
            row += 1
            yield RawRow(src, row, rec, unit="row")


def read_rows(path: str | Path, fmt: str | None = None) -> Iterator[RawRow]:
    fmt = fmt or detect_format(path)
    if fmt == "jsonl":
        return read_jsonl(path)
    if fmt == "csv":
        return read_csv(path)
    if fmt == "parquet":
        return read_parquet(path)
    raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")
