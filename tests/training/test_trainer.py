from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from cxnlp.data import DataValidationError
from cxnlp.reports.evaluation import evaluate_model, write_report
from cxnlp.trainer import CHECKPOINT, Trainer, TrainingError
from cxnlp.training_args import TrainConfig
from tests.conftest import corpus_records, tiny_train_config, write_jsonl


def test_saved_model_reproduces_training_metrics(tiny_model_dir, small_corpus):
    """The metrics computed in memory at the end of training equal those of the model
    loaded back from disk on the same split: save → load gives identical predictions."""
    saved = json.loads((tiny_model_dir / "metrics.json").read_text())["test"]
    again = evaluate_model(tiny_model_dir, str(small_corpus), split="test").overall
    for head, m in saved["heads"].items():
        assert again["heads"][head]["per_label"] == m["per_label"], head
    files = {p.name for p in tiny_model_dir.iterdir()}
    assert {"cxnlp.json", "encoder", "heads.safetensors", "taxonomy.yaml", "normalization.json", "calibration.json",
            "training_config.yaml", "metrics.json", "README.md"} <= files
    meta = json.loads((tiny_model_dir / "cxnlp.json").read_text())
    assert meta["format_version"] == 1 and len(meta["data_fingerprint"]) == 64 and "torch" in meta["versions"]
    card = (tiny_model_dir / "README.md").read_text()
    assert "| sentiment | multiclass |" in card and "ECE before" in card
    # Written inside the temporary directory, but named after the final one.
    assert card.startswith(f"# cxnlp model: {tiny_model_dir.name}\n") and ".tmp-" not in card


def _weights(model_dir):
    heads = load_file(str(model_dir / "heads.safetensors"))
    enc = load_file(str(next((model_dir / "encoder").glob("*.safetensors"))))
    return heads | {f"enc.{k}": v for k, v in enc.items()}


class _Crash(RuntimeError):
    pass


def test_resume_reproduces_uninterrupted_run(tmp_path, small_corpus, tiny_backbone):
    kw = dict(epochs=3, early_stopping_patience=0, max_train_samples=160, max_eval_samples=60)
    full = Trainer(tiny_train_config(small_corpus, tiny_backbone, tmp_path / "a", **kw)).train()

    def crash_after_first_epoch(trainer, state):
        if state.epoch == 1:
            raise _Crash("simulated crash")

    cfg = tiny_train_config(small_corpus, tiny_backbone, tmp_path / "b", **kw)
    with pytest.raises(_Crash):
        Trainer(cfg, callbacks=[crash_after_first_epoch]).train()
    assert (tmp_path / "b" / "run" / CHECKPOINT / "state.pt").exists()
    assert not (tmp_path / "b" / "model").exists()  # nothing half-written
    resumed = Trainer(cfg).train(resume=True)
    a, b = _weights(full.output_dir), _weights(resumed.output_dir)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert [h["train_loss"] for h in full.state.history] == [h["train_loss"] for h in resumed.state.history]


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path, small_corpus, tiny_backbone):
    def stop_after_first_epoch(trainer, state):
        if state.epoch == 1:
            raise _Crash("stop")

    cfg = tiny_train_config(small_corpus, tiny_backbone, tmp_path, epochs=2, max_train_samples=96, max_eval_samples=40,
                            early_stopping_patience=0)
    with pytest.raises(_Crash):
        Trainer(cfg, callbacks=[stop_after_first_epoch]).train()
    # Corrupt the checkpoint's head weights so that the next epoch's loss is NaN.
    good = (tmp_path / "run" / CHECKPOINT / "state.pt").read_bytes()
    blob = torch.load(tmp_path / "run" / CHECKPOINT / "state.pt", weights_only=False)
    blob["model"] = {k: (v.fill_(float("nan")) if k.startswith("heads.") and v.is_floating_point() else v)
                     for k, v in blob["model"].items()}
    torch.save(blob, tmp_path / "poisoned.pt")
    (tmp_path / "run" / CHECKPOINT / "state.pt").write_bytes((tmp_path / "poisoned.pt").read_bytes())
    with pytest.raises(TrainingError, match="loss became nan.*last good checkpoint"):
        Trainer(cfg).train(resume=True)
    # The failing epoch wrote no checkpoint over the one it started from.
    assert (tmp_path / "run" / CHECKPOINT / "state.pt").read_bytes() == (tmp_path / "poisoned.pt").read_bytes()
    assert good != (tmp_path / "poisoned.pt").read_bytes()
    assert not (tmp_path / "model").exists()


def test_partial_labels_train_and_mask(tmp_path, tiny_backbone):
    rows = corpus_records(200)
    for i, r in enumerate(rows):
        if i % 2:  # half the records label only sentiment
            r["labels"] = {"sentiment": r["labels"]["sentiment"]}
    data = write_jsonl(tmp_path / "partial.jsonl", rows)
    res = Trainer(tiny_train_config(data, tiny_backbone, tmp_path, epochs=1)).train()
    dev = res.metrics["dev"]["heads"]
    assert dev["sentiment"]["n"] > dev["emotion"]["n"] > 0


def test_trim_vocabulary_trains_a_smaller_model_on_the_training_pieces(tmp_path, tiny_backbone, small_corpus):
    from transformers import AutoTokenizer

    from cxnlp import Predictor
    from cxnlp.model_dir import load_meta

    res = Trainer(tiny_train_config(small_corpus, tiny_backbone, tmp_path, epochs=1, trim_vocabulary=True,
                                    trim_arabic_top_k=0)).train()
    trim = load_meta(res.output_dir).extra["vocabulary_trimmed"]
    assert trim["vocab_after"] < trim["vocab_before"]
    tok = AutoTokenizer.from_pretrained(str(res.output_dir / "encoder"))
    assert len(tok) == trim["vocab_after"] < len(AutoTokenizer.from_pretrained(str(tiny_backbone)))
    rows = corpus_records(400)
    records = Predictor.load(res.output_dir).predict([r["text"] for r in rows[:20]])
    assert all(rec["heads"]["sentiment"]["label"] for rec in records)


def test_freeze_layers_keeps_the_bottom_of_the_encoder(tmp_path, tiny_backbone, small_corpus):
    from cxnlp.modeling.encoder import load_encoder

    res = Trainer(tiny_train_config(small_corpus, tiny_backbone, tmp_path, epochs=1, freeze_layers=1,
                                    optim="adamw_torch_fused", max_train_samples=64, max_eval_samples=40)).train()
    before = load_encoder(tiny_backbone).state_dict()
    after = load_encoder(res.output_dir / "encoder").state_dict()
    frozen = [k for k in after if k.startswith(("embeddings.", "encoder.layer.0."))]
    trained = [k for k in after if k.startswith("encoder.layer.1.")]
    assert frozen and trained
    assert all(torch.equal(before[k], after[k]) for k in frozen)
    assert not all(torch.equal(before[k], after[k]) for k in trained)
    with pytest.raises(ValueError, match="freeze_layers"):
        TrainConfig(num_layers=2, freeze_layers=2)
    with pytest.raises(ValueError, match="optim"):
        TrainConfig(optim="sgd")


def test_unknown_label_names_file_and_line(tmp_path, tiny_backbone):
    rows = corpus_records(120)
    rows[5]["labels"]["emotion"] = ["joy"]
    data = write_jsonl(tmp_path / "d.jsonl", rows)
    with pytest.raises(DataValidationError, match=rf"{data}:6: head 'emotion': unknown label"):
        Trainer(TrainConfig(data=str(data), model_type="linear", output_dir=str(tmp_path / "m"),
                            run_dir=str(tmp_path / "r"))).train()
    res = Trainer(TrainConfig(data=str(data), model_type="linear", output_dir=str(tmp_path / "m"),
                              run_dir=str(tmp_path / "r"), skip_invalid=True, linear_max_features=5000)).train()
    assert json.loads((res.output_dir / "metrics.json").read_text())["data"]["invalid_records"] == 1


def test_empty_dev_split_is_a_clear_error(tmp_path):
    rows = [{k: v for k, v in r.items() if k != "split"} for r in corpus_records(30)]
    data = write_jsonl(tmp_path / "d.jsonl", rows)
    cfg = TrainConfig(data=str(data), model_type="linear", output_dir=str(tmp_path / "m"), run_dir=str(tmp_path / "r"),
                      split_ratios=(0.9, 0.0, 0.1))
    with pytest.raises(TrainingError, match="dev split is empty"):
        Trainer(cfg).train()


def test_config_validation_and_overrides(tmp_path):
    with pytest.raises(ValueError, match="split_ratios"):
        TrainConfig(split_ratios=(0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match="model_type"):
        TrainConfig(model_type="svm")
    with pytest.raises(ValueError, match="unknown normalisation"):
        TrainConfig(normalization={"stemming": True})
    with pytest.raises(ValueError, match="unknown training settings"):
        TrainConfig.from_dict({"epoch": 3})
    assert TrainConfig.parse_override("head_weights={emotion: 2}") == ("head_weights", {"emotion": 2})
    assert TrainConfig.parse_override("backbone=123") == ("backbone", "123")
    # YAML reads 3e-3 as text; a numeric setting still gets the number.
    assert TrainConfig.from_dict(dict([TrainConfig.parse_override("head_learning_rate=3e-3")])).head_learning_rate == 3e-3
    with pytest.raises(ValueError, match="must be a number"):
        TrainConfig.from_dict({"learning_rate": "fast"})
    path = tmp_path / "c.yaml"
    TrainConfig(epochs=7, learning_rate=1e-4).save(path)
    assert TrainConfig.from_yaml(path, {"seed": 1}) == TrainConfig(epochs=7, learning_rate=1e-4, seed=1)
    assert "freeze_embeddings (default: False)" in TrainConfig.describe()


def test_report_builds(tmp_path, tiny_model_dir, linear_model_dir, small_corpus):
    evals = [evaluate_model(d, str(small_corpus), split="test", min_slice=5) for d in (tiny_model_dir, linear_model_dir)]
    assert evals[0].overall["n"] == evals[1].overall["n"]  # same records side by side
    paths = write_report(evals, tmp_path / "rep", str(small_corpus), "test")
    page = paths["html"].read_text()
    assert "Side by side" in page and "complaint" in page and page.count("<img") >= 8
    for src in [s.split("'")[0] for s in page.split("<img src='")[1:]]:
        png = tmp_path / "rep" / src
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads(paths["json"].read_text())
    assert {"lang", "variety", "channel", "domain"} <= set(report["models"][0]["slices"])
    assert report["models"][0]["mistakes"] and "text" in report["models"][0]["mistakes"][0]
    assert "| sentiment |" in paths["markdown"].read_text()
    # Side by side: the transformer against the linear baseline, with a paired-bootstrap interval per head.
    # Both directories are called `model`: the report names them by enough of their path to tell them apart.
    ref, other = f"{linear_model_dir.parent.name}/model", f"{tiny_model_dir.parent.name}/model"
    rows = {r["head"]: r for r in report["comparison"]}
    assert set(rows) == {*evals[0].overall["heads"], "mean"}
    for head, row in rows.items():
        d = row["vs"][other]
        assert row["vs"]["reference"] == ref
        assert d["low"] <= d["delta"] <= d["high"]
        assert d["delta"] == pytest.approx(row[other] - row[ref]), head
    assert f"{other} − {ref} (95% CI)" in paths["markdown"].read_text() and "paired bootstrap" in page
    assert "decisions" not in report["models"][0]


def test_cli_evaluate_compares_with_the_baseline(tmp_path, tiny_model_dir, linear_model_dir, small_corpus):
    from typer.testing import CliRunner

    from cxnlp.cli import app

    res = CliRunner().invoke(app, ["evaluate", str(tiny_model_dir), str(linear_model_dir), "--data", str(small_corpus),
                                   "--split", "test", "-o", str(tmp_path / "rep")])
    assert res.exit_code == 0, res.output
    line = next(x for x in res.output.splitlines() if "paired-bootstrap interval" in x)
    report = json.loads((tmp_path / "rep" / "report.json").read_text())
    mean = report["comparison"][-1]
    other = next(k for k in mean["vs"] if k != "reference")
    assert line.startswith(f"{other} − {mean['vs']['reference']}: {mean['vs'][other]['delta']:+.4f}")
    assert mean["vs"]["reference"].endswith("model") and mean[mean["vs"]["reference"]] == report["models"][1]["overall"]["macro_f1_mean"]


def test_lexical_blend_is_chosen_on_dev_saved_and_reloaded(blended_model_dir, small_corpus):
    """A blended model: each head's transformer share is the best one on dev, the model
    loaded from disk reproduces the training-time test metrics, and each part's own scores
    are kept beside the blend's."""
    d = blended_model_dir
    assert (d / "linear.joblib").exists() and (d / "heads.safetensors").exists()
    calibration = json.loads((d / "calibration.json").read_text())
    metrics = json.loads((d / "metrics.json").read_text())
    weights = calibration["blend"]["weights"]
    table = metrics["parts"]["dev_macro_f1_by_weight"]
    for head, w in weights.items():
        assert table[head][str(w)] == max(table[head].values()), head
        # The final calibration is the one the weight was chosen with, so the model's dev
        # score is the table's.
        assert metrics["dev"]["heads"][head]["macro_f1"] == pytest.approx(table[head][str(w)], abs=1e-4), head
    for part in ("transformer", "linear"):
        assert set(metrics["parts"][part]["test"]["heads"]) == set(weights)
    again = evaluate_model(d, str(small_corpus), split="test").overall
    for head, m in metrics["test"]["heads"].items():
        assert again["heads"][head]["per_label"] == m["per_label"], head
    assert json.loads((d / "cxnlp.json").read_text())["extra"]["lexical_blend"] is True
    assert "## Blend" in (d / "README.md").read_text()


def test_a_blended_model_without_its_linear_part_is_refused(tmp_path, blended_model_dir):
    import shutil

    from cxnlp import Predictor
    from cxnlp.model_dir import ModelDirectoryError

    broken = shutil.copytree(blended_model_dir, tmp_path / "broken")
    (broken / "linear.joblib").unlink()
    with pytest.raises(ModelDirectoryError, match="linear.joblib is missing"):
        Predictor.load(broken)


def test_lexical_blend_needs_a_transformer(tmp_path):
    with pytest.raises(ValueError, match="lexical_blend"):
        TrainConfig(data="x.jsonl", model_type="linear", lexical_blend=True)
