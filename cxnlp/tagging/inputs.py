"""Streaming input for the tagger: rows with their origin, never the whole file in memory.

Builds on `cxnlp.data.readers` (file expansion, format detection, `RawRow`, the Parquet
reader and its error messages) and adds what a batch job over millions of posts needs
and the training-data readers do not:

* JSONL read from a byte range of a file, or from stdin, keeping the raw line of a
  malformed row so the quarantine file loses nothing (stdin cannot be read twice);
* CSV read line by line (`read_csv` decodes the whole file at once, which is fine for
  labelled data and not for a 20 GB dump), still reporting undecodable lines by number;
* the number of bytes each row took, for a progress bar with an ETA.

Byte ranges follow the rule Hadoop uses for text splits: a line belongs to the range in
which it *starts*, so any set of contiguous ranges reads every line exactly once. The
Spark engine reads one range per task; the local engine reads each file as one range.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cxnlp.data.readers import RawRow, detect_format, expand_inputs, read_parquet
from cxnlp.tagging.options import STDIN, TagError


@dataclass
class InputRow(RawRow):
    """A `RawRow` plus what the tagger needs to quarantine it and to show progress."""

    file_index: int = 0
    """Position of the source file in the sorted input list (orders rows across files)."""
    raw: str | None = None
    """The original line when the row could not be parsed (undecodable bytes escaped)."""
    nbytes: int = 0
    """Bytes of input this row consumed (approximate for Parquet)."""


@dataclass(frozen=True)
class InputFile:
    """One input file (or stdin) and how to read it."""

    path: str
    """File path, or `-` for stdin."""
    fmt: str
    """`jsonl`, `csv` or `parquet`."""
    size: int
    """Size in bytes (0 for stdin: unknown)."""
    mtime_ns: int
    """Modification time, part of the input fingerprint checked on resume."""


def plan_inputs(source: str) -> list[InputFile]:
    """Resolve INPUT (file, directory, glob or `-`) into the files to read, in order."""
    if source == STDIN:
        return [InputFile(STDIN, "jsonl", 0, 0)]
    try:
        paths = expand_inputs(source)
    except FileNotFoundError as exc:
        raise TagError(str(exc)) from None
    files = []
    for p in paths:
        try:
            fmt = detect_format(p)
        except ValueError as exc:
            raise TagError(str(exc)) from None
        st = p.stat()
        files.append(InputFile(str(p), fmt, st.st_size, st.st_mtime_ns))
    return files


def fingerprint(files: list[InputFile]) -> list[list[Any]]:
    """What must not change between an interrupted run and its `--resume`."""
    return [[f.path, f.size, f.mtime_ns] for f in files]


# -- JSONL ---------------------------------------------------------------------------------


def _jsonl_row(raw: bytes, src: str, no: int, file_index: int) -> InputRow | None:
    """Parse one JSONL line with the rules of `readers.read_jsonl` (same messages)."""
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return InputRow(src, no, None, f"invalid UTF-8 ({exc.reason} at byte {exc.start})", file_index=file_index,
                        raw=raw.decode("utf-8", "backslashreplace").rstrip("\r\n"), nbytes=len(raw))
    if no == 1:
        line = line.lstrip("\ufeff")
    if not line.strip():
        return None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return InputRow(src, no, None, f"invalid JSON: {exc.msg} (column {exc.colno})", file_index=file_index,
                        raw=line.rstrip("\r\n"), nbytes=len(raw))
    if not isinstance(obj, dict):
        return InputRow(src, no, None, f"expected a JSON object, got {type(obj).__name__}", file_index=file_index,
                        raw=line.rstrip("\r\n"), nbytes=len(raw))
    if "\\ud" in line or "\\uD" in line:
        # JSON escapes can encode lone surrogates, which no UTF-8 writer (Parquet, CSV) accepts.
        try:
            json.dumps(obj, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            return InputRow(src, no, None, "invalid Unicode: unpaired surrogate escape", file_index=file_index,
                            raw=line.rstrip("\r\n"), nbytes=len(raw))
    return InputRow(src, no, obj, file_index=file_index, nbytes=len(raw))


def iter_jsonl_lines(lines: Iterable[bytes], src: str, file_index: int = 0, first_line: int = 1) -> Iterator[InputRow]:
    for no, raw in enumerate(lines, first_line):
        row = _jsonl_row(raw, src, no, file_index)
        if row is not None:
            yield row


def iter_jsonl_range(path: str, start: int = 0, end: int | None = None, first_line: int = 1,
                     file_index: int = 0) -> Iterator[InputRow]:
    """Rows of the lines that *start* in [start, end) of a JSONL file."""
    with open(path, "rb") as fh:
        yield from iter_jsonl_lines(_lines_in_range(fh, start, end), path, file_index, first_line)


def _lines_in_range(fh: IO[bytes], start: int, end: int | None) -> Iterator[bytes]:
    if start > 0:
        fh.seek(start - 1)
        fh.readline()  # the line running into `start` belongs to the previous range
    pos = fh.tell()
    while end is None or pos < end:
        raw = fh.readline()
        if not raw:
            return
        yield raw
        pos += len(raw)


def count_lines_in_range(path: str, start: int, end: int) -> int:
    """How many lines start in [start, end) (the Spark engine numbers lines from this)."""
    with open(path, "rb") as fh:
        return sum(1 for _ in _lines_in_range(fh, start, end))


def iter_stdin_jsonl() -> Iterator[InputRow]:
    yield from iter_jsonl_lines(sys.stdin.buffer, "<stdin>")


# -- CSV -----------------------------------------------------------------------------------


def csv_header(path: str, delimiter: str | None = None) -> tuple[list[str], str]:
    """The header of a CSV file and its delimiter (sniffed from the first 4 KiB, as `read_csv` does)."""
    with open(path, "rb") as fh:
        head = fh.read(4096).decode("utf-8-sig", "replace")
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(head, delimiters=",;\t").delimiter
        except csv.Error:
            delimiter = ","
    first = next(csv.reader(head.splitlines() or [""], delimiter=delimiter), [])
    return [h.strip() for h in first], delimiter


def iter_csv(path: str, file_index: int = 0, delimiter: str | None = None) -> Iterator[InputRow]:
    """Rows of a CSV file, streamed; records may span lines (quoted newlines).

    Messages and line numbers follow `readers.read_csv`: an undecodable line is reported
    by number and read as empty, a record with the wrong number of fields is reported
    with the line it starts on.
    """
    src = str(path)
    _, delimiter = csv_header(path, delimiter)
    pending: list[InputRow] = []
    read = [0]  # bytes handed to the csv module so far

    def decoded_lines() -> Iterator[str]:
        with open(path, "rb") as fh:
            for no, bline in enumerate(fh, 1):
                read[0] += len(bline)
                try:
                    text = bline.decode("utf-8")
                except UnicodeDecodeError as exc:
                    pending.append(InputRow(src, no, None, f"invalid UTF-8 ({exc.reason} at byte {exc.start})",
                                            file_index=file_index, nbytes=len(bline),
                                            raw=bline.decode("utf-8", "backslashreplace").rstrip("\r\n")))
                    text = "\n"
                yield text.lstrip("\ufeff") if no == 1 else text

    reader = csv.reader(decoded_lines(), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        return
    start = reader.line_num + 1
    consumed = read[0]
    yield from pending
    pending.clear()
    for values in reader:
        line = start
        start = reader.line_num + 1
        nbytes, consumed = read[0] - consumed, read[0]
        yield from pending
        pending.clear()
        if not values or all(not v.strip() for v in values):
            continue
        if len(values) != len(header):
            yield InputRow(src, line, None, f"expected {len(header)} columns, got {len(values)}",
                           file_index=file_index, nbytes=nbytes, raw=_csv_line(values, delimiter))
            continue
        yield InputRow(src, line, dict(zip(header, values, strict=True)), file_index=file_index, nbytes=nbytes)
    yield from pending


def _csv_line(values: list[str], delimiter: str) -> str:
    import io

    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="").writerow(values)
    return buf.getvalue()


# -- Parquet -------------------------------------------------------------------------------


def parquet_schema(path: str):  # noqa: ANN201 - pyarrow.Schema, imported lazily
    import pyarrow.parquet as pq

    return pq.read_schema(path)


def iter_parquet(path: str, file_index: int = 0, row_groups: list[int] | None = None,
                 first_row: int = 1) -> Iterator[InputRow]:
    """Rows of a Parquet file (all of it through `readers.read_parquet`, or some row groups)."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    n = max(pf.metadata.num_rows, 1)
    per_row = max(Path(path).stat().st_size // n, 1)
    if row_groups is None:
        for r in read_parquet(path):
            yield InputRow(r.source, r.line, r.data, r.error, r.unit, file_index=file_index, nbytes=per_row)
        return
    row = first_row
    for batch in pf.iter_batches(row_groups=row_groups, batch_size=10_000):
        for rec in batch.to_pylist():
            yield InputRow(str(path), row, rec, unit="row", file_index=file_index, nbytes=per_row)
            row += 1


# -- everything ------------------------------------------------------------------------------


def iter_file(f: InputFile, file_index: int) -> Iterator[InputRow]:
    if f.path == STDIN:
        return iter_stdin_jsonl()
    if f.fmt == "jsonl":
        return iter_jsonl_range(f.path, file_index=file_index)
    if f.fmt == "csv":
        return iter_csv(f.path, file_index=file_index)
    return iter_parquet(f.path, file_index=file_index)


def iter_inputs(files: list[InputFile]) -> Iterator[InputRow]:
    for i, f in enumerate(files):
        yield from iter_file(f, i)


def declared_columns(f: InputFile) -> list[str] | None:
    """Columns a CSV or Parquet file declares up front (None for JSONL: per row)."""
    if f.path == STDIN or f.fmt == "jsonl":
        return None
    if f.fmt == "csv":
        return csv_header(f.path)[0]
    return list(parquet_schema(f.path).names)


def check_text_column(files: list[InputFile], text_field: str, id_field: str | None,
                      time_field: str | None) -> None:
    """Fail before any work when a CSV/Parquet file lacks a named column (every row would be bad)."""
    for f in files:
        cols = declared_columns(f)
        if cols is None or (f.fmt == "csv" and f.size == 0):
            continue
        for what, name in (("text", text_field), ("id", id_field), ("time", time_field)):
            if name and name not in cols:
                raise TagError(f"{f.path} has no {what} column {name!r}; its columns are {cols}. "
                               f"Name the right one with --{what}-field.")


def row_problem(row: InputRow, text_field: str) -> str | None:
    """Why a parsed row cannot be tagged (None: it can)."""
    if row.error is not None:
        return row.error
    assert row.data is not None
    if text_field not in row.data:
        return f"missing text field {text_field!r}"
    value = row.data[text_field]
    if not isinstance(value, str):
        kind = "null" if value is None else type(value).__name__
        return f"text field {text_field!r} is {kind}, expected a string"
    return None


def quarantine_entry(row: InputRow, reason: str, id_field: str | None) -> dict[str, Any]:
    """One line of the quarantine file: where the row was, why it was set aside, and the row itself."""
    entry: dict[str, Any] = {"source": row.source, row.unit: row.line, "reason": reason}
    if id_field and row.data is not None and id_field in row.data:
        entry["id"] = row.data[id_field]
    if row.data is not None:
        entry["record"] = row.data
    elif row.raw is not None:
        entry["raw"] = row.raw
    return entry
