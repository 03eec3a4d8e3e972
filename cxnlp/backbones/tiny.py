"""A tiny but real BERT backbone, built in seconds, so tests run the real model code.

The full e5 model is 450 MB and needs seconds per batch on two cores; most tests (the
classifier heads, training loop, predictor, service, trimming) only need *a* backbone of
the same kind. This builds one from scratch: an XLM-R-style SentencePiece Unigram
tokenizer trained with `tokenizers` on the texts given (same special tokens, same
metaspace pre-tokenisation, same ZWNJ-to-space normalisation as the e5 tokenizer) and a
randomly initialised `BertModel` with a few small layers, saved as an ordinary
`save_pretrained` directory plus `cxnlp_backbone.json`. The same inputs and seed give
the same directory, file for file.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path

from tokenizers import Regex, Tokenizer, normalizers, trainers
from tokenizers.models import Unigram

from cxnlp.backbones.cache import atomic_directory, finalize_directory
from cxnlp.backbones.info import BackboneInfo
from cxnlp.backbones.tokenizer import (
    SPACE_LIKE,
    probe_zwnj,
    recommended_zwnj_policy,
    save_tokenizer,
    set_xlmr_pipeline,
)

logger = logging.getLogger("cxnlp.backbones")

TINY_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]


def tiny_normalizer() -> normalizers.Normalizer:
    """NFKC, then ZWNJ/ZWJ/LRM/RLM and all whitespace to a single space, as XLM-R does."""
    return normalizers.Sequence(
        [
            normalizers.NFKC(),
            normalizers.Replace(Regex("[" + SPACE_LIKE + r"\s]+"), " "),
        ]
    )


def train_tiny_tokenizer(
    texts: Iterable[str], *, vocab_size: int = 800, max_training_chars: int = 100_000
) -> Tokenizer:
    """A Unigram tokenizer trained on `texts`, pipeline-compatible with XLM-R's.

    Unigram training time grows with the corpus (~2 s per 100k characters on two cores),
    so at most `max_training_chars` are used -- every k-th text, to keep every language
    and variety of a sorted corpus -- while every character of *all* texts is put in the
    alphabet, so no text the backbone was built from tokenises to `<unk>`.

    The trainer's parallel EM leaves the piece order and the last bits of the scores
    run-dependent; scores are rounded and pieces sorted by (score, piece) so the same
    texts always give the same tokenizer.json.
    """
    texts = [t for t in texts if t and t.strip()]
    normalizer = tiny_normalizer()
    alphabet = {c for t in texts for c in normalizer.normalize_str(t) if not c.isspace()}
    total = sum(len(t) for t in texts)
    sample = texts[:: max(1, -(-total // max_training_chars))] if total > max_training_chars else texts
    # Every character must fit in the vocabulary, or the trainer refuses to run.
    floor = len(alphabet) + len(TINY_SPECIALS) + 2
    if vocab_size < floor:
        logger.info(
            "Raising tiny vocab_size from %d to %d to cover all %d characters",
            vocab_size,
            floor,
            len(alphabet),
        )
        vocab_size = floor
    tok = Tokenizer(Unigram())
    tok.normalizer = normalizer
    # Pre-tokeniser first: the trainer must see the same "▁word" units the encoder will.
    set_xlmr_pipeline(tok, bos_id=0, eos_id=2)
    trainer = trainers.UnigramTrainer(
        vocab_size=vocab_size,
        special_tokens=TINY_SPECIALS,
        unk_token="<unk>",
        max_piece_length=12,
        initial_alphabet=sorted(alphabet),
        show_progress=False,
    )
    tok.train_from_iterator(sample, trainer=trainer)
    trained = json.loads(tok.to_str())["model"]["vocab"]
    n_special = len(TINY_SPECIALS)
    rest = [(p, float(s)) for p, s in trained[n_special:]]
    # Characters the trainer appends to guarantee coverage get scores by hash-map order,
    # just above the minimum; give them one shared score and let the piece string decide.
    low = min(s for _, s in rest)
    rest = [(p, round(low, 3) if s <= low + 0.02 else round(s, 6)) for p, s in rest]
    pieces = [(p, 0.0) for p, _ in trained[:n_special]] + sorted(rest, key=lambda ps: (-ps[1], ps[0]))
    final = Tokenizer(Unigram(pieces, unk_id=TINY_SPECIALS.index("<unk>")))
    final.normalizer = normalizer
    set_xlmr_pipeline(final, bos_id=0, eos_id=2)
    final.add_special_tokens(TINY_SPECIALS)
    return final


def build_tiny_backbone(
    out_dir: str | os.PathLike[str],
    texts: Iterable[str],
    *,
    vocab_size: int = 800,
    hidden_size: int = 32,
    num_layers: int = 2,
    num_heads: int = 2,
    intermediate_size: int | None = None,
    max_position_embeddings: int = 256,
    text_prefix: str = "",
    max_training_chars: int = 100_000,
    seed: int = 0,
) -> Path:
    """Write a tiny BERT backbone (model + fast tokenizer + cxnlp info) to `out_dir`.

    `vocab_size` is an upper bound: a small corpus may yield fewer pieces. The directory
    is written atomically; an existing `out_dir` written by cxnlp is replaced.
    """
    import torch
    from transformers import BertConfig, BertModel

    texts = [t for t in texts if isinstance(t, str) and t.strip()]
    if not texts:
        raise ValueError("build_tiny_backbone needs at least one non-empty text to train its tokenizer")
    if hidden_size % num_heads:
        raise ValueError(f"hidden_size {hidden_size} is not divisible by num_heads {num_heads}")
    tok = train_tiny_tokenizer(texts, vocab_size=vocab_size, max_training_chars=max_training_chars)
    config = BertConfig(
        vocab_size=tok.get_vocab_size(with_added_tokens=True),
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        intermediate_size=intermediate_size or 4 * hidden_size,
        max_position_embeddings=max_position_embeddings,
        type_vocab_size=2,
        pad_token_id=tok.token_to_id("<pad>"),
        architectures=["BertModel"],
        tokenizer_class="PreTrainedTokenizerFast",
    )
    # Isolated RNG: building a test fixture must not shift the caller's random stream.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = BertModel(config)
    model.eval()

    zwnj = probe_zwnj(tok)
    info = BackboneInfo(
        name=f"tiny-bert-h{hidden_size}-l{num_layers}",
        source="tiny",
        text_prefix=text_prefix,
        pooling="mean",
        zwnj=zwnj,
        recommended_zwnj_policy=recommended_zwnj_policy(zwnj),
        details={
            "seed": seed,
            "training_texts": len(texts),
            "vocab_size": config.vocab_size,
            "note": "random weights: for tests and smoke runs, not for real predictions",
        },
        # A fixed timestamp keeps builds byte-identical for the same inputs.
        created_at="1970-01-01T00:00:00+00:00",
    )
    out = Path(out_dir)
    with atomic_directory(out) as tmp:
        model.save_pretrained(tmp)
        save_tokenizer(tok, tmp, model_max_length=max_position_embeddings)
        finalize_directory(tmp, info)
    logger.info(
        "Built tiny backbone (vocab %d, hidden %d, %d layers) -> %s",
        config.vocab_size,
        hidden_size,
        num_layers,
        out,
    )
    return out
