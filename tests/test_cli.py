from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import make_record, write_jsonl


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cxnlp", *args], capture_output=True, text=True, input=stdin,
                          timeout=120)


def test_validate_reports_lines_and_exit_code(tmp_path, sample_records):
    good = write_jsonl(tmp_path / "good.jsonl", sample_records)
    res = run("data", "validate", str(good))
    assert res.returncode == 0, res.stderr
    assert "4 valid, 0 invalid" in res.stdout
    bad = write_jsonl(tmp_path / "bad.jsonl", [sample_records[0], make_record(2, "x", sentiment="angry")])
    res = run("data", "validate", str(bad), "--report", str(tmp_path / "r.json"))
    assert res.returncode == 1
    assert f"{bad}:2" in res.stdout and "unknown label 'angry'" in res.stdout
    assert json.loads((tmp_path / "r.json").read_text())["invalid"] == 1


def test_taxonomy_check_error(tmp_path):
    p = tmp_path / "t.yaml"
    p.write_text("heads:\n  - name: a\n    kind: multi\n    labels: [x, y]\n")
    res = run("taxonomy", "check", str(p))
    assert res.returncode == 1 and "line 3" in res.stderr


def test_normalize_stdin():
    res = run("normalize", "--lang", "fa", stdin="اين يك متن است\n")
    assert res.stdout.strip() == "این یک متن است"


def test_split_writes_files(tmp_path, sample_records):
    src = write_jsonl(tmp_path / "d.jsonl", sample_records * 1)
    res = run("data", "split", str(src), "-o", str(tmp_path / "out"), "--ratios", "0.5,0.25,0.25")
    assert res.returncode == 0, res.stderr
    counts = {n: len((tmp_path / "out" / f"{n}.jsonl").read_text().splitlines()) for n in ("train", "dev", "test")}
    assert sum(counts.values()) == 4
