"""Batch tagging of large dumps of posts: stream, classify, write a tagged table.

>>> from cxnlp.tagging import TagOptions, tag
>>> summary = tag(TagOptions(input="dump.jsonl", output="tagged.parquet", model="models/cx-default"))
>>> summary.totals()["tagged"]

See docs/tagging.md for formats, resume, quarantine and Spark.
"""

from __future__ import annotations

from cxnlp.tagging.options import MaxErrorsExceeded, TagError, TagOptions
from cxnlp.tagging.summary import Summary


def tag(opts: TagOptions) -> Summary:
    """Run a tagging job with the engine `opts.engine`; writes the output, the quarantine
    file and (with `opts.report`) the report, and returns the summary."""
    from cxnlp.tagging.engines import run_engine

    summary = run_engine(opts)
    if opts.report is not None:
        from cxnlp.tagging.report import write_report

        write_report(summary, opts.report)
    return summary


__all__ = ["MaxErrorsExceeded", "Summary", "TagError", "TagOptions", "tag"]
