"""Fixtures for the batch-tagging tests: generated social posts and helpers to run the tagger.

Posts are corpus texts (real Arabic and Persian, written for this project) with the
extra columns a social-media dump has (id, channel, timestamp, a nested field), a few
English posts (`lang: other`) and exact copies (retweets).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from cxnlp.tagging import Summary, TagOptions, tag
from tests.conftest import REPO, corpus_records

ENGLISH = ["Great service, thanks a lot to the whole team!", "Buy cheap followers now at our website",
           "The delivery was late again and nobody answered the phone"]


def make_posts(n: int, *, english_every: int = 0, copy_every: int = 0, offset: int = 0) -> list[dict[str, Any]]:
    """n posts in a fixed order: corpus texts, English every `english_every`-th post, and
    every `copy_every`-th post an exact copy of an earlier one."""
    texts = [r["text"] for r in corpus_records(400)]
    posts = []
    for i in range(n):
        if copy_every and i and i % copy_every == 0:
            text = posts[i // 2]["text"]
        elif english_every and i % english_every == english_every - 1:
            text = ENGLISH[i % len(ENGLISH)]
        else:
            text = texts[(i + offset) % len(texts)]
        posts.append({"post_id": f"p{i + offset:05d}", "text": text, "channel": ["twitter", "app", "survey"][i % 3],
                      "created_at": f"2024-05-{1 + (i % 3):02d}T{i % 24:02d}:00:00Z", "meta": {"likes": i % 7}})
    return posts


def write_posts(path: Path, posts: list[dict[str, Any]], fmt: str | None = None) -> Path:
    """Write posts as JSONL, CSV (nested fields as JSON text) or Parquet."""
    fmt = fmt or path.suffix.lstrip(".")
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in posts), encoding="utf-8")
    elif fmt == "csv":
        import csv

        with open(path, "w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(posts[0]))
            w.writeheader()
            for p in posts:
                w.writerow({k: json.dumps(v) if isinstance(v, dict) else v for k, v in p.items()})
    else:
        import pyarrow as pa

        pq.write_table(pa.Table.from_pylist(posts), path, row_group_size=max(1, len(posts) // 2))
    return path


def run_tag(tmp: Path, model: Path, input: str | Path, output: str = "out.parquet", **kw: Any) -> tuple[Summary, Path]:
    """Run the tagger in-process (quiet) and return the summary and the output path."""
    out = tmp / output
    opts = TagOptions(input=str(input), output=out, model=model, quiet=True, **kw)
    return tag(opts), out


def cli(*args: str, stdin: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cxnlp", *args], capture_output=True, text=True, input=stdin,
                          timeout=timeout, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})


def cli_popen(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "cxnlp", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})


def read_rows(path: Path) -> list[dict[str, Any]]:
    """A tagged output of any format as a list of dicts (CSV cells stay strings)."""
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pylist()
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    import csv

    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def assert_same_predictions(rows: list[dict], expected: list[dict], names: list[str]) -> None:
    """Labels must be equal; numbers may differ in the last digit (batch composition changes
    the model's float rounding), so they are compared with a tolerance. CSV cells are text."""
    assert len(rows) == len(expected)
    for row, exp in zip(rows, expected, strict=True):
        for n in names:
            got, want = row[n], exp[n]
            if isinstance(want, float) or (want is None and got in (None, "")) and n.endswith(("_expected", "score")):
                assert (got in (None, "")) == (want is None), n
                if want is not None:
                    assert float(got) == pytest.approx(want, abs=1e-3), n
            elif isinstance(got, str) and isinstance(want, list):
                assert got == "|".join(want), n
            elif isinstance(got, str) and want is None:
                assert got == "", n
            else:
                assert got == want, n


@pytest.fixture(scope="session")
def predictor(tiny_model_dir):
    from cxnlp import Predictor

    return Predictor.load(tiny_model_dir)
