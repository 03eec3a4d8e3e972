"""Progress of a tagging run: a rich bar with rows/s and ETA, or one log line per chunk.

Progress is measured in input bytes (rows of a JSONL or CSV dump differ a lot in length,
and the byte total is known before reading), while speed is shown in rows per second,
which is what people plan with. Stdin has no known size: the bar then shows rows only.
In quiet mode (for logs and schedulers) there is no bar, only a line per committed chunk.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

logger = logging.getLogger("cxnlp.tagging")


class _RowsColumn(ProgressColumn):
    def render(self, task: Any) -> Text:
        rows = task.fields.get("rows", 0)
        start = task.fields.get("rows_at_start", 0)
        elapsed = task.elapsed or 0.0
        rate = (rows - start) / elapsed if elapsed > 0 else 0.0
        return Text(f"{rows:,} rows · {rate:,.0f} rows/s", style="progress.data.speed")


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(seconds)
    return f"{seconds // 3600:d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class TagProgress:
    """Tracks bytes and rows; draws a bar unless quiet."""

    def __init__(self, total_bytes: int | None, *, quiet: bool, done_bytes: int = 0, done_rows: int = 0) -> None:
        self.total = total_bytes or None
        self.quiet = quiet
        self.bytes = done_bytes
        self.rows = done_rows
        self._rows_at_start = done_rows
        self._bytes_at_start = done_bytes
        self._t0 = time.monotonic()
        self._bar: Progress | None = None
        if not quiet:
            self._bar = Progress(SpinnerColumn(), TextColumn("tagging"), BarColumn(), TaskProgressColumn(),
                                 _RowsColumn(), TextColumn("ETA"), TimeRemainingColumn(), TimeElapsedColumn(),
                                 console=Console(stderr=True), transient=False)
            self._task = self._bar.add_task("tag", total=self.total, completed=done_bytes, rows=done_rows,
                                            rows_at_start=done_rows)
            self._bar.start()

    def advance(self, nbytes: int, rows: int) -> None:
        self.bytes += nbytes
        self.rows += rows
        if self._bar is not None:
            self._bar.update(self._task, advance=nbytes, rows=self.rows)

    def rate(self) -> float:
        elapsed = time.monotonic() - self._t0
        return (self.rows - self._rows_at_start) / elapsed if elapsed > 0 else 0.0

    def eta(self) -> float | None:
        elapsed = time.monotonic() - self._t0
        done = self.bytes - self._bytes_at_start
        if not self.total or done <= 0 or elapsed <= 0:
            return None
        return max(self.total - self.bytes, 0) / (done / elapsed)

    def chunk_committed(self, idx: int) -> None:
        level = logging.INFO if self.quiet else logging.DEBUG
        share = f", {min(self.bytes / self.total, 1.0):.0%} of input" if self.total else ""
        logger.log(level, "chunk %d committed: %s rows read, %.0f rows/s%s, ETA %s", idx, f"{self.rows:,}",
                   self.rate(), share, _eta(self.eta()))

    def close(self) -> None:
        if self._bar is not None:
            if self.total:
                self._bar.update(self._task, completed=self.total)
            self._bar.stop()
            self._bar = None
