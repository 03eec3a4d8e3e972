"""Metrics, evaluation reports (JSON, Markdown, HTML with plots) and model cards."""

from cxnlp.reports.metrics import evaluate_logits, head_metrics, headline

__all__ = ["evaluate_logits", "head_metrics", "headline"]
