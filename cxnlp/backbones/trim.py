"""Vocabulary trimming: keep only the pieces a corpus needs, shrink the model ~4x.

Why: multilingual-e5-small has 250k pieces, and 96M of its 117.5M parameters are the
word-embedding table, but Arabic and Persian customer feedback uses only ~6-11k of them.
Dropping the rest makes the model ~100 MB instead of ~450 MB, loads faster, and makes
training with unfrozen embeddings feasible on two cores, while every text whose pieces
were kept gets *exactly* the same embedding as before.

What is kept: every piece the corpus uses (tokenised with the backbone's text prefix),
all special tokens, the lowest-scoring piece (so the Unigram model's unknown-token
penalty, derived from the minimum score, is unchanged), single-character pieces of the
Arabic script, ASCII, Latin-1, punctuation and symbols (so an unseen word still splits
into characters instead of `<unk>`), all emoji pieces, the `arabic_top_k` most frequent
Arabic-script pieces (a few thousand texts never cover real-world vocabulary: on real
tweets and reviews this lifts the mean cosine to the full model from ~0.983 to ~0.998
for ~10 MB), and -- unless `keep_latin=False` -- the `latin_top_k` most frequent
Latin-script pieces, because customer feedback mixes in English words, brand names and
URLs, and English text degrades badly without them. "Most frequent" is the Unigram
score, which is the piece's log-probability in the tokenizer's training data.

Ids are remapped consistently: new id = rank of the old id among the kept ids, so
specials keep their small ids, the embedding rows are gathered in that order, and the
tokenizer's vocabulary, unknown id, post-processor and added tokens are rewritten to
match. The trimmed tokenizer is checked on the whole corpus: mapping its ids back must
give the original ids, text for text. Unigram (SentencePiece) and WordPiece tokenizers
are supported; BPE is refused, since dropping pieces would break its merge table.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cxnlp.backbones.cache import atomic_directory, finalize_directory
from cxnlp.backbones.errors import BackboneError
from cxnlp.backbones.info import BackboneInfo
from cxnlp.backbones.stats import describe_backbone
from cxnlp.backbones.tokenizer import TOKENIZER_CLASS

logger = logging.getLogger("cxnlp.backbones")

TRIM_IDS_FILE = "trim_ids.json"

# Sentences written for this module (not from any corpus) to measure what trimming costs
# on text the trimming corpus may not cover.
PROBE_TEXTS: dict[str, list[str]] = {
    "ar": [
        "وصل الطلب متأخراً ثلاثة أيام ولم يرد أحد على اتصالاتي.",
        "الموظف كان محترم جداً وحل المشكلة بسرعة، شكراً لكم.",
        "ليش كل مرة لازم أشرح المشكلة من الأول لموظف جديد؟",
        "التطبيق يعلق كل ما أحاول أدفع بالبطاقة.",
        "ما عجبني التعامل أبداً، حسيت إني مش مهم عندكم.",
        "تم خصم المبلغ مرتين من حسابي ولم يتم استرجاعه حتى الآن.",
        "الخدمة ممتازة والأسعار مناسبة، أنصح بها.",
        "بغيت نبدل الطلبية ولكن ما لقيت حتى واحد يجاوبني.",
    ],
    "fa": [
        "سفارشم سه روز دیر رسید و هیچ‌کس جواب تماس‌هایم را نداد.",
        "پشتیبانی خیلی مؤدب بود و مشکل را سریع حل کرد، ممنون.",
        "چرا هر بار باید مشکلم را از اول برای یک نفر دیگر توضیح بدهم؟",
        "اپلیکیشن موقع پرداخت با کارت هنگ می‌کند.",
        "اصلاً از برخوردتون راضی نبودم، حس کردم براتون مهم نیستم.",
        "مبلغ دو بار از حسابم کسر شد و هنوز برنگشته است.",
        "کیفیت عالی بود و قیمت هم مناسب، پیشنهاد می‌کنم.",
        "می‌خواستم سفارش رو عوض کنم ولی کسی جواب نداد.",
    ],
    "en": [
        "My order arrived three days late and nobody answered my calls.",
        "The agent was very polite and solved the problem quickly, thank you.",
        "Why do I have to explain my issue from scratch to a new person every time?",
        "The app freezes every time I try to pay with my card.",
        "I did not like how I was treated at all; I felt unimportant.",
        "The amount was charged twice and has still not been refunded.",
        "Great quality and fair prices, I recommend it.",
        "I wanted to change my order but nobody replied to my emails.",
    ],
}

_LATIN_WORD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9'\-.]*$")
# Arabic-script letters (Arabic, Persian, Urdu extensions) and marks; a piece made only of
# these is a candidate for the frequent-Arabic-script fallback.
_ARABIC_WORD = re.compile(r"^[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\u200c]+$")
_FALLBACK_CHAR_RANGES = (
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x024F),  # Latin-1 and Latin Extended-A/B
    (0x0600, 0x06FF),  # Arabic
    (0x0750, 0x077F),  # Arabic Supplement
    (0x08A0, 0x08FF),  # Arabic Extended-A
    (0xFB50, 0xFDFF),  # Arabic Presentation Forms-A
    (0xFE70, 0xFEFF),  # Arabic Presentation Forms-B
    (0x2000, 0x206F),  # General Punctuation
    (0x20A0, 0x20CF),  # Currency
    (0x2100, 0x2BFF),  # letterlike, arrows, maths, technical, dingbats, misc symbols
)
_EMOJI_RANGES = (
    (0x1F000, 0x1FAFF),
    (0x2600, 0x27BF),
    (0x2B00, 0x2BFF),
    (0xFE0F, 0xFE0F),
    (0x200D, 0x200D),
    (0x1F1E6, 0x1F1FF),
)


def _in(ranges: Sequence[tuple[int, int]], ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in ranges)


def _bare(piece: str) -> str:
    """The text of a piece without its word-boundary marker (`▁` or `##`)."""
    if piece.startswith("##"):
        return piece[2:]
    return piece[1:] if piece.startswith("▁") else piece


@dataclass
class TrimReport:
    """What trimming did and what it cost."""

    source: str
    """The backbone that was trimmed (name or path)."""
    output: Path
    """The trimmed backbone directory."""
    vocab_before: int
    """Tokenizer vocabulary size before."""
    vocab_after: int
    """Tokenizer vocabulary size after."""
    embedding_rows_before: int
    """Rows of the word-embedding table before (may exceed the tokenizer vocabulary)."""
    params_before: int
    """Model parameters before."""
    params_after: int
    """Model parameters after."""
    bytes_before: int
    """Weight files on disk before, bytes."""
    bytes_after: int
    """Weight files on disk after, bytes."""
    corpus_texts: int
    """Texts the kept vocabulary was collected from."""
    corpus_pieces: int
    """Distinct pieces those texts use."""
    fallback_pieces: int
    """Pieces kept on top of the corpus's (specials, characters, emoji, Latin)."""
    cosine: dict[str, dict[str, float]] = field(default_factory=dict)
    """Per probe language: mean and min cosine between full and trimmed sentence vectors."""
    token_ratio: dict[str, float] = field(default_factory=dict)
    """Per probe language: tokens after / tokens before (above 1 when words fall back to pieces)."""

    def counts(self) -> dict[str, int]:
        """Vocabulary, parameters and texts before/after: what a model directory records about trimming."""
        return {"vocab_before": self.vocab_before, "vocab_after": self.vocab_after,
                "params_before": self.params_before, "params_after": self.params_after, "texts": self.corpus_texts}

    def as_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["output"] = str(self.output)
        return data

    def summary(self) -> str:
        mb = 1024 * 1024
        lines = [
            f"trimmed {self.source} -> {self.output}",
            f"vocabulary   {self.vocab_before:>11,} -> {self.vocab_after:,} pieces "
            f"({self.corpus_pieces:,} from {self.corpus_texts:,} texts + {self.fallback_pieces:,} fallback)",
            f"parameters   {self.params_before:>11,} -> {self.params_after:,}",
            f"weights      {self.bytes_before / mb:>10.1f}M -> {self.bytes_after / mb:.1f}M",
        ]
        for lang, stats in self.cosine.items():
            ratio = self.token_ratio.get(lang)
            extra = f", tokens x{ratio:.2f}" if ratio is not None else ""
            lines.append(f"cosine {lang:<5} mean {stats['mean']:.5f} min {stats['min']:.5f}{extra}")
        return "\n".join(lines)


def read_corpus_texts(paths: Iterable[str | os.PathLike[str]], *, field_name: str = "text") -> list[str]:
    """Texts from JSONL files (field `field_name`), plain-text files (one per line) or folders of them."""
    texts: list[str] = []
    for raw in paths:
        path = Path(raw).expanduser()
        files = (
            sorted(p for p in path.rglob("*") if p.suffix in {".jsonl", ".txt"}) if path.is_dir() else [path]
        )
        if not files:
            raise FileNotFoundError(f"no .jsonl or .txt files under {path}")
        for f in files:
            with open(f, encoding="utf-8") as fh:
                for line in fh:
                    line = line.strip()
                    if not line:
                        continue
                    if f.suffix == ".jsonl":
                        value = json.loads(line).get(field_name)
                        if isinstance(value, str) and value.strip():
                            texts.append(value)
                    else:
                        texts.append(line)
    return texts


def default_corpus_dir() -> Path | None:
    """The corpus shipped with the repository (`data/corpus`), when running from a checkout."""
    import cxnlp

    candidate = Path(cxnlp.__file__).resolve().parent.parent / "data" / "corpus"
    return candidate if candidate.is_dir() else None


def _vocab_of(tok_json: dict[str, Any]) -> tuple[str, list[str], list[float] | None]:
    model = tok_json.get("model", {})
    kind = model.get("type")
    if kind == "Unigram":
        return kind, [p for p, _ in model["vocab"]], [float(s) for _, s in model["vocab"]]
    if kind == "WordPiece":
        by_id = sorted(model["vocab"].items(), key=lambda kv: kv[1])
        if [i for _, i in by_id] != list(range(len(by_id))):
            raise BackboneError("WordPiece vocabulary ids are not contiguous; cannot trim it safely")
        return kind, [p for p, _ in by_id], None
    raise BackboneError(
        f"vocabulary trimming supports Unigram (SentencePiece) and WordPiece tokenizers, not {kind or 'this one'}"
    )


def fallback_ids(
    pieces: Sequence[str],
    scores: Sequence[float] | None,
    *,
    special_ids: Iterable[int],
    keep_latin: bool = True,
    latin_top_k: int = 5000,
    arabic_top_k: int = 10000,
) -> set[int]:
    """Ids kept whatever the corpus: specials, min-score piece, characters, emoji, top Latin
    and Arabic-script pieces."""
    keep = set(special_ids)
    if scores is not None:
        # The Unigram unknown penalty is (minimum score - 10); keeping the minimum keeps it equal.
        keep.add(int(np.argmin(np.asarray(scores))))
    latin: list[int] = []
    arabic: list[int] = []
    for i, piece in enumerate(pieces):
        bare = _bare(piece)
        if not bare:
            keep.add(i)  # the bare word-boundary marker
        elif (
            len(bare) == 1
            and (_in(_FALLBACK_CHAR_RANGES, bare) or _in(_EMOJI_RANGES, bare))
            or all(_in(_EMOJI_RANGES, c) for c in bare)
        ):
            keep.add(i)
        elif keep_latin and _LATIN_WORD.match(bare):
            latin.append(i)
        elif _ARABIC_WORD.match(bare):
            arabic.append(i)
    for candidates, top_k in ((latin, latin_top_k if keep_latin else 0), (arabic, arabic_top_k)):
        if top_k > 0:
            # Unigram scores are log-frequencies; WordPiece vocabularies have no scores, so keep id order.
            ranked = sorted(candidates, key=lambda i: -scores[i]) if scores is not None else candidates
            keep.update(ranked[:top_k])
    return keep


def _remap_post_processor(node: Any, mapping: Mapping[int, int]) -> Any:
    if isinstance(node, list):
        return [_remap_post_processor(x, mapping) for x in node]
    if not isinstance(node, dict):
        return node
    kind = node.get("type")
    out = dict(node)
    if kind == "TemplateProcessing":
        out["special_tokens"] = {
            k: {**v, "ids": [mapping[i] for i in v["ids"]]} for k, v in node.get("special_tokens", {}).items()
        }
    elif kind in {"RobertaProcessing", "BertProcessing"}:
        for key in ("sep", "cls"):
            token, old = node[key]
            out[key] = [token, mapping[old]]
    elif kind == "Sequence":
        out["processors"] = [_remap_post_processor(p, mapping) for p in node.get("processors", [])]
    return out


def trimmed_tokenizer_json(tok_json: dict[str, Any], kept: Sequence[int]) -> dict[str, Any]:
    """`tok_json` restricted to the ids in `kept` (sorted), every id renumbered."""
    mapping = {old: new for new, old in enumerate(kept)}
    out = json.loads(json.dumps(tok_json))
    model = out["model"]
    if model["type"] == "Unigram":
        model["vocab"] = [tok_json["model"]["vocab"][i] for i in kept]
        if model.get("unk_id") is not None:
            model["unk_id"] = mapping[model["unk_id"]]
    else:  # WordPiece
        by_id = {i: p for p, i in tok_json["model"]["vocab"].items()}
        model["vocab"] = {by_id[old]: new for new, old in enumerate(kept)}
    out["added_tokens"] = [
        {**t, "id": mapping[t["id"]]} for t in tok_json.get("added_tokens", []) if t["id"] in mapping
    ]
    if out.get("post_processor"):
        out["post_processor"] = _remap_post_processor(out["post_processor"], mapping)
    if out.get("padding") and out["padding"].get("pad_id") is not None:
        out["padding"]["pad_id"] = mapping[out["padding"]["pad_id"]]
    return out


def _special_ids(tok_json: dict[str, Any]) -> set[int]:
    return {t["id"] for t in tok_json.get("added_tokens", []) if t.get("special")}


def _trimmed_tokenizer_config(
    src: Path, mapping: Mapping[int, int], specials: Mapping[str, str]
) -> dict[str, Any]:
    path = src / "tokenizer_config.json"
    config: dict[str, Any] = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    for key in ("tokenizer_file", "vocab_file", "auto_map", "backend", "is_local", "local_files_only"):
        config.pop(key, None)
    # Ids inside the source config would now point at the wrong pieces.
    if isinstance(config.get("added_tokens_decoder"), dict):
        config["added_tokens_decoder"] = {
            str(mapping[int(k)]): v for k, v in config["added_tokens_decoder"].items() if int(k) in mapping
        }
    # The trimmed tokenizer.json is the whole tokenizer; a model-specific class would make
    # transformers 5 rebuild the pipeline, and 4.x look for an (untrimmed) vocabulary file.
    config["tokenizer_class"] = TOKENIZER_CLASS
    # A generic class knows no default special tokens (BertTokenizer's [PAD] etc. came from
    # the class), so spell out the ones the source tokenizer actually had.
    config.update(specials)
    return config


def trim_backbone(
    src: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    texts: Iterable[str],
    *,
    keep_latin: bool = True,
    latin_top_k: int = 5000,
    arabic_top_k: int = 10000,
    probe_texts: Mapping[str, Sequence[str]] | None = None,
    text_prefix: str | None = None,
    batch_size: int = 32,
) -> TrimReport:
    """Write to `out_dir` a copy of backbone `src` keeping only the vocabulary `texts` need.

    `src` is anything `resolve_backbone` accepts. `text_prefix` defaults to the
    backbone's own (e.g. `"query: "` for e5). `probe_texts` (language -> texts, default
    `PROBE_TEXTS`) are embedded by the full and the trimmed model to report cosines.
    """
    import torch
    from tokenizers import Tokenizer
    from transformers import AutoModel, AutoTokenizer

    from cxnlp.backbones.embed import embed_texts, rowwise_cosine
    from cxnlp.backbones.resolve import resolve_backbone

    resolved = resolve_backbone(str(src))
    src_path = resolved.path
    prefix = resolved.text_prefix if text_prefix is None else text_prefix
    tok_file = src_path / "tokenizer.json"
    if not tok_file.is_file():
        raise BackboneError(
            f"{src_path} has no tokenizer.json; only fast (tokenizers) tokenizers can be trimmed"
        )
    tok_json = json.loads(tok_file.read_text(encoding="utf-8"))
    kind, pieces, scores = _vocab_of(tok_json)

    corpus = [t for t in texts if isinstance(t, str) and t.strip()]
    if not corpus:
        raise ValueError("trim_backbone needs at least one text to decide which pieces to keep")
    full_tok = Tokenizer.from_file(str(tok_file))
    full_tok.no_truncation()
    full_tok.no_padding()
    corpus_ids = [e.ids for e in full_tok.encode_batch([prefix + t for t in corpus])]
    used = {i for ids in corpus_ids for i in ids}
    extra = fallback_ids(
        pieces,
        scores,
        special_ids=_special_ids(tok_json),
        keep_latin=keep_latin,
        latin_top_k=latin_top_k,
        arabic_top_k=arabic_top_k,
    )
    kept = sorted(used | extra)
    mapping = {old: new for new, old in enumerate(kept)}

    new_json = trimmed_tokenizer_json(tok_json, kept)
    new_tok = Tokenizer.from_str(json.dumps(new_json))
    new_tok.no_truncation()
    new_tok.no_padding()
    # The promise of trimming: every corpus text tokenises to the same pieces as before.
    for text, old_ids, enc in zip(
        corpus, corpus_ids, new_tok.encode_batch([prefix + t for t in corpus]), strict=True
    ):
        if [kept[i] for i in enc.ids] != old_ids:
            raise BackboneError(f"trimmed tokenizer disagrees with the original on {text[:60]!r}")

    model = AutoModel.from_pretrained(str(src_path))
    model.eval()
    old_emb = model.get_input_embeddings()
    rows_before = old_emb.num_embeddings
    if kept[-1] >= rows_before:
        raise BackboneError(f"tokenizer id {kept[-1]} has no row in the {rows_before}-row embedding table")
    params_before = sum(p.numel() for p in model.parameters())
    probes = dict(probe_texts) if probe_texts is not None else PROBE_TEXTS
    full_tokenizer = AutoTokenizer.from_pretrained(str(src_path))
    before = {
        lang: embed_texts(model, full_tokenizer, list(t), prefix=prefix, batch_size=batch_size)
        for lang, t in probes.items()
    }
    tokens_before = {lang: sum(len(full_tok.encode(prefix + x).ids) for x in t) for lang, t in probes.items()}

    pad_id = model.config.pad_token_id
    new_emb = torch.nn.Embedding(
        len(kept), old_emb.embedding_dim, padding_idx=mapping.get(pad_id) if pad_id is not None else None
    )
    with torch.no_grad():
        new_emb.weight.copy_(old_emb.weight[torch.tensor(kept)])
    model.set_input_embeddings(new_emb)
    model.config.vocab_size = len(kept)
    for attr in ("pad_token_id", "bos_token_id", "eos_token_id", "sep_token_id", "cls_token_id"):
        value = getattr(model.config, attr, None)
        if isinstance(value, int):
            setattr(model.config, attr, mapping.get(value))

    src_stats = describe_backbone(src_path)
    src_info = resolved.info
    out = Path(out_dir)
    with atomic_directory(out) as tmp:
        model.save_pretrained(tmp)
        new_tok.save(str(tmp / "tokenizer.json"))
        specials = {k: str(v) for k, v in full_tokenizer.special_tokens_map.items() if isinstance(v, str)}
        config = _trimmed_tokenizer_config(src_path, mapping, specials)
        (tmp / "tokenizer_config.json").write_text(
            json.dumps(config, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        (tmp / "special_tokens_map.json").write_text(
            json.dumps(specials, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        if kind == "WordPiece" and (src_path / "vocab.txt").is_file():
            by_id = {i: p for p, i in new_json["model"]["vocab"].items()}
            (tmp / "vocab.txt").write_text(
                "".join(by_id[i] + "\n" for i in range(len(by_id))), encoding="utf-8"
            )
        (tmp / TRIM_IDS_FILE).write_text(json.dumps({"kept_old_ids": kept}) + "\n", encoding="utf-8")
        info = BackboneInfo(
            name=f"{resolved.name} (trimmed)",
            source="trimmed",
            text_prefix=prefix,
            pooling=src_info.pooling if src_info else "mean",
            zwnj=src_info.zwnj if src_info else None,
            recommended_zwnj_policy=src_info.recommended_zwnj_policy if src_info else None,
            details={
                "trimmed_from": resolved.name,
                "trimmed_from_source": resolved.source,
                "trimmed_from_path": str(src_path),
                "vocab_before": len(pieces),
                "vocab_after": len(kept),
                "corpus_texts": len(corpus),
                "keep_latin": keep_latin,
                "latin_top_k": latin_top_k,
                "arabic_top_k": arabic_top_k,
                "kept_ids_file": TRIM_IDS_FILE,
                "source_details": src_info.details if src_info else {},
            },
        )
        finalize_directory(tmp, info)

    # Measure the artefact as users will load it, not the objects still in memory.
    trimmed_model = AutoModel.from_pretrained(str(out))
    trimmed_tokenizer = AutoTokenizer.from_pretrained(str(out))
    cosine: dict[str, dict[str, float]] = {}
    ratio: dict[str, float] = {}
    for lang, t in probes.items():
        after = embed_texts(trimmed_model, trimmed_tokenizer, list(t), prefix=prefix, batch_size=batch_size)
        cos = rowwise_cosine(before[lang], after)
        cosine[lang] = {"mean": float(cos.mean()), "min": float(cos.min())}
        ratio[lang] = sum(len(new_tok.encode(prefix + x).ids) for x in t) / max(tokens_before[lang], 1)
    out_stats = describe_backbone(out)
    report = TrimReport(
        source=str(src),
        output=out,
        vocab_before=len(pieces),
        vocab_after=len(kept),
        embedding_rows_before=rows_before,
        params_before=src_stats.parameters or params_before,
        params_after=out_stats.parameters or 0,
        bytes_before=src_stats.weights_bytes,
        bytes_after=out_stats.weights_bytes,
        corpus_texts=len(corpus),
        corpus_pieces=len(used),
        fallback_pieces=len(kept) - len(used),
        cosine=cosine,
        token_ratio=ratio,
    )
    logger.info(
        "Trimmed %s -> %s: %d -> %d pieces, %.1f -> %.1f MB of weights",
        src,
        out,
        report.vocab_before,
        report.vocab_after,
        report.bytes_before / 2**20,
        report.bytes_after / 2**20,
    )
    return report
