"""Engines run a tagging job: `local` (one process, chunked, resumable) and `spark`
(Apache Spark, for inputs that need a cluster). Both produce the same rows and labels."""

from __future__ import annotations

from cxnlp.tagging.options import TagError, TagOptions
from cxnlp.tagging.summary import Summary


def run_engine(opts: TagOptions) -> Summary:
    if opts.engine == "local":
        from cxnlp.tagging.engines.local import LocalEngine

        return LocalEngine(opts).run()
    if opts.engine == "spark":
        from cxnlp.tagging.engines.spark import SparkEngine

        return SparkEngine(opts).run()
    raise TagError(f"unknown engine {opts.engine!r}")


__all__ = ["run_engine"]
