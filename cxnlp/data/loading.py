"""Loading labelled data from files or Hugging Face datasets into a validated `datasets.Dataset`.

The result always has the columns `id`, `text`, `lang` and `labels` (a struct with one
field per taxonomy head: a list of labels for multilabel heads, one label for the others,
null where a record does not label that head), plus every other column of the input,
passed through untouched.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets

from cxnlp.data.readers import RawRow, expand_inputs, read_rows
from cxnlp.data.validation import DataValidationError, Problem, ValidationReport, validate_row
from cxnlp.taxonomy import Taxonomy

logger = logging.getLogger("cxnlp.data")

_HUB_NAME_RE = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


@dataclass
class LoadResult:
    """A validated dataset and the report of what was read."""

    dataset: datasets.Dataset
    """The valid records."""
    report: ValidationReport
    """Counts and every problem, with file and line."""
    fingerprint: str
    """SHA-256 over the valid records' ids, texts and labels: identifies the training data
    in model directories."""


def label_features(taxonomy: Taxonomy) -> datasets.Features:
    return datasets.Features(
        {
            h.name: datasets.Sequence(datasets.Value("string")) if h.is_multilabel else datasets.Value("string")
            for h in taxonomy.heads
        }
    )


def _hf_rows(ds: datasets.Dataset, source: str) -> Iterator[RawRow]:
    for i, row in enumerate(ds, 1):
        yield RawRow(source, i, dict(row), unit="row")


def _is_saved_dataset(path: Path) -> bool:
    return path.is_dir() and ((path / "dataset_info.json").exists() or (path / "dataset_dict.json").exists()
                              or (path / "state.json").exists())


def iter_raw_rows(source: str | Path | datasets.Dataset, *, split: str | None = None) -> tuple[list[str], Iterator[RawRow]]:
    """Resolve `source` and iterate its raw rows. Returns (source names, iterator)."""
    if isinstance(source, datasets.Dataset):
        name = source.info.dataset_name or "<dataset>"
        return [name], _hf_rows(source, name)
    if isinstance(source, datasets.DatasetDict):
        raise ValueError(f"got a DatasetDict with splits {list(source)}; pass one split (e.g. ds['train'])")
    s = str(source)
    p = Path(s)
    if _is_saved_dataset(p):
        loaded = datasets.load_from_disk(s)
        if isinstance(loaded, datasets.DatasetDict):
            if split is None:
                raise ValueError(f"{s} holds splits {list(loaded)}; choose one with split=")
            loaded = loaded[split]
        return [s], _hf_rows(loaded, s)
    if p.exists() or any(ch in s for ch in "*?["):
        files = expand_inputs(s)

        def chain() -> Iterator[RawRow]:
            for f in files:
                yield from read_rows(f)

        return [str(f) for f in files], chain()
    if _HUB_NAME_RE.match(s):
        # A Hugging Face dataset name: works where the Hub (or the local HF cache) is reachable.
        try:
            loaded = datasets.load_dataset(s, split=split or "train")
        except Exception as exc:  # noqa: BLE001 - datasets raises many connection error types
            raise FileNotFoundError(
                f"{s!r} is not a local file or directory, and loading it as a Hugging Face dataset failed "
                f"({type(exc).__name__}: {exc}). Offline, pass a local JSONL/CSV/Parquet file or a directory "
                "saved with Dataset.save_to_disk()."
            ) from exc
        return [s], _hf_rows(loaded, s)
    raise FileNotFoundError(f"no such file or dataset: {s}")


def fingerprint_records(records: Iterable[dict[str, Any]]) -> str:
    h = hashlib.sha256()
    for r in records:
        h.update(json.dumps([r["id"], r["text"], r["labels"]], ensure_ascii=False, sort_keys=True).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def _to_dataset(records: list[dict[str, Any]], taxonomy: Taxonomy | None) -> datasets.Dataset:
    core = datasets.Features({"id": datasets.Value("string"), "text": datasets.Value("string"),
                              "lang": datasets.Value("string")})
    if taxonomy is not None:
        core["labels"] = label_features(taxonomy)
    if not records:
        return datasets.Dataset.from_list([], features=core)
    try:
        ds = datasets.Dataset.from_list(records)
    except Exception:  # noqa: BLE001 - arrow type inference failures on mixed extra columns
        # Extra columns with mixed types across rows: keep them as JSON text, not lose them.
        def as_text(v: Any) -> Any:
            return v if v is None or isinstance(v, str) else json.dumps(v, ensure_ascii=False)

        fixed = [{k: (v if k in core else as_text(v)) for k, v in r.items()} for r in records]
        ds = datasets.Dataset.from_list(fixed)
    features = ds.features.copy()
    for k, v in core.items():
        features[k] = v
    if features == ds.features:
        return ds
    quiet = not datasets.utils.are_progress_bars_disabled()
    if quiet:
        datasets.utils.disable_progress_bars()
    try:
        return ds.cast(features)
    finally:
        if quiet:
            datasets.utils.enable_progress_bars()


def load_labelled(
    source: str | Path | datasets.Dataset,
    taxonomy: Taxonomy | None = None,
    *,
    skip_invalid: bool = False,
    text_field: str = "text",
    id_field: str = "id",
    label_columns: dict[str, str] | None = None,
    split: str | None = None,
    max_samples: int | None = None,
    report_path: str | Path | None = None,
    require_labels: bool = True,
) -> LoadResult:
    """Load and validate labelled data.

    source: a JSONL/CSV/Parquet file, a directory or glob of them, a directory written by
        `Dataset.save_to_disk`, a `datasets.Dataset`, or a Hugging Face dataset name.
    taxonomy: labels are checked against it; None loads texts only.
    skip_invalid: skip invalid rows (counted in the report) instead of raising
        `DataValidationError` listing them.
    label_columns: map head name → column name when the data names its label columns
        differently (e.g. {"emotion": "label"}).
    max_samples: keep only the first N valid records (quick runs).
    report_path: also write the machine-readable validation report (JSON) there.
    """
    sources, rows = iter_raw_rows(source, split=split)
    report = ValidationReport(sources=sources)
    records: list[dict[str, Any]] = []
    seen_ids: dict[str, str] = {}
    for row in rows:
        report.rows += 1
        record, problems = validate_row(row, taxonomy, text_field=text_field, id_field=id_field,
                                        label_columns=label_columns, require_labels=require_labels)
        if record is not None and record["id"] in seen_ids:
            problems = [Problem(row.source, row.line, "duplicate_id",
                                f"id {record['id']!r} already used at {seen_ids[record['id']]}", "id", row.unit)]
            record = None
        if problems:
            report.problems.extend(problems)
            continue
        assert record is not None
        seen_ids[record["id"]] = f"{row.source}:{row.line}"
        if max_samples is None or len(records) < max_samples:
            records.append(record)
        report.valid += 1
    if report_path is not None:
        report.write_json(report_path)
    if report.problems:
        if not skip_invalid:
            raise DataValidationError(report)
        logger.warning("skipped invalid rows:\n%s", report.summary())
    return LoadResult(_to_dataset(records, taxonomy), report, fingerprint_records(records))
