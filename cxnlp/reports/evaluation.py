"""`cxnlp evaluate`: score one or more model directories on labelled data and write a report.

The report is what a data scientist needs to trust (or distrust) a model: per-head and
per-label metrics, confusion matrices, calibration, slices by language, variety,
channel and domain, the most confident mistakes with their texts, and — when several
models are given — a side-by-side comparison on exactly the same records, with paired
bootstrap confidence intervals for the differences, so a gap that one test split cannot
resolve is not read as a win.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from cxnlp.data import load_labelled, split_dataset
from cxnlp.model_dir import TRAINING_CONFIG_FILE, load_meta
from cxnlp.modeling.targets import encode_targets
from cxnlp.reports.metrics import evaluate_logits, head_decisions, headline, paired_bootstrap, score_decisions
from cxnlp.taxonomy import Taxonomy

if TYPE_CHECKING:
    from cxnlp.predict import Predictor

logger = logging.getLogger("cxnlp.evaluate")

SLICE_COLUMNS = ("lang", "variety", "channel", "domain")


@dataclass
class ModelEvaluation:
    """Results of one model on one dataset."""

    name: str
    """Display name (the model directory's name)."""
    path: str
    """Model directory."""
    model_type: str
    """`transformer` or `linear`."""
    overall: dict[str, Any]
    """Metrics per head over all records."""
    slices: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    """{column: {value: {"n": ..., "macro_f1_mean": ..., "heads": {head: macro_f1}}}}."""
    mistakes: list[dict[str, Any]] = field(default_factory=list)
    """The most confident mistakes, with texts."""
    seconds: float = 0.0
    """Time to score the records."""
    decisions: dict[str, dict[str, np.ndarray]] = field(default_factory=dict, repr=False)
    """Per head: the labelled rows, predictions and targets (for paired comparisons; not
    written to report.json)."""
    data_ids: list[str] = field(default_factory=list, repr=False)
    """Ids of the scored records, in order (comparisons check they are the same records)."""
    taxonomy: Taxonomy | None = field(default=None, repr=False)
    """The model's taxonomy (heads of `decisions`)."""

    def to_dict(self) -> dict[str, Any]:
        """What report.json holds of this evaluation."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("decisions", "data_ids", "taxonomy")}


def _load_eval_data(model_dir: Path, data: str, taxonomy: Taxonomy, split: str | None, skip_invalid: bool):  # noqa: ANN202
    res = load_labelled(data, taxonomy, skip_invalid=skip_invalid)
    ds = res.dataset
    if split:
        cfg_path = model_dir / TRAINING_CONFIG_FILE
        ratios, strat = (0.8, 0.1, 0.1), ("lang", "variety")
        if cfg_path.exists():
            cfg = yaml.safe_load(cfg_path.read_text(encoding="utf-8"))
            ratios, strat = tuple(cfg.get("split_ratios", ratios)), tuple(cfg.get("stratify_by", strat))
        ds = split_dataset(ds, ratios, strat)[split]
    return ds, res.report


def _slice_metrics(taxonomy: Taxonomy, ds, logits: dict[str, np.ndarray], targets: dict[str, np.ndarray],  # noqa: ANN001
                   temps: dict[str, float], thr: dict[str, Any], min_size: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for col in SLICE_COLUMNS:
        if col not in ds.column_names:
            continue
        values = ds[col]
        groups: dict[str, list[int]] = {}
        for i, v in enumerate(values):
            groups.setdefault(str(v), []).append(i)
        out[col] = {}
        for value, idx in sorted(groups.items(), key=lambda kv: -len(kv[1])):
            if len(idx) < min_size:
                continue
            sub_l = {h: z[idx] for h, z in logits.items()}
            sub_t = {h: t[idx] for h, t in targets.items()}
            m = evaluate_logits(taxonomy, sub_l, sub_t, temps, thr)
            out[col][value] = {"n": len(idx), "macro_f1_mean": m["macro_f1_mean"],
                               "heads": {h: v["macro_f1"] for h, v in m["heads"].items()}}
    return out


def _confident_mistakes(taxonomy: Taxonomy, ds, targets, decisions, top: int) -> list[dict[str, Any]]:  # noqa: ANN001
    texts, ids = ds["text"], ds["id"]
    found = []
    for head in taxonomy.heads:
        y = targets[head.name]
        d = decisions[head.name]
        keep = np.flatnonzero(d["keep"])
        p, pred = d["probs"], d["labels"]
        names = head.label_names
        for r, i in enumerate(keep):
            if head.is_multilabel:
                true = [names[j] for j in np.flatnonzero(y[i] == 1)]
                if sorted(true) == sorted(pred[r]):
                    continue
                wrong = [n for n in pred[r] if n not in true] + [n for n in true if n not in pred[r]]
                conf = max(p[r, names.index(n)] if n in pred[r] else 1 - p[r, names.index(n)] for n in wrong)
            else:
                true = [names[y[i]]]
                if pred[r] == true:
                    continue
                conf = float(p[r].max())
            found.append({"head": head.name, "id": ids[i], "text": texts[i], "true": true, "predicted": pred[r],
                          "confidence": round(float(conf), 4)})
    found.sort(key=lambda m: -m["confidence"])
    return found[:top]


def evaluate_model(model_dir: str | Path | Predictor, data: str, *, split: str | None = None,
                   skip_invalid: bool = False, min_slice: int = 10, top_mistakes: int = 25) -> ModelEvaluation:
    """Evaluate a model directory (or an already loaded Predictor, e.g. one with other runtime settings)."""
    import time

    from cxnlp.predict import Predictor

    predictor = model_dir if isinstance(model_dir, Predictor) else Predictor.load(model_dir)
    model_dir = predictor.path
    ds, _ = _load_eval_data(model_dir, data, predictor.taxonomy, split, skip_invalid)
    if len(ds) == 0:
        raise ValueError(f"no records to evaluate in {data}" + (f" (split {split!r})" if split else ""))
    t0 = time.time()
    logits = predictor.logits(ds["text"], ds["lang"])
    seconds = time.time() - t0
    targets = encode_targets(predictor.taxonomy, ds["labels"])
    temps = predictor.temperatures
    thr = {k: v.tolist() for k, v in predictor.thresholds.items()}
    decisions = head_decisions(predictor.taxonomy, logits, targets, temps, thr)
    overall = score_decisions(predictor.taxonomy, decisions)
    overall["n"] = len(ds)
    return ModelEvaluation(
        name=model_dir.name, path=str(model_dir), model_type=load_meta(model_dir).model_type, overall=overall,
        slices=_slice_metrics(predictor.taxonomy, ds, logits, targets, temps, thr, min_slice),
        mistakes=_confident_mistakes(predictor.taxonomy, ds, targets, decisions, top_mistakes),
        seconds=round(seconds, 2), decisions=decisions, data_ids=[str(x) for x in ds["id"]],
        taxonomy=predictor.taxonomy,
    )


def disambiguate_names(evals: list[ModelEvaluation]) -> None:
    """Give models that share a directory name (runs/a/model, runs/b/model) names long
    enough to tell them apart (a/model, b/model): the side-by-side table is keyed by name."""
    parts = [Path(e.path).parts for e in evals]
    for i, e in enumerate(evals):
        for depth in range(1, len(parts[i]) + 1):
            mine = parts[i][-depth:]
            if all(p[-depth:] != mine for j, p in enumerate(parts) if j != i):
                break
        e.name = "/".join(parts[i][-depth:])


def reference_model(evals: list[ModelEvaluation]) -> ModelEvaluation:
    """What the others are compared with: the linear baseline when exactly one is given, else the first model."""
    linear = [e for e in evals if e.model_type == "linear"]
    return linear[0] if len(linear) == 1 else evals[0]


def comparison_table(evals: list[ModelEvaluation], *, n_boot: int = 1000, seed: int = 0) -> list[dict[str, Any]]:
    """One row per head (and the mean): every model's macro-F1 and, under "vs", each other
    model's difference to the reference model with a 95% paired-bootstrap interval."""
    disambiguate_names(evals)
    heads = list(evals[0].overall["heads"])
    ref = reference_model(evals)
    diffs: dict[str, dict[str, dict[str, float]]] = {}
    if ref.taxonomy is not None:
        for e in evals:
            if e is ref or not e.decisions or not ref.decisions:
                continue
            if e.data_ids != ref.data_ids:
                # e.g. two models trained with different split settings, evaluated with --split
                logger.warning("%s and %s were scored on different records: no paired interval", e.name, ref.name)
                continue
            diffs[e.name] = paired_bootstrap(ref.taxonomy, e.decisions, ref.decisions, n_boot=n_boot, seed=seed)
    rows = []
    for h in [*heads, "mean"]:
        row: dict[str, Any] = {"head": h}
        for e in evals:
            row[e.name] = headline(e.overall) if h == "mean" else e.overall["heads"][h]["macro_f1"]
        if diffs:
            row["vs"] = {"reference": ref.name, **{name: d[h] for name, d in diffs.items() if h in d}}
        rows.append(row)
    return rows


def write_report(evals: list[ModelEvaluation], out_dir: str | Path, data: str, split: str | None) -> dict[str, Path]:
    """Write report.json, report.md, report.html and plots/*.png into `out_dir`."""
    from cxnlp.reports.render import render_html, render_markdown, render_plots

    out = Path(out_dir)
    (out / "plots").mkdir(parents=True, exist_ok=True)
    # comparison_table names models that share a directory name apart, so it runs first.
    comparison = comparison_table(evals) if len(evals) > 1 else None
    payload = {"data": data, "split": split, "models": [e.to_dict() for e in evals], "comparison": comparison}
    paths = {"json": out / "report.json", "markdown": out / "report.md", "html": out / "report.html"}
    paths["json"].write_text(json.dumps(payload, ensure_ascii=False, indent=2, default=float) + "\n", encoding="utf-8")
    plots = render_plots(evals, out / "plots")
    paths["markdown"].write_text(render_markdown(payload), encoding="utf-8")
    paths["html"].write_text(render_html(payload, plots, out), encoding="utf-8")
    return paths
