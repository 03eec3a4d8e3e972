"""The tagged table: which columns the tagger adds, and how rows become typed Arrow tables.

The added columns are the prediction record (see the architecture notes) laid flat, so
that analysts can filter on them in any tool, with names that map one to one onto the
record's paths:

| column | record path | type |
|---|---|---|
| `lang`, `variety`, `variety_score` | same | string, string, double |
| `<head>_label` (multiclass, ordinal) | `heads.<head>.label` | string |
| `<head>_labels` (multilabel) | `heads.<head>.labels` | list of strings (CSV: `a|b`) |
| `<head>_expected` (ordinal) | `heads.<head>.expected` | double |
| `<head>_score_<label>` (`--scores`) | `heads.<head>.scores.<label>` | double |

Head columns are null for posts that were not classified (`lang: other`); an empty list
means "classified, no label applies". Every other input column passes through unchanged.

Pass-through columns of JSONL input have no declared types, and dumps are messy: a field
may be a number in one row and a string in the next. Types are inferred per column, and
where rows (or chunks, or Spark splits) disagree in a way Arrow cannot widen, the column
becomes a string column holding each value's JSON text. Both engines resolve types with
the functions below, so they produce the same table.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from cxnlp.taxonomy import Head, Taxonomy


@dataclass(frozen=True)
class OutputColumns:
    """The columns the tagger adds for one taxonomy and set of options."""

    heads: tuple[Head, ...]
    """The heads that are predicted, in taxonomy order."""
    scores: bool
    """Whether per-label score columns are added."""
    prefix: str = ""
    """Prefix of every added column."""

    @classmethod
    def build(cls, taxonomy: Taxonomy, heads: Sequence[str] | None, scores: bool, prefix: str) -> OutputColumns:
        if heads:
            unknown = [h for h in heads if h not in taxonomy]
            if unknown:
                raise KeyError(f"unknown head(s) {unknown}; this model has {taxonomy.head_names}")
            chosen = tuple(h for h in taxonomy.heads if h.name in set(heads))
        else:
            chosen = tuple(taxonomy.heads)
        return cls(chosen, scores, prefix)

    @property
    def lang(self) -> str:
        return self.prefix + "lang"

    def label_column(self, head: Head) -> str:
        return f"{self.prefix}{head.name}_{'labels' if head.is_multilabel else 'label'}"

    def expected_column(self, head: Head) -> str:
        return f"{self.prefix}{head.name}_expected"

    def score_column(self, head: Head, label: str) -> str:
        return f"{self.prefix}{head.name}_score_{label}"

    def fields(self) -> list[pa.Field]:
        p = self.prefix
        out = [pa.field(p + "lang", pa.string()), pa.field(p + "variety", pa.string()),
               pa.field(p + "variety_score", pa.float64())]
        for h in self.heads:
            out.append(pa.field(self.label_column(h), pa.list_(pa.string()) if h.is_multilabel else pa.string()))
            if h.kind == "ordinal":
                out.append(pa.field(self.expected_column(h), pa.float64()))
            if self.scores:
                out += [pa.field(self.score_column(h, lab), pa.float64()) for lab in h.label_names]
        return out

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields()]

    def schema(self) -> pa.Schema:
        return pa.schema(self.fields())

    def multilabel_columns(self) -> set[str]:
        return {self.label_column(h) for h in self.heads if h.is_multilabel}

    def flatten(self, record: dict[str, Any]) -> dict[str, Any]:
        """A prediction record → the added columns of one row (head columns None when not classified)."""
        p = self.prefix
        row: dict[str, Any] = {p + "lang": record["lang"], p + "variety": record.get("variety"),
                               p + "variety_score": record.get("variety_score")}
        heads = record.get("heads")
        for h in self.heads:
            out = heads.get(h.name) if heads else None
            if out is None:
                row[self.label_column(h)] = None
                if h.kind == "ordinal":
                    row[self.expected_column(h)] = None
                if self.scores:
                    row.update({self.score_column(h, lab): None for lab in h.label_names})
                continue
            row[self.label_column(h)] = list(out["labels"]) if h.is_multilabel else out["label"]
            if h.kind == "ordinal":
                row[self.expected_column(h)] = out.get("expected")
            if self.scores:
                sc = out.get("scores", {})
                row.update({self.score_column(h, lab): sc.get(lab) for lab in h.label_names})
        return row

    def table(self, rows: Sequence[dict[str, Any]]) -> pa.Table:
        """Flattened rows → an Arrow table with the fixed schema of the added columns."""
        schema = self.schema()
        return pa.table({f.name: pa.array([r[f.name] for r in rows], type=f.type) for f in schema}, schema=schema)


# -- pass-through columns -------------------------------------------------------------------


def render_json(value: Any) -> str | None:
    """How a value that does not fit its column's type is kept: strings as they are,
    everything else as its JSON text (nothing is dropped)."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def column_order(rows: Iterable[dict[str, Any]]) -> list[str]:
    """Keys in order of first appearance (JSONL rows need not share keys or their order)."""
    seen: dict[str, None] = {}
    for r in rows:
        for k in r:
            if k not in seen:
                seen[k] = None
    return list(seen)


def infer_array(values: list[Any], declared: pa.DataType | None = None) -> pa.Array:
    """An Arrow array for one pass-through column: the declared type (Parquet input) or an
    inferred one; values Arrow cannot hold in one type become their JSON text."""
    if declared is not None:
        try:
            return pa.array(values, type=declared)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            pass
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        return pa.array([render_json(v) for v in values], type=pa.string())


def passthrough_table(rows: Sequence[dict[str, Any]], declared: pa.Schema | None = None,
                      columns: Sequence[str] | None = None) -> pa.Table:
    """Input rows → a table of their columns (missing keys are nulls)."""
    names = list(columns) if columns is not None else column_order(rows)
    arrays, fields = [], []
    for name in names:
        dtype = declared.field(name).type if declared is not None and name in declared.names else None
        arr = infer_array([r.get(name) for r in rows], dtype)
        arrays.append(arr)
        fields.append(pa.field(name, arr.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields)) if fields else pa.table({})


def unify(schemas: Iterable[pa.Schema]) -> pa.Schema:
    """One schema for several tables: fields in order of first appearance, types widened
    the way Arrow allows (null → anything, int → float, ...), otherwise string."""
    by_name: dict[str, list[pa.DataType]] = {}
    for s in schemas:
        for f in s:
            by_name.setdefault(f.name, []).append(f.type)
    fields = []
    for name, types in by_name.items():
        distinct = list(dict.fromkeys(types))
        if len(distinct) == 1:
            fields.append(pa.field(name, distinct[0]))
            continue
        try:
            merged = pa.unify_schemas([pa.schema([pa.field(name, t)]) for t in distinct],
                                      promote_options="permissive").field(name).type
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            merged = pa.string()
        fields.append(pa.field(name, merged))
    return pa.schema(fields)


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """Reorder, fill and cast `table` to `schema` (see `unify`)."""
    arrays = []
    for f in schema:
        if f.name not in table.column_names:
            arrays.append(pa.nulls(table.num_rows, type=f.type))
            continue
        col = table.column(f.name)
        if col.type == f.type:
            arrays.append(col)
        elif pa.types.is_string(f.type) and not pa.types.is_null(col.type):
            arrays.append(pa.array([render_json(v) for v in col.to_pylist()], type=pa.string()))
        else:
            try:
                arrays.append(col.cast(f.type))
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
                arrays.append(pa.array([render_json(v) for v in col.to_pylist()], type=pa.string()))
    return pa.Table.from_arrays(arrays, schema=schema)


def to_csv_cell(value: Any, multilabel: bool = False) -> str:
    """A CSV cell: label lists as `a|b` (the labelled-data CSV convention), other
    non-strings as JSON text, null as empty."""
    if value is None:
        return ""
    if multilabel and isinstance(value, list):
        return "|".join(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)
