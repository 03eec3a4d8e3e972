"""Checks of a classify request that need the settings or the model's taxonomy.

The pydantic models check types and shape; these check content: limits from the
settings, characters that have no place in feedback text, and heads, labels and
thresholds that the served model actually has. Each failure names the exact field.

Character policy: C0/C1 control characters (other than tab, newline, carriage return),
the bidi embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069, which
make displayed text differ from the text the model reads), lone surrogates and
noncharacters are refused. The implicit direction marks LRM, RLM and ALM (U+200E, U+200F,
U+061C) and ZWNJ/ZWJ are accepted: they are common in real Arabic and Persian posts
and the normaliser handles them.
"""

from __future__ import annotations

import math
import unicodedata

import regex

from cxnlp.taxonomy import Taxonomy
from serve.errors import ApiError
from serve.schemas import ClassifyOptions, ClassifyRequest
from serve.settings import Settings

_FORBIDDEN = regex.compile(
    r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\u202A-\u202E\u2066-\u2069\uD800-\uDFFF\uFDD0-\uFDEF\uFFFE\uFFFF]"
)
_BLANK = regex.compile(r"^[\s\p{Cf}]*$")
_WORD = regex.compile(r"\S+")


def _describe(ch: str) -> str:
    name = unicodedata.name(ch, "") or ("SURROGATE" if 0xD800 <= ord(ch) <= 0xDFFF else "CONTROL CHARACTER")
    return f"U+{ord(ch):04X} ({name})"


def check_texts(req: ClassifyRequest, settings: Settings) -> list[str]:
    """The request's texts, after checking count, emptiness, length and characters."""
    texts = req.all_texts()
    if len(texts) > settings.max_texts:
        raise ApiError(422, "too_many_texts",
                       f"got {len(texts)} texts; the limit is {settings.max_texts} per request "
                       "(send several requests)", "texts")
    for i, text in enumerate(texts):
        field = req.text_field(i)
        if len(text) > settings.max_text_chars:
            raise ApiError(422, "text_too_long",
                           f"{field} has {len(text)} characters; the limit is {settings.max_text_chars}", field)
        bad = _FORBIDDEN.search(text)
        if bad:
            raise ApiError(422, "invalid_characters",
                           f"{field} contains {_describe(bad.group())} at position {bad.start()}; control, "
                           "bidi-override and surrogate characters are not accepted", field)
        if _BLANK.match(text):
            raise ApiError(422, "empty_text", f"{field} is empty or only whitespace", field)
    return texts


def check_options(options: ClassifyOptions, texts: list[str], taxonomy: Taxonomy,
                  settings: Settings) -> tuple[list[str] | None, dict[str, dict[str, float]] | None]:
    """Heads (deduplicated, in the given order) and thresholds, checked against the taxonomy."""
    heads = None
    if options.heads is not None:
        heads = list(dict.fromkeys(options.heads))
        for i, name in enumerate(options.heads):
            if name not in taxonomy:
                raise ApiError(422, "unknown_head",
                               f"unknown head {name!r}; this model has: {', '.join(taxonomy.head_names)}",
                               f"options.heads[{i}]")
    thresholds: dict[str, dict[str, float]] | None = None
    if options.thresholds:
        thresholds = {}
        for head_name, per_label in options.thresholds.items():
            field = f"options.thresholds.{head_name}"
            if head_name not in taxonomy:
                raise ApiError(422, "unknown_head",
                               f"unknown head {head_name!r}; this model has: {', '.join(taxonomy.head_names)}", field)
            head = taxonomy.head(head_name)
            if not head.is_multilabel:
                multilabel = [h.name for h in taxonomy.heads if h.is_multilabel]
                raise ApiError(422, "not_multilabel",
                               f"thresholds apply to multilabel heads ({', '.join(multilabel)}); "
                               f"{head_name!r} is {head.kind}", field)
            for label, value in per_label.items():
                if label not in head.label_names:
                    raise ApiError(422, "unknown_label",
                                   f"unknown label {label!r} for head {head_name!r}; labels: "
                                   f"{', '.join(head.label_names)}", f"{field}.{label}")
                if not (math.isfinite(value) and 0.0 <= value <= 1.0):
                    raise ApiError(422, "invalid_threshold", f"threshold must be between 0 and 1, got {value}",
                                   f"{field}.{label}")
            thresholds[head_name] = {label: float(v) for label, v in per_label.items()}
    if options.include_evidence:
        words = sum(len(_WORD.findall(t)) for t in texts)
        if words > settings.evidence_max_words:
            raise ApiError(422, "evidence_too_long",
                           f"evidence was asked for {words} words; the limit is {settings.evidence_max_words} "
                           "words per request (evidence costs one model pass per word)",
                           "options.include_evidence")
    return heads, thresholds
