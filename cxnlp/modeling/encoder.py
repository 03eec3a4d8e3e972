"""Loading an encoder for mean pooling, the same way in training and prediction."""

from __future__ import annotations

from pathlib import Path

from torch import nn

_POOLER_ARCHS = ("bert", "xlm-roberta", "roberta", "camembert", "electra")


def load_encoder(path: str | Path) -> nn.Module:
    """`AutoModel` without its pooler (cxnlp mean-pools the token states). Checkpoints that
    ship pooler weights would otherwise print an "unexpected keys" report on every load."""
    from transformers import AutoConfig, AutoModel
    from transformers.utils import logging as hf_logging

    config = AutoConfig.from_pretrained(str(path))
    kwargs = {"add_pooling_layer": False} if config.model_type in _POOLER_ARCHS else {}
    previous = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        return AutoModel.from_pretrained(str(path), **kwargs)
    finally:
        hf_logging.set_verbosity(previous)
