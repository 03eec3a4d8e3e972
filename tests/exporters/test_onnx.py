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
    out = export_onnx(tiny_model_dir, tmp_path / "onnx", quantize="none")
    meta = load_meta(out)
    assert meta.extra["runtime"] == "onnx" and meta.extra["quantized"] == "none"
    assert not (out / "encoder").exists() and (out / "model.onnx").exists() and (out / "README.md").exists()
    assert (out / "README.md").read_text().startswith("# cxnlp model: onnx\n")
    a, b = Predictor.load(tiny_model_dir), Predictor.load(out)
    za, zb = a.logits(texts[:50]), b.logits(texts[:50])
    for h in za:
        assert np.allclose(za[h], zb[h], atol=1e-4), h
    assert _agreement(a, b, texts) >= 0.98


def test_quantisation_levels_shrink_the_graph_and_keep_labels(tmp_path, tiny_model_dir, texts):
    fp32 = export_onnx(tiny_model_dir, tmp_path / "fp32", quantize="none")
    emb = export_onnx(tiny_model_dir, tmp_path / "emb", quantize="embeddings")
    int8 = export_onnx(tiny_model_dir, tmp_path / "int8", quantize="int8")
    size = {p.name: (p / "model.onnx").stat().st_size for p in (fp32, emb, int8)}
    assert size["int8"] < size["emb"] < size["fp32"], size
    assert json.loads((emb / "cxnlp.json").read_text())["extra"]["quantized"] == "embeddings"
    # Per-row int8 embeddings perturb the logits only slightly: labels hold.
    a, b = Predictor.load(fp32), Predictor.load(emb)
    za, zb = a.logits(texts[:50]), b.logits(texts[:50])
    for h in za:
        assert np.abs(za[h] - zb[h]).max() < 0.05, h
    assert _agreement(a, b, texts) >= 0.98
    rec = Predictor.load(int8).predict(texts[:3], evidence=True)
    assert len(rec) == 3 and "evidence" in rec[0]


def test_embedding_quantisation_rewrites_only_the_token_lookup(tmp_path, tiny_model_dir):
    import onnx

    from cxnlp.exporters.quantize import quantize_embeddings

    fp32 = export_onnx(tiny_model_dir, tmp_path / "fp32", quantize="none")
    assert quantize_embeddings(fp32 / "model.onnx", tmp_path / "q.onnx") == 1
    inits = {t.name: t for t in onnx.load(str(tmp_path / "q.onnx")).graph.initializer}
    int8 = [n for n, t in inits.items() if t.data_type == onnx.TensorProto.INT8]
    assert len(int8) == 1 and "word_embeddings" in int8[0]
    assert any("position_embeddings" in n and t.data_type == onnx.TensorProto.FLOAT for n, t in inits.items())


def test_refuses_linear_and_onnx_sources(tmp_path, linear_model_dir, tiny_model_dir):
    with pytest.raises(ModelDirectoryError):
        export_onnx(linear_model_dir, tmp_path / "x")
    onnx_dir = export_onnx(tiny_model_dir, tmp_path / "o", quantize="none")
    with pytest.raises(ModelDirectoryError):
        export_onnx(onnx_dir, tmp_path / "y")


def test_cli_export_trims_quantises_and_agrees(tmp_path, tiny_model_dir, small_corpus, texts):
    from typer.testing import CliRunner

    from cxnlp.cli import app

    fp32 = export_onnx(tiny_model_dir, tmp_path / "fp32", quantize="none")
    # Default export (trimmed to the recorded training data's train split, int8 embeddings): smaller, loads, records what it did.
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
    res = CliRunner().invoke(app, ["export", str(tiny_model_dir), "-o", str(tmp_path / "trimmed"), "--quantize", "none",
                                   "--trim-data", str(covered), "--arabic-top-k", "0"])
    assert res.exit_code == 0, res.output
    assert _agreement(Predictor.load(fp32), Predictor.load(tmp_path / "trimmed"), texts) >= 0.98


def test_cli_export_without_training_data_says_what_to_pass(tmp_path, tiny_model_dir):
    from typer.testing import CliRunner

    from cxnlp.cli import app

    res = CliRunner().invoke(app, ["export", str(tiny_model_dir), "-o", str(tmp_path / "x"), "--trim-data",
                                   str(tmp_path / "missing.jsonl")])
    assert res.exit_code == 1 and "--no-trim" in res.output and not (tmp_path / "x").exists()


def test_cli_exports_a_model_trained_trimmed_as_it_is(tmp_path, tiny_backbone, small_corpus, texts):
    """A model fine-tuned on a trimmed vocabulary is not trimmed again: re-trimming would
    re-segment texts the model was evaluated on."""
    from transformers import AutoTokenizer
    from typer.testing import CliRunner

    from cxnlp.cli import app
    from cxnlp.trainer import Trainer
    from tests.conftest import tiny_train_config

    src = Trainer(tiny_train_config(small_corpus, tiny_backbone, tmp_path / "train", epochs=1, trim_vocabulary=True,
                                    trim_arabic_top_k=20, max_train_samples=80, max_eval_samples=40)).train().output_dir
    res = CliRunner().invoke(app, ["export", str(src), "-o", str(tmp_path / "onnx"), "--quantize", "none"])
    assert res.exit_code == 0, res.output
    assert "exporting it as it is" in res.output
    out = tmp_path / "onnx"
    assert load_meta(out).extra["vocabulary_trimmed"] == load_meta(src).extra["vocabulary_trimmed"]
    assert len(AutoTokenizer.from_pretrained(str(out / "tokenizer"))) == len(AutoTokenizer.from_pretrained(str(src / "encoder")))
    za, zb = Predictor.load(src).logits(texts[:40]), Predictor.load(out).logits(texts[:40])
    for h in za:
        assert np.allclose(za[h], zb[h], atol=1e-4), h


def test_a_blended_model_exports_with_its_linear_part(tmp_path, blended_model_dir, texts):
    out = export_onnx(blended_model_dir, tmp_path / "onnx", quantize="none")
    assert (out / "linear.joblib").exists()
    a, b = Predictor.load(blended_model_dir), Predictor.load(out)
    za, zb = a.logits(texts[:50]), b.logits(texts[:50])
    for h in za:
        assert np.allclose(za[h], zb[h], atol=1e-4), h
    assert _agreement(a, b, texts) >= 0.98
