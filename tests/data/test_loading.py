from __future__ import annotations

import csv
import json

import datasets
import pandas as pd
import pytest

from cxnlp.data import DataValidationError, load_labelled
from tests.conftest import make_record, write_jsonl


def test_jsonl_roundtrip(tmp_path, taxonomy, sample_records):
    path = write_jsonl(tmp_path / "d.jsonl", [dict(r, channel="tweet") for r in sample_records])
    res = load_labelled(path, taxonomy)
    assert len(res.dataset) == 4
    row = res.dataset[0]
    assert row["labels"]["complaint"] == ["delay", "access"]
    assert row["labels"]["effort"] == "medium"
    assert row["channel"] == "tweet"  # extra fields pass through
    assert res.report.ok and res.report.valid == 4
    assert len(res.fingerprint) == 64


def test_malformed_rows_are_reported_with_line_numbers(tmp_path, taxonomy, sample_records):
    bad_label = make_record(7, "نص", emotion=["joy"])
    no_text = {"id": "x", "labels": sample_records[0]["labels"]}
    number_text = dict(sample_records[1], id="n", text=42)
    wrong_type = make_record(9, "نص", complaint="delay")
    rows = [sample_records[0], "{not json", bad_label, "", no_text, number_text, wrong_type, "[1, 2]"]
    path = write_jsonl(tmp_path / "bad.jsonl", rows)
    with pytest.raises(DataValidationError) as err:
        load_labelled(path, taxonomy)
    report = err.value.report
    by_line = {p.line: p for p in report.problems}
    assert by_line[2].code == "invalid_json"
    assert by_line[3].code == "unknown_label" and by_line[3].field == "labels.emotion" and "'joy'" in by_line[3].message
    assert 4 not in by_line  # blank line is not a record
    assert by_line[5].code == "missing_text"
    assert by_line[6].code == "text_not_string"
    assert by_line[7].code == "wrong_type"
    assert by_line[8].code == "invalid_json" or by_line[8].code == "bad_row"
    assert f"{path}:3" in str(err.value)
    # skip: same problems, valid rows kept, counts add up
    res = load_labelled(path, taxonomy, skip_invalid=True, report_path=tmp_path / "report.json")
    assert len(res.dataset) == 1 and res.report.rows == 7 and res.report.invalid == 6
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["invalid"] == 6 and {p["line"] for p in saved["problems"]} == {2, 3, 5, 6, 7, 8}


def test_invalid_utf8_line(tmp_path, taxonomy, sample_records):
    path = tmp_path / "enc.jsonl"
    good = json.dumps(sample_records[0], ensure_ascii=False).encode()
    path.write_bytes(good + b"\n" + b'{"text": "\xff\xfe bad"}\n' + good.replace(b"t-0001", b"t-0002") + b"\n")
    res = load_labelled(path, taxonomy, skip_invalid=True)
    assert [(p.line, p.code) for p in res.report.problems] == [(2, "bad_encoding")]
    assert len(res.dataset) == 2


def test_duplicate_ids(tmp_path, taxonomy, sample_records):
    path = write_jsonl(tmp_path / "dup.jsonl", [sample_records[0], sample_records[0]])
    res = load_labelled(path, taxonomy, skip_invalid=True)
    assert res.report.problems[0].code == "duplicate_id" and res.report.problems[0].line == 2


def test_partial_annotation_is_kept_as_null(tmp_path, taxonomy):
    rec = {"id": "p1", "text": "الخدمة ممتازة", "labels": {"sentiment": "positive"}}
    res = load_labelled(write_jsonl(tmp_path / "p.jsonl", [rec]), taxonomy)
    labels = res.dataset[0]["labels"]
    assert labels["sentiment"] == "positive" and labels["emotion"] is None and labels["effort"] is None
    assert res.dataset[0]["lang"] == "ar"  # detected when absent


def test_record_without_any_label_is_an_error(tmp_path, taxonomy):
    path = write_jsonl(tmp_path / "n.jsonl", [{"id": "a", "text": "سلام"}])
    with pytest.raises(DataValidationError, match="no label for any head"):
        load_labelled(path, taxonomy)
    assert len(load_labelled(path, None).dataset) == 1  # texts only: fine


def test_csv_with_pipe_and_json_labels_and_multiline_text(tmp_path, taxonomy):
    path = tmp_path / "d.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text", "emotion", "sentiment", "complaint", "signal"])
        w.writerow(["c1", "التوصيل تأخر\nوالموظف ما رد", "frustration|anger", "negative", '["delay", "staff"]', "genuine"])
        w.writerow(["c2", "عالی بود", "delight", "positive", "", "genuine"])
        w.writerow(["c3", "سيء", "rage", "negative", "", "genuine"])
    res = load_labelled(path, taxonomy, skip_invalid=True)
    assert res.dataset[0]["labels"]["emotion"] == ["frustration", "anger"]
    assert res.dataset[0]["labels"]["complaint"] == ["delay", "staff"]
    assert res.dataset[1]["labels"]["complaint"] == []
    assert res.dataset[1]["labels"]["effort"] is None
    # c3 starts on line 5 because c1's text spans two lines
    assert [(p.line, p.code) for p in res.report.problems] == [(5, "unknown_label")]


def test_csv_wrong_column_count(tmp_path, taxonomy):
    path = tmp_path / "d.csv"
    path.write_text("id,text,sentiment\na,خوب,positive\nb,بد\n", encoding="utf-8")
    res = load_labelled(path, taxonomy, skip_invalid=True)
    assert [(p.line, p.code) for p in res.report.problems] == [(3, "bad_row")]


def test_parquet_and_label_columns(tmp_path, taxonomy):
    df = pd.DataFrame({"text": ["راضي جداً", "بد بود"], "polarity": ["positive", "negative"], "source": ["a", "b"]})
    path = tmp_path / "d.parquet"
    df.to_parquet(path)
    res = load_labelled(path, taxonomy, label_columns={"sentiment": "polarity"})
    assert res.dataset["labels"][1]["sentiment"] == "negative"
    assert res.dataset["source"] == ["a", "b"]
    assert res.dataset["id"] == ["d-1", "d-2"]


def test_numeric_labels_from_custom_taxonomy(tmp_path):
    from cxnlp.taxonomy import Taxonomy

    tax = Taxonomy.from_yaml_string("heads:\n  - name: label\n    kind: ordinal\n    labels: ['-2', '-1', '0', '1', '2']\n")
    path = write_jsonl(tmp_path / "s.jsonl", [{"text": "عالی", "label": 2}, {"text": "بد", "label": -1}])
    assert load_labelled(path, tax).dataset["labels"] == [{"label": "2"}, {"label": "-1"}]


def test_hf_dataset_object_and_saved_directory(tmp_path, taxonomy, sample_records):
    ds = datasets.Dataset.from_list([{"text": r["text"], "sentiment": r["labels"]["sentiment"]} for r in sample_records])
    assert len(load_labelled(ds, taxonomy).dataset) == 4
    ds.save_to_disk(str(tmp_path / "saved"))
    res = load_labelled(tmp_path / "saved", taxonomy)
    assert res.dataset["labels"][2]["sentiment"] == "negative"


def test_directory_and_glob(tmp_path, taxonomy, sample_records):
    write_jsonl(tmp_path / "a.jsonl", sample_records[:2])
    write_jsonl(tmp_path / "b.jsonl", sample_records[2:])
    assert len(load_labelled(tmp_path, taxonomy).dataset) == 4
    assert len(load_labelled(str(tmp_path / "b*.jsonl"), taxonomy).dataset) == 2


def test_missing_source_offline_message(taxonomy):
    with pytest.raises(FileNotFoundError, match="Offline, pass a local"):
        load_labelled("someone/no-such-dataset", taxonomy)


def test_max_samples(tmp_path, taxonomy, sample_records):
    res = load_labelled(write_jsonl(tmp_path / "d.jsonl", sample_records), taxonomy, max_samples=2)
    assert len(res.dataset) == 2 and res.report.valid == 4
