"""`cxnlp train`, `cxnlp evaluate` and `cxnlp predict`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import typer

from cxnlp.exporters.quantize import Quantization


def fail(message: str, code: int = 1) -> NoReturn:
    """Print an error in red on stderr and exit with `code` (shared by every command)."""
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def train(
    config: Path | None = typer.Option(None, "--config", "-c", help="Training config YAML (see training/configs/)."),
    data: str | None = typer.Option(None, help="Labelled data (file, directory, glob or dataset name)."),
    output: str | None = typer.Option(None, "--output", "-o", help="Model directory to write."),
    taxonomy: str | None = typer.Option(None, "--taxonomy", "-t", help="Taxonomy YAML."),
    model_type: str | None = typer.Option(None, "--model-type", help="transformer or linear."),
    backbone: str | None = typer.Option(None, help="Backbone name or local directory."),
    epochs: int | None = typer.Option(None, help="Maximum epochs."),
    max_train_samples: int | None = typer.Option(None, help="Use only the first N training records."),
    max_eval_samples: int | None = typer.Option(None, help="Use only the first N dev/test records."),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Skip invalid records (counted) instead of failing."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the last epoch checkpoint of this run."),
    seed: int | None = typer.Option(None, help="Random seed."),
    set_: list[str] = typer.Option([], "--set", help="Any other setting as field=value (repeatable)."),
    help_config: bool = typer.Option(False, "--help-config", help="List every setting with its documentation."),
) -> None:
    """Train a model (transformer or linear baseline) and write a self-contained model directory."""
    from cxnlp.data import DataValidationError
    from cxnlp.trainer import Trainer, TrainingError
    from cxnlp.training_args import TrainConfig

    if help_config:
        typer.echo(TrainConfig.describe())
        return
    overrides: dict[str, Any] = {}
    for key, value in (("data", data), ("output_dir", output), ("taxonomy", taxonomy), ("model_type", model_type),
                       ("backbone", backbone), ("epochs", epochs), ("max_train_samples", max_train_samples),
                       ("max_eval_samples", max_eval_samples), ("seed", seed)):
        if value is not None:
            overrides[key] = value
    if skip_invalid:
        overrides["skip_invalid"] = True
    try:
        for item in set_:
            k, v = TrainConfig.parse_override(item)
            overrides[k] = v
        cfg = TrainConfig.from_yaml(config, overrides) if config else TrainConfig.from_dict(overrides)
    except (ValueError, TypeError, FileNotFoundError) as exc:
        fail(f"invalid training configuration: {exc}", 2)
    try:
        result = Trainer(cfg).train(resume=resume)
    except DataValidationError as exc:
        fail(str(exc))
    except (TrainingError, FileNotFoundError) as exc:
        fail(f"training failed: {exc}")
    from cxnlp.reports.model_card import metrics_table

    typer.echo(f"\nmodel written to {result.output_dir}\n")
    typer.echo(metrics_table(result.metrics))


def evaluate(
    models: list[Path] = typer.Argument(..., help="One or more model directories (compared side by side)."),
    data: str = typer.Option(..., "--data", "-d", help="Labelled data to evaluate on."),
    split: str | None = typer.Option(None, help="Evaluate only this split (train/dev/test) of DATA, split as in training."),
    output: Path = typer.Option(Path("reports/latest"), "--output", "-o", help="Report directory."),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Skip invalid records instead of failing."),
    min_slice: int = typer.Option(10, help="Smallest slice (language, variety, channel, domain) to report."),
) -> None:
    """Evaluate model directories: JSON, Markdown and HTML reports with plots."""
    from cxnlp.data import DataValidationError
    from cxnlp.model_dir import ModelDirectoryError
    from cxnlp.reports.evaluation import evaluate_model, write_report

    if split not in (None, "train", "dev", "test"):
        fail("--split must be train, dev or test", 2)
    try:
        evals = [evaluate_model(m, data, split=split, skip_invalid=skip_invalid, min_slice=min_slice) for m in models]
    except (ModelDirectoryError, DataValidationError, FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    paths = write_report(evals, output, data, split)
    for e in evals:
        typer.echo(f"{e.name} ({e.model_type}): mean macro-F1 {e.overall['macro_f1_mean']:.4f} on {e.overall['n']} records")
    mean = json.loads(paths["json"].read_text(encoding="utf-8")).get("comparison") or [{}]
    for name, d in (mean[-1].get("vs") or {}).items():
        if name != "reference":
            typer.echo(f"{name} − {mean[-1]['vs']['reference']}: {d['delta']:+.4f} mean macro-F1 "
                       f"(95% paired-bootstrap interval {d['low']:+.4f} to {d['high']:+.4f})")
    typer.echo(f"report: {paths['html']} (also {paths['markdown'].name}, {paths['json'].name})")


def predict(
    model: Path = typer.Argument(..., help="Model directory."),
    text: list[str] = typer.Argument(None, help="Texts; none reads one text per line from stdin."),
    evidence: bool = typer.Option(False, help="Include the words that drove each label."),
    heads: str | None = typer.Option(None, help="Comma-separated heads to return (default: all)."),
) -> None:
    """Classify texts and print one prediction record (JSON) per line."""
    from cxnlp.model_dir import ModelDirectoryError
    from cxnlp.predict import Predictor

    try:
        predictor = Predictor.load(model)
    except ModelDirectoryError as exc:
        fail(str(exc))
    texts = list(text) if text else [line.rstrip("\n") for line in sys.stdin if line.strip()]
    try:
        records = predictor.predict(texts, evidence=evidence, heads=heads.split(",") if heads else None)
    except KeyError as exc:
        fail(str(exc.args[0]), 2)
    for r in records:
        typer.echo(json.dumps(r, ensure_ascii=False))


def export(
    model: Path = typer.Argument(..., help="Transformer model directory to export."),
    output: Path = typer.Option(..., "--output", "-o", help="Directory for the exported model."),
    quantize: Quantization = typer.Option(
        Quantization.embeddings, "--quantize", case_sensitive=False,
        help="Weight storage: none (fp32), embeddings (int8 embedding table, fp32 matrix products) "
             "or int8 (all MatMul weights too; smaller, costs more quality)."),
    trim: bool = typer.Option(True, "--trim/--no-trim",
                              help="Trim the vocabulary to the training texts plus frequent Arabic-script pieces "
                                   "(skipped for a model trained on a trimmed vocabulary unless --trim-data is given)."),
    trim_data: str = typer.Option(None, "--trim-data", metavar="<path>",
                                  help="Texts to trim the vocabulary for (default: the model's training data)."),
    arabic_top_k: int = typer.Option(10_000, "--arabic-top-k",
                                     help="Also keep this many of the most frequent Arabic-script pieces."),
) -> None:
    """Write an optimised ONNX Runtime model directory (trimmed vocabulary, int8 embeddings by default) that every
    interface loads."""
    from cxnlp.exporters import export_onnx
    from cxnlp.exporters.trimmed import texts_to_trim
    from cxnlp.model_dir import ModelDirectoryError, load_meta

    try:
        texts = texts_to_trim(model, trim_data) if trim else None
        if trim and texts is None:
            typer.echo("the model was trained on a trimmed vocabulary: exporting it as it is")
        out = export_onnx(model, output, quantize=quantize, trim_texts=texts, arabic_top_k=arabic_top_k)
    except ModelDirectoryError as exc:
        fail(str(exc))
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 1e6
    kind = ("trimmed, " if "vocabulary_trimmed" in load_meta(out).extra else "") + f"weights {quantize.value}"
    typer.echo(f"exported {model} → {out} ({kind} ONNX, {size:.1f} MB on disk)")
