"""The Spark engine (local[2]) writes the same rows, labels, quarantine and summary as the local engine."""

from __future__ import annotations

import json
import shutil
import subprocess

import pyarrow.dataset as ds
import pytest

from cxnlp.tagging.columns import OutputColumns
from tests.tagging.conftest import assert_same_predictions, make_posts, read_rows, run_tag, write_posts

pytestmark = pytest.mark.spark


def _java_ok() -> bool:
    java = shutil.which("java")
    if java is None:
        return False
    return subprocess.run([java, "-version"], capture_output=True, timeout=60).returncode == 0


@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'cxnlp[spark]')")
    if not _java_ok():
        pytest.skip("Java is not available")
    from cxnlp.tagging.engines.spark import spark_session

    session, created = spark_session("local[2]")
    session.conf.set("spark.sql.shuffle.partitions", "4")
    yield session
    if created:
        session.stop()


def test_spark_output_equals_local_output(tmp_path, tiny_model_dir, predictor, spark):
    d = tmp_path / "dump"
    d.mkdir()
    posts = make_posts(60, english_every=7, copy_every=5)
    lines = [json.dumps(p, ensure_ascii=False) for p in posts[:40]]
    lines[9] = '{"post_id": "broken", "text": '
    lines[30] = '{"post_id": "no-text"}'
    (d / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    write_posts(d / "b.csv", posts[40:50])
    write_posts(d / "c.parquet", posts[50:])  # two row groups

    kw = {"id_field": "post_id", "time_field": "created_at"}
    local_summary, local_out = run_tag(tmp_path, tiny_model_dir, d, output="local.parquet", chunk_size=8, **kw)
    spark_summary, spark_out = run_tag(tmp_path, tiny_model_dir, d, output="spark_out", engine="spark",
                                       split_bytes=2048, **kw)

    local_rows = read_rows(local_out)
    spark_rows = ds.dataset(spark_out, format="parquet").to_table().to_pylist()
    names = OutputColumns.build(predictor.taxonomy, None, False, "").names
    assert [r["post_id"] for r in spark_rows] == [r["post_id"] for r in local_rows]  # same rows, input order
    passthrough = ["post_id", "text", "channel", "created_at", "meta"]
    assert [{k: r[k] for k in passthrough} for r in spark_rows] == [{k: r[k] for k in passthrough}
                                                                      for r in local_rows]
    assert_same_predictions(spark_rows, local_rows, names)

    quarantine = (tmp_path / "spark_out.quarantine.jsonl").read_text()
    assert quarantine == (tmp_path / "local.parquet.quarantine.jsonl").read_text()
    assert [json.loads(q)["line"] for q in quarantine.splitlines()] == [10, 31]

    assert spark_summary.totals() == local_summary.totals()
    assert spark_summary.counts["labels"] == local_summary.counts["labels"]
    assert spark_summary.counts["time"] == local_summary.counts["time"]
    assert spark_summary.top_duplicates == local_summary.top_duplicates
