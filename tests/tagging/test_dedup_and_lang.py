"""Identical texts are classified once and counted; posts neither Arabic nor Persian are not classified."""

from __future__ import annotations

from collections import Counter

from cxnlp.tagging.columns import OutputColumns
from tests.tagging.conftest import ENGLISH, make_posts, read_rows, run_tag, write_posts


def test_duplicates_are_counted_across_chunks_and_classified_once(tmp_path, tiny_model_dir, predictor):
    base = make_posts(12)
    campaign = "حملة مقاطعة! لا تشتروا من هذي الشركة أبداً #قاطعوهم"
    posts = list(base)
    for i in range(9):  # a copy-paste campaign spread over the whole file, plus two retweets
        posts.insert(i * 2 + 1, {"post_id": f"c{i}", "text": campaign})
    posts += [dict(base[0], post_id="rt1"), dict(base[5], post_id="rt2")]
    src = write_posts(tmp_path / "in.jsonl", posts)
    summary, out = run_tag(tmp_path, tiny_model_dir, src, chunk_size=4, id_field="post_id")

    texts = [p["text"] for p in posts]
    distinct = len(set(texts))
    t = summary.totals()
    assert (t["written"], t["distinct_texts"], t["duplicates"]) == (len(posts), distinct, len(posts) - distinct)
    assert t["classified_texts"] == distinct  # the model saw each distinct (Arabic/Persian) text once
    top = summary.top_duplicates
    assert (top[0]["text"], top[0]["copies"], top[0]["first_id"], top[0]["first_line"]) == (campaign, 9, "c0", 2)
    assert {d["text"]: d["copies"] for d in top} == {k: n for k, n in Counter(texts).items() if n > 1}
    assert {d["first_id"] for d in top} >= {base[0]["post_id"], base[5]["post_id"]}

    # Copies carry the same predictions as their first occurrence, and the same as without dedup.
    rows = read_rows(out)
    names = OutputColumns.build(predictor.taxonomy, None, False, "").names
    by_text: dict[str, dict] = {}
    for r in rows:
        assert by_text.setdefault(r["text"], {n: r[n] for n in names}) == {n: r[n] for n in names}
    nodup_summary, nodup = run_tag(tmp_path, tiny_model_dir, src, output="nodup.parquet", chunk_size=4, dedup=False)
    label_cols = [n for n in names if n.endswith(("_label", "_labels"))]
    assert [{n: r[n] for n in label_cols} for r in read_rows(nodup)] == [{n: r[n] for n in label_cols} for r in rows]
    assert nodup_summary.totals().get("duplicates") is None and nodup_summary.totals()["tagged"] == t["tagged"]


def test_other_languages_are_tagged_but_not_classified(tmp_path, tiny_model_dir):
    posts = make_posts(9, english_every=3)
    src = write_posts(tmp_path / "in.jsonl", posts)
    summary, out = run_tag(tmp_path, tiny_model_dir, src, scores=True)
    rows = read_rows(out)
    other = [r for r in rows if r["lang"] == "other"]
    assert [r["text"] for r in other] == [p["text"] for p in posts if p["text"] in ENGLISH]
    for r in other:
        assert r["variety"] == "unknown"
        assert all(r[k] is None for k in r if k.endswith(("_label", "_labels", "_expected")) or "_score_" in k)
    t = summary.totals()
    assert (t["tagged"], t["skipped"]) == (6, 3)
    assert summary.counts["by_lang"]["other"] == 3
    assert "other" not in summary.counts["labels"]["sentiment"]  # not in the label distribution

    summary, out = run_tag(tmp_path, tiny_model_dir, src, output="all.parquet", classify_other=True)
    rows = read_rows(out)
    assert all(r["sentiment_label"] is not None for r in rows)
    assert summary.totals()["skipped"] == 0 and sum(summary.counts["labels"]["sentiment"]["other"].values()) == 3


def test_labels_distribution_matches_the_output(tmp_path, tiny_model_dir):
    posts = make_posts(20, english_every=6)
    src = write_posts(tmp_path / "in.jsonl", posts)
    summary, out = run_tag(tmp_path, tiny_model_dir, src, chunk_size=6)
    rows = read_rows(out)
    expected: dict[str, Counter] = {}
    for r in rows:
        if r["lang"] == "other":
            continue
        for label in r["emotion_labels"]:
            expected.setdefault(r["lang"], Counter())[label] += 1
    assert {lang: dict(c) for lang, c in expected.items()} == summary.counts["labels"]["emotion"]
