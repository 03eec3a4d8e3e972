"""Rendering evaluation results: Markdown, a self-contained HTML page, and PNG plots."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _file_stem(name: str) -> str:
    """A model name as part of a file name (names may hold a path: runs/a/model → runs_a_model)."""
    return name.replace("/", "_").replace("\\", "_")


def _f(x: Any) -> str:
    if isinstance(x, float | np.floating):
        return "–" if x != x else f"{x:.3f}"
    return str(x)


# -- plots -----------------------------------------------------------------------------


def render_plots(evals: list[Any], out: Path) -> dict[str, list[Path]]:
    """Confusion matrices, per-label F1 bars and reliability diagrams per model and head."""
    plots: dict[str, list[Path]] = {}
    for e in evals:
        files: list[Path] = []
        for head, m in e.overall["heads"].items():
            if not m.get("per_label"):
                continue
            fig, ax = plt.subplots(figsize=(6, 0.35 * len(m["per_label"]) + 1.2))
            labels = list(m["per_label"])
            f1 = [m["per_label"][k]["f1"] for k in labels]
            ax.barh(labels, f1, color="#4c72b0")
            ax.set_xlim(0, 1)
            ax.invert_yaxis()
            ax.set_xlabel("F1")
            ax.set_title(f"{e.name} · {head}: F1 per label")
            for i, v in enumerate(f1):
                ax.text(min(v + 0.01, 0.93), i, f"{v:.2f}", va="center", fontsize=8)
            fig.tight_layout()
            p = out / f"{_file_stem(e.name)}-{head}-f1.png"
            fig.savefig(p, dpi=90)
            plt.close(fig)
            files.append(p)
            if "confusion" in m:
                cm = np.asarray(m["confusion"]["matrix"], dtype=float)
                names = m["confusion"]["labels"]
                norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
                fig, ax = plt.subplots(figsize=(1.0 + 0.6 * len(names), 0.8 + 0.55 * len(names)))
                ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
                ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=8)
                ax.set_yticks(range(len(names)), names, fontsize=8)
                ax.set_xlabel("predicted")
                ax.set_ylabel("true")
                for i in range(len(names)):
                    for j in range(len(names)):
                        ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=7,
                                color="white" if norm[i, j] > 0.6 else "black")
                ax.set_title(f"{e.name} · {head}")
                fig.tight_layout()
                p = out / f"{_file_stem(e.name)}-{head}-confusion.png"
                fig.savefig(p, dpi=90)
                plt.close(fig)
                files.append(p)
            rel = m.get("reliability") or []
            if rel:
                fig, ax = plt.subplots(figsize=(3.6, 3.6))
                ax.plot([0, 1], [0, 1], "--", color="grey", lw=1)
                ax.plot([r["confidence"] for r in rel], [r["accuracy"] for r in rel], "o-", color="#dd8452")
                ax.set_xlim(0, 1)
                ax.set_ylim(0, 1)
                ax.set_xlabel("confidence")
                ax.set_ylabel("observed")
                ax.set_title(f"{head}: ECE {_f(m.get('ece', float('nan')))}", fontsize=9)
                fig.tight_layout()
                p = out / f"{_file_stem(e.name)}-{head}-reliability.png"
                fig.savefig(p, dpi=90)
                plt.close(fig)
                files.append(p)
        plots[e.name] = files
    return plots


# -- markdown --------------------------------------------------------------------------


def _head_table(overall: dict[str, Any]) -> list[str]:
    lines = ["| head | kind | n | macro-F1 | micro-F1 | extra | ECE |", "|---|---|---|---|---|---|---|"]
    for h, m in overall["heads"].items():
        if m["kind"] == "multilabel":
            extra = f"Jaccard {_f(m.get('samples_jaccard', float('nan')))}, Hamming {_f(m.get('hamming_loss', float('nan')))}"
        elif m["kind"] == "ordinal":
            extra = f"MAE {_f(m.get('mae', float('nan')))}"
        else:
            extra = ""
        lines.append(f"| {h} | {m['kind']} | {m['n']} | {_f(m['macro_f1'])} | {_f(m['micro_f1'])} | {extra} | "
                     f"{_f(m.get('ece', float('nan')))} |")
    lines.append(f"| **mean** | | | **{_f(overall['macro_f1_mean'])}** | | | |")
    return lines


def _interval(d: dict[str, float] | None) -> str:
    if not d:
        return "–"
    return f"{d['delta']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]"


def _comparison(payload: dict[str, Any]) -> tuple[list[str], list[list[Any]], str]:
    """Header, rows and footnote of the side-by-side table."""
    names = [m["name"] for m in payload["models"]]
    rows = payload["comparison"]
    vs = rows[0].get("vs")
    others = [n for n in names if vs and n in vs]
    headers = ["head", *names, *[f"{n} − {vs['reference']} (95% CI)" for n in others]]
    table = [[r["head"], *[r[n] for n in names], *[_interval(r.get("vs", {}).get(n)) for n in others]] for r in rows]
    note = ("Differences: paired bootstrap over the records (1000 resamples, the same for every head). "
            "Where the interval contains 0, this data cannot tell the two models apart on that head." if others else "")
    return headers, table, note


def render_markdown(payload: dict[str, Any]) -> str:
    lines = ["# Evaluation report", "", f"Data: `{payload['data']}`" + (f", split `{payload['split']}`" if payload["split"] else ""), ""]
    if payload.get("comparison"):
        headers, table, note = _comparison(payload)
        lines += ["## Side by side (macro-F1)", "", "| " + " | ".join(headers) + " |", "|---" * len(headers) + "|"]
        lines += ["| " + " | ".join(_f(c) for c in row) + " |" for row in table]
        lines += ["", note, ""] if note else [""]
    for m in payload["models"]:
        lines += [f"## {m['name']} ({m['model_type']})", "", f"{m['overall']['n']} records, scored in {m['seconds']} s.", ""]
        lines += _head_table(m["overall"]) + [""]
        for h, hm in m["overall"]["heads"].items():
            if not hm.get("per_label"):
                continue
            lines += [f"### {h}: per label", "", "| label | precision | recall | F1 | support |", "|---|---|---|---|---|"]
            for label, v in hm["per_label"].items():
                lines.append(f"| {label} | {_f(v['precision'])} | {_f(v['recall'])} | {_f(v['f1'])} | {v['support']} |")
            lines.append("")
        for col, groups in m["slices"].items():
            if not groups:
                continue
            heads = list(next(iter(groups.values()))["heads"])
            lines += [f"### Slices by {col} (macro-F1)", "", f"| {col} | n | mean | " + " | ".join(heads) + " |",
                      "|---|---|---|" + "---|" * len(heads)]
            for value, g in groups.items():
                lines.append(f"| {value} | {g['n']} | {_f(g['macro_f1_mean'])} | "
                             + " | ".join(_f(g["heads"][h]) for h in heads) + " |")
            lines.append("")
        if m["mistakes"]:
            lines += ["### Most confident mistakes", "", "| head | confidence | true | predicted | text |", "|---|---|---|---|---|"]
            for x in m["mistakes"]:
                text = x["text"].replace("|", "\\|").replace("\n", " ")
                lines.append(f"| {x['head']} | {x['confidence']:.2f} | {', '.join(x['true']) or '∅'} | "
                             f"{', '.join(x['predicted']) or '∅'} | {text} |")
            lines.append("")
    return "\n".join(lines)


# -- html ------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Tahoma,sans-serif;margin:2rem;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:0.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:4px 8px;font-size:0.9rem}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
.plots img{margin:4px;border:1px solid #eee;max-width:100%}h2{border-bottom:2px solid #4c72b0}
td.text{max-width:520px}
"""


def _table(headers: list[str], rows: list[list[Any]], text_cols: tuple[int, ...] = ()) -> str:
    out = ["<table><tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in headers) + "</tr>"]
    for r in rows:
        cells = []
        for i, c in enumerate(r):
            if i in text_cols:
                cells.append(f'<td class="text" dir="auto">{html.escape(str(c))}</td>')
            elif isinstance(c, float | int | np.floating):
                cells.append(f'<td class="num">{_f(c)}</td>')
            else:
                cells.append(f"<td>{html.escape(str(c))}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    return "\n".join(out) + "</table>"


def render_html(payload: dict[str, Any], plots: dict[str, list[Path]], out: Path) -> str:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>cxnlp evaluation</title><style>{_CSS}</style></head><body>",
             "<h1>cxnlp evaluation report</h1>",
             f"<p>Data: <code>{html.escape(payload['data'])}</code>"
             + (f", split <code>{html.escape(payload['split'])}</code>" if payload["split"] else "") + "</p>"]
    if payload.get("comparison"):
        headers, table, note = _comparison(payload)
        parts.append("<h2>Side by side (macro-F1)</h2>")
        parts.append(_table(headers, table))
        if note:
            parts.append(f"<p>{html.escape(note)}</p>")
    for m in payload["models"]:
        o = m["overall"]
        parts.append(f"<h2>{html.escape(m['name'])} <small>({m['model_type']})</small></h2>")
        parts.append(f"<p>{o['n']} records, scored in {m['seconds']} s. Mean macro-F1 over heads: <b>{_f(o['macro_f1_mean'])}</b></p>")
        rows = []
        for h, hm in o["heads"].items():
            extra = (hm.get("samples_jaccard"), hm.get("hamming_loss")) if hm["kind"] == "multilabel" else (hm.get("mae"), None)
            rows.append([h, hm["kind"], hm["n"], hm["macro_f1"], hm["micro_f1"],
                         extra[0] if extra[0] is not None else "", extra[1] if extra[1] is not None else "", hm.get("ece", "")])
        parts.append(_table(["head", "kind", "n", "macro-F1", "micro-F1", "Jaccard / MAE", "Hamming", "ECE"], rows))
        parts.append("<div class='plots'>" + "".join(
            f"<img src='{html.escape(str(p.relative_to(out)))}' alt='{html.escape(p.stem)}'>" for p in plots.get(m["name"], [])) + "</div>")
        for col, groups in m["slices"].items():
            if not groups:
                continue
            heads = list(next(iter(groups.values()))["heads"])
            parts.append(f"<h3>Slices by {html.escape(col)} (macro-F1)</h3>")
            parts.append(_table([col, "n", "mean", *heads],
                                [[v, g["n"], g["macro_f1_mean"], *[g["heads"][h] for h in heads]] for v, g in groups.items()]))
        if m["mistakes"]:
            parts.append("<h3>Most confident mistakes</h3>")
            parts.append(_table(["head", "confidence", "true", "predicted", "text"],
                                [[x["head"], x["confidence"], ", ".join(x["true"]) or "∅", ", ".join(x["predicted"]) or "∅",
                                  x["text"]] for x in m["mistakes"]], text_cols=(4,)))
    parts.append("</body></html>")
    return "\n".join(parts)
