"""Entry point for `spark-submit`: the `cxnlp tag` command with `--engine spark`.

    spark-submit --master yarn --conf spark.task.cpus=2 \\
        "$(python -c 'import cxnlp.tagging.spark_job as m; print(m.__file__)')" \\
        hdfs-mounted/dump/ -o /shared/tagged -m /shared/models/cx-default --partition-by lang

Also runnable as `python -m cxnlp.tagging.spark_job ...` (Spark in `local[*]` unless
`--spark-master` says otherwise). Every executor needs cxnlp and its dependencies
importable (install them on the nodes, or ship a packed environment with `--archives`);
the model directory is shipped to the executors by the job itself.
"""

from __future__ import annotations

import logging
import sys

import typer


def main(argv: list[str] | None = None) -> None:
    from cxnlp.tagging.cli import tag_command

    args = list(sys.argv[1:] if argv is None else argv)
    if "--engine" not in args:
        args = ["--engine", "spark", *args]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = typer.Typer(add_completion=False, pretty_exceptions_show_locals=False)
    app.command()(tag_command)
    app(args, prog_name="cxnlp.tagging.spark_job")


if __name__ == "__main__":
    main()
