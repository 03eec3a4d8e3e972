from __future__ import annotations

import json

import numpy as np
import pytest

from cxnlp import Predictor
from cxnlp.exporters import export_onnx
from cxnlp.model_dir import ModelDirectoryError, load_meta
from tests.conftest import corpus_records, write_jsonl


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return [r["text"] for r in corpus_records(300)[100:300]]


def _agreement(a, b, texts) -> float:
    pa, pb = a.predict(texts), b.predict(texts)
    return float(np.mean([ra["heads"][h]["labels"] == rb["heads"][h]["labels"] for ra, rb in zip(pa, pb, strict=True)
                          for h in ra["heads"]]))


def test_fp32_export_matches_pytorch(tmp_path, tiny_model_dir, texts):
    out = export_onnx(tiny_model_dir, tmp_path / "onnx", quantize=False)
    meta = load_meta(out)
    assert meta.extra["runtime"] == "onnx" and meta.extra["quantized"] is False
    assert not (out / "encoder").exists() and (out / "model.onnx").exists() and (out / "README.md").exists()
    a, b = Predictor.load(tiny_model_dir), Predictor.load(out)
    za, zb = a.logits(texts[:50]), b.logits(texts[:50])
    for h in za:
        assert np.allclose(za[h], zb[h], atol=1e-4), h
    assert _agreement(a, b, texts) >= 0.98


def test_int8_export_is_smaller_and_loads(tmp_path, tiny_model_dir, texts):
    fp32 = export_onnx(tiny_model_dir, tmp_path / "fp32", quantize=False)
    int8 = export_onnx(tiny_model_dir, tmp_path / "int8", quantize=True)
    assert (int8 / "model.onnx").stat().st_size < (fp32 / "model.onnx").stat().st_size
    rec = Predictor.load(int8).predict(texts[:3], evidence=True)
    assert len(rec) == 3 and "evidence" in rec[0]
    assert json.loads((int8 / "cxnlp.json").read_text())["extra"]["quantized"] is True


def test_refuses_linear_and_onnx_sources(tmp_path, linear_model_dir, tiny_model_dir):
    with pytest.raises(ModelDirectoryError):
        export_onnx(linear_model_dir, tmp_path / "x")
    onnx_dir = export_onnx(tiny_model_dir, tmp_path / "o", quantize=False)
    with pytest.raises(ModelDirectoryError):
        export_onnx(onnx_dir, tmp_path / "y")


def test_cli_export_trims_quantises_and_agrees(tmp_path, tiny_model_dir, small_corpus, texts):
    from typer.testing import CliRunner

    from cxnlp.cli import app

    fp32 = export_onnx(tiny_model_dir, tmp_path / "fp32", quantize=False)
    # Default export (trimmed to the recorded training data's train split, int8): smaller, loads, records what it did.
    res = CliRunner().invoke(app, ["export", str(tiny_model_dir), "-o", str(tmp_path / "opt"), "--trim-data",
                                   str(small_corpus), "--arabic-top-k", "50"])
    assert res.exit_code == 0, res.output
    opt = tmp_path / "opt"
    trim = load_meta(opt).extra["vocabulary_trimmed"]
    assert trim["vocab_after"] < trim["vocab_before"] and trim["texts"] > 0
    assert load_meta(opt).extra["exported_from"] == str(tiny_model_dir)
    assert (opt / "model.onnx").stat().st_size < (fp32 / "model.onnx").stat().st_size
    assert len(Predictor.load(opt).predict(texts[:5])) == 5
    # Trimmed to texts that cover the scored ones, the export keeps the fp32 model's labels.
    covered = write_jsonl(tmp_path / "texts.jsonl", [{"text": t} for t in texts])
    res = CliRunner().invoke(app, ["export", str(tiny_model_dir), "-o", str(tmp_path / "trimmed"), "--no-quantize",
                                   "--trim-data", str(covered), "--arabic-top-k", "0"])
    assert res.exit_code == 0, res.output
    assert _agreement(Predictor.load(fp32), Predictor.load(tmp_path / "trimmed"), texts) >= 0.98


def test_cli_export_without_training_data_says_what_to_pass(tmp_path, tiny_model_dir):
    from typer.testing import CliRunner

    from cxnlp.cli import app

    res = CliRunner().invoke(app, ["export", str(tiny_model_dir), "-o", str(tmp_path / "x"), "--trim-data",
                                   str(tmp_path / "missing.jsonl")])
    assert res.exit_code == 1 and "--no-trim" in res.output and not (tmp_path / "x").exists()
