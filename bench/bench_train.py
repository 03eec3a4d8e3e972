"""Training speed of a recipe beside a named baseline recipe, in the same run.

The 20-minute budget of `training/configs/default.yaml` is a wall-clock figure, and the
speed of a shared 2-core machine drifts by tens of percent within an hour. This
benchmark times the optimisation steps of each recipe on the same real batches (the
corpus' first N training records), alternating the recipes round by round, so their
ratio holds even when the machine's speed does not. Multiply a measured full run of the
baseline by the printed ratio to get the recipe's time on the same machine.

Baseline: the recipe of the previous default model (5 layers, all of it trained, mean
pooling, per-tensor AdamW, 5 epochs), given as `--set` overrides of the same YAML.

Usage: python bench/bench_train.py [--config training/configs/default.yaml] [--samples 320] [--rounds 3]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
from pathlib import Path

from cxnlp.backbones import resolve_backbone, trim_backbone
from cxnlp.trainer import Trainer, load_splits
from cxnlp.training_args import TrainConfig

ROOT = Path(__file__).resolve().parents[1]
BASELINE = {"pooling": "mean", "freeze_layers": 0, "optim": "adamw_torch", "epochs": 5}


def seconds_per_step(cfg: TrainConfig) -> float:
    res = Trainer(cfg).train()
    first = res.metrics["history"][0]
    return first["elapsed_s"] / first["step"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default=str(ROOT / "training" / "configs" / "default.yaml"))
    ap.add_argument("--samples", type=int, default=320, help="Training records timed per round.")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    recipes = {"this recipe": {}, "baseline: previous default recipe": BASELINE}
    times: dict[str, list[float]] = {name: [] for name in recipes}
    full = TrainConfig.from_yaml(args.config)
    trainer = Trainer(full)
    parts, _ = load_splits(full, trainer.taxonomy)
    steps_per_epoch = -(-len(parts["train"]) // full.batch_size)
    with tempfile.TemporaryDirectory() as tmp:
        backbone = full.backbone
        if full.trim_vocabulary:
            # Trimmed once, to the whole training split as in a real run: timing on a vocabulary
            # trimmed to the few timed records would flatter recipes that train the embeddings.
            resolved = resolve_backbone(full.backbone)
            texts = trainer.normalizer.batch(parts["train"]["text"], parts["train"]["lang"])
            backbone = str(trim_backbone(resolved.path, Path(tmp) / "trimmed", texts, text_prefix=resolved.text_prefix,
                                         arabic_top_k=full.trim_arabic_top_k).output)
        for r in range(args.rounds):
            for name, overrides in recipes.items():
                out = Path(tmp) / f"round{r}-{list(recipes).index(name)}"
                cfg = TrainConfig.from_yaml(args.config, {
                    **overrides, "backbone": backbone, "trim_vocabulary": False, "epochs": 1,
                    # Steps are what is timed; the lexical part is fitted after them.
                    "lexical_blend": False,
                    "max_train_samples": args.samples, "max_eval_samples": 16, "calibrate": False, "progress": False,
                    "tensorboard": False, "early_stopping_patience": 0,
                    "output_dir": str(out / "model"), "run_dir": str(out / "run")})
                times[name].append(seconds_per_step(cfg))
    print(f"| recipe | s/step (median of {args.rounds} rounds of {args.samples} records) | epochs |")
    print("|---|---|---|")
    med = {name: statistics.median(t) for name, t in times.items()}
    epochs = {name: overrides.get("epochs", full.epochs) for name, overrides in recipes.items()}
    for name in recipes:
        print(f"| {name} | {med[name]:.3f} | {epochs[name]} |")
    this, base = "this recipe", "baseline: previous default recipe"
    print(f"\nstep time, this recipe / baseline: {med[this] / med[base]:.2f}")
    print(f"full training ({steps_per_epoch} steps per epoch), this recipe / baseline: "
          f"{med[this] * epochs[this] / (med[base] * epochs[base]):.2f}")
    print("(absolute seconds per step depend on which records are timed and on the machine's speed at the time; "
          "compare the ratios)")


if __name__ == "__main__":
    main()
