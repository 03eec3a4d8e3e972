"""The Predictor: record shape, evidence faithfulness, long texts, thresholds, heads, order.

Runs on the real tiny transformer and linear model directories built by the session
fixtures (real files, the real tokenizer, the real decoding).
"""

from __future__ import annotations

import dataclasses
import json
import random

import numpy as np
import pytest
import regex
from transformers import AutoTokenizer

from cxnlp import Predictor
from cxnlp.model_dir import ENCODER_DIR
from tests.conftest import corpus_records

WORD = regex.compile(r"\S+")


@pytest.fixture(scope="module", params=["tiny_model_dir", "linear_model_dir"])
def predictor(request) -> Predictor:
    return Predictor.load(request.getfixturevalue(request.param))


@pytest.fixture(scope="module")
def transformer(tiny_model_dir) -> Predictor:
    return Predictor.load(tiny_model_dir)


def texts_with_words(n: int, min_words: int = 6, max_words: int = 40) -> list[str]:
    out = []
    for r in corpus_records(600):
        if min_words <= len(WORD.findall(r["text"])) <= max_words and r["text"] not in out:
            out.append(r["text"])
        if len(out) == n:
            break
    return out


def test_record_shape(predictor):
    texts = ["الطلب تأخر ثلاث أيام وما حد رد علي", "کارمند خیلی مودب بود، ممنونم", "ok"]
    records = predictor.predict(texts, ids=["a", 7, "c"])
    json.dumps(records, ensure_ascii=False)  # plain JSON types only: the HTTP API returns them as they are
    assert [r["id"] for r in records] == ["a", 7, "c"]
    assert records[0]["lang"] == "ar" and records[1]["lang"] == "fa"
    for rec in records:
        assert set(rec) == {"id", "lang", "variety", "variety_score", "heads"}
        assert 0.0 <= rec["variety_score"] <= 1.0
        assert list(rec["heads"]) == predictor.taxonomy.head_names
        for head in predictor.taxonomy.heads:
            out = rec["heads"][head.name]
            scores = out["scores"]
            assert list(scores) == head.label_names
            assert all(0.0 <= v <= 1.0 for v in scores.values())
            assert set(out["labels"]) <= set(head.label_names)
            if head.kind == "multilabel":
                assert "label" not in out
                assert [scores[lab] for lab in out["labels"]] == sorted((scores[lab] for lab in out["labels"]),
                                                                      reverse=True)
                if not head.allow_empty:
                    assert out["labels"]
            else:
                assert out["labels"] == [out["label"]]
                assert sum(scores.values()) == pytest.approx(1.0, abs=1e-3)
            if head.kind == "multiclass":
                assert out["label"] == max(scores, key=scores.get)
            if head.kind == "ordinal":
                # The label is where P(y > k) falls below the cut-point's tuned threshold.
                thr = predictor.thresholds.get(head.name, np.full(head.num_labels - 1, 0.5))
                above = 1.0 - np.cumsum([scores[lab] for lab in head.label_names])[:-1]
                k = head.index(out["label"])
                assert all(above[j] >= thr[j] - 1e-3 for j in range(k))
                assert k == head.num_labels - 1 or above[k] < thr[k] + 1e-3
            if head.kind == "ordinal":
                expected = sum(i * scores[lab] for i, lab in enumerate(head.label_names))
                assert out["expected"] == pytest.approx(expected, abs=1e-3)
                assert 0.0 <= out["expected"] <= head.num_labels - 1
            else:
                assert "expected" not in out
    bare = predictor.predict(texts[:1], include_scores=False)[0]
    assert "id" not in bare and "evidence" not in bare
    assert all("scores" not in out for out in bare["heads"].values())
    assert predictor.predict([]) == []


def _without(text: str, spans: list[tuple[int, int]]) -> str:
    for s, e in sorted(spans, reverse=True):
        text = text[:s] + text[e:]
    return text


def test_evidence_is_faithful(predictor):
    """Removing the evidence words lowers the label's score more than removing as many
    random words, on average over texts and labels."""
    rng = random.Random(0)
    texts = texts_with_words(6, min_words=8, max_words=16)
    cases = []  # (head, label, [text, text without evidence, 5 × text without random words])
    for text, rec in zip(texts, predictor.predict(texts, evidence=True, evidence_top_k=2), strict=True):
        words = [(m.start(), m.end()) for m in WORD.finditer(text)]
        for key, spans in rec["evidence"].items():
            if not spans:
                continue
            head, label = key.split(":")
            assert label in rec["heads"][head]["labels"]
            for s in spans:  # offsets index the original text
                assert text[s["start"]:s["end"]] == s["text"]
                assert s["weight"] > 0
            ev = [(s["start"], s["end"]) for s in spans]
            variants = [text, _without(text, ev)] + [_without(text, rng.sample(words, len(ev))) for _ in range(5)]
            cases.append((head, label, variants))
    assert len(cases) >= 10
    probs = predictor.probabilities([v for _, _, variants in cases for v in variants])  # one batched call
    evidence_drops, random_drops = [], []
    for i, (head, label, _) in enumerate(cases):
        p = probs[head][7 * i:7 * i + 7, predictor.taxonomy.head(head).index(label)]
        evidence_drops.append(p[0] - p[1])
        random_drops.append(float(np.mean(p[0] - p[2:])))
    assert np.mean(evidence_drops) > 0
    assert np.mean(evidence_drops) > np.mean(random_drops)


def test_long_texts_are_chunked_not_truncated(transformer, tiny_model_dir):
    """A cue placed after the model's token window still changes the output."""
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model_dir / ENCODER_DIR))
    filler = "ذهبت إلى الفرع اليوم وسألت الموظف عن الرصيد ثم رجعت إلى البيت. " * 12
    n_tokens = len(tokenizer(transformer.normalizer(filler, "ar"), add_special_tokens=False)["input_ids"])
    assert n_tokens > 2 * transformer.meta.max_length  # the cue below starts well past the first window
    cue = "للمرة الثالثة الطلب متأخر والتوصيل سيء جدا وما حد يرد علي مهزلة"
    base = transformer.probabilities([filler])
    with_cue = transformer.probabilities([filler + cue])
    changed = max(float(np.abs(base[h] - with_cue[h]).max()) for h in base)
    assert changed > 1e-3
    # Multilabel heads take the max over windows: a window holding the cue can only add.
    complaint_gain = with_cue["complaint"][0] - base["complaint"][0]
    assert complaint_gain.max() > 1e-3
    # The record comes from the same chunked scores.
    rec = transformer.predict([filler + cue])[0]
    assert rec["heads"]["complaint"]["scores"]["delay"] == pytest.approx(
        float(with_cue["complaint"][0, transformer.taxonomy.head("complaint").index("delay")]), abs=1e-4)


def test_threshold_overrides(predictor):
    text = "الطلب تأخر ثلاث أيام وما حد رد علي"
    complaint = predictor.taxonomy.head("complaint")
    everything = predictor.predict([text], heads=["complaint"],
                                   thresholds={"complaint": {lab: 0.0 for lab in complaint.label_names}})[0]
    assert sorted(everything["heads"]["complaint"]["labels"]) == sorted(complaint.label_names)
    nothing = predictor.predict([text], heads=["complaint"],
                                thresholds={"complaint": {lab: 1.0 for lab in complaint.label_names}})[0]
    assert nothing["heads"]["complaint"]["labels"] == []  # complaint allows an empty set
    emotion = predictor.taxonomy.head("emotion")
    fallback = predictor.predict([text], heads=["emotion"],
                                 thresholds={"emotion": {lab: 1.0 for lab in emotion.label_names}})[0]
    scores = fallback["heads"]["emotion"]["scores"]
    assert fallback["heads"]["emotion"]["labels"] == [max(scores, key=scores.get)]  # never empty: top label
    # Overrides touch only the labels named: the others keep the model's thresholds.
    default = predictor.predict([text], heads=["complaint"])[0]["heads"]["complaint"]["labels"]
    one = predictor.predict([text], heads=["complaint"], thresholds={"complaint": {"pricing": 0.0}})[0]
    assert set(one["heads"]["complaint"]["labels"]) == set(default) | {"pricing"}
    with pytest.raises(ValueError, match="between 0 and 1"):
        predictor.predict([text], thresholds={"complaint": {"delay": 1.5}})
    with pytest.raises(ValueError, match="multilabel"):
        predictor.predict([text], thresholds={"sentiment": {"negative": 0.5}})
    with pytest.raises(KeyError):
        predictor.predict([text], thresholds={"complaint": {"nope": 0.5}})


def test_heads_subset(predictor):
    rec = predictor.predict(["خیلی ممنون"], heads=["signal", "effort"])[0]
    assert list(rec["heads"]) == ["signal", "effort"]
    full = predictor.predict(["خیلی ممنون"])[0]
    assert rec["heads"]["effort"] == full["heads"]["effort"]
    with pytest.raises(KeyError, match="unknown head"):
        predictor.predict(["x"], heads=["sentiment", "nope"])


def test_input_order_and_ids(predictor):
    texts = texts_with_words(10, min_words=3)
    ids = [f"id-{i}" for i in range(len(texts))]
    forward = predictor.predict(texts, ids=ids)
    backward = predictor.predict(texts[::-1], ids=ids[::-1])
    assert [r["id"] for r in forward] == ids
    for a, b in zip(forward, backward[::-1], strict=True):
        assert a["id"] == b["id"]
        for head in a["heads"]:
            assert a["heads"][head]["labels"] == b["heads"][head]["labels"]
            for lab, v in a["heads"][head]["scores"].items():
                assert b["heads"][head]["scores"][lab] == pytest.approx(v, abs=1e-3)
    singles = [predictor.predict([t])[0] for t in texts[:3]]
    for s, f in zip(singles, forward[:3], strict=True):
        assert s["heads"]["sentiment"]["label"] == f["heads"]["sentiment"]["label"]
    with pytest.raises(ValueError, match="ids"):
        predictor.predict(texts, ids=ids[:-1])
    with pytest.raises(TypeError, match="texts\\[1\\]"):
        predictor.predict(["ok", 5])  # type: ignore[list-item]


def test_language_guesses_from_the_caller_are_used(predictor):
    from cxnlp.text import detect_language

    texts = texts_with_words(6, min_words=3)
    guesses = [detect_language(t) for t in texts]
    assert predictor.predict(texts, languages=guesses) == predictor.predict(texts)
    # The guesses are taken as given, not detected again.
    swapped = [dataclasses.replace(g, lang="fa" if g.lang == "ar" else "ar") for g in guesses]
    assert [r["lang"] for r in predictor.predict(texts, languages=swapped)] == [g.lang for g in swapped]
    with pytest.raises(ValueError, match="language guesses"):
        predictor.predict(texts, languages=guesses[:-1])


@pytest.mark.parametrize("max_length", [16, 24, 40])
def test_a_short_token_window_still_scores_every_text(tiny_model_dir, max_length):
    """Texts of every length, including those just longer than one window, get a record."""
    p = Predictor.load(tiny_model_dir, max_length=max_length)
    texts = [" ".join(["الطلب متأخر"] * n) for n in range(1, 30)]
    z = p.logits(texts)
    assert all(v.shape[0] == len(texts) for v in z.values())
    assert len(p.predict(texts)) == len(texts)
    with pytest.raises(ValueError, match="at least 16"):
        Predictor.load(tiny_model_dir, max_length=8)
