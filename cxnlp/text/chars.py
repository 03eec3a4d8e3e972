"""Character classes shared by language detection and normalisation.

Kept in one place so that the detector and the normaliser agree on what counts as an
Arabic-script letter, a Persian-only letter or an invisible mark.
"""

from __future__ import annotations

import regex

ZWNJ = "\u200c"
ZWJ = "\u200d"
TATWEEL = "\u0640"

# Letters that occur in Persian but not in Arabic orthography. ی and ک are the strongest
# cues; Arabic-keyboard Persian types ي/ك instead, so word cues back these up.
PERSIAN_ONLY = frozenset("پچژگکیۀ")
# Letters that occur in Arabic but (almost) never in Persian, and that survive Arabic
# normalisation (ى and إ are folded into ي and ا, so they cannot vote stably).
ARABIC_ONLY = frozenset("ةؤ")
# Keyboard-dependent letters: the Arabic code points, also typed by Persian users on an
# Arabic keyboard.
ARABIC_KEYBOARD_LETTERS = frozenset("يك")

# Invisible direction and formatting marks that carry no meaning for classification:
# LRM, RLM, ALM, embeddings/overrides, isolates, word joiner, BOM, zero-width space and
# the soft hyphen. ZWNJ and ZWJ are handled separately because they matter in Persian
# words and emoji sequences.
INVISIBLE_MARKS = "\u200b\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2060\ufeff\u00ad"
INVISIBLE_RE = regex.compile(f"[{INVISIBLE_MARKS}]")

ARABIC_SCRIPT_LETTER_RE = regex.compile(r"[\u0620-\u064a\u066e-\u06d3\u06fa-\u06ff\u0750-\u077f]")
LATIN_LETTER_RE = regex.compile(r"\p{Latin}")

EASTERN_DIGITS = "٠١٢٣٤٥٦٧٨٩"
PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
DIGITS_TO_ASCII = str.maketrans(EASTERN_DIGITS + PERSIAN_DIGITS, "0123456789" * 2)

# Arabic diacritics (harakat, tanween, shadda, sukun, dagger alef, Quranic marks).
DIACRITICS_RE = regex.compile(r"[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
