"""The one normalisation pipeline used by training, evaluation, prediction and tagging.

Every model directory records the `NormalizerConfig` it was trained with
(`normalization.json`), and every interface rebuilds the same `Normalizer` from it, so
a text is normalised identically wherever it is classified.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import regex
from camel_tools.utils.normalize import normalize_unicode

from cxnlp.text.arabic import clean_arabic_script, normalize_arabic_letters
from cxnlp.text.chars import ARABIC_SCRIPT_LETTER_RE, DIGITS_TO_ASCII, INVISIBLE_RE, ZWJ, ZWNJ
from cxnlp.text.detect import detect_language
from cxnlp.text.persian import normalize_persian
from cxnlp.text.social import handle_emojis, reduce_elongation, replace_contacts, split_hashtags

NORMALIZATION_FILE = "normalization.json"

_SPACE_RE = regex.compile(r"\s+")
# ZWJ is meaningful only inside emoji sequences (👨‍👩‍👧); anywhere else it is noise.
_STRAY_ZWJ_RE = regex.compile(
    rf"(?<![\p{{Extended_Pictographic}}\ufe0f\U0001F3FB-\U0001F3FF]){ZWJ}|{ZWJ}(?!\p{{Extended_Pictographic}})"
)
_LATIN_RUN_RE = regex.compile(r"\p{Latin}+")

_CHOICES = {
    "zwnj": ("keep", "space", "remove"),
    "hashtags": ("split", "keep", "remove"),
    "emojis": ("keep", "text", "remove"),
}


@dataclass(frozen=True)
class NormalizerConfig:
    """Settings of every normalisation step. Stored in each model directory."""

    unicode: bool = True
    """Unicode NFKC-style normalisation, Arabic presentation forms folded, diacritics and
    tatweel removed, Arabic-script punctuation mapped to ASCII (CAMeL Tools utilities)."""
    remove_invisible: bool = True
    """Remove bidi marks (LRM, RLM, ALM, embeddings, isolates), BOM and zero-width spaces."""
    unify_digits: bool = True
    """Map Eastern Arabic (٠-٩) and Persian (۰-۹) digits to ASCII digits."""
    urls: bool = True
    """Replace URLs with `<url>`."""
    emails: bool = True
    """Replace e-mail addresses with `<email>`."""
    mentions: bool = True
    """Replace @mentions with `@user`."""
    phones: bool = True
    """Replace phone numbers (8+ digits) with `<phone>`."""
    hashtags: str = "split"
    """`split` hashtags into words ("#خدمة_سيئة" → "خدمة سيئة"), `keep` or `remove` them."""
    max_repeat: int = 2
    """Cap runs of a repeated character ("حلوووو" → "حلوو", "!!!!" → "!!"); 0 disables."""
    emojis: str = "keep"
    """`keep` emojis, turn them into `:name:` `text`, or `remove` them."""
    arabic_alef: bool = True
    """Arabic: fold أ إ آ ٱ into ا."""
    arabic_alef_maksura: bool = True
    """Arabic: fold ى into ي."""
    arabic_teh_marbuta: bool = False
    """Arabic: fold ة into ه (off by default: it merges distinct words)."""
    persian: bool = True
    """Persian: hazm normalisation (ي/ك → ی/ک, affix spacing with ZWNJ)."""
    zwnj: str = "space"
    """What the Persian zero-width non-joiner becomes: `space` (default; matches how
    XLM-R-style tokenizers read it, and makes "می‌خواهم", "می خواهم" and "میخواهم" one
    spelling), `keep`, or `remove`."""
    lowercase_latin: bool = True
    """Lowercase Latin letters (Arabizi, Finglish, English)."""

    def __post_init__(self) -> None:
        for name, allowed in _CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"NormalizerConfig.{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if not isinstance(self.max_repeat, int) or self.max_repeat < 0:
            raise ValueError(f"NormalizerConfig.max_repeat must be an integer >= 0, got {self.max_repeat!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NormalizerConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known - {"cxnlp_version"}
        if unknown:
            raise ValueError(f"unknown normalisation settings: {sorted(unknown)}")
        return cls(**{k: v for k, v in data.items() if k in known})

    def save(self, directory: str | Path) -> Path:
        from cxnlp import __version__

        path = Path(directory) / NORMALIZATION_FILE
        payload = {**self.to_dict(), "cxnlp_version": __version__}
        path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, directory: str | Path) -> NormalizerConfig:
        path = Path(directory) / NORMALIZATION_FILE
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))


class Normalizer:
    """Callable normaliser: `Normalizer(config)(text, lang=None)`.

    `lang` (`ar`, `fa`, anything else) selects the language-specific steps; when it is
    None the language is detected from the text.
    """

    def __init__(self, config: NormalizerConfig | None = None) -> None:
        self.config = config or NormalizerConfig()

    def __call__(self, text: str, lang: str | None = None) -> str:
        return self.normalize(text, lang)

    def normalize(self, text: str, lang: str | None = None) -> str:
        if not isinstance(text, str):
            raise TypeError(f"normalize() expects a str, got {type(text).__name__}")
        c = self.config
        if c.remove_invisible:
            text = INVISIBLE_RE.sub("", text)
            text = _STRAY_ZWJ_RE.sub("", text)
        if c.unicode:
            text = normalize_unicode(text)
        if c.unify_digits:
            text = text.translate(DIGITS_TO_ASCII)
        # Links first (a URL may contain "#fragment"), hashtags next (splitting one can
        # expose an @mention: "#sale@shop"), then mentions and phone numbers.
        text = replace_contacts(text, urls=c.urls, emails=c.emails, mentions=False, phones=False)
        text = split_hashtags(text, c.hashtags)
        text = replace_contacts(text, urls=False, emails=False, mentions=c.mentions, phones=c.phones)
        if lang is None:
            lang = detect_language(text).lang
        if ARABIC_SCRIPT_LETTER_RE.search(text):
            if c.unicode:
                text = clean_arabic_script(text)
            if lang == "fa" and c.persian:
                text = normalize_persian(text, zwnj=c.zwnj)
            elif lang != "fa":
                text = normalize_arabic_letters(
                    text, alef=c.arabic_alef, alef_maksura=c.arabic_alef_maksura, teh_marbuta=c.arabic_teh_marbuta
                )
        if c.zwnj != "keep":
            text = text.replace(ZWNJ, " " if c.zwnj == "space" else "")
        text = handle_emojis(text, c.emojis)
        if c.lowercase_latin:
            text = _LATIN_RUN_RE.sub(lambda m: m.group(0).lower(), text)
        text = reduce_elongation(text, c.max_repeat)
        if c.remove_invisible:
            text = _STRAY_ZWJ_RE.sub("", text)
        return _SPACE_RE.sub(" ", text).strip()

    def batch(self, texts: list[str], langs: list[str | None] | None = None) -> list[str]:
        langs = langs or [None] * len(texts)
        return [self.normalize(t, lang) for t, lang in zip(texts, langs, strict=True)]


_DEFAULT: Normalizer | None = None


def normalize(text: str, lang: str | None = None, config: NormalizerConfig | None = None) -> str:
    """Normalise one text with the given (or default) settings; see `NormalizerConfig`."""
    global _DEFAULT
    if config is not None:
        return Normalizer(config).normalize(text, lang)
    if _DEFAULT is None:
        _DEFAULT = Normalizer()
    return _DEFAULT.normalize(text, lang)
