"""`cxnlp backbone ...`: inspect, trim and build backbones from the command line.

Mounted on the main app as `cxnlp backbone`; kept here so the backbone commands live
with the code they call.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from cxnlp.backbones.errors import BackboneError

app = typer.Typer(
    help="Resolve, inspect and trim pretrained backbones (works offline for the default e5 model).",
    no_args_is_help=True,
)


def _fail(exc: Exception) -> typer.Exit:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


def _mb(n: int | None) -> str:
    return "?" if n is None else f"{n / (1024 * 1024):,.1f} MB"


def _num(n: int | None) -> str:
    return "?" if n is None else f"{n:,}"


@app.command("info")
def info_command(
    name: str = typer.Argument("intfloat/multilingual-e5-small", help="Hub id, alias or local directory."),
    cache_dir: Path | None = typer.Option(None, "--cache-dir", help="Backbone cache (default $CXNLP_CACHE)."),
    offline: bool = typer.Option(False, "--offline", help="Never touch the network."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of a table."),
) -> None:
    """Print where a backbone comes from, its size, vocabulary and layers (resolving/building it if needed)."""
    from cxnlp.backbones.resolve import resolve_backbone
    from cxnlp.backbones.stats import describe_backbone

    try:
        resolved = resolve_backbone(name, cache_dir=cache_dir, local_files_only=True if offline else None)
    except BackboneError as exc:
        raise _fail(exc) from exc
    stats = describe_backbone(resolved.path)
    info = resolved.info
    record = {
        "name": resolved.name,
        "source": resolved.source,
        "path": str(resolved.path),
        "text_prefix": resolved.text_prefix,
        "pooling": resolved.pooling,
        "zwnj": info.zwnj if info else None,
        "recommended_zwnj_policy": info.recommended_zwnj_policy if info else None,
        "origin": info.source if info else None,
        **{k: v for k, v in stats.as_dict().items() if k != "path"},
    }
    if as_json:
        typer.echo(json.dumps(record, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"backbone {resolved.name}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    rows = [
        (
            "source",
            resolved.source
            + (f" (origin: {info.source})" if info and info.source != resolved.source else ""),
        ),
        ("path", str(resolved.path)),
        ("model type", stats.model_type),
        ("layers", _num(stats.num_layers)),
        ("hidden size", _num(stats.hidden_size)),
        ("attention heads", _num(stats.num_heads)),
        ("max positions", _num(stats.max_positions)),
        ("vocabulary (tokenizer)", _num(stats.tokenizer_vocab_size)),
        ("embedding rows", _num(stats.vocab_size)),
        ("parameters", _num(stats.parameters)),
        ("of which word embeddings", _num(stats.embedding_parameters)),
        ("weights on disk", _mb(stats.weights_bytes)),
        ("directory size", _mb(stats.total_bytes)),
        ("text prefix", repr(resolved.text_prefix)),
        ("pooling", resolved.pooling),
        ("ZWNJ in tokenizer", str(record["zwnj"])),
        ("normaliser ZWNJ policy", str(record["recommended_zwnj_policy"])),
    ]
    for key, value in rows:
        table.add_row(key, value)
    Console().print(table)


def _corpus_paths(corpus: list[Path] | None) -> list[Path]:
    """The corpus files given, or the shipped corpus."""
    from cxnlp.backbones.trim import default_corpus_dir

    if corpus:
        return list(corpus)
    shipped = default_corpus_dir()
    if shipped is None:
        raise _fail(FileNotFoundError("no shipped corpus found; pass --corpus FILE_OR_DIR"))
    return [shipped]


@app.command("trim")
def trim_command(
    src: str = typer.Argument(
        "intfloat/multilingual-e5-small", help="Backbone to trim (Hub id, alias or directory)."
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Directory to write the trimmed backbone to."),
    corpus: list[Path] | None = typer.Option(
        None,
        "--corpus",
        "-c",
        help="JSONL/TXT files or folders to keep pieces for (default: the shipped data/corpus).",
    ),
    text_field: str = typer.Option("text", "--text-field", help="JSONL field holding the text."),
    latin: bool = typer.Option(
        True, "--latin/--no-latin", help="Keep the most frequent Latin-script pieces."
    ),
    latin_top_k: int = typer.Option(5000, "--latin-top-k", help="How many Latin-script pieces to keep."),
    arabic_top_k: int = typer.Option(
        10000, "--arabic-top-k", help="How many frequent Arabic-script pieces to keep beyond the corpus's."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Keep only the vocabulary a corpus (plus an English/Latin/emoji fallback set) needs; report size and cosine."""
    from cxnlp.backbones.trim import read_corpus_texts, trim_backbone

    paths = _corpus_paths(corpus)
    try:
        texts = read_corpus_texts(paths, field_name=text_field)
        report = trim_backbone(
            src, out, texts, keep_latin=latin, latin_top_k=latin_top_k, arabic_top_k=arabic_top_k
        )
    except (BackboneError, FileNotFoundError, FileExistsError, ValueError) as exc:
        raise _fail(exc) from exc
    typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2) if as_json else report.summary())


@app.command("tiny")
def tiny_command(
    out: Path = typer.Argument(..., help="Directory to write the tiny backbone to."),
    corpus: list[Path] | None = typer.Option(
        None, "--corpus", "-c", help="Texts to train the tokenizer on (default: the shipped data/corpus)."
    ),
    vocab_size: int = typer.Option(800, "--vocab-size"),
    hidden_size: int = typer.Option(32, "--hidden-size"),
    layers: int = typer.Option(2, "--layers"),
    heads: int = typer.Option(2, "--heads"),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Build a tiny random-weight BERT backbone for tests and smoke runs, in seconds."""
    from cxnlp.backbones.tiny import build_tiny_backbone
    from cxnlp.backbones.trim import read_corpus_texts

    paths = _corpus_paths(corpus)
    try:
        path = build_tiny_backbone(
            out,
            read_corpus_texts(paths),
            vocab_size=vocab_size,
            hidden_size=hidden_size,
            num_layers=layers,
            num_heads=heads,
            seed=seed,
        )
    except (FileNotFoundError, FileExistsError, ValueError) as exc:
        raise _fail(exc) from exc
    typer.echo(str(path))
