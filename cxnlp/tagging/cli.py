"""`cxnlp tag`: the command-line face of `cxnlp.tagging.tag` (registered in `cxnlp/cli.py`)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import typer

from cxnlp.tagging.options import TagError, TagOptions

logger = logging.getLogger("cxnlp.tagging")


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def tag_command(
    input: str = typer.Argument(..., metavar="INPUT", help="JSONL, CSV or Parquet file, a directory or glob of them, or - for JSONL "
                                          "on stdin."),
    output: Path = typer.Option(..., "--output", "-o", help="Tagged table: .parquet (default), .jsonl or .csv "
                                                            "(Spark: a Parquet directory)."),
    model: Path = typer.Option(..., "--model", "-m", help="Model directory (transformer or linear)."),
    engine: str = typer.Option("local", help="local or spark."),
    output_format: str | None = typer.Option(None, "--format", help="parquet, jsonl or csv (default: from the "
                                                                    "output suffix, else parquet)."),
    text_field: str = typer.Option("text", help="Input column holding the text."),
    id_field: str | None = typer.Option(None, help="Input column holding a record id (named in the quarantine "
                                                   "file and the duplicate report)."),
    heads: str | None = typer.Option(None, help="Comma-separated heads to predict (default: all)."),
    scores: bool = typer.Option(False, "--scores", help="Add <head>_score_<label> columns."),
    prefix: str = typer.Option("", help="Prefix for the added columns (when the input already has e.g. `lang`)."),
    dedup: bool = typer.Option(True, "--dedup/--no-dedup", help="Classify identical texts once and count copies."),
    classify_other: bool = typer.Option(False, "--classify-other", help="Also classify posts that are neither "
                                                                         "Arabic nor Persian."),
    chunk_size: int = typer.Option(5000, help="Input rows per chunk (memory, commit and resume unit)."),
    batch_size: int = typer.Option(32, help="Texts per forward pass."),
    threads: int | None = typer.Option(None, help="Torch threads (local engine)."),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted run from its last committed chunk."),
    quarantine: Path | None = typer.Option(None, help="Malformed rows go here (default <output>.quarantine.jsonl)."),
    max_errors: int | None = typer.Option(None, help="Exit 1 when more rows than this are quarantined "
                                                     "(default: never)."),
    report: Path | None = typer.Option(None, help="Write the summary as CSV + PNG charts into this directory."),
    time_field: str | None = typer.Option(None, help="Input column with a timestamp: label share over time."),
    time_bucket: str = typer.Option("day", help="day, week or month."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar or summary table; a log line per "
                                                            "chunk."),
    work_dir: Path | None = typer.Option(None, help="Work directory (default <output>.partial)."),
    keep_work: bool = typer.Option(False, "--keep-work", help="Keep the work directory after success."),
    top_duplicates: int = typer.Option(20, help="How many of the most-copied texts the summary lists."),
    spark_master: str | None = typer.Option(None, help="Spark master (default: spark-submit's, else local[*])."),
    split_mb: float = typer.Option(64, help="Spark: JSONL byte-range size per task, in MiB."),
    partition_by: str | None = typer.Option(None, help="Spark: comma-separated output columns to partition by."),
) -> None:
    """Tag every post of INPUT and write a table with the predicted labels per head.

    Exit codes: 0 done; 1 more malformed rows than --max-errors; 2 bad arguments or input.
    """
    from rich.console import Console

    from cxnlp.tagging import tag

    try:
        opts = TagOptions(input=input, output=output, model=model, engine=engine, output_format=output_format,
                          text_field=text_field, id_field=id_field, heads=_split(heads), scores=scores,
                          prefix=prefix, dedup=dedup, classify_other=classify_other, chunk_size=chunk_size,
                          batch_size=batch_size, threads=threads, resume=resume, quarantine=quarantine,
                          max_errors=max_errors, report=report, time_field=time_field, time_bucket=time_bucket,
                          quiet=quiet, work_dir=work_dir, keep_work=keep_work, top_duplicates=top_duplicates,
                          spark_master=spark_master,
                          split_bytes=int(split_mb * 1024 * 1024), partition_by=_split(partition_by) or [])
        summary = tag(opts)
    except TagError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(exc.exit_code) from None
    console = Console(stderr=True)
    if not quiet:
        console.print(summary.render())
    t = summary.totals()
    dup = f", {t['duplicates']:,} duplicates" if "duplicates" in t else ""
    logger.info("tagged %s of %s rows (%s skipped as lang other, %s quarantined%s) → %s", f"{t['tagged']:,}",
                f"{t['rows_read']:,}", f"{t['skipped']:,}", f"{t['quarantined']:,}", dup, opts.output)
    if t["quarantined"]:
        logger.info("malformed rows: %s", opts.quarantine)
    if report:
        logger.info("report written to %s", report)
    sys.stderr.flush()
