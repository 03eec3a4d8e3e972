"""The tagger's streaming readers agree with `cxnlp.data.readers`, and byte ranges cover a file exactly once."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxnlp.data.readers import read_csv, read_jsonl
from cxnlp.tagging.columns import conform, passthrough_table, unify
from cxnlp.tagging.inputs import count_lines_in_range, iter_csv, iter_jsonl_range


def _as_tuples(rows) -> list[tuple]:
    return [(r.source, r.line, r.data, r.error) for r in rows]


line_st = st.one_of(
    st.builds(lambda t, n: json.dumps({"text": t, "n": n}, ensure_ascii=False),
              st.text(alphabet="ابپ شسی abc😀\u200c\"\\", max_size=12), st.integers()),
    st.just(""), st.just("   "), st.just("{not json"), st.just("[1, 2]"),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(line_st, max_size=25), split=st.integers(1, 64), crlf=st.booleans(), final_newline=st.booleans(),
       bad_byte_at=st.one_of(st.none(), st.integers(0, 24)))
def test_byte_ranges_read_every_line_once_with_its_number(tmp_path: Path, lines, split, crlf, final_newline,
                                                          bad_byte_at):
    sep = b"\r\n" if crlf else b"\n"
    encoded = [line.encode("utf-8") for line in lines]
    if bad_byte_at is not None and bad_byte_at < len(encoded):
        encoded[bad_byte_at] = b'{"text": "\xff"}'
    data = sep.join(encoded) + (sep if final_newline and encoded else b"")
    path = tmp_path / "x.jsonl"
    path.write_bytes(data)

    whole = _as_tuples(read_jsonl(path))
    assert _as_tuples(iter_jsonl_range(str(path))) == whole

    pieces, first = [], 1
    for start in range(0, max(len(data), 1), split):
        end = min(start + split, len(data))
        pieces += _as_tuples(iter_jsonl_range(str(path), start, end, first_line=first))
        first += count_lines_in_range(str(path), start, end)
    assert pieces == whole


def test_csv_stream_matches_read_csv(tmp_path: Path):
    content = (b"id,text,channel\n"
               b'1,"multi\nline text",app\n'
               b"2,short,twitter\n"
               b"3,too,many,fields\n"
               b"\n"
               b'4,"quoted, comma",survey\n') + b"5,\xff\xfebad bytes,app\n" + b"6,last,app"
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    ours = _as_tuples(iter_csv(str(path)))
    assert sorted(ours, key=lambda r: r[1]) == sorted(_as_tuples(read_csv(path)), key=lambda r: r[1])
    assert [r[1] for r in ours if r[3] is None] == [2, 4, 7, 9]
    assert {r[1]: r[3] for r in ours if r[3]} == {5: "expected 3 columns, got 4",
                                                 8: "invalid UTF-8 (invalid start byte at byte 2)"}


def test_csv_byte_order_mark_is_dropped_even_with_bad_bytes(tmp_path: Path):
    # readers.read_csv keeps the BOM in the first column name when the file also has
    # undecodable lines (it falls back to plain utf-8); the streaming reader does not.
    path = tmp_path / "x.csv"
    path.write_bytes("\ufeffid,text\n1,ok\n".encode() + b"2,\xff\n")
    rows = list(iter_csv(str(path)))
    assert rows[0].data == {"id": "1", "text": "ok"} and rows[1].error and rows[1].line == 3


def test_csv_rows_report_the_bytes_they_consumed(tmp_path: Path):
    path = tmp_path / "x.csv"
    path.write_text("id,text\n1,aaaa\n2,bb\n", encoding="utf-8")
    assert [r.nbytes for r in iter_csv(str(path))] == [7, 5]


def test_unify_widens_or_falls_back_to_json_text():
    a = passthrough_table([{"n": 1, "x": None, "s": "a", "m": 1}])
    b = passthrough_table([{"n": 2.5, "x": "t", "s": {"k": 1}, "extra": True}])
    schema = unify([a.schema, b.schema])
    assert schema.names == ["n", "x", "s", "m", "extra"]
    assert schema.field("n").type == pa.float64()
    assert schema.field("x").type == pa.string()
    assert schema.field("s").type == pa.string()
    rows = conform(a, schema).to_pylist() + conform(b, schema).to_pylist()
    assert rows == [{"n": 1.0, "x": None, "s": "a", "m": 1, "extra": None},
                    {"n": 2.5, "x": "t", "s": '{"k": 1}', "m": None, "extra": True}]


def test_mixed_types_within_rows_keep_every_value_as_text():
    t = passthrough_table([{"v": 1}, {"v": "two"}, {"v": [3]}, {"v": None}])
    assert t.column("v").to_pylist() == ["1", "two", "[3]", None]


@pytest.mark.parametrize("value", ["", "text"])
def test_declared_types_are_kept(value):
    declared = pa.schema([("text", pa.string()), ("n", pa.int16())])
    t = passthrough_table([{"text": value, "n": 3}], declared)
    assert t.schema.field("n").type == pa.int16()
