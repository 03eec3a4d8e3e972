"""Vocabulary trimming: ids remapped consistently, identical embeddings for covered texts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import AutoModel, AutoTokenizer, BertConfig, BertModel

from cxnlp.backbones import BackboneError, embed_texts, read_backbone_info, trim_backbone, verify_directory
from cxnlp.backbones.trim import TRIM_IDS_FILE, read_corpus_texts
from tests.backbones.conftest import ARABIC, ENGLISH, PERSIAN

TRIM_TEXTS = ARABIC[:8] + PERSIAN[:6]
PROBES = {"ar": ARABIC[:8], "fa": PERSIAN[:6], "en": ENGLISH}


@pytest.fixture(scope="module")
def trimmed(tiny_dir: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("trim") / "tiny-trimmed"
    return trim_backbone(tiny_dir, out, TRIM_TEXTS, probe_texts=PROBES, latin_top_k=20, arabic_top_k=20)


def test_report_numbers_are_consistent(trimmed, tiny_dir: Path) -> None:  # type: ignore[no-untyped-def]
    assert trimmed.vocab_after < trimmed.vocab_before
    assert trimmed.params_after < trimmed.params_before
    assert trimmed.bytes_after < trimmed.bytes_before
    assert trimmed.corpus_texts == len(TRIM_TEXTS)
    assert trimmed.corpus_pieces + trimmed.fallback_pieces == trimmed.vocab_after
    hidden = 32
    assert (
        trimmed.params_before - trimmed.params_after
        == (trimmed.embedding_rows_before - trimmed.vocab_after) * hidden
    )
    assert set(trimmed.cosine) == {"ar", "fa", "en"}
    assert trimmed.cosine["ar"]["min"] > 0.99999 and trimmed.cosine["fa"]["min"] > 0.99999
    assert "cosine ar" in trimmed.summary()


def test_ids_are_remapped_consistently(trimmed, tiny_dir: Path) -> None:  # type: ignore[no-untyped-def]
    out = trimmed.output
    kept = json.loads((out / TRIM_IDS_FILE).read_text())["kept_old_ids"]
    assert kept == sorted(kept) and len(kept) == trimmed.vocab_after
    full_tok = AutoTokenizer.from_pretrained(str(tiny_dir))
    small_tok = AutoTokenizer.from_pretrained(str(out))
    # Every kept piece keeps its text; specials keep their ids.
    assert small_tok.convert_ids_to_tokens(list(range(len(kept)))) == full_tok.convert_ids_to_tokens(kept)
    assert (small_tok.pad_token_id, small_tok.unk_token_id, small_tok.mask_token_id) == (1, 3, 4)
    for text in TRIM_TEXTS:
        assert [kept[i] for i in small_tok(text)["input_ids"]] == full_tok(text)["input_ids"]
    model = AutoModel.from_pretrained(str(out))
    full = AutoModel.from_pretrained(str(tiny_dir))
    assert model.config.vocab_size == len(small_tok) == len(kept)
    np.testing.assert_array_equal(
        model.embeddings.word_embeddings.weight.detach().numpy(),
        full.embeddings.word_embeddings.weight.detach().numpy()[kept],
    )


def test_covered_texts_get_identical_embeddings(trimmed, tiny_dir: Path) -> None:  # type: ignore[no-untyped-def]
    full = embed_texts(
        AutoModel.from_pretrained(str(tiny_dir)), AutoTokenizer.from_pretrained(str(tiny_dir)), TRIM_TEXTS
    )
    small = embed_texts(
        AutoModel.from_pretrained(str(trimmed.output)),
        AutoTokenizer.from_pretrained(str(trimmed.output)),
        TRIM_TEXTS,
    )
    np.testing.assert_allclose(small, full, atol=1e-6)


def test_uncovered_text_still_tokenises_without_unknowns(trimmed, tiny_dir: Path) -> None:  # type: ignore[no-untyped-def]
    full = AutoTokenizer.from_pretrained(str(tiny_dir))
    small = AutoTokenizer.from_pretrained(str(trimmed.output))
    # Lines the trimming corpus never saw: their words fall back to shorter pieces and
    # single characters, never to <unk>, and decode to the same text.
    unseen = ARABIC[8:] + PERSIAN[6:]
    assert all(full.unk_token_id not in ids for ids in full(unseen)["input_ids"])
    for text, ids in zip(unseen, small(unseen)["input_ids"], strict=True):
        assert small.unk_token_id not in ids
        assert small.decode(ids, skip_special_tokens=True) == full.decode(
            full(text)["input_ids"], skip_special_tokens=True
        )


def test_trimmed_directory_describes_itself(trimmed) -> None:  # type: ignore[no-untyped-def]
    info = read_backbone_info(trimmed.output)
    assert info is not None and info.source == "trimmed"
    assert info.zwnj == "space" and info.text_prefix == ""
    assert info.details["vocab_after"] == trimmed.vocab_after
    assert verify_directory(trimmed.output) == []
    config = json.loads((trimmed.output / "tokenizer_config.json").read_text())
    assert config["tokenizer_class"] == "PreTrainedTokenizerFast"


def test_fallback_set_can_be_switched_off(tiny_dir: Path, tmp_path: Path, trimmed) -> None:  # type: ignore[no-untyped-def]
    lean = trim_backbone(
        tiny_dir, tmp_path / "lean", TRIM_TEXTS, keep_latin=False, arabic_top_k=0, probe_texts={}
    )
    assert lean.vocab_after <= trimmed.vocab_after


def _save_bert_with(tok: Tokenizer, out: Path, tokenizer_config: dict) -> Path:  # type: ignore[type-arg]
    out.mkdir(parents=True)
    tok.save(str(out / "tokenizer.json"))
    (out / "tokenizer_config.json").write_text(json.dumps(tokenizer_config))
    config = BertConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
    )
    torch.manual_seed(0)
    BertModel(config).save_pretrained(out)
    return out


def test_wordpiece_backbones_can_be_trimmed(tmp_path: Path) -> None:
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(
        ARABIC + PERSIAN + ENGLISH, trainers.WordPieceTrainer(vocab_size=400, special_tokens=specials)
    )
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))],
    )
    src = _save_bert_with(
        tok, tmp_path / "wp", {"tokenizer_class": "BertTokenizerFast", "do_lower_case": True}
    )
    report = trim_backbone(
        src,
        tmp_path / "wp-trimmed",
        ARABIC[:4],
        probe_texts={"ar": ARABIC[:4]},
        latin_top_k=0,
        arabic_top_k=0,
    )
    assert report.vocab_after < report.vocab_before
    assert report.cosine["ar"]["min"] > 0.99999
    small = AutoTokenizer.from_pretrained(str(report.output))
    assert small.pad_token == "[PAD]" and small.cls_token == "[CLS]"


def test_bpe_is_refused_with_a_reason(tmp_path: Path) -> None:
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(ENGLISH, trainers.BpeTrainer(vocab_size=200, special_tokens=["<pad>", "<unk>"]))
    src = _save_bert_with(
        tok, tmp_path / "bpe", {"tokenizer_class": "PreTrainedTokenizerFast", "pad_token": "<pad>"}
    )
    with pytest.raises(BackboneError, match="Unigram .* WordPiece"):
        trim_backbone(src, tmp_path / "out", ENGLISH)
    assert not (tmp_path / "out").exists()


def test_read_corpus_texts(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text(
        json.dumps({"text": "سلام"}, ensure_ascii=False)
        + "\n\n"
        + json.dumps({"text": "مرحبا", "lang": "ar"}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    (tmp_path / "b.txt").write_text("hello\n\nworld\n", encoding="utf-8")
    assert read_corpus_texts([tmp_path]) == ["سلام", "مرحبا", "hello", "world"]
    with pytest.raises(FileNotFoundError):
        read_corpus_texts([tmp_path / "missing-dir"])


@pytest.mark.full_weights
def test_trimming_e5_keeps_arabic_and_persian_embeddings(e5, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    report = trim_backbone(e5.path, tmp_path / "e5-trimmed", TRIM_TEXTS + ENGLISH, probe_texts=PROBES)
    assert report.vocab_before == 250_002 and report.vocab_after < 20_000
    assert report.params_after < 0.3 * report.params_before
    assert report.bytes_after < 130 * 1024 * 1024
    for lang in ("ar", "fa", "en"):
        assert report.cosine[lang]["min"] > 0.9999, (lang, report.cosine)
    assert report.token_ratio["ar"] == 1.0
