"""Social-media noise: links, handles, contact details, hashtags, elongations, emojis.

Placeholders keep the fact that a post contained a link or a mention (a signal for
spam and campaigns) while removing what would make every post unique and leak
personal data into a model.
"""

from __future__ import annotations

import emoji
import regex

URL_TOKEN = "<url>"
USER_TOKEN = "@user"
EMAIL_TOKEN = "<email>"
PHONE_TOKEN = "<phone>"
PLACEHOLDERS = (URL_TOKEN, USER_TOKEN, EMAIL_TOKEN, PHONE_TOKEN)

EMAIL_RE = regex.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-zA-Z]{2,}(?![\w@])")
URL_RE = regex.compile(
    r"(?i)(?:https?://|www\.)[^\s<>\"]+|"
    r"\b(?:[a-z0-9-]+\.)+(?:com|net|org|io|me|ly|co|sa|ae|eg|ma|ir|info|app|shop)(?:/[^\s<>\"]*)?(?![\w.])"
)
MENTION_RE = regex.compile(r"@[\w.]*\w")
# International or local numbers of 8+ digits, optionally grouped by spaces or dashes.
# Order numbers are usually shorter and survive.
PHONE_RE = regex.compile(r"(?<![\w<])(?:\+|00)?\d(?:[ \-]?\d){7,14}(?!\w)")
HASHTAG_RE = regex.compile(r"#([\p{L}\p{M}\p{N}_\u200c]+)")
_CAMEL_RE = regex.compile(r"(?<=\p{Ll})(?=\p{Lu})")


def replace_contacts(text: str, *, urls: bool = True, emails: bool = True, mentions: bool = True,
                     phones: bool = True) -> str:
    """Replace URLs, e-mail addresses, @mentions and phone numbers by placeholders."""
    if emails:
        text = EMAIL_RE.sub(f" {EMAIL_TOKEN} ", text)
    if urls:
        text = URL_RE.sub(f" {URL_TOKEN} ", text)
    if mentions:
        text = MENTION_RE.sub(f" {USER_TOKEN} ", text)
    if phones:
        text = PHONE_RE.sub(f" {PHONE_TOKEN} ", text)
    return text


def split_hashtags(text: str, mode: str = "split") -> str:
    """`split`: "#خدمة_سيئة" → "خدمة سيئة", "#BadService" → "Bad Service";
    `remove`: drop hashtags; `keep`: unchanged."""
    if mode == "keep":
        return text
    if mode == "remove":
        return HASHTAG_RE.sub(" ", text)

    def _split(m: regex.Match[str]) -> str:
        body = m.group(1).replace("_", " ")
        return " " + _CAMEL_RE.sub(" ", body) + " "

    return HASHTAG_RE.sub(_split, text)


def reduce_elongation(text: str, max_repeat: int = 2) -> str:
    """Cap runs of the same character ("حلوووو", "!!!!", "😂😂😂😂") at `max_repeat`."""
    if max_repeat <= 0:
        return text
    pattern = regex.compile(r"(.)\1{" + str(max_repeat) + r",}", regex.DOTALL)
    return pattern.sub(lambda m: m.group(1) * max_repeat, text)


def handle_emojis(text: str, mode: str = "keep") -> str:
    """`keep` emojis (they carry emotion and the tokenizer knows most of them), turn them
    into `:text:` names, or `remove` them."""
    if mode == "keep":
        return text
    if mode == "text":
        return emoji.demojize(text, delimiters=(" :", ": "))
    if mode == "remove":
        return emoji.replace_emoji(text, replace=" ")
    raise ValueError(f"unknown emoji mode {mode!r}; expected keep, text or remove")
