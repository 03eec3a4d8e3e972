"""`--resume`: after SIGKILL (or an abort), the rerun's output is byte-for-byte the uninterrupted one."""

from __future__ import annotations

import json
import signal
import sqlite3
import time

import pytest

from cxnlp.tagging import MaxErrorsExceeded, TagError
from tests.tagging.conftest import cli, cli_popen, make_posts, run_tag, write_posts


def _committed(state) -> int:
    try:
        with sqlite3.connect(f"file:{state}?mode=ro", uri=True, timeout=0.05) as db:
            return db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet, or being written
        return 0


def _summary(report_dir) -> dict:
    data = json.loads((report_dir / "summary.json").read_text())
    return {k: v for k, v in data.items() if k not in ("output", "quarantine")}


def test_sigkill_mid_run_then_resume_gives_the_uninterrupted_output(tmp_path, tiny_model_dir):
    posts = make_posts(480, english_every=9, copy_every=4)  # copies span chunks: the dedup index must survive
    lines = [json.dumps(p, ensure_ascii=False) for p in posts]
    lines[57] = '{"post_id": "broken", "text": '  # and a quarantined row
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    common = ["-m", str(tiny_model_dir), "--chunk-size", "10", "--quiet", "--id-field", "post_id", "--threads", "1"]

    # The uninterrupted reference runs beside the run that will be killed.
    ref = tmp_path / "ref.parquet"
    reference = cli_popen("tag", str(src), "-o", str(ref), "--report", str(tmp_path / "ref-report"), *common)
    out = tmp_path / "out.parquet"
    victim = cli_popen("tag", str(src), "-o", str(out), *common)
    state = tmp_path / "out.parquet.partial" / "state.sqlite"
    deadline = time.monotonic() + 240
    while _committed(state) < 1:
        assert victim.poll() is None, victim.stderr.read().decode()
        assert time.monotonic() < deadline, "no chunk committed in time"
        time.sleep(0.01)
    victim.send_signal(signal.SIGKILL)
    assert victim.wait(timeout=60) == -signal.SIGKILL
    assert reference.wait(timeout=300) == 0, reference.stderr.read().decode()

    done = _committed(state)
    assert 1 <= done < 48 and not out.exists()
    parts = sorted(p.name for p in (state.parent / "parts").iterdir() if not p.name.startswith("."))
    # Committed chunks have complete part directories; an uncommitted one may exist (written,
    # not yet recorded): resume must ignore it.
    assert parts[:done] == [f"part-{i:06d}" for i in range(done)] and len(parts) <= done + 1
    for name in parts[:done]:
        assert {f.name for f in (state.parent / "parts" / name).iterdir()} == {"data.parquet", "quarantine.jsonl"}

    res = cli("tag", str(src), "-o", str(out), "--resume", "--report", str(tmp_path / "out-report"), *common)
    assert res.returncode == 0, res.stderr
    assert f"resuming after {done} committed chunk(s)" in res.stderr
    assert out.read_bytes() == ref.read_bytes()
    assert (tmp_path / "out.parquet.quarantine.jsonl").read_bytes() == (tmp_path / "ref.parquet.quarantine.jsonl").read_bytes()
    assert _summary(tmp_path / "out-report") == _summary(tmp_path / "ref-report")
    assert not state.parent.exists()


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_resume_after_an_abort_in_process(tmp_path, tiny_model_dir, fmt):
    posts = make_posts(30, english_every=4, copy_every=3)
    lines = [json.dumps(p, ensure_ascii=False) for p in posts]
    lines[12] = "not json"
    lines[25] = "[]"
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ref_summary, ref = run_tag(tmp_path, tiny_model_dir, src, output=f"ref.{fmt}", chunk_size=7)

    # The second malformed row (line 26, chunk 3) exceeds --max-errors 1: chunks 0-3 are committed.
    with pytest.raises(MaxErrorsExceeded):
        run_tag(tmp_path, tiny_model_dir, src, output=f"out.{fmt}", chunk_size=7, max_errors=1)
    work = tmp_path / f"out.{fmt}.partial"
    # A chunk written but never committed (a crash between the two steps) must be redone, not used.
    fake = work / "parts" / "part-000004"
    fake.mkdir()
    (fake / f"data.{fmt}").write_text("garbage")
    with pytest.raises(TagError, match="cannot resume: the options differ"):
        run_tag(tmp_path, tiny_model_dir, src, output=f"out.{fmt}", chunk_size=8, resume=True)

    summary, out = run_tag(tmp_path, tiny_model_dir, src, output=f"out.{fmt}", chunk_size=7, resume=True)
    assert out.read_bytes() == ref.read_bytes()
    assert summary.to_dict()["totals"] == ref_summary.to_dict()["totals"]
    assert summary.counts == ref_summary.counts


def test_resume_refuses_changed_input(tmp_path, tiny_model_dir):
    src = write_posts(tmp_path / "in.jsonl", make_posts(6) + [{"post_id": "x", "text": 1}])
    with pytest.raises(MaxErrorsExceeded):
        run_tag(tmp_path, tiny_model_dir, src, chunk_size=10, max_errors=0)
    write_posts(src, make_posts(7))
    with pytest.raises(TagError, match="cannot resume: the inputs differ"):
        run_tag(tmp_path, tiny_model_dir, src, chunk_size=10, resume=True)
