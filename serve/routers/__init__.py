"""HTTP routers: classify, labels, model, health (probes and metrics)."""
