"""The model card (`README.md` in every model directory), generated from what the directory holds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from cxnlp.model_dir import CALIBRATION_FILE, METRICS_FILE, TRAINING_CONFIG_FILE, load_meta
from cxnlp.taxonomy import Taxonomy


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return "–" if x != x else f"{x:.3f}"
    return str(x)


def metrics_table(metrics: dict[str, Any], splits: tuple[str, ...] = ("dev", "test")) -> str:
    present = [s for s in splits if s in metrics]
    heads = list(next(iter(metrics[s] for s in present))["heads"]) if present else []
    head_row = "| head | kind | " + " | ".join(f"{s} macro-F1 | {s} micro-F1" for s in present) + " |"
    lines = [head_row, "|" + "---|" * (2 + 2 * len(present))]
    for h in heads:
        kind = metrics[present[0]]["heads"][h]["kind"]
        cells = []
        for s in present:
            m = metrics[s]["heads"][h]
            cells += [_fmt(m["macro_f1"]), _fmt(m["micro_f1"])]
        lines.append(f"| {h} | {kind} | " + " | ".join(cells) + " |")
    if present:
        cells = []
        for s in present:
            cells += [f"**{_fmt(metrics[s]['macro_f1_mean'])}**", ""]
        lines.append("| **mean** | | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def blend_table(calibration: dict[str, Any], metrics: dict[str, Any], splits: tuple[str, ...] = ("dev", "test")) -> list[str]:
    """A blended model's macro-F1 per head and split: its transformer share `w`, each part
    on its own (as recorded in metrics.json → `parts`) and the blend. Empty for other models."""
    blend, parts = calibration.get("blend"), metrics.get("parts", {})
    if not blend:
        return []
    splits = tuple(s for s in splits if s in metrics)
    lines = ["| head | w | " + " | ".join(f"{s}: transformer | {s}: linear | {s}: blend" for s in splits) + " |",
             "|" + "---|" * (2 + 3 * len(splits))]
    for h, w in blend["weights"].items():
        cells = []
        for s in splits:
            cells += [_fmt(parts.get(name, {}).get(s, {}).get("heads", {}).get(h, float("nan"))) for name in ("transformer", "linear")]
            cells.append(_fmt(metrics[s]["heads"][h]["macro_f1"]))
        lines.append(f"| {h} | {w} | " + " | ".join(cells) + " |")
    cells = []
    for s in splits:
        cells += [_fmt(parts.get(name, {}).get(s, {}).get("macro_f1_mean", float("nan"))) for name in ("transformer", "linear")]
        cells.append(f"**{_fmt(metrics[s]['macro_f1_mean'])}**")
    lines.append("| **mean** | | " + " | ".join(cells) + " |")
    return lines


def _blend_section(calibration: dict[str, Any], metrics: dict[str, Any]) -> list[str]:
    table = blend_table(calibration, metrics)
    if not table:
        return []
    return ["## Blend", "",
            "Each head's logits are `w × transformer + (1 − w) × linear` (each part divided by its own "
            "temperature first), with `w` chosen on dev. Each part on its own, and the blend:", "", *table, ""]


def write_model_card(directory: str | Path, name: str | None = None) -> Path:
    """Write `README.md` into `directory`. name: what the card calls the model (default: the
    directory's name; writers inside `atomic_directory` pass the final name, not the
    temporary one)."""
    d = Path(directory)
    name = name or d.name
    meta = load_meta(d)
    tax = Taxonomy.from_yaml(d)
    metrics = json.loads((d / METRICS_FILE).read_text(encoding="utf-8"))
    calibration = json.loads((d / CALIBRATION_FILE).read_text(encoding="utf-8"))
    cfg = yaml.safe_load((d / TRAINING_CONFIG_FILE).read_text(encoding="utf-8"))
    sizes = metrics.get("data", {}).get("sizes", {})
    lines = [
        f"# cxnlp model: {name}",
        "",
        f"A **{meta.model_type}** classifier of Arabic and Persian customer feedback, trained with cxnlp on "
        f"the taxonomy **{tax.name}** (version {tax.version}): "
        + ", ".join(f"`{h.name}` ({h.kind}, {h.num_labels} labels)" for h in tax.heads) + ".",
        "",
        "## Use",
        "",
        "```python",
        "from cxnlp import Predictor",
        f'predictor = Predictor.load("{name}")',
        'predictor.predict(["الطلب تأخر ثلاث أيام وما أحد رد علي"])',
        "```",
        "",
        f"or `cxnlp serve {name}` for the HTTP API, `cxnlp tag posts.jsonl -m {name} -o tagged.parquet` for batches.",
        "",
        "## Training",
        "",
        f"- data: `{cfg.get('data')}` — train {sizes.get('train', '?')}, dev {sizes.get('dev', '?')}, "
        f"test {sizes.get('test', '?')} records; fingerprint `{(meta.data_fingerprint or '')[:16]}`",
    ]
    if meta.model_type == "transformer":
        lines += [
            f"- backbone: `{meta.backbone}` (weights from: {meta.backbone_source}), "
            f"{meta.extra.get('num_layers', '?')} layers, max length {meta.max_length} tokens, prefix `{meta.text_prefix!r}`",
            f"- epochs: {cfg.get('epochs')} (best: {metrics.get('best_epoch', '?')}), batch {cfg.get('batch_size')}, "
            f"learning rate {cfg.get('learning_rate')}, seed {cfg.get('seed')}",
        ]
        if "blend" in calibration:
            lines.append("- blended with a linear model (TF-IDF over character 2–5-grams and word 1–2-grams, "
                         "one logistic regression per head); see *Blend* below")
    else:
        lines.append("- TF-IDF over character 2–5-grams and word 1–2-grams, one logistic regression per head")
    lines += [
        f"- training time: {metrics.get('train_seconds', '?')} s",
        f"- code: cxnlp {meta.versions.get('cxnlp', '?')}, commit `{meta.git_commit or 'unknown'}`; "
        + ", ".join(f"{k} {v}" for k, v in meta.versions.items() if k != "cxnlp"),
        "",
        "## Evaluation",
        "",
        "Macro-F1 averages labels present in the split; micro-F1 is accuracy for single-label heads.",
        "",
        metrics_table(metrics),
        "",
    ]
    lines += _blend_section(calibration, metrics)
    lines += [
        "## Calibration",
        "",
        "Per-head temperatures were fitted on dev; expected calibration error (dev) before → after:",
        "",
        "| head | temperature | ECE before | ECE after |",
        "|---|---|---|---|",
    ]
    for h, e in calibration.get("dev_ece", {}).items():
        lines.append(f"| {h} | {calibration['temperatures'].get(h, 1.0)} | {_fmt(e['before'])} | {_fmt(e['after'])} |")
    lines += [
        "",
        "Multilabel heads use per-label thresholds and ordinal heads per-cut-point thresholds, tuned on dev "
        "(stored in `calibration.json`).",
        "",
        "## Limitations",
        "",
        "- The scores describe the text, not the customer: sarcasm, quoted speech and very short answers are hard.",
        "- Dialects and registers that are rare in the training data are recognised less well; check the "
        "per-variety slices of `cxnlp evaluate` before relying on a slice.",
        "- Customer feedback is personal data: the service does not log texts unless configured to.",
        "",
    ]
    path = d / "README.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
