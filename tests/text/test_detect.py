from __future__ import annotations

import pytest

from cxnlp.text import detect_language, detect_variety


@pytest.mark.parametrize(
    ("text", "lang", "script", "romanized"),
    [
        ("وش صار على طلبي؟ ابي اعرف الحين", "ar", "arabic", False),
        ("لقد تم تأخير الطلب ولم يتم إبلاغي", "ar", "arabic", False),
        ("سفارشم هنوز نرسیده، چرا انقدر طول میکشه؟", "fa", "arabic", False),
        # Persian typed on an Arabic keyboard: no Persian-only letters, word cues decide.
        ("اين يك متن فارسي است كه با كيبورد عربي نوشته شده", "fa", "arabic", False),
        ("ana 3ayez a3raf el order fein ya gama3a", "ar", "latin", True),
        ("salam man mikham bedoonam chera sefaresham nayoomad", "fa", "latin", True),
        ("The delivery was late and nobody answered", "other", "latin", False),
        ("الـ app ما يشتغل من امس، every time crash", "ar", "mixed", False),
        ("12345 !!!", "other", "none", False),
    ],
)
def test_language(text, lang, script, romanized):
    g = detect_language(text)
    assert (g.lang, g.script, g.romanized) == (lang, script, romanized)
    assert 0.0 <= g.confidence <= 1.0


@pytest.mark.parametrize(
    ("text", "variety"),
    [
        ("وش صار على طلبي؟ ابي اعرف الحين", "gulf"),
        ("انا عايز اعرف فين الاوردر بتاعي ده", "egyptian"),
        ("شو هالخدمة، بدي رجع المصاري هلق", "levantine"),
        ("واش كاين شي حل؟ بزاف ديال المشاكل", "maghrebi"),
        ("لقد تم تأخير الطلب ولم يتم إبلاغي بذلك حتى الآن", "msa"),
        ("ana 3ayez el order delwa2ty", "egyptian"),
        ("با سلام، خواهشمند است نسبت به پیگیری درخواست اینجانب اقدام نمایید", "formal"),
        ("بابا چرا انقد طول میکشه؟ نمیدونم دیگه چیکار کنم", "colloquial"),
    ],
)
def test_variety(text, variety):
    v = detect_variety(text)
    assert v.variety == variety
    assert v.score == max(v.scores.values())
    assert abs(sum(v.scores.values()) - 1.0) < 1e-3


def test_variety_of_other_language_is_unknown():
    assert detect_variety("hello there", lang="other").variety == "unknown"


def test_weak_evidence_gives_low_confidence():
    assert detect_variety("الخدمة", lang="ar").score < 0.5
