from __future__ import annotations

from cxnlp.data.duplicates import near_duplicate_pairs


def test_finds_near_and_exact_duplicates_only():
    texts = ["الطلب تأخر ثلاث أيام وما حد رد علي", "الطلب تأخر ثلاث أيام وما حد رد علي!",
             "سفارشم هنوز نرسیده، سه بار زنگ زدم", "الخدمة ممتازة والموظف محترم", "ok", "OK"]
    pairs = {(a, b) for a, b, _ in near_duplicate_pairs(texts, 0.8, block=2)}
    assert pairs == {(0, 1), (4, 5)}
    assert near_duplicate_pairs(texts[:1]) == []
    # One changed letter in a short text is below the threshold: similar, not duplicate.
    assert near_duplicate_pairs(["تأخر الطلب يومين", "تأخر الطلب يومان"], 0.8) == []
