"""The shipped corpus cannot silently shrink or drift: schema, minimums, duplicates, splits."""

from __future__ import annotations

import re
from collections import Counter, defaultdict

import pytest

from cxnlp.data import load_labelled
from cxnlp.data.duplicates import near_duplicate_pairs
from cxnlp.data.splits import assign_splits
from tests.conftest import REPO

CORPUS = REPO / "data" / "corpus"
RARE_SIGNAL = {"campaign", "unreasonable", "careless", "irrelevant"}
CHANNELS = {"survey", "social", "app_review", "chat", "email", "call_note"}
DOMAINS = {"telecom", "banking", "ecommerce", "food_delivery", "ride_hailing", "travel", "government", "healthcare",
           "utilities", "insurance", "retail"}


@pytest.fixture(scope="module")
def corpus(taxonomy):
    res = load_labelled(CORPUS, taxonomy)  # raises, listing file:line, on any invalid record
    return res.dataset


def test_every_record_is_complete_and_valid(corpus, taxonomy):
    for r in corpus:
        assert re.fullmatch(rf"{r['lang']}-{r['variety']}-\d{{6}}", r["id"]), r["id"]
        for head in taxonomy.heads:
            assert r["labels"][head.name] is not None, (r["id"], head.name)
        emo = r["labels"]["emotion"]
        assert emo and ("neutral" not in emo or len(emo) == 1), r["id"]
        assert r["channel"] in CHANNELS and r["domain"] in DOMAINS and r["script"] in {"arabic", "latin", "mixed"}


def test_size_and_varieties(corpus):
    langs = Counter(corpus["lang"])
    assert len(corpus) >= 6000 and langs["ar"] >= 3000 and langs["fa"] >= 3000, langs
    var = Counter(zip(corpus["lang"], corpus["variety"], strict=True))
    minimums = {("ar", "msa"): 600, ("ar", "gulf"): 600, ("ar", "egyptian"): 600, ("ar", "levantine"): 450,
                ("ar", "maghrebi"): 450, ("fa", "formal"): 1000, ("fa", "colloquial"): 1200}
    for key, n in minimums.items():
        assert var[key] >= n, (key, var[key])
    romanized_or_mixed = Counter(lang for lang, s in zip(corpus["lang"], corpus["script"], strict=True) if s != "arabic")
    assert romanized_or_mixed["ar"] >= 300 and romanized_or_mixed["fa"] >= 250, romanized_or_mixed


def test_persian_orthography_variants(corpus):
    fa = [t for t, lang in zip(corpus["text"], corpus["lang"], strict=True) if lang == "fa"]
    with_zwnj = sum("\u200c" in t for t in fa)
    spaced_or_glued = sum(bool(re.search(r"(^|\s)(می|نمی) \S|(^|\s)(می|نمی)(?=[آ-ی]{2,})", t)) for t in fa)
    arabic_keyboard = sum(bool(re.search("[يك]", t)) for t in fa)
    assert with_zwnj >= 300 and spaced_or_glued >= 300 and arabic_keyboard >= 150, (with_zwnj, spaced_or_glued,
                                                                                     arabic_keyboard)


def test_label_minimums_per_language(corpus, taxonomy):
    counts: dict[str, Counter] = defaultdict(Counter)
    for lang, labels in zip(corpus["lang"], corpus["labels"], strict=True):
        for head in taxonomy.heads:
            v = labels[head.name]
            for label in v if isinstance(v, list) else [v]:
                counts[lang][(head.name, label)] += 1
    short = []
    for lang in ("ar", "fa"):
        for head in taxonomy.heads:
            for label in head.label_names:
                need = 25 if head.name == "signal" and label in RARE_SIGNAL else 40
                if counts[lang][(head.name, label)] < need:
                    short.append((lang, head.name, label, counts[lang][(head.name, label)]))
    assert not short, short


def test_channels_and_domains_in_both_languages(corpus):
    for lang in ("ar", "fa"):
        rows = [(c, d) for c, d, lg in zip(corpus["channel"], corpus["domain"], corpus["lang"], strict=True) if lg == lang]
        assert {c for c, _ in rows} == CHANNELS and {d for _, d in rows} == DOMAINS


def test_lengths_vary(corpus):
    words = [len(t.split()) for t in corpus["text"]]
    assert sum(w <= 6 for w in words) / len(words) >= 0.1
    assert sum(w >= 40 for w in words) / len(words) >= 0.05


def test_near_duplicates_under_two_percent(corpus):
    for lang in ("ar", "fa"):
        texts = [t for t, lg in zip(corpus["text"], corpus["lang"], strict=True) if lg == lang]
        involved = {i for a, b, _ in near_duplicate_pairs(texts, 0.8) for i in (a, b)}
        assert len(involved) / len(texts) < 0.02, (lang, len(involved))


def test_stored_split_is_the_deterministic_one(corpus):
    ids, strata = corpus["id"], [f"{a}|{b}" for a, b in zip(corpus["lang"], corpus["variety"], strict=True)]
    assert corpus["split"] == assign_splits(ids, strata, salt="cxnlp-corpus-v1")
    shares = Counter(corpus["split"])
    assert abs(shares["train"] / len(ids) - 0.8) < 0.01 and shares["dev"] > 500 and shares["test"] > 500
