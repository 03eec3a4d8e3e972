"""The Spark engine: the same tagging job on a cluster (or `local[N]`), via `mapInPandas`.

Plan, in Spark terms:

1. The driver lists the input files and cuts them into *splits*: byte ranges of JSONL
   files (`--split-mb`; a line belongs to the range it starts in), whole CSV files
   (quoted fields may span lines, so a CSV file cannot be cut safely), and Parquet row
   groups. One Spark task per split.
2. JSONL only: a first pass over the splits counts their lines (so every row gets its
   real line number, for the quarantine file) and infers the pass-through columns'
   types, unified exactly as the local engine unifies its chunks
   (`cxnlp.tagging.columns.unify`).
3. `mapInArrow` reads each split with the local engine's readers: same parsing, same
   quarantine reasons, same line numbers, types kept exactly.
4. Distinct texts (with `--dedup`; else every row) go through `mapInPandas`, where each
   Python worker loads the model once (`cached_predictor`: Spark reuses Python workers
   across tasks) from the model directory shipped with `SparkContext.addFile`, its name
   broadcast to the executors; predictions are joined back to the rows.
5. Rows are sorted back into input order (file, line) and written as a directory of
   Parquet part files (optionally `partitionBy`); malformed rows go to the quarantine
   file on the driver; the summary is counted from the written output with the same
   functions as the local engine.

Resume is Spark's business here (failed tasks are retried); `--resume` is for the local
engine.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from cxnlp.model_dir import ModelDirectoryError, load_meta
from cxnlp.tagging.columns import OutputColumns, conform, passthrough_table, unify
from cxnlp.tagging.inputs import (
    InputFile,
    InputRow,
    _jsonl_row,
    _lines_in_range,
    check_text_column,
    csv_header,
    iter_csv,
    iter_jsonl_range,
    iter_parquet,
    parquet_schema,
    plan_inputs,
    quarantine_entry,
    row_problem,
)
from cxnlp.tagging.options import STDIN, MaxErrorsExceeded, TagError, TagOptions
from cxnlp.tagging.summary import Summary, count_rows, merge_counts, reason_kind
from cxnlp.taxonomy import Taxonomy

logger = logging.getLogger("cxnlp.tagging")

_BATCH = 5000
# Helper columns carried through the job and dropped before writing.
_META = pa.schema([("_file", pa.int32()), ("_line", pa.int64()), ("_text", pa.string()), ("_source", pa.string()),
                   ("_id", pa.string()), ("_reason", pa.string()), ("_quarantine", pa.string())])


def _require_pyspark() -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise TagError("the Spark engine needs pyspark: pip install 'cxnlp[spark]' (and Java 17 on the PATH)") from None


def spark_session(master: str | None = None) -> tuple[Any, bool]:
    """The active session, or a new one; returns (session, created_here).

    Under spark-submit the master comes from its configuration; started from `cxnlp tag`
    the default is `local[*]`. Python workers run this interpreter unless PYSPARK_PYTHON
    says otherwise, so they import the same cxnlp and libraries as the driver.
    """
    _require_pyspark()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active, False
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("cxnlp-tag")
    if master:
        builder = builder.master(master)
    elif "PYSPARK_GATEWAY_PORT" not in os.environ:  # not launched by spark-submit
        builder = builder.master("local[*]")
    builder = (builder.config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.adaptive.enabled", "true")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true"))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark, True


# -- splits --------------------------------------------------------------------------------


def plan_splits(files: list[InputFile], split_bytes: int) -> list[dict[str, Any]]:
    """Cut the input into independently readable pieces, in input order."""
    import pyarrow.parquet as pq

    splits: list[dict[str, Any]] = []
    for fi, f in enumerate(files):
        base = {"file": fi, "path": f.path, "fmt": f.fmt, "start": 0, "end": None, "rg": None, "first": 1}
        if f.fmt == "jsonl":
            for start in range(0, max(f.size, 1), split_bytes):
                splits.append({**base, "start": start, "end": min(start + split_bytes, f.size)})
        elif f.fmt == "csv":
            splits.append(base)
        else:
            md = pq.ParquetFile(f.path).metadata
            first = 1
            for rg in range(md.num_row_groups):
                splits.append({**base, "rg": rg, "first": first})
                first += md.row_group(rg).num_rows
    for i, s in enumerate(splits):
        s["i"] = i
    return splits


def _split_rows(s: dict[str, Any]) -> Iterator[InputRow]:
    if s["fmt"] == "jsonl":
        return iter_jsonl_range(s["path"], s["start"], s["end"], s["first"], s["file"])
    if s["fmt"] == "csv":
        return iter_csv(s["path"], s["file"])
    return iter_parquet(s["path"], s["file"], [s["rg"]], s["first"])


def _no_null_types(schema: pa.Schema) -> pa.Schema:
    """Spark cannot write a column of type null (a field that is null in every row): string."""
    def fix(t: pa.DataType) -> pa.DataType:
        if pa.types.is_null(t):
            return pa.string()
        if pa.types.is_struct(t):
            return pa.struct([pa.field(f.name, fix(f.type)) for f in t])
        if pa.types.is_list(t) or pa.types.is_large_list(t):
            return pa.list_(fix(t.value_type))
        return t

    return pa.schema([pa.field(f.name, fix(f.type)) for f in schema])


# -- functions that run on executors ---------------------------------------------------------


def _prepass(splits: list[dict[str, Any]], text_field: str, added: list[str]):  # noqa: ANN202
    """JSONL splits: line count, inferred pass-through schema, and any column clash."""
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for b in batches:
            for i in b.column("id").to_pylist():
                s = splits[i]
                lines, schemas, clash = 0, [], ""
                rows: list[dict[str, Any]] = []
                with open(s["path"], "rb") as fh:
                    for raw in _lines_in_range(fh, s["start"], s["end"]):
                        lines += 1
                        row = _jsonl_row(raw, s["path"], lines, s["file"])
                        if row is None or row_problem(row, text_field) is not None:
                            continue
                        assert row.data is not None
                        hit = set(added).intersection(row.data)
                        if hit and not clash:
                            clash = f"{s['path']} has field(s) {sorted(hit)}"
                        rows.append(row.data)
                        if len(rows) >= _BATCH:
                            schemas.append(passthrough_table(rows).schema)
                            rows = []
                if rows:
                    schemas.append(passthrough_table(rows).schema)
                schema = unify(schemas)
                yield pa.RecordBatch.from_pydict({"i": [i], "lines": [lines], "clash": [clash],
                                                  "schema": [schema.serialize().to_pybytes()]})

    return run


def _reader(splits: list[dict[str, Any]], opts: dict[str, Any], passthrough: pa.Schema):  # noqa: ANN202
    """Read splits into Arrow batches: pass-through columns + helper columns."""
    text_field, id_field = opts["text_field"], opts["id_field"]

    def emit(rows: list[InputRow]) -> pa.RecordBatch:
        good, meta = [], {n: [] for n in _META.names}
        for r in rows:
            problem = row_problem(r, text_field)
            meta["_file"].append(r.file_index)
            meta["_line"].append(r.line)
            meta["_source"].append(r.source)
            if problem is None:
                assert r.data is not None
                good.append(r.data)
                meta["_text"].append(r.data[text_field])
                meta["_id"].append(None if not id_field or r.data.get(id_field) is None else str(r.data[id_field]))
                meta["_reason"].append(None)
                meta["_quarantine"].append(None)
            else:
                good.append({})
                meta["_text"].append(None)
                meta["_id"].append(None)
                meta["_reason"].append(reason_kind(problem))
                meta["_quarantine"].append(json.dumps(quarantine_entry(r, problem, id_field), ensure_ascii=False,
                                                      default=str))
        table = conform(passthrough_table(good, passthrough, passthrough.names), passthrough)
        for f in _META:
            table = table.append_column(f, pa.array(meta[f.name], type=f.type))
        return table.combine_chunks().to_batches()[0]

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for b in batches:
            for i in b.column("id").to_pylist():
                rows: list[InputRow] = []
                for r in _split_rows(splits[i]):
                    rows.append(r)
                    if len(rows) >= _BATCH:
                        yield emit(rows)
                        rows = []
                if rows:
                    yield emit(rows)

    return run


def _classifier(conf: dict[str, Any], model_name: Any, keys: list[str], names: list[str]):  # noqa: ANN202
    """mapInPandas function: key columns + `_text` → key columns + prediction columns."""
    def run(frames: Iterator[Any]) -> Iterator[Any]:
        import pandas as pd
        from pyspark import SparkFiles

        from cxnlp.tagging.classify import cached_predictor, classify

        predictor = cached_predictor(SparkFiles.get(model_name.value), conf["threads"], conf["batch_size"])
        columns = OutputColumns.build(predictor.taxonomy, conf["heads"], conf["scores"], conf["prefix"])
        heads = [h.name for h in columns.heads]
        for pdf in frames:
            texts = [str(t) for t in pdf["_text"].tolist()]
            records = classify(predictor, texts, heads=heads, scores=conf["scores"],
                               classify_other=conf["classify_other"])
            flat = [columns.flatten(r) for r in records]
            out = {k: pdf[k].tolist() for k in keys}
            out.update({n: [r[n] for r in flat] for n in names})
            yield pd.DataFrame(out)

    return run


class _Clock:
    def __init__(self) -> None:
        self.t = time.perf_counter()

    def lap(self, what: str) -> None:
        now = time.perf_counter()
        logger.debug("spark: %s in %.1fs", what, now - self.t)
        self.t = now


# -- the engine -------------------------------------------------------------------------------


class SparkEngine:
    """Runs a tagging job on Spark."""

    def __init__(self, opts: TagOptions) -> None:
        self.opts = opts

    def run(self) -> Summary:
        opts = self.opts
        if opts.input == STDIN:
            raise TagError("the Spark engine reads files, not stdin; save the input to a file first")
        if opts.resume:
            logger.info("--resume applies to the local engine; Spark retries failed tasks itself")
        files = plan_inputs(opts.input)
        check_text_column(files, opts.text_field, opts.id_field, opts.time_field)
        try:
            load_meta(opts.model)
            taxonomy = Taxonomy.from_yaml(opts.model)
            columns = OutputColumns.build(taxonomy, opts.heads, opts.scores, opts.prefix)
        except (ModelDirectoryError, FileNotFoundError) as exc:
            raise TagError(str(exc)) from None
        except KeyError as exc:
            raise TagError(str(exc.args[0])) from None
        from cxnlp.tagging.engines.local import _collision_message, check_collisions

        check_collisions(files, columns)
        spark, created = spark_session(opts.spark_master)
        t0 = time.perf_counter()
        try:
            summary = self._run(spark, files, columns, _collision_message)
        finally:
            if created:
                spark.stop()
        logger.info("spark job finished in %.1fs", time.perf_counter() - t0)
        return summary

    def _run(self, spark: Any, files: list[InputFile], columns: OutputColumns, clash_message: Any) -> Summary:
        from pyspark import StorageLevel
        from pyspark.sql import functions as F
        from pyspark.sql.pandas.types import from_arrow_schema

        opts = self.opts
        clock = _Clock()
        splits = plan_splits(files, opts.split_bytes)
        n = max(len(splits), 1)
        ids = spark.range(0, len(splits), 1, n)
        added = columns.names

        # 1. line numbers and pass-through types
        schemas: list[pa.Schema] = []
        jsonl = [s["i"] for s in splits if s["fmt"] == "jsonl"]
        found: dict[int, dict[str, Any]] = {}
        if jsonl:
            pre = (ids.where(F.col("id").isin(jsonl))
                   .mapInArrow(_prepass(splits, opts.text_field, added),
                               "i long, lines long, clash string, schema binary").collect())
            found = {r["i"]: {"lines": r["lines"], "clash": r["clash"], "schema": r["schema"]} for r in pre}
            clashes = [found[i]["clash"] for i in sorted(found) if found[i]["clash"]]
            if clashes:
                raise TagError(clash_message(clashes[0], columns))
        next_line: dict[int, int] = {}
        declared = {i: parquet_schema(f.path) for i, f in enumerate(files) if f.fmt == "parquet"}
        for s in splits:
            if s["fmt"] == "jsonl":
                s["first"] = next_line.get(s["file"], 1)
                next_line[s["file"]] = s["first"] + found[s["i"]]["lines"]
                schemas.append(pa.ipc.read_schema(pa.py_buffer(found[s["i"]]["schema"])))
            elif s["fmt"] == "csv":
                schemas.append(pa.schema([(c, pa.string()) for c in csv_header(s["path"])[0]]))
            elif s["rg"] == 0:
                schemas.append(declared[s["file"]])
        clock.lap(f"planned {len(splits)} split(s)" + (", counted JSONL lines" if jsonl else ""))
        passthrough = _no_null_types(unify(schemas))
        read_schema = pa.schema(list(passthrough) + list(_META))

        # 2. read
        conf = {"text_field": opts.text_field, "id_field": opts.id_field}
        rows = ids.mapInArrow(_reader(splits, conf, passthrough), from_arrow_schema(read_schema))
        rows = rows.persist(StorageLevel.MEMORY_AND_DISK)
        by_reason = {r["_reason"]: r["count"] for r in rows.groupBy("_reason").count().collect()}
        reasons = {k: v for k, v in by_reason.items() if k is not None}
        counts: dict[str, Any] = {"rows_read": sum(by_reason.values()), "quarantined": sum(reasons.values()),
                                  "reasons": reasons}
        clock.lap(f"read {counts['rows_read']:,} rows")
        bad = rows.where(F.col("_quarantine").isNotNull())
        self._write_quarantine(bad, counts["quarantined"])
        clock.lap(f"wrote {counts['quarantined']:,} quarantined rows")
        if opts.max_errors is not None and counts["quarantined"] > opts.max_errors:
            rows.unpersist()
            raise MaxErrorsExceeded(f"{counts['quarantined']:,} malformed rows quarantined, more than --max-errors "
                                    f"{opts.max_errors:,}; they are in {opts.quarantine}.")
        good = rows.where(F.col("_quarantine").isNull())

        # 3. classify (each distinct text once with dedup) and join back
        sc = spark.sparkContext
        model_path = str(Path(opts.model).resolve())
        sc.addFile(model_path, recursive=True)
        model_name = sc.broadcast(Path(model_path).name)
        task_cpus = int(spark.conf.get("spark.task.cpus", "1") or 1)
        cconf = {"threads": task_cpus, "batch_size": opts.batch_size, "heads": opts.heads, "scores": opts.scores,
                 "prefix": opts.prefix, "classify_other": opts.classify_other}
        keys = ["_text"] if opts.dedup else ["_file", "_line"]
        todo = good.select("_text").distinct() if opts.dedup else good.select("_file", "_line", "_text")
        pred_schema = pa.schema([read_schema.field(k) for k in keys] + columns.fields())
        preds = todo.mapInPandas(_classifier(cconf, model_name, keys, columns.names), from_arrow_schema(pred_schema))
        tagged = good.join(preds, on=keys, how="left")
        out = tagged.orderBy("_file", "_line").select(*passthrough.names, *columns.names)
        out.write.mode("overwrite").partitionBy(*opts.partition_by).parquet(str(opts.output))
        clock.lap("classified and wrote the output")

        # 4. summary, from what was written
        merge_counts(counts, self._count_output(columns))
        if opts.dedup:
            distinct, top = self._duplicates(good)
            counts["duplicates"] = counts.get("written", 0) - distinct
            counts["classified_texts"] = self._classified_texts(spark, columns)
        else:
            distinct, top = None, []
            counts["duplicates"] = 0
            counts["classified_texts"] = counts.get("tagged", 0)
        clock.lap("counted the summary")
        rows.unpersist()
        return Summary(counts=counts, dedup=opts.dedup, distinct_texts=distinct, top_duplicates=top,
                       heads={h.name: h.label_names for h in columns.heads},
                       time_bucket=opts.time_bucket if opts.time_field else None, output=str(opts.output),
                       quarantine=str(opts.quarantine))

    def _write_quarantine(self, bad: Any, n: int) -> None:
        from cxnlp.model_dir import atomic_write_file
        from cxnlp.tagging.writers import _publishing

        # Sorted, then one partition (coalesce keeps the order): one job streams it to the driver.
        lines = (bad.orderBy("_file", "_line").coalesce(1).select("_quarantine").toLocalIterator()
                 if n else iter(()))

        def write(tmp: Path) -> None:
            with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
                for r in lines:
                    fh.write(r["_quarantine"] + "\n")

        assert self.opts.quarantine is not None
        atomic_write_file(self.opts.quarantine, _publishing(write))

    def _count_output(self, columns: OutputColumns) -> dict[str, Any]:
        import pyarrow.dataset as ds

        opts = self.opts
        dataset = ds.dataset(str(opts.output), format="parquet", partitioning="hive")
        wanted = columns.names + ([opts.time_field] if opts.time_field else [])
        counts: dict[str, Any] = {}
        for batch in dataset.to_batches(columns=wanted):
            rows = batch.to_pylist()
            times = [r[opts.time_field] for r in rows] if opts.time_field else None
            merge_counts(counts, count_rows(columns, rows, times, opts.time_bucket))
        return counts

    def _classified_texts(self, spark: Any, columns: OutputColumns) -> int:
        from pyspark.sql import functions as F

        first = columns.label_column(columns.heads[0])
        written = spark.read.parquet(str(self.opts.output))
        return written.where(F.col(first).isNotNull()).select(self.opts.text_field).distinct().count()

    def _duplicates(self, good: Any) -> tuple[int, list[dict[str, Any]]]:
        """Distinct texts, and the most-copied ones with their first occurrence."""
        from pyspark.sql import functions as F

        groups = (good.groupBy("_text")
                  .agg(F.count("*").alias("copies"), F.min(F.struct("_file", "_line", "_source", "_id")).alias("first"))
                  .persist())
        distinct = groups.count()
        top = (groups.where(F.col("copies") > 1)
               .orderBy(F.desc("copies"), F.col("first._file"), F.col("first._line"))
               .limit(self.opts.top_duplicates).collect())
        groups.unpersist()
        return distinct, [{"text": r["_text"], "copies": r["copies"], "first_source": r["first"]["_source"],
                           "first_line": r["first"]["_line"], "first_id": r["first"]["_id"]} for r in top]
