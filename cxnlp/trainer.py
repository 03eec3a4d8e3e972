"""Training: data → model → calibration → a self-contained model directory.

The loop is small and explicit rather than a subclass of a generic trainer because the
things that matter here are specific: per-head masked losses, epoch checkpoints that
resume to bit-identical weights, a clean stop on a NaN loss that keeps the last good
checkpoint, and calibration on dev before the model directory is written.
"""

from __future__ import annotations

import csv
import dataclasses
import logging
import math
import os
import random
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cxnlp.data import load_labelled, split_dataset
from cxnlp.data.loading import LoadResult
from cxnlp.model_dir import (
    CALIBRATION_FILE,
    ENCODER_DIR,
    HEADS_FILE,
    LINEAR_FILE,
    METRICS_FILE,
    TRAINING_CONFIG_FILE,
    ModelMeta,
    atomic_directory,
    git_commit,
    library_versions,
    save_meta,
    write_json,
)
from cxnlp.modeling.blend import Blend, choose_weights
from cxnlp.modeling.calibration import (
    expected_calibration_error,
    fit_temperature,
    tune_ordinal_thresholds,
    tune_thresholds,
)
from cxnlp.modeling.decoding import probabilities
from cxnlp.modeling.heads import MultiHeadClassifier
from cxnlp.modeling.linear import LinearMultiHead
from cxnlp.modeling.losses import LossSettings, multitask_loss
from cxnlp.modeling.targets import encode_targets, labelled_mask
from cxnlp.reports.metrics import evaluate_logits, headline
from cxnlp.taxonomy import Taxonomy
from cxnlp.text import Normalizer
from cxnlp.training_args import TrainConfig

logger = logging.getLogger("cxnlp.train")

CHECKPOINT = "checkpoint-last"


class TrainingError(RuntimeError):
    """Training cannot go on (bad data split, diverged loss, ...); the message says why."""


@dataclass
class TrainerState:
    """Progress of a run, saved in every checkpoint."""

    epoch: int = 0
    """Epochs completed."""
    global_step: int = 0
    """Optimiser steps taken."""
    best_score: float = -1.0
    """Best dev macro-F1 (mean over heads) so far."""
    best_epoch: int = 0
    """Epoch that reached `best_score`."""
    epochs_without_improvement: int = 0
    """For early stopping."""
    history: list[dict[str, Any]] = field(default_factory=list)
    """Per-epoch training loss and dev metrics."""


@dataclass
class TrainResult:
    output_dir: Path
    metrics: dict[str, Any]
    state: TrainerState


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def length_grouped_batches(lengths: Sequence[int], batch_size: int, seed: int) -> list[list[int]]:
    """Shuffle, group into mega-batches, sort each by length, cut into batches, shuffle
    the batches: little padding, still random. Deterministic for a seed."""
    rng = random.Random(seed)
    idx = list(range(len(lengths)))
    rng.shuffle(idx)
    mega = batch_size * 50
    batches = []
    for m in range(0, len(idx), mega):
        group = sorted(idx[m:m + mega], key=lambda i: -lengths[i])
        batches += [group[b:b + batch_size] for b in range(0, len(group), batch_size)]
    rng.shuffle(batches)
    return batches


# -- data --------------------------------------------------------------------------------


def load_splits(cfg: TrainConfig, taxonomy: Taxonomy) -> tuple[dict[str, LoadResult | None], dict[str, Any]]:
    """Load training data and produce train/dev/test datasets."""
    common = dict(skip_invalid=cfg.skip_invalid, text_field=cfg.text_field, id_field=cfg.id_field,
                  label_columns=cfg.label_columns or None)
    main = load_labelled(cfg.data, taxonomy, **common)
    if main.report.problems:
        logger.warning("data: %s", main.report.summary(max_items=5))
    if cfg.dev_data or cfg.test_data:
        parts = {"train": main.dataset}
        for name, src in (("dev", cfg.dev_data), ("test", cfg.test_data)):
            parts[name] = load_labelled(src, taxonomy, **common).dataset if src else None
    else:
        parts = dict(split_dataset(main.dataset, cfg.split_ratios, cfg.stratify_by))
    if parts["dev"] is None or len(parts["dev"]) == 0:
        raise TrainingError(
            "the dev split is empty: dev data is needed for early stopping, thresholds and calibration. "
            "Provide more records, --dev-data, or different split_ratios."
        )
    if len(parts["train"]) == 0:
        raise TrainingError("the training split is empty")
    if cfg.max_train_samples:
        parts["train"] = parts["train"].select(range(min(cfg.max_train_samples, len(parts["train"]))))
    for name in ("dev", "test"):
        if cfg.max_eval_samples and parts.get(name) is not None:
            parts[name] = parts[name].select(range(min(cfg.max_eval_samples, len(parts[name]))))
    info = {"fingerprint": main.fingerprint, "invalid_records": main.report.invalid,
            "sizes": {k: (len(v) if v is not None else 0) for k, v in parts.items()}}
    return parts, info


# -- transformer training ----------------------------------------------------------------


def _param_groups(model: MultiHeadClassifier, cfg: TrainConfig) -> list[dict[str, Any]]:
    no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight", "LayerNorm.bias")
    n_layers = getattr(model.encoder.config, "num_hidden_layers", 1)
    groups: dict[tuple[float, float], list[torch.nn.Parameter]] = {}

    def depth(name: str) -> int:
        # Embeddings are the bottom (depth n_layers), the last layer depth 0.
        if ".layer." in name:
            try:
                return n_layers - 1 - int(name.split(".layer.")[1].split(".")[0])
            except ValueError:
                return 0
        return n_layers if "embeddings" in name else 0

    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if name.startswith("heads."):
            lr = cfg.head_learning_rate
        else:
            lr = cfg.learning_rate * (cfg.layerwise_lr_decay ** depth(name))
        wd = 0.0 if any(k in name for k in no_decay) or p.ndim == 1 else cfg.weight_decay
        groups.setdefault((lr, wd), []).append(p)
    return [{"params": ps, "lr": lr, "weight_decay": wd} for (lr, wd), ps in groups.items()]


def _loss_settings(cfg: TrainConfig, taxonomy: Taxonomy, targets: dict[str, np.ndarray]) -> LossSettings:
    s = LossSettings(head_weights=dict(cfg.head_weights), label_smoothing=cfg.label_smoothing)
    for head in taxonomy.heads:
        y = targets[head.name]
        keep = labelled_mask(head, y)
        if not keep.any():
            continue
        if head.is_multilabel and cfg.pos_weight == "auto":
            pos = y[keep].sum(axis=0)
            neg = keep.sum() - pos
            s.pos_weight[head.name] = torch.tensor(np.clip(neg / np.maximum(pos, 1), 1.0, 10.0), dtype=torch.float32)
        if head.kind in ("multiclass", "ordinal") and cfg.class_weights == "balanced":
            counts = np.bincount(y[keep], minlength=head.num_labels).astype(np.float64)
            w = keep.sum() / (head.num_labels * np.maximum(counts, 1))
            s.class_weight[head.name] = torch.tensor(np.clip(w, 0.1, 10.0), dtype=torch.float32)
    return s


def _truncate_layers(encoder: torch.nn.Module, n: int) -> None:
    layers = encoder.encoder.layer
    if n < len(layers):
        encoder.encoder.layer = torch.nn.ModuleList(list(layers)[:n])
        encoder.config.num_hidden_layers = n


class Trainer:
    """Trains one model from a `TrainConfig`.

    callbacks: functions called as `callback(trainer, state)` after each epoch's
    checkpoint is written (used for custom logging, and by tests to interrupt a run).
    """

    def __init__(self, cfg: TrainConfig, *, callbacks: Sequence[Callable[[Trainer, TrainerState], None]] = ()) -> None:
        self.cfg = cfg
        self.callbacks = list(callbacks)
        self.taxonomy = Taxonomy.from_yaml(cfg.taxonomy) if cfg.taxonomy else Taxonomy.default()
        self.normalizer = Normalizer(cfg.normalizer_config())
        self.run_dir = cfg.resolved_run_dir

    # -- public ------------------------------------------------------------------------

    def train(self, resume: bool = False) -> TrainResult:
        cfg = self.cfg
        set_seed(cfg.seed)
        if cfg.num_threads:
            torch.set_num_threads(cfg.num_threads)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        parts, info = load_splits(cfg, self.taxonomy)
        logger.info("data: train %d, dev %d, test %d records", *(info["sizes"].get(k, 0) for k in ("train", "dev", "test")))
        if cfg.model_type == "linear":
            return self._train_linear(parts, info)
        return self._train_transformer(parts, info, resume)

    # -- linear ------------------------------------------------------------------------

    def _texts(self, ds) -> list[str]:  # noqa: ANN001
        return self.normalizer.batch(ds["text"], ds["lang"])

    def _fit_linear(self, train) -> LinearMultiHead:  # noqa: ANN001
        cfg = self.cfg
        model = LinearMultiHead(self.taxonomy, C=cfg.linear_C, max_features=cfg.linear_max_features, seed=cfg.seed)
        return model.fit(self._texts(train), encode_targets(self.taxonomy, train["labels"]))

    @staticmethod
    def _split_logits(score: Callable[[Any], dict[str, np.ndarray]], parts: dict[str, Any]) -> dict[str, dict[str, np.ndarray]]:
        """`score(dataset)` of the dev split and (when present) the test split."""
        return {split: score(parts[split]) for split in ("dev", "test") if parts.get(split) is not None and len(parts[split])}

    def _train_linear(self, parts: dict[str, Any], info: dict[str, Any]) -> TrainResult:
        cfg = self.cfg
        t0 = time.time()
        train = parts["train"]
        model = self._fit_linear(train)
        logger.info("linear baseline fitted in %.1f s", time.time() - t0)

        state = TrainerState(epoch=1)
        calibration, metrics = self._calibrate_and_evaluate(self._split_logits(lambda ds: model.logits(self._texts(ds)), parts), parts)
        metrics["train_seconds"] = round(time.time() - t0, 1)

        def write(tmp: Path) -> None:
            model.save(str(tmp / LINEAR_FILE))

        meta = ModelMeta(model_type="linear", max_length=cfg.max_length, taxonomy_name=self.taxonomy.name,
                         data_fingerprint=info["fingerprint"], git_commit=git_commit(), versions=library_versions())
        out = self._write_model_dir(write, meta, calibration, metrics, info)
        return TrainResult(out, metrics, state)

    # -- transformer -------------------------------------------------------------------

    def _build_model(self, train: Any) -> tuple[MultiHeadClassifier, Any, Any]:  # noqa: ANN401
        from cxnlp.backbones import resolve_backbone, trim_backbone
        from cxnlp.modeling.encoder import load_encoder

        cfg = self.cfg
        resolved = resolve_backbone(cfg.backbone)
        logger.info("backbone: %s", resolved.describe())
        if cfg.trim_vocabulary:
            # Deterministic in the training texts, so a resumed run trims to the same vocabulary.
            report = trim_backbone(resolved.path, self.run_dir / "backbone-trimmed", self._texts(train),
                                   text_prefix=resolved.text_prefix, arabic_top_k=cfg.trim_arabic_top_k)
            trimmed = {**report.counts(), "arabic_top_k": cfg.trim_arabic_top_k}
            resolved = dataclasses.replace(resolve_backbone(str(report.output)), source=resolved.source,
                                           text_prefix=resolved.text_prefix, details={"vocabulary_trimmed": trimmed})
        tokenizer = resolved.load_tokenizer()
        encoder = load_encoder(resolved.path)
        if cfg.num_layers:
            _truncate_layers(encoder, cfg.num_layers)
        torch.manual_seed(cfg.seed)
        model = MultiHeadClassifier(encoder, self.taxonomy, dropout=cfg.dropout, pooling=cfg.pooling)
        if cfg.freeze_embeddings:
            encoder.get_input_embeddings().weight.requires_grad_(False)
        if cfg.freeze_layers:
            layers = encoder.encoder.layer
            if cfg.freeze_layers >= len(layers):
                raise TrainingError(f"freeze_layers={cfg.freeze_layers} would freeze all {len(layers)} encoder layers")
            for module in (encoder.embeddings, *layers[:cfg.freeze_layers]):
                module.requires_grad_(False)
        return model, tokenizer, resolved

    def _encode(self, ds, tokenizer, prefix: str) -> list[list[int]]:  # noqa: ANN001
        texts = [prefix + t for t in self._texts(ds)]
        return tokenizer(texts, truncation=True, max_length=self.cfg.max_length)["input_ids"]

    def _train_transformer(self, parts: dict[str, Any], info: dict[str, Any], resume: bool) -> TrainResult:
        from transformers import get_linear_schedule_with_warmup

        from cxnlp.modeling.runner import EncoderRunner, pad_batch

        cfg = self.cfg
        train = parts["train"]
        model, tokenizer, resolved = self._build_model(train)
        ids = self._encode(train, tokenizer, resolved.text_prefix)
        targets = encode_targets(self.taxonomy, train["labels"])
        settings = _loss_settings(cfg, self.taxonomy, targets)
        optimizer = torch.optim.AdamW(_param_groups(model, cfg), lr=cfg.learning_rate,
                                      fused=cfg.optim == "adamw_torch_fused")
        steps_per_epoch = math.ceil(math.ceil(len(ids) / cfg.batch_size) / cfg.gradient_accumulation_steps)
        total_steps = steps_per_epoch * cfg.epochs
        scheduler = get_linear_schedule_with_warmup(optimizer, int(cfg.warmup_ratio * total_steps), total_steps)
        state = TrainerState()
        ckpt = self.run_dir / CHECKPOINT
        if resume:
            if not (ckpt / "state.pt").exists():
                raise TrainingError(f"--resume: no checkpoint in {ckpt}")
            state = self._load_checkpoint(ckpt, model, optimizer, scheduler)
            logger.info("resumed from %s after epoch %d (step %d)", ckpt, state.epoch, state.global_step)
        runner = EncoderRunner.for_torch(model, tokenizer, self.normalizer, max_length=cfg.max_length,
                                         text_prefix=resolved.text_prefix, batch_size=cfg.eval_batch_size)
        model.train()
        dev = parts["dev"]
        dev_targets = encode_targets(self.taxonomy, dev["labels"])
        dev_norm = self._texts(dev)
        log_path = self.run_dir / "metrics.csv"
        tb = self._tensorboard()
        pad = tokenizer.pad_token_id or 0
        t_start = time.time()
        while state.epoch < cfg.epochs:
            epoch = state.epoch
            model.train()
            # Dropout and data order depend only on (seed, epoch): a resumed run replays
            # the same epochs as an uninterrupted one.
            torch.manual_seed(cfg.seed * 1000 + epoch)
            batches = length_grouped_batches([len(x) for x in ids], cfg.batch_size, cfg.seed * 1000 + epoch)
            bar = _progress(len(batches), f"epoch {epoch + 1}/{cfg.epochs}", cfg.progress)
            running, n_loss = 0.0, 0
            optimizer.zero_grad(set_to_none=True)
            for b, batch in enumerate(batches):
                input_ids, mask = pad_batch([ids[i] for i in batch], pad)
                logits = model(torch.from_numpy(input_ids), torch.from_numpy(mask))
                tgt = {h: torch.from_numpy(targets[h][batch]) for h in targets}
                loss, _ = multitask_loss(self.taxonomy, logits, tgt, settings)
                if not torch.isfinite(loss):
                    raise TrainingError(
                        f"loss became {float(loss.detach())} at epoch {epoch + 1}, batch {b + 1}; training stopped. "
                        f"The last good checkpoint (if any) is kept in {ckpt}. Try a lower learning rate."
                    )
                (loss / cfg.gradient_accumulation_steps).backward()
                running += float(loss.detach())
                n_loss += 1
                if (b + 1) % cfg.gradient_accumulation_steps == 0 or b + 1 == len(batches):
                    torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
                    optimizer.step()
                    scheduler.step()
                    optimizer.zero_grad(set_to_none=True)
                    state.global_step += 1
                if bar is not None:
                    bar.set_postfix(loss=f"{running / n_loss:.4f}")
                    bar.update(1)
            if bar is not None:
                bar.close()
            model.eval()
            dev_logits = runner.logits(dev["text"], normalized=dev_norm)
            dev_metrics = evaluate_logits(self.taxonomy, dev_logits, dev_targets)
            score = headline(dev_metrics)
            state.epoch += 1
            row = {"epoch": state.epoch, "step": state.global_step, "train_loss": round(running / max(n_loss, 1), 5),
                   "dev_macro_f1": round(score, 5), "elapsed_s": round(time.time() - t_start, 1)}
            row.update({f"dev_{h}_macro_f1": round(m["macro_f1"], 5) for h, m in dev_metrics["heads"].items()})
            state.history.append(row)
            _append_csv(log_path, row)
            if tb is not None:
                for k, v in row.items():
                    if k not in ("epoch", "step"):
                        tb.add_scalar(k, v, state.epoch)
            improved = score > state.best_score + 1e-6
            if improved:
                state.best_score, state.best_epoch, state.epochs_without_improvement = score, state.epoch, 0
                self._save_best(model)
            else:
                state.epochs_without_improvement += 1
            logger.info("epoch %d: train loss %.4f, dev macro-F1 %.4f%s", state.epoch, row["train_loss"], score,
                        " (best)" if improved else "")
            self._save_checkpoint(ckpt, model, optimizer, scheduler, state)
            for cb in self.callbacks:
                cb(self, state)
            if cfg.early_stopping_patience and state.epochs_without_improvement >= cfg.early_stopping_patience:
                logger.info("early stopping: no dev improvement for %d epochs", state.epochs_without_improvement)
                break
        if tb is not None:
            tb.close()
        train_seconds = time.time() - t_start
        best = self.run_dir / "best-model.pt"
        if best.exists():
            model.load_state_dict(torch.load(best, map_location="cpu", weights_only=True))
        model.eval()

        logits = self._split_logits(lambda ds: runner.logits(ds["text"], ds["lang"]), parts)
        lexical = None
        if cfg.lexical_blend:
            t0 = time.time()
            lexical = self._fit_linear(parts["train"])
            t1 = time.time()
            blend, logits, parts_metrics = self._blend(lexical, logits, parts)
            train_seconds += time.time() - t0
            logger.info("lexical part fitted in %.1f s, blend chosen on dev in %.1f s; transformer share per head: %s",
                        t1 - t0, time.time() - t1, blend.weights)
        calibration, metrics = self._calibrate_and_evaluate(logits, parts)
        if lexical is not None:
            calibration["blend"] = blend.to_dict()
            metrics["parts"] = parts_metrics
        metrics["train_seconds"] = round(train_seconds, 1)
        metrics["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        metrics["best_epoch"] = state.best_epoch
        metrics["history"] = state.history

        def write(tmp: Path) -> None:
            from safetensors.torch import save_file

            enc = tmp / ENCODER_DIR
            model.encoder.save_pretrained(str(enc))
            tokenizer.save_pretrained(str(enc))
            save_file({k: v.contiguous() for k, v in model.heads.state_dict().items()}, str(tmp / HEADS_FILE))
            if lexical is not None:
                lexical.save(str(tmp / LINEAR_FILE))

        trimmed = resolved.details.get("vocabulary_trimmed")
        meta = ModelMeta(model_type="transformer", backbone=cfg.backbone, backbone_source=resolved.source,
                         text_prefix=resolved.text_prefix, max_length=cfg.max_length,
                         taxonomy_name=self.taxonomy.name, data_fingerprint=info["fingerprint"],
                         git_commit=git_commit(), versions=library_versions(),
                         extra={"dropout": cfg.dropout, "pooling": cfg.pooling, "num_layers": model.encoder.config.num_hidden_layers,
                                **({"lexical_blend": True} if lexical is not None else {}),
                                **({"vocabulary_trimmed": trimmed} if trimmed else {})})
        out = self._write_model_dir(write, meta, calibration, metrics, info)
        return TrainResult(out, metrics, state)

    # -- calibration, evaluation, writing ----------------------------------------------

    def _blend(self, lexical: LinearMultiHead, transformer: dict[str, dict[str, np.ndarray]],
               parts: dict[str, Any]) -> tuple[Blend, dict[str, dict[str, np.ndarray]], dict[str, Any]]:
        """Calibrate each part on dev, choose each head's transformer share on dev, and
        return the blend, the blended logits per split, and each part's own scores."""
        linear = self._split_logits(lambda ds: lexical.logits(self._texts(ds)), parts)
        part_temps, part_scores = {}, {}
        for name, logits in (("transformer", transformer), ("linear", linear)):
            calibration, metrics = self._calibrate_and_evaluate(logits, parts, log=False)
            part_temps[name] = calibration["temperatures"]
            part_scores[name] = {split: {"macro_f1_mean": m["macro_f1_mean"],
                                         "heads": {h: v["macro_f1"] for h, v in m["heads"].items()}}
                                 for split, m in metrics.items()}
        heads = [h.name for h in self.taxonomy.heads]

        def dev_scores(w: float) -> dict[str, float]:
            dev = Blend(dict.fromkeys(heads, w), part_temps).apply(transformer["dev"], linear["dev"])
            _, metrics = self._calibrate_and_evaluate({"dev": dev}, parts, log=False)
            return {h: v["macro_f1"] for h, v in metrics["dev"]["heads"].items()}

        weights, table = choose_weights(heads, dev_scores)
        blend = Blend(weights, part_temps)
        blended = {split: blend.apply(transformer[split], linear[split]) for split in transformer}
        part_scores["dev_macro_f1_by_weight"] = {h: {str(w): None if s is None else round(s, 4) for w, s in row.items()}
                                                for h, row in table.items()}
        return blend, blended, part_scores

    def _calibrate_and_evaluate(self, logits: dict[str, dict[str, np.ndarray]], parts: dict[str, Any],
                                log: bool = True) -> tuple[dict[str, Any], dict[str, Any]]:
        """Fit temperatures and thresholds on the dev logits; score dev (and test, when
        its logits are given) with them."""
        cfg = self.cfg
        dev_logits = logits["dev"]
        dev_targets = encode_targets(self.taxonomy, parts["dev"]["labels"])
        temperatures: dict[str, float] = {}
        thresholds: dict[str, list[float]] = {}
        ece: dict[str, dict[str, float]] = {}
        for head in self.taxonomy.heads:
            y = dev_targets[head.name]
            keep = labelled_mask(head, y)
            z = dev_logits[head.name][keep]
            t = y[keep]
            temp = fit_temperature(head, z, t) if cfg.calibrate and keep.any() else 1.0
            temperatures[head.name] = round(temp, 4)
            p_before = probabilities(head, z, 1.0)
            p_after = probabilities(head, z, temp)
            ece[head.name] = {"before": round(expected_calibration_error(head, p_before, t), 4),
                              "after": round(expected_calibration_error(head, p_after, t), 4)}
            if head.is_multilabel:
                thr = tune_thresholds(p_after, t, floor=cfg.threshold_floor) if cfg.calibrate and keep.any() \
                    else np.full(head.num_labels, 0.5)
                thresholds[head.name] = [round(float(x), 4) for x in thr]
            elif head.kind == "ordinal" and cfg.calibrate and keep.any():
                thresholds[head.name] = [round(float(x), 4) for x in tune_ordinal_thresholds(head, p_after, t)]
        calibration = {"temperatures": temperatures, "thresholds": thresholds, "dev_ece": ece}
        metrics: dict[str, Any] = {"dev": evaluate_logits(self.taxonomy, dev_logits, dev_targets, temperatures, thresholds)}
        if "test" in logits:
            metrics["test"] = evaluate_logits(self.taxonomy, logits["test"], encode_targets(self.taxonomy, parts["test"]["labels"]),
                                              temperatures, thresholds)
        for split in ("dev", "test"):
            if log and split in metrics:
                logger.info("%s macro-F1 (mean over heads): %.4f", split, headline(metrics[split]))
        return calibration, metrics

    def _write_model_dir(self, write_weights: Callable[[Path], None], meta: ModelMeta, calibration: dict[str, Any],
                         metrics: dict[str, Any], info: dict[str, Any]) -> Path:
        from cxnlp.reports.model_card import write_model_card

        out = Path(self.cfg.output_dir)
        with atomic_directory(out) as tmp:
            write_weights(tmp)
            self.taxonomy.save(tmp)
            self.normalizer.config.save(tmp)
            write_json(tmp / CALIBRATION_FILE, calibration)
            write_json(tmp / METRICS_FILE, metrics | {"data": {"sizes": info["sizes"], "fingerprint": info["fingerprint"],
                                                                "invalid_records": info["invalid_records"]}})
            self.cfg.save(tmp / TRAINING_CONFIG_FILE)
            save_meta(tmp, meta)
            write_model_card(tmp, name=out.name)
        logger.info("model written to %s", out)
        return out

    # -- checkpoints -------------------------------------------------------------------

    def _save_best(self, model: torch.nn.Module) -> None:
        from cxnlp.model_dir import atomic_write_file

        atomic_write_file(self.run_dir / "best-model.pt", lambda p: torch.save(model.state_dict(), p))

    def _save_checkpoint(self, path: Path, model, optimizer, scheduler, state: TrainerState) -> None:  # noqa: ANN001
        from dataclasses import asdict

        with atomic_directory(path) as tmp:
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(), "state": asdict(state),
                        "torch_rng": torch.get_rng_state(), "config": self.cfg.to_dict()}, tmp / "state.pt")

    def _load_checkpoint(self, path: Path, model, optimizer, scheduler) -> TrainerState:  # noqa: ANN001
        blob = torch.load(path / "state.pt", map_location="cpu", weights_only=False)
        model.load_state_dict(blob["model"])
        optimizer.load_state_dict(blob["optimizer"])
        scheduler.load_state_dict(blob["scheduler"])
        torch.set_rng_state(blob["torch_rng"])
        return TrainerState(**blob["state"])

    def _tensorboard(self):  # noqa: ANN202
        if not self.cfg.tensorboard:
            return None
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            return None
        try:
            return SummaryWriter(log_dir=str(self.run_dir / "tensorboard"))
        except Exception:  # noqa: BLE001 - tensorboard missing or broken: CSV logging still works
            return None


def _progress(total: int, desc: str, enabled: bool):  # noqa: ANN202
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="batch", dynamic_ncols=True, disable=os.environ.get("CI") == "true")


def _append_csv(path: Path, row: dict[str, Any]) -> None:
    new = not path.exists()
    with open(path, "a", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(row))
        if new:
            w.writeheader()
        w.writerow(row)


def train(cfg: TrainConfig, resume: bool = False) -> TrainResult:
    return Trainer(cfg).train(resume=resume)
