"""Training configuration: one documented dataclass, loadable from YAML, overridable from the CLI."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_args, get_type_hints

import yaml

from cxnlp.text import NormalizerConfig


@dataclass
class TrainConfig:
    """Everything that defines a training run. Every field can be set in a YAML file
    (`training/configs/*.yaml`) and overridden on the command line (`--set field=value`
    or the dedicated options of `cxnlp train`)."""

    # -- data ---------------------------------------------------------------------------
    data: str = "data/corpus"
    """Labelled data: JSONL/CSV/Parquet file, directory, glob, saved dataset or Hub dataset name."""
    taxonomy: str | None = None
    """Taxonomy YAML; default: `data/taxonomy.yaml` (or `$CXNLP_DATA/taxonomy.yaml`)."""
    dev_data: str | None = None
    """Separate dev data; when unset, dev and test come from `data` by a deterministic split."""
    test_data: str | None = None
    """Separate test data (see `dev_data`)."""
    text_field: str = "text"
    """Column holding the text."""
    id_field: str = "id"
    """Column holding the record id (used for splitting; generated from file and line when absent)."""
    label_columns: dict[str, str] = field(default_factory=dict)
    """Map head name → column name, when the data names its label columns differently."""
    skip_invalid: bool = False
    """Skip invalid records (counted, reported) instead of stopping with the list of problems."""
    split_ratios: tuple[float, float, float] = (0.8, 0.1, 0.1)
    """Train/dev/test proportions when splitting `data` (ignored when records carry a `split` field)."""
    stratify_by: tuple[str, ...] = ("lang", "variety")
    """Columns to stratify the split by (missing columns are ignored)."""
    max_train_samples: int | None = None
    """Use only the first N training records (quick runs, debugging)."""
    max_eval_samples: int | None = None
    """Use only the first N dev and test records."""

    # -- model --------------------------------------------------------------------------
    output_dir: str = "models/cx-default"
    """Where the finished model directory is written (atomically)."""
    run_dir: str | None = None
    """Checkpoints and logs (metrics CSV, TensorBoard); default `runs/<name of output_dir>`."""
    model_type: str = "transformer"
    """`transformer` (fine-tuned encoder + heads) or `linear` (TF-IDF + logistic regression baseline)."""
    backbone: str = "intfloat/multilingual-e5-small"
    """Encoder: a Hugging Face name or a local directory (offline rebuild for the default)."""
    max_length: int = 128
    """Token window; longer texts are split into overlapping windows at prediction time."""
    num_layers: int | None = None
    """Keep only the first N encoder layers (faster, smaller); None keeps all."""
    dropout: float = 0.1
    """Dropout on the pooled vector before the heads."""
    pooling: str = "mean"
    """How a head turns token vectors into one vector: `mean` (one average shared by all
    heads) or `attention` (each head learns its own weighting of the tokens, starting from
    the mean; lets topic heads such as journey stage or complaint category read the words
    that name the topic). Costs one score per token and head."""
    normalization: dict[str, Any] = field(default_factory=dict)
    """Overrides of the text normalisation settings (see `cxnlp.text.NormalizerConfig`)."""

    # -- optimisation -------------------------------------------------------------------
    epochs: int = 3
    """Maximum number of passes over the training data."""
    batch_size: int = 16
    """Records per optimisation step (before gradient accumulation)."""
    gradient_accumulation_steps: int = 1
    """Accumulate gradients over this many batches per optimiser step."""
    optim: str = "adamw_torch"
    """Optimiser, named as in transformers' `TrainingArguments.optim`: `adamw_torch` (per-tensor
    AdamW) or `adamw_torch_fused` (one fused kernel: ~4× faster updates on a CPU, which saves
    ~8% of a step when the embeddings are trained; rounds differently, so runs are
    reproducible per setting, not across them)."""
    learning_rate: float = 5e-5
    """Peak learning rate of the encoder."""
    head_learning_rate: float = 1e-3
    """Peak learning rate of the heads (freshly initialised, so higher)."""
    layerwise_lr_decay: float = 1.0
    """Multiply the learning rate by this factor per layer going down from the top (1.0: off)."""
    weight_decay: float = 0.01
    """AdamW weight decay (not applied to biases and LayerNorm)."""
    warmup_ratio: float = 0.1
    """Share of steps with linear warm-up; then linear decay to zero."""
    max_grad_norm: float = 1.0
    """Gradient clipping."""
    freeze_embeddings: bool = False
    """Freeze the word embeddings (about half the time and memory per step on a CPU)."""
    freeze_layers: int = 0
    """Freeze the embeddings and the bottom N encoder layers. No gradient flows below layer N,
    so each step skips their backward pass and optimiser update (about 15% of a 5-layer
    encoder's step time per frozen layer on a CPU), which buys more epochs in the same time."""
    trim_vocabulary: bool = False
    """Before fine-tuning, trim the backbone's vocabulary to the pieces the training texts use
    plus the `trim_arabic_top_k` most frequent Arabic-script pieces: a 250k-piece multilingual
    embedding table shrinks ~12×, so it is cheap to fine-tune and the model directory is ~4× smaller."""
    trim_arabic_top_k: int = 10_000
    """With `trim_vocabulary`: how many of the most frequent Arabic-script pieces to keep beyond
    the training texts' own, so unseen words still split into their usual pieces."""
    head_weights: dict[str, float] = field(default_factory=dict)
    """Loss weight per head (default 1.0)."""
    pos_weight: str = "none"
    """Multilabel heads: `auto` weighs positives of each label by negatives/positives (capped), `none` off."""
    class_weights: str = "none"
    """Multiclass and ordinal heads: `balanced` weighs classes inversely to their frequency, `none` off."""
    label_smoothing: float = 0.0
    """Multiclass heads: label smoothing."""
    early_stopping_patience: int = 2
    """Stop after this many epochs without improvement of dev macro-F1 (0: never stop early)."""
    eval_batch_size: int = 64
    """Batch size for dev/test evaluation."""
    seed: int = 42
    """Seed for initialisation, data order and dropout."""
    num_threads: int | None = None
    """torch CPU threads; None leaves the default."""

    # -- calibration --------------------------------------------------------------------
    threshold_floor: float = 0.1
    """Lowest threshold a multilabel label may get when tuned on dev."""
    calibrate: bool = True
    """Fit per-head temperatures, per-label thresholds (multilabel) and per-cut-point thresholds (ordinal) on dev."""

    # -- linear baseline (and the lexical part of a blended transformer) ----------------
    linear_C: float = 4.0
    """Inverse regularisation strength of the logistic regressions."""
    linear_max_features: int = 200_000
    """Maximum TF-IDF features (character and word n-grams together)."""
    lexical_blend: bool = False
    """Transformer models: also fit the TF-IDF linear model (`linear_C`, `linear_max_features`)
    on the training split and blend its head logits with the transformer's, one weight per
    head chosen on dev from 0, 0.1, ..., 1 (1 = transformer only). The two read different
    evidence (exact character n-grams vs context), so the blend usually beats either alone;
    it costs about a minute of training, `linear.joblib` in the model directory and a
    TF-IDF transform per prediction. metrics.json keeps each part's own scores."""

    # -- logging ------------------------------------------------------------------------
    tensorboard: bool = True
    """Also log to TensorBoard when it is installed."""
    progress: bool = True
    """Show a progress bar."""

    def __post_init__(self) -> None:
        if self.model_type not in ("transformer", "linear"):
            raise ValueError(f"model_type must be 'transformer' or 'linear', got {self.model_type!r}")
        if self.pooling not in ("mean", "attention"):
            raise ValueError(f"pooling must be 'mean' or 'attention', got {self.pooling!r}")
        if self.lexical_blend and self.model_type != "transformer":
            raise ValueError("lexical_blend blends a transformer with the linear model; it needs model_type 'transformer'")
        if self.linear_max_features < 2:
            raise ValueError("linear_max_features must be >= 2")
        self.split_ratios = tuple(float(r) for r in self.split_ratios)  # type: ignore[assignment]
        self.stratify_by = tuple(self.stratify_by)
        if len(self.split_ratios) != 3 or abs(sum(self.split_ratios) - 1) > 1e-6 or min(self.split_ratios) < 0:
            raise ValueError(f"split_ratios must be three non-negative numbers summing to 1, got {self.split_ratios}")
        positive = ("epochs", "batch_size", "gradient_accumulation_steps", "max_length", "eval_batch_size")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.max_length < 16:
            raise ValueError(f"max_length must be at least 16 tokens, got {self.max_length}")
        for name in ("learning_rate", "head_learning_rate"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0")
        if not 0 <= self.warmup_ratio < 1:
            raise ValueError("warmup_ratio must be in [0, 1)")
        if not 0 < self.layerwise_lr_decay <= 1:
            raise ValueError("layerwise_lr_decay must be in (0, 1]")
        if self.optim not in ("adamw_torch", "adamw_torch_fused"):
            raise ValueError("optim must be 'adamw_torch' or 'adamw_torch_fused'")
        if self.pos_weight not in ("none", "auto"):
            raise ValueError("pos_weight must be 'none' or 'auto'")
        if self.class_weights not in ("none", "balanced"):
            raise ValueError("class_weights must be 'none' or 'balanced'")
        if self.trim_arabic_top_k < 0:
            raise ValueError("trim_arabic_top_k must be >= 0")
        if self.num_layers is not None and self.num_layers < 1:
            raise ValueError("num_layers must be >= 1")
        if self.freeze_layers < 0 or (self.num_layers is not None and self.freeze_layers >= self.num_layers):
            raise ValueError("freeze_layers must be >= 0 and leave at least one of the num_layers layers trainable")
        for name in ("max_train_samples", "max_eval_samples"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise ValueError(f"{name} must be >= 1")
        if not 0 <= self.threshold_floor < 1:
            raise ValueError("threshold_floor must be in [0, 1)")
        NormalizerConfig.from_dict(self.normalization)  # validates the overrides

    @property
    def resolved_run_dir(self) -> Path:
        return Path(self.run_dir) if self.run_dir else Path("runs") / Path(self.output_dir).name

    def normalizer_config(self) -> NormalizerConfig:
        return NormalizerConfig.from_dict(self.normalization)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["split_ratios"] = list(self.split_ratios)
        d["stratify_by"] = list(self.stratify_by)
        return d

    def save(self, path: str | Path) -> None:
        Path(path).write_text(yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False), encoding="utf-8")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown training settings: {unknown}; see `cxnlp train --help-config`")
        hints = get_type_hints(cls)
        # YAML 1.1 reads "3e-3" (no dot) as text; numeric fields take it as the number it spells.
        for key, value in list(data.items()):
            allowed = get_args(hints[key]) or (hints[key],)
            if isinstance(value, str) and float in allowed and str not in allowed:
                try:
                    data[key] = float(value)
                except ValueError:
                    raise ValueError(f"training setting {key!r} must be a number, got {value!r}") from None
        return cls(**data)

    @classmethod
    def from_yaml(cls, path: str | Path, overrides: dict[str, Any] | None = None) -> TrainConfig:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: a training config must be a mapping of settings")
        data.update(overrides or {})
        return cls.from_dict(data)

    @classmethod
    def parse_override(cls, item: str) -> tuple[str, Any]:
        """`field=value` with the value parsed as YAML (numbers, booleans, lists, mappings)."""
        if "=" not in item:
            raise ValueError(f"override {item!r} must look like field=value")
        key, raw = item.split("=", 1)
        key = key.strip().replace("-", "_")
        if key not in {f.name for f in fields(cls)}:
            raise ValueError(f"unknown training setting {key!r}")
        value = yaml.safe_load(raw) if raw.strip() else None
        hint = get_type_hints(cls)[key]
        allowed = get_args(hint) or (hint,)
        # "backbone=123" names a directory, not a number: keep the text for str fields.
        if str in allowed and value is not None and not isinstance(value, str) and not (
            {int, float, bool} & set(allowed)
        ):
            value = raw
        return key, value

    @classmethod
    def describe(cls) -> str:
        """Every field with its default and documentation (for `--help-config`)."""
        import ast
        import inspect

        src = inspect.getsource(cls)
        tree = ast.parse(src)
        docs: dict[str, str] = {}
        body = tree.body[0].body  # type: ignore[attr-defined]
        for i, node in enumerate(body):
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and i + 1 < len(body):
                nxt = body[i + 1]
                if isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant):
                    docs[node.target.id] = " ".join(str(nxt.value.value).split())
        lines = []
        defaults = cls().to_dict()
        for f in fields(cls):
            lines.append(f"{f.name} (default: {defaults[f.name]!r})\n    {docs.get(f.name, '')}")
        return "\n".join(lines)
