"""What a tagging job is asked to do, in one value shared by the CLI, both engines and resume.

The options that change the output are fingerprinted into the job state, so `--resume`
can refuse to continue a run with different settings (which would silently mix two
kinds of output in one file). Options that only change how the job reports or how fast
it runs (progress, report, `--max-errors`, threads) may change between runs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

OUTPUT_FORMATS = ("parquet", "jsonl", "csv")
ENGINES = ("local", "spark")
TIME_BUCKETS = ("day", "week", "month")
STDIN = "-"

_OUTPUT_SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl",
                    ".json": "jsonl", ".csv": "csv"}


class TagError(Exception):
    """A tagging job cannot start or continue; the message says what to change."""

    exit_code = 2


class MaxErrorsExceeded(TagError):
    """More rows were quarantined than `--max-errors` allows."""

    exit_code = 1


@dataclass
class TagOptions:
    """Everything a tagging job needs; the CLI fills it from flags."""

    input: str
    """A JSONL/CSV/Parquet file, a directory or glob of them, or `-` for JSONL on stdin."""
    output: Path
    """The tagged table (local engine: one file; Spark engine: a directory of Parquet part files)."""
    model: Path
    """A model directory (transformer or linear) as written by `cxnlp train`."""
    engine: str = "local"
    """`local` (one process, resumable) or `spark` (Apache Spark, `mapInPandas`)."""
    output_format: str | None = None
    """`parquet`, `jsonl` or `csv`; None: from the output's suffix, else Parquet."""
    text_field: str = "text"
    """Input column holding the post."""
    id_field: str | None = None
    """Input column holding a record id; named in quarantine entries and the duplicate report."""
    heads: list[str] | None = None
    """Only these heads (default: every head of the model's taxonomy)."""
    scores: bool = False
    """Add one score column per head and label (`<head>_score_<label>`)."""
    prefix: str = ""
    """Prefix for every added column, for inputs that already have e.g. a `lang` column."""
    dedup: bool = True
    """Classify identical texts once and count the copies (retweets, copy-paste campaigns)."""
    classify_other: bool = False
    """Also classify posts detected as neither Arabic nor Persian (default: tag `lang: other` only)."""
    chunk_size: int = 5000
    """Input rows per chunk: the unit of memory use, of commit and of resume."""
    batch_size: int = 32
    """Texts per forward pass of the model."""
    threads: int | None = None
    """Torch threads for the local engine (default: torch's choice); Spark uses one per task core."""
    resume: bool = False
    """Continue an interrupted run from its last committed chunk."""
    quarantine: Path | None = None
    """Where malformed rows go (JSONL); default `<output>.quarantine.jsonl`."""
    max_errors: int | None = None
    """Fail (exit 1) when more rows than this are quarantined; None: never."""
    report: Path | None = None
    """Write the summary as CSV files and PNG charts into this directory."""
    time_field: str | None = None
    """Input column with a timestamp; adds label share over time to the summary and report."""
    time_bucket: str = "day"
    """Granularity of the over-time view: `day`, `week` or `month`."""
    quiet: bool = False
    """No progress bar or summary table; one log line per committed chunk instead."""
    work_dir: Path | None = None
    """Where committed chunks and the job state live until the output is assembled;
    default `<output>.partial/`."""
    keep_work: bool = False
    """Keep the work directory after a successful run (for inspection)."""
    top_duplicates: int = 20
    """How many of the most-copied texts the summary lists."""
    spark_master: str | None = None
    """Spark master URL; None: the one spark-submit configured, else `local[*]`."""
    split_bytes: int = 64 * 1024 * 1024
    """Spark: JSONL files are read in byte ranges of this size (one task each)."""
    partition_by: list[str] = field(default_factory=list)
    """Spark: output columns to partition the Parquet directory by (e.g. `lang`)."""

    def __post_init__(self) -> None:
        self.output = Path(self.output)
        self.model = Path(self.model)
        if self.engine not in ENGINES:
            raise TagError(f"unknown engine {self.engine!r}; expected one of {', '.join(ENGINES)}")
        if self.output_format is None:
            self.output_format = _OUTPUT_SUFFIXES.get(self.output.suffix.lower(), "parquet")
        if self.output_format not in OUTPUT_FORMATS:
            raise TagError(f"unknown output format {self.output_format!r}; expected one of {', '.join(OUTPUT_FORMATS)}")
        if self.engine == "spark" and self.output_format != "parquet":
            raise TagError("the Spark engine writes Parquet only (a directory of part files); "
                           "convert afterwards or use --engine local for JSONL/CSV")
        if self.time_bucket not in TIME_BUCKETS:
            raise TagError(f"unknown time bucket {self.time_bucket!r}; expected one of {', '.join(TIME_BUCKETS)}")
        if self.chunk_size < 1 or self.batch_size < 1 or self.split_bytes < 1:
            raise TagError("--chunk-size, --batch-size and --split-mb must be positive")
        if self.max_errors is not None and self.max_errors < 0:
            raise TagError("--max-errors must be 0 or more")
        if self.resume and self.input == STDIN:
            raise TagError("--resume needs input that can be read again; stdin (-) cannot. Save it to a file first.")
        if self.quarantine is None:
            self.quarantine = self.output.with_name(self.output.name + ".quarantine.jsonl")
        self.quarantine = Path(self.quarantine)
        if self.work_dir is None:
            self.work_dir = self.output.with_name(self.output.name + ".partial")
        self.work_dir = Path(self.work_dir)
        if self.report is not None:
            self.report = Path(self.report)

    def output_affecting(self) -> dict[str, Any]:
        """The options a resumed run must share with the run it continues."""
        keys = ("input", "output", "model", "output_format", "text_field", "id_field", "heads", "scores", "prefix",
                "dedup", "classify_other", "chunk_size", "batch_size", "time_field", "time_bucket")
        d = asdict(self)
        return {k: (str(d[k]) if isinstance(d[k], Path) else d[k]) for k in keys}

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.output_affecting(), sort_keys=True).encode()).hexdigest()
