"""Writing chunks as part files, and joining committed parts into the final output.

A chunk is written into a temporary directory and renamed into place
(`cxnlp.model_dir.atomic_directory`), so a part directory is either complete or absent.
The final file is assembled from the parts, in order, through a temporary sibling that
is renamed over the output (`atomic_write_file`): readers never see a half-written
output either. Assembly streams one part at a time, so memory does not grow with the
number of rows.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from cxnlp.model_dir import atomic_directory, atomic_write_file
from cxnlp.tagging.columns import OutputColumns, column_order, conform, passthrough_table, to_csv_cell, unify

DATA_FILE = {"parquet": "data.parquet", "jsonl": "data.jsonl", "csv": "data.csv"}
QUARANTINE_FILE = "quarantine.jsonl"
PART_PREFIX = "part-"


def part_dir(parts: Path, idx: int) -> Path:
    return parts / f"{PART_PREFIX}{idx:06d}"


def part_index(path: Path) -> int | None:
    name = path.name
    if not name.startswith(PART_PREFIX) or not name[len(PART_PREFIX):].isdigit():
        return None
    return int(name[len(PART_PREFIX):])


def _json_line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False, default=str) + "\n"


def write_part(target: Path, fmt: str, columns: OutputColumns, rows: Sequence[dict[str, Any]],
               predictions: Sequence[dict[str, Any]], quarantined: Sequence[dict[str, Any]],
               declared: pa.Schema | None = None) -> None:
    """Write one chunk (tagged rows + its quarantined rows) as the part directory `target`."""
    with atomic_directory(target) as tmp:
        data = tmp / DATA_FILE[fmt]
        if fmt == "parquet":
            table = passthrough_table(rows, declared)
            for f, col in zip(columns.fields(), columns.table(predictions).columns, strict=True):
                table = table.append_column(f, col)
            pq.write_table(table, data)
        elif fmt == "jsonl":
            with open(data, "w", encoding="utf-8", newline="\n") as fh:
                for row, pred in zip(rows, predictions, strict=True):
                    fh.write(_json_line({**row, **pred}))
        else:
            header = column_order(rows) + columns.names
            multi = columns.multilabel_columns()
            with open(data, "w", encoding="utf-8", newline="") as fh:
                w = csv.writer(fh)
                w.writerow(header)
                for row, pred in zip(rows, predictions, strict=True):
                    full = {**row, **pred}
                    w.writerow([to_csv_cell(full.get(c), c in multi) for c in header])
        with open(tmp / QUARANTINE_FILE, "w", encoding="utf-8", newline="\n") as fh:
            for q in quarantined:
                fh.write(_json_line(q))


def _publishing(write: Callable[[Path], None]) -> Callable[[Path], None]:
    # Temporary files are created private (0600); the output is for others to read, so it
    # gets the permissions of any file this process creates.
    def run(tmp: Path) -> None:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)

    return run


def assemble(parts: Sequence[Path], fmt: str, columns: OutputColumns, output: Path) -> None:
    """Join part directories, in order, into the final output file (atomically)."""
    files = [p / DATA_FILE[fmt] for p in parts]
    if fmt == "parquet":
        atomic_write_file(output, _publishing(lambda tmp: _join_parquet(files, columns, tmp)))
    elif fmt == "jsonl":
        atomic_write_file(output, _publishing(lambda tmp: _concat(files, tmp, skip_header=False)))
    else:
        atomic_write_file(output, _publishing(lambda tmp: _join_csv(files, columns, tmp)))


def assemble_quarantine(parts: Sequence[Path], output: Path) -> None:
    files = [p / QUARANTINE_FILE for p in parts]
    atomic_write_file(output, _publishing(lambda tmp: _concat(files, tmp, skip_header=False)))


def _concat(files: Sequence[Path], tmp: Path, skip_header: bool) -> None:
    with open(tmp, "wb") as out:
        for i, f in enumerate(files):
            with open(f, "rb") as fh:
                if skip_header and i > 0:
                    fh.readline()
                shutil.copyfileobj(fh, out, 1 << 20)


def _join_parquet(files: Sequence[Path], columns: OutputColumns, tmp: Path) -> None:
    # Parts may disagree on pass-through types (a field null in one chunk, text in the next);
    # the output gets one schema for all of them, the added columns keep their fixed types.
    schema = unify([pq.read_schema(f) for f in files]) if files else columns.schema()
    with pq.ParquetWriter(tmp, schema) as writer:
        for f in files:
            writer.write_table(conform(pq.read_table(f), schema))


def _csv_header(path: Path) -> list[str]:
    with open(path, encoding="utf-8", newline="") as fh:
        return next(csv.reader(fh), [])


def _join_csv(files: Sequence[Path], columns: OutputColumns, tmp: Path) -> None:
    headers = [_csv_header(f) for f in files]
    if not files:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerow(columns.names)
        return
    if all(h == headers[0] for h in headers):
        _concat(files, tmp, skip_header=True)
        return
    # Input columns differ between chunks (JSONL rows with different keys, CSV files with
    # different headers): one header for all, each row re-emitted under it.
    added = set(columns.names)
    passthrough = column_order({c: None for c in h if c not in added} for h in headers)
    header = passthrough + columns.names
    with open(tmp, "w", encoding="utf-8", newline="") as out:
        w = csv.DictWriter(out, fieldnames=header, restval="")
        w.writeheader()
        for f in files:
            with open(f, encoding="utf-8", newline="") as fh:
                for row in csv.DictReader(fh):
                    w.writerow(row)


def read_table(path: Path, fmt: str | None = None) -> pa.Table:
    """Read a tagged output (any format) back as an Arrow table (for tests and reports)."""
    fmt = fmt or {".parquet": "parquet", ".jsonl": "jsonl", ".csv": "csv"}.get(path.suffix.lower(), "parquet")
    if fmt == "parquet":
        return pq.read_table(path)
    if fmt == "jsonl":
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return pa.Table.from_pylist(rows)
    import pyarrow.csv as pacsv

    data = path.read_bytes()
    header = next(csv.reader(io.StringIO(data.decode("utf-8").split("\n", 1)[0])), [])
    return pacsv.read_csv(io.BytesIO(data),
                          convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in header}))
