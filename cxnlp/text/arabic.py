"""Arabic-script cleaning built on CAMeL Tools utilities.

CAMeL Tools' `arclean` map folds every Arabic-script letter into the Arabic alphabet and
deletes every character it does not know (emojis included). Feedback mixes Arabic with
Persian words and emojis, so the map used here is `arclean` with Persian letters kept
and unknown characters passed through unchanged.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import camel_tools.utils.charmap as camel_charmap
from camel_tools.utils.charmap import CharMapper
from camel_tools.utils.dediac import dediac_ar
from camel_tools.utils.normalize import (
    normalize_alef_ar,
    normalize_alef_maksura_ar,
    normalize_teh_marbuta_ar,
)

from cxnlp.text.chars import TATWEEL, ZWJ, ZWNJ

# Characters that arclean would rewrite but that Persian (and the ZWNJ/ZWJ policy
# applied later) needs intact.
_KEEP = "پچژگکیۀ" + ZWNJ + ZWJ


@lru_cache(maxsize=1)
def persian_safe_arclean() -> CharMapper:
    """`arclean` without its Persian-destroying and emoji-deleting entries."""
    path = Path(camel_charmap.__file__).parent / "charmaps" / "arclean_map.json"
    spec = json.loads(path.read_text(encoding="utf-8"))
    charmap: dict[str, str | None] = {}
    for key, value in spec["charMap"].items():
        charmap[key] = value
    # Ranges that cover kept characters are expanded so only those characters change.
    expanded: dict[str, str | None] = {}
    for key, value in charmap.items():
        if len(key) == 3 and key[1] == "-":
            chars = [chr(c) for c in range(ord(key[0]), ord(key[2]) + 1)]
            if any(c in _KEEP for c in chars):
                for c in chars:
                    expanded[c] = None if c in _KEEP else value
                continue
        expanded[key] = None if key in _KEEP else value
    return CharMapper(expanded, None)


def clean_arabic_script(text: str, *, dediacritize: bool = True, remove_tatweel: bool = True) -> str:
    """Fold presentation forms, digits and punctuation; drop diacritics and tatweel."""
    text = persian_safe_arclean().map_string(text)
    if remove_tatweel:
        text = text.replace(TATWEEL, "")
    if dediacritize:
        text = dediac_ar(text)
    return text


def normalize_arabic_letters(text: str, *, alef: bool = True, alef_maksura: bool = True,
                             teh_marbuta: bool = False) -> str:
    """Fold spelling variants that Arabic writers use interchangeably."""
    if alef:
        text = normalize_alef_ar(text)
    if alef_maksura:
        text = normalize_alef_maksura_ar(text)
    if teh_marbuta:
        text = normalize_teh_marbuta_ar(text)
    return text
