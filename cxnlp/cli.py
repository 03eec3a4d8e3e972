"""The `cxnlp` command line: one typer app whose subcommands call into the library."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import typer

from cxnlp import __version__, cli_modeling
from cxnlp.backbones.cli import app as backbone_app
from cxnlp.cli_modeling import fail
from cxnlp.data import load_labelled, split_dataset
from cxnlp.serve_command import serve as serve_command
from cxnlp.tagging.cli import tag_command
from cxnlp.taxonomy import Taxonomy, TaxonomyError
from cxnlp.text import Normalizer, NormalizerConfig, detect_language, detect_variety

app = typer.Typer(
    name="cxnlp",
    help="Customer-experience tagging for Arabic and Persian feedback.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cxnlp {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug messages."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # hazm imports gensim, which logs a demo corpus at INFO on import.
    for noisy in ("gensim", "smart_open", "httpx", "urllib3", "filelock"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


data_app = typer.Typer(help="Validate and split labelled data.", no_args_is_help=True)
taxonomy_app = typer.Typer(help="Check taxonomy YAML files.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(taxonomy_app, name="taxonomy")
app.add_typer(backbone_app, name="backbone", help="Resolve, inspect and trim pretrained backbones.")


def _taxonomy(path: Path | None) -> Taxonomy:
    try:
        return Taxonomy.from_yaml(path) if path else Taxonomy.default()
    except TaxonomyError as exc:
        fail(f"invalid taxonomy: {exc}")


@app.command()
def normalize(
    text: list[str] = typer.Argument(None, help="Texts to normalise; none reads lines from stdin."),
    lang: str | None = typer.Option(None, help="ar or fa; detected per text when omitted."),
    zwnj: str = typer.Option("space", help="What Persian ZWNJ becomes: space, keep or remove."),
    emojis: str = typer.Option("keep", help="keep, text or remove."),
) -> None:
    """Print the normalised form of each text (one per line)."""
    try:
        norm = Normalizer(NormalizerConfig(zwnj=zwnj, emojis=emojis))
    except ValueError as exc:
        fail(str(exc), 2)
    lines = text if text else (line.rstrip("\n") for line in sys.stdin)
    for line in lines:
        typer.echo(norm(line, lang))


@app.command()
def detect(text: list[str] = typer.Argument(..., help="Texts to inspect.")) -> None:
    """Print language, script and variety guesses as JSON lines."""
    for t in text:
        g = detect_language(t)
        v = detect_variety(t, g.lang)
        typer.echo(json.dumps({"text": t, "lang": g.lang, "script": g.script, "romanized": g.romanized,
                               "lang_confidence": g.confidence, "variety": v.variety, "variety_score": v.score},
                              ensure_ascii=False))


@taxonomy_app.command("check")
def taxonomy_check(path: Path = typer.Argument(..., exists=True, help="A taxonomy YAML file.")) -> None:
    """Validate a taxonomy file and list its heads."""
    tax = _taxonomy(path)
    typer.echo(f"{path}: valid taxonomy {tax.name!r} (version {tax.version}) with {len(tax.heads)} heads")
    for h in tax.heads:
        typer.echo(f"  {h.name} ({h.kind}, {h.num_labels} labels): {', '.join(h.label_names)}")


@data_app.command("validate")
def data_validate(
    source: str = typer.Argument(..., help="JSONL/CSV/Parquet file, directory, glob, or dataset name."),
    taxonomy: Path | None = typer.Option(None, "--taxonomy", "-t", help="Taxonomy YAML (default: data/taxonomy.yaml)."),
    report: Path | None = typer.Option(None, help="Write the machine-readable report (JSON) here."),
    text_field: str = typer.Option("text", help="Column holding the text."),
    id_field: str = typer.Option("id", help="Column holding the record id."),
) -> None:
    """Check every record against the taxonomy; report problems with file and line. Exit 1 if any."""
    tax = _taxonomy(taxonomy)
    try:
        result = load_labelled(source, tax, skip_invalid=True, text_field=text_field, id_field=id_field,
                               report_path=report)
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc), 2)
    typer.echo(result.report.summary(max_items=50))
    if report:
        typer.echo(f"report written to {report}")
    if not result.report.ok:
        raise typer.Exit(1)


@data_app.command("split")
def data_split(
    source: str = typer.Argument(..., help="Labelled data to split."),
    output: Path = typer.Option(..., "--output", "-o", help="Directory for train.jsonl, dev.jsonl, test.jsonl."),
    taxonomy: Path | None = typer.Option(None, "--taxonomy", "-t", help="Taxonomy YAML."),
    ratios: str = typer.Option("0.8,0.1,0.1", help="train,dev,test proportions."),
    stratify_by: str = typer.Option("lang,variety", help="Comma-separated columns to stratify by."),
    skip_invalid: bool = typer.Option(False, help="Skip invalid rows (counted) instead of failing."),
) -> None:
    """Deterministic stratified train/dev/test split by id hash."""
    tax = _taxonomy(taxonomy)
    try:
        result = load_labelled(source, tax, skip_invalid=skip_invalid)
        parts = split_dataset(result.dataset, tuple(float(r) for r in ratios.split(",")),
                              tuple(c for c in stratify_by.split(",") if c), use_existing=False)
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc), 2)
    output.mkdir(parents=True, exist_ok=True)
    for name, part in parts.items():
        part.to_json(output / f"{name}.jsonl", force_ascii=False, lines=True)
        typer.echo(f"{name}: {len(part)} records → {output / (name + '.jsonl')}")


app.command()(cli_modeling.train)
app.command()(cli_modeling.evaluate)
app.command()(cli_modeling.predict)
app.command()(cli_modeling.export)
app.command("tag")(tag_command)
app.command("serve")(serve_command)


def main() -> None:
    app()
