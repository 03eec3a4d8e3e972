"""Persian normalisation built on hazm.

hazm is installed with `pip install --no-deps hazm==0.10.0`: it is the last release for
Python 3.11 and pins numpy==1.24.3, which conflicts with camel-tools 1.6 and current
pyarrow (numpy>=2). Its import-time dependencies are declared in pyproject.toml; the
Normalizer used here works with numpy 2.
"""

from __future__ import annotations

from functools import lru_cache

from cxnlp.text.chars import ZWNJ

HAZM_INSTALL_HINT = (
    "Persian normalisation needs hazm. Install it with: pip install --no-deps 'hazm==0.10.0' "
    "(hazm 0.10 pins numpy==1.24.3, which conflicts with camel-tools and pyarrow; cxnlp lists "
    "the dependencies hazm needs itself). `make setup` does this for you."
)


@lru_cache(maxsize=1)
def _hazm_normalizer():  # noqa: ANN202 - hazm has no type hints
    try:
        from hazm import Normalizer
    except ImportError as exc:  # pragma: no cover - exercised only without hazm
        raise ImportError(HAZM_INSTALL_HINT) from exc
    # Digits, repeated characters and special characters are handled by cxnlp itself so
    # that Arabic and Persian text are treated alike; persian_style would rewrite
    # quotes and decimal points differently from Arabic text.
    return Normalizer(
        correct_spacing=True,
        remove_diacritics=True,
        remove_specials_chars=False,
        decrease_repeated_chars=False,
        persian_style=False,
        persian_numbers=False,
        unicodes_replacement=True,
        seperate_mi=True,
    )


def normalize_persian(text: str, *, zwnj: str = "space") -> str:
    """Fold Arabic-keyboard ي/ك into ی/ک, fix affix spacing with ZWNJ (so "می خواهم",
    "میخواهم" and "می‌خواهم" become one spelling), then apply the ZWNJ policy:
    `keep` the canonical ZWNJ, turn it into a `space` (what XLM-R-style tokenizers see),
    or `remove` it (join the parts)."""
    text = _hazm_normalizer().normalize(text)
    if zwnj == "space":
        text = text.replace(ZWNJ, " ")
    elif zwnj == "remove":
        text = text.replace(ZWNJ, "")
    elif zwnj != "keep":
        raise ValueError(f"unknown zwnj policy {zwnj!r}; expected keep, space or remove")
    return text
