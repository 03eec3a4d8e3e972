"""Malformed rows go to the quarantine file with file, line and reason; good rows are all kept."""

from __future__ import annotations

import json

import pytest

from cxnlp.tagging import MaxErrorsExceeded
from tests.tagging.conftest import cli, make_posts, read_rows, run_tag

GOOD = make_posts(6)


def _dump(p: dict) -> bytes:
    return (json.dumps(p, ensure_ascii=False) + "\n").encode("utf-8")


def write_messy_jsonl(path):
    lines = [
        _dump(GOOD[0]),                                   # 1
        b'{"post_id": "bad-json", "text": \n',             # 2 invalid JSON
        _dump(GOOD[1]),                                   # 3
        b"\n",                                            # 4 blank: ignored, still counted as a line
        b'["a", "list"]\n',                               # 5 not an object
        b'{"post_id": "no-text"}\n',                      # 6 missing text
        b'{"post_id": "null-text", "text": null}\n',      # 7 null text
        b'{"post_id": "num-text", "text": 42}\n',         # 8 non-string text
        b'{"post_id": "bytes", "text": "\xff\xfe"}\n',    # 9 undecodable bytes
        b'{"post_id": "surrogate", "text": "\\ud800"}\n',  # 10 unpaired surrogate
        _dump(GOOD[2]),                                   # 11
    ]
    path.write_bytes(b"".join(lines))
    return path


def test_quarantine_names_file_line_and_reason(tmp_path, tiny_model_dir):
    src = write_messy_jsonl(tmp_path / "messy.jsonl")
    summary, out = run_tag(tmp_path, tiny_model_dir, src, chunk_size=3, id_field="post_id")
    assert [r["post_id"] for r in read_rows(out)] == [GOOD[0]["post_id"], GOOD[1]["post_id"], GOOD[2]["post_id"]]
    entries = [json.loads(line) for line in (tmp_path / "out.parquet.quarantine.jsonl").read_text().splitlines()]
    got = [(e["source"], e["line"], e["reason"]) for e in entries]
    assert got == [
        (str(src), 2, "invalid JSON: Expecting value (column 1)"),
        (str(src), 5, "expected a JSON object, got list"),
        (str(src), 6, "missing text field 'text'"),
        (str(src), 7, "text field 'text' is null, expected a string"),
        (str(src), 8, "text field 'text' is int, expected a string"),
        (str(src), 9, "invalid UTF-8 (invalid start byte at byte 30)"),
        (str(src), 10, "invalid Unicode: unpaired surrogate escape"),
    ]
    # Nothing is lost: the raw line or the parsed record is kept, with the id when there is one.
    assert entries[0]["raw"] == '{"post_id": "bad-json", "text": '
    assert entries[2]["record"] == {"post_id": "no-text"} and entries[2]["id"] == "no-text"
    assert entries[5]["raw"] == '{"post_id": "bytes", "text": "\\xff\\xfe"}'
    t = summary.totals()
    assert (t["rows_read"], t["written"], t["quarantined"]) == (10, 3, 7)
    assert summary.counts["reasons"] == {"invalid JSON": 1, "expected a JSON object, got list": 1,
                                         "missing text field 'text'": 1,
                                         "text field 'text' is null, expected a string": 1,
                                         "text field 'text' is int, expected a string": 1, "invalid UTF-8": 1,
                                         "invalid Unicode": 1}


def test_csv_quarantine_line_numbers_follow_multiline_records(tmp_path, tiny_model_dir):
    src = tmp_path / "in.csv"
    src.write_bytes(("post_id,text\n"
                     f'a,"{GOOD[0]["text"]}\nsecond line"\n'
                     "b,x,extra\n"
                     f"c,{GOOD[1]['text']}\n").encode() + b"d,\xff\n")
    summary, out = run_tag(tmp_path, tiny_model_dir, src, output="o.csv")
    assert [r["post_id"] for r in read_rows(out)] == ["a", "c"]
    entries = [json.loads(line) for line in (tmp_path / "o.csv.quarantine.jsonl").read_text().splitlines()]
    assert [(e["line"], e["reason"]) for e in entries] == [(4, "expected 2 columns, got 3"),
                                                          (6, "invalid UTF-8 (invalid start byte at byte 2)")]
    assert entries[0]["raw"] == "b,x,extra"


def test_max_errors(tmp_path, tiny_model_dir):
    src = write_messy_jsonl(tmp_path / "messy.jsonl")
    summary, _ = run_tag(tmp_path, tiny_model_dir, src, max_errors=7)  # exactly at the limit: fine
    assert summary.totals()["quarantined"] == 7
    with pytest.raises(MaxErrorsExceeded, match="7 malformed rows quarantined, more than --max-errors 6"):
        run_tag(tmp_path, tiny_model_dir, src, output="again.parquet", max_errors=6)
    assert not (tmp_path / "again.parquet").exists()
    # The rows quarantined so far are on disk for the user to look at.
    assert len((tmp_path / "again.parquet.quarantine.jsonl").read_text().splitlines()) == 7


def test_cli_exit_code_only_when_max_errors_exceeded_then_resume(tmp_path, tiny_model_dir):
    src = write_messy_jsonl(tmp_path / "messy.jsonl")
    out = tmp_path / "o.jsonl"
    res = cli("tag", str(src), "-o", str(out), "-m", str(tiny_model_dir), "--max-errors", "1", "--chunk-size", "2",
              "--quiet", "--threads", "1")
    assert res.returncode == 1, res.stderr
    assert "more than --max-errors 1" in res.stderr and not out.exists()
    # Committed chunks are kept: continuing with a higher limit finishes the job.
    summary, _ = run_tag(tmp_path, tiny_model_dir, src, output="o.jsonl", chunk_size=2, resume=True)
    assert summary.totals()["quarantined"] == 7
    assert [r["post_id"] for r in read_rows(out)] == [p["post_id"] for p in GOOD[:3]]
