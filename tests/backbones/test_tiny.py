"""The tiny test backbone: a real BERT + fast tokenizer that plain transformers loads."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer

from cxnlp.backbones import build_tiny_backbone, embed_texts, read_backbone_info, verify_directory
from tests.backbones.conftest import ARABIC, ENGLISH, PERSIAN


def test_loads_with_plain_transformers_and_runs(tiny_dir: Path) -> None:
    model = AutoModel.from_pretrained(str(tiny_dir))
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_dir))
    assert model.config.model_type == "bert"
    assert (model.config.num_hidden_layers, model.config.hidden_size) == (2, 32)
    assert model.config.vocab_size == len(tokenizer)
    enc = tokenizer(
        ARABIC[:3] + PERSIAN[:3], padding=True, truncation=True, max_length=64, return_tensors="pt"
    )
    out = model(**enc).last_hidden_state
    assert out.shape[0] == 6 and out.shape[-1] == 32
    vectors = embed_texts(model, tokenizer, ARABIC + PERSIAN + ENGLISH)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_special_tokens_and_template(tiny_dir: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_dir))
    assert tokenizer.convert_ids_to_tokens([0, 1, 2, 3, 4]) == ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    assert (tokenizer.pad_token_id, tokenizer.unk_token_id, tokenizer.mask_token_id) == (1, 3, 4)
    ids = tokenizer("سلام")["input_ids"]
    assert ids[0] == 0 and ids[-1] == 2
    config = json.loads((tiny_dir / "tokenizer_config.json").read_text())
    assert config["tokenizer_class"] == "PreTrainedTokenizerFast"
    assert not any("TokenizersBackend" in p.read_text() for p in tiny_dir.glob("*.json"))


def test_zwnj_is_a_space_like_in_xlmr(tiny_dir: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_dir))
    assert tokenizer("نمی‌دونم")["input_ids"] == tokenizer("نمی دونم")["input_ids"]
    info = read_backbone_info(tiny_dir)
    assert info is not None and info.zwnj == "space" and info.recommended_zwnj_policy == "space"
    assert info.source == "tiny" and verify_directory(tiny_dir) == []


def test_trains(tiny_dir: Path) -> None:
    model = AutoModel.from_pretrained(str(tiny_dir))
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_dir))
    enc = tokenizer(ARABIC[:4], padding=True, return_tensors="pt")
    model.train()
    loss = model(**enc).last_hidden_state.pow(2).mean()
    loss.backward()
    grad = model.embeddings.word_embeddings.weight.grad
    assert grad is not None and grad.abs().sum() > 0
    assert torch.count_nonzero(grad[tokenizer.pad_token_id]) == 0  # padding row stays frozen


def test_build_is_fast_and_deterministic(tmp_path: Path, written_texts: list[str]) -> None:
    texts = written_texts * 3
    started = time.monotonic()
    a = build_tiny_backbone(tmp_path / "a", texts, seed=1)
    assert time.monotonic() - started < 20
    b = build_tiny_backbone(tmp_path / "b", texts, seed=1)
    for f in sorted(p.name for p in a.iterdir()):
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    c = build_tiny_backbone(tmp_path / "c", texts, seed=2)
    assert (a / "model.safetensors").read_bytes() != (c / "model.safetensors").read_bytes()


def test_small_vocabulary_and_custom_shape(tmp_path: Path) -> None:
    texts = ARABIC + PERSIAN + ENGLISH
    out = build_tiny_backbone(tmp_path / "t", texts, vocab_size=50, hidden_size=16, num_layers=1, num_heads=4)
    model = AutoModel.from_pretrained(str(out))
    tokenizer = AutoTokenizer.from_pretrained(str(out))
    assert model.config.num_attention_heads == 4 and model.config.hidden_size == 16
    # vocab_size is raised to cover every character rather than failing
    assert len(tokenizer) > 50
    assert all(tokenizer.unk_token_id not in ids for ids in tokenizer(texts)["input_ids"])
