"""Every input and output format, pass-through columns, input order, directories, globs and stdin."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from cxnlp.tagging import TagError
from cxnlp.tagging.classify import classify
from cxnlp.tagging.columns import OutputColumns
from tests.tagging.conftest import assert_same_predictions, cli, make_posts, read_rows, run_tag, write_posts

FORMATS = ["jsonl", "csv", "parquet"]


def _expected_labels(predictor, texts: list[str]) -> list[dict]:
    cols = OutputColumns.build(predictor.taxonomy, None, False, "")
    return [cols.flatten(r) for r in classify(predictor, texts)]


@pytest.mark.parametrize("fmt_in", FORMATS)
@pytest.mark.parametrize("fmt_out", FORMATS)
def test_every_format_gives_the_same_table(tmp_path, tiny_model_dir, predictor, fmt_in, fmt_out):
    posts = make_posts(14, english_every=5)
    src = write_posts(tmp_path / f"in.{fmt_in}", posts)
    summary, out = run_tag(tmp_path, tiny_model_dir, src, output=f"out.{fmt_out}", chunk_size=4, id_field="post_id")
    rows = read_rows(out)
    assert [r["post_id"] for r in rows] == [p["post_id"] for p in posts]  # order kept, nothing lost
    assert summary.totals()["written"] == 14 and summary.totals()["skipped"] == 2

    expected = _expected_labels(predictor, [p["text"] for p in posts])
    assert_same_predictions(rows, expected, OutputColumns.build(predictor.taxonomy, None, False, "").names)

    # Every input column passes through with its value (CSV output keeps text; CSV input is text).
    for r, p in zip(rows, posts, strict=True):
        assert r["text"] == p["text"] and r["channel"] == p["channel"] and r["created_at"] == p["created_at"]
        meta = r["meta"]
        if isinstance(meta, str):
            meta = json.loads(meta)
        assert meta == p["meta"]


def test_parquet_output_types(tmp_path, tiny_model_dir, predictor):
    src = write_posts(tmp_path / "in.jsonl", make_posts(6, english_every=3))
    _, out = run_tag(tmp_path, tiny_model_dir, src, scores=True)
    table = pq.read_table(out)
    schema = table.schema
    assert str(schema.field("meta").type) == "struct<likes: int64>"
    assert str(schema.field("emotion_labels").type).startswith("list<")
    assert str(schema.field("sentiment_label").type) == "string"
    assert str(schema.field("effort_expected").type) == "double"
    rows = table.to_pylist()
    # Scores: one column per label, summing to 1 for single-label heads of classified posts.
    classified = [r for r in rows if r["lang"] != "other"]
    labels = predictor.taxonomy.head("sentiment").label_names
    assert all(abs(sum(r[f"sentiment_score_{lab}"] for lab in labels) - 1) < 1e-3 for r in classified)
    other = [r for r in rows if r["lang"] == "other"]
    assert other and all(r["sentiment_label"] is None and r["emotion_labels"] is None for r in other)


def test_directory_and_glob_read_files_in_name_order(tmp_path, tiny_model_dir):
    d = tmp_path / "dump"
    d.mkdir()
    a, b, c = make_posts(3), make_posts(3, offset=10), make_posts(3, offset=20)
    write_posts(d / "b.csv", b)
    write_posts(d / "a.jsonl", a)
    write_posts(d / "c.parquet", c)
    (d / "notes.txt").write_text("not an input")
    _, out = run_tag(tmp_path, tiny_model_dir, d, output="dir.jsonl")
    assert [r["post_id"] for r in read_rows(out)] == [p["post_id"] for p in a + b + c]
    _, out = run_tag(tmp_path, tiny_model_dir, str(d / "*.jsonl"), output="glob.jsonl")
    assert [r["post_id"] for r in read_rows(out)] == [p["post_id"] for p in a]


def test_text_and_id_fields_are_configurable(tmp_path, tiny_model_dir):
    posts = [{"body": p["text"], "uid": p["post_id"]} for p in make_posts(4)]
    src = write_posts(tmp_path / "in.csv", posts)
    _, out = run_tag(tmp_path, tiny_model_dir, src, output="o.parquet", text_field="body", id_field="uid")
    assert [r["uid"] for r in read_rows(out)] == [p["uid"] for p in posts]
    with pytest.raises(TagError, match="no text column 'text'"):
        run_tag(tmp_path, tiny_model_dir, src)


def test_added_columns_never_overwrite_input_columns(tmp_path, tiny_model_dir):
    posts = [{**p, "lang": "ar-annotated"} for p in make_posts(3)]
    src = write_posts(tmp_path / "in.jsonl", posts)
    with pytest.raises(TagError, match=r"in.jsonl:1 has field\(s\) \['lang'\].*--prefix"):
        run_tag(tmp_path, tiny_model_dir, src)
    _, out = run_tag(tmp_path, tiny_model_dir, src, prefix="pred_", heads=["sentiment"])
    row = read_rows(out)[0]
    assert row["lang"] == "ar-annotated" and row["pred_lang"] in ("ar", "fa")
    assert "pred_sentiment_label" in row and "pred_emotion_labels" not in row


def test_stdin_to_jsonl_via_cli(tmp_path, tiny_model_dir):
    posts = make_posts(5)
    stdin = "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in posts)
    out = tmp_path / "o.jsonl"
    res = cli("tag", "-", "-o", str(out), "-m", str(tiny_model_dir), "--quiet", "--threads", "1", stdin=stdin)
    assert res.returncode == 0, res.stderr
    rows = read_rows(out)
    assert [r["post_id"] for r in rows] == [p["post_id"] for p in posts]
    assert all(r["sentiment_label"] for r in rows)
    assert "tagged 5 of 5 rows" in res.stderr
    assert not (tmp_path / "o.jsonl.partial").exists()  # work directory removed after success
