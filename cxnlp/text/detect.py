"""Language, script and variety detection from characters and word cues.

Feedback arrives without language tags, often mixed with English or French and often
romanised (Arabizi, Finglish). Detection has to be cheap (it runs on every post of a
batch job) and explainable, so it scores letters that only one orthography uses and
frequent function words of each language and variety, rather than running a model.
The variety guess is metadata for slicing reports; it comes with a confidence so that
downstream users can ignore weak guesses.
"""

from __future__ import annotations

import math
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

import regex

from cxnlp.text.arabic import clean_arabic_script, normalize_arabic_letters
from cxnlp.text.chars import (
    ARABIC_ONLY,
    ARABIC_SCRIPT_LETTER_RE,
    LATIN_LETTER_RE,
    PERSIAN_ONLY,
    ZWNJ,
)

LANGUAGES = ("ar", "fa", "other")
ARABIC_VARIETIES = ("msa", "gulf", "egyptian", "levantine", "maghrebi")
PERSIAN_VARIETIES = ("formal", "colloquial")

_WORD_RE = regex.compile(r"[\p{L}\p{M}\d\u200c]+")
_ARABIZI_DIGIT_RE = regex.compile(r"(?i)(?:[a-z][2-9]|[2-9][a-z])")


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD_RE.findall(text)]


def _view(text: str) -> str:
    """The form detection looks at: Arabic-script cleaning and letter folding applied, so
    that a text and its normalised form get the same guess (diacritics, alef and alef
    maksura variants do not change the vote)."""
    return normalize_arabic_letters(clean_arabic_script(text))


def _cues(s: str) -> frozenset[str]:
    words = s.split()
    return frozenset(words) | frozenset(_view(w) for w in words)


# Frequent words that tell Persian from Arabic when both are written in Arabic script
# (Persian typed on an Arabic keyboard has no Persian-only letters). Written with both
# keyboards' ي/ك where it matters.
_FA_WORDS = _cues(
    "است هست نیست نيست این اين آن که كه را برای براي از با یک يك یه يه می مي نمی نمي خیلی خيلي "
    "چرا چه چی چي ولی ولي شما اونا ایشون بود بودم شد شده شدم کرد كرد کردم كردم کنید كنيد "
    "میخوام ميخوام نمیدونم نميدونم دیگه ديگه اینو اينو رو هیچ هيچ چند کی كي کجا كجا "
    "باید بايد نباید نبايد خوب ممنون مرسی مرسي لطفا لطفاً تشکر تشكر پول سفارش پشتیبانی پشتيباني "
    "اید ایم هستم هستید نشد میشه ميشه نمیشه نميشه گفتن گفتند زنگ"
)
_AR_WORDS = _cues(
    "في على الى إلى هذا هذه ذلك التي الذي لا لم لن ما مش مو مب شو وش ايش إيش ليش ليه لماذا عشان علشان "
    "انا أنا احنا نحن انت إنت انتم كان كانت يكون صار وين فين كيف كيفاش ازاي شلون والله الله شكرا شكراً "
    "يا بس كتير كثير واجد بزاف برشا اللي الي عن مع بعد قبل حتى لكن ولكن او أو تم تمت الطلب الخدمة "
    "الشركة العميل اليوم ايه إيه هيك هاد هذي هادي دابا الحين هلق كذا كده"
)

# Romanised cues. Arabizi writes ع ح ق with digits (3, 7, 9); Finglish rarely uses digits.
_ARABIZI_WORDS = _cues(
    "el al w wel ana enta enti inta inti ahna e7na mesh mish msh mush 3ala 3and ma3 fe fi leh lesh "
    "lih shu sho wesh ya yalla khalas wallah walla inshallah enshallah 7abibi habibi keda kda kdh "
    "ezay izay 3ayez 3ayz bddi baddi kteer ktir wayed wayid bzaf bezzaf barsha barcha mzyan mezyan "
    "daba dyal dial wach 3lach chhal 7aga haga elli illi howa hiya heya 3amel 3amla tayeb tamam "
    "mafi mafish mafesh mashi machi bas ba3d ba3den abi abgha ablash shokran choukran"
)
_FINGLISH_WORDS = _cues(
    "man to ma shoma ina una in oon un ke ro az ba baraye chera chi chie kheili khyli kheyli khili "
    "mikham mikhastam mikhaym nemikham nemidonam nemidunam midonam mishe nemishe hast nist ast "
    "bud bood shod shode kardam kardim kard gereftam dige alan hanooz hanuz mamnoon mamnun mersi merci "
    "salam khoob khub bad kharab sefaresh poshtibani pool pul ye yek hamash vaghean vaghan aslan "
    "ham vali agar age chon chun bayad nabayad tamas zang zadam begid begin lotfan dorost"
)

# Variety cues (Arabic script, after normalisation of alef forms). Shared function words
# are left out on purpose: only words typical of one variety vote.
_VARIETY_WORDS: dict[str, frozenset[str]] = {
    "msa": _cues(
        "ليس لم لن سوف الذي التي الذين هذا هذه ذلك تلك إن ان قد حيث لقد أود اود نرجو يرجى تم تمت "
        "لماذا ماذا متى كيف أين اين لدي لدينا جدا جداً أيضا ايضا إلى الى منذ عند بشأن بخصوص حول "
        "سيادتكم حضرتكم المحترمين وتقبلوا تحية طيبة السادة نأمل أرجو ارجو الرجاء ينبغي يجب لكن"
    ),
    "gulf": _cues(
        "وش ليش عشان ابي أبي ابغى أبغى ابغا ودي واجد زين حيل الحين يبه مب مافي ماكو شلون شفيكم "
        "ترى تراني اشوف يالغالي ياخي مره مرة ابد أبد سويت سوو يسوون هالشي هالخدمة وايد عساكم "
        "يعطيكم العافيه العافية خلاص طيب يوم لين ليما شي شيء قاعد قاعدين اللحين ياليت يالله"
    ),
    "egyptian": _cues(
        "مش ازاي إزاي ايه إيه عايز عاوز عايزة كده كدا دلوقتي دلوقت بتاع بتاعة بتاعتي اوي أوي قوي "
        "خالص ده دي دول فين امتى إمتى حاجة حاجه بقى بقا يعني لسه لسة مفيش برده بردو علشان اللي "
        "ليه عشان ابقى هو احنا انتو بتوع ياريت يارب حضرتك بقالي بقالها ازيك اهو أهو معلش معلش"
    ),
    "levantine": _cues(
        "شو هيك كتير بدي بدك بدنا بدهم هلق هلأ هلا منيح منيحة لسا لساتو عم تبع تبعي تبعكم شي "
        "كيفك كيفكن ليش هيدا هيدي هاي هاد مبارح بكرا بكرة يلا ولك يا زلمة شوي مش عنجد عنجد "
        "حكيت حكينا بحكي رح راح منشان مشان كرمال لهلق وين صرلي صرلنا هون هونيك"
    ),
    "maghrebi": _cues(
        "بزاف واش ديال ديالي ديالكم كيفاش علاش شحال دابا مزيان مزيانة خويا راني راه راهم نتوما "
        "بصح برشا ياسر كيما ماشي هاد هادي غادي غانمشي بغيت بغينا كنقول كنتسنى تا حتى فلوس "
        "والو حيت لاخاطر باش نتاع متاع توا توة يزي برك شكون فين وقتاش عافاكم بلاصة"
    ),
}
_VARIETY_LATIN: dict[str, frozenset[str]] = {
    "msa": frozenset(),
    "gulf": _cues("abi abgha ablash wayed wayid zain zein 7eel shlon shlonkom el7een alhin mab ma3ad tara wesh"),
    "egyptian": _cues("mesh msh ezay izay 3ayez 3ayz 3awez keda kda awi awy delwa2ty dlw2ty feen emta 7aga haga lessa leh"),
    "levantine": _cues("shu sho kteer ktir baddi bddi badde halla2 hala2 mni7 mnee7 heik hek 3am tab3 lesh kifak yalla"),
    "maghrebi": _cues("bzaf bezzaf barsha barcha mzyan mezyan daba dyal dial wach 3lach chhal bghit ghadi walou hadchi"),
}

_FA_FORMAL = _cues(
    "است می‌باشد میباشد می‌گردد میگردد گردید نمایید نمایند نموده اینجانب خواهشمند خواهشمندم احتراماً "
    "احتراما باسلام بدینوسیله لذا جهت مذکور مربوطه گردیده شوند دارند نمودم نماید بنده فرمایید "
    "شما گرامی محترم ارسال درخواست پیگیری مراتب"
)
_FA_COLLOQUIAL = _cues(
    "میخوام می‌خوام نمیدونم نمی‌دونم اومد نیومد میشه می‌شه نمیشه یه الان چیه دیگه اینو اونو رو "
    "چرا انقد انقدر اینقد خیلیییی بابا واقعا واقعاً آخه اخه مگه هنوز گفتن گفتین میدن نمیدن کنین "
    "بدین بگین دارین هستین بودین شدین خب خوبه بده داغونه افتضاحه مرسی ممنونم دمتون ایول"
)
_FINGLISH_FORMAL = _cues("ast mibashad migardad namayid khahesh khahesh-mandam ehteraman")


@dataclass(frozen=True)
class LanguageGuess:
    """The detected language of a text and how it was written."""

    lang: str
    """`ar`, `fa` or `other`."""
    script: str
    """`arabic` (Arabic-script letters only), `latin` (romanised: Arabizi or Finglish, or
    another Latin-script language), `mixed` (both), or `none` (no letters)."""
    romanized: bool
    """True when Arabic or Persian is written in Latin letters (Arabizi / Finglish)."""
    confidence: float
    """How sure the guess is, between 0 and 1."""


@dataclass(frozen=True)
class VarietyGuess:
    """The guessed variety (dialect or register) of an Arabic or Persian text."""

    variety: str
    """An Arabic variety (`msa`, `gulf`, `egyptian`, `levantine`, `maghrebi`), a Persian
    register (`formal`, `colloquial`), or `unknown`."""
    score: float
    """Probability-like confidence of `variety`, between 0 and 1."""
    scores: dict[str, float] = field(default_factory=dict)
    """The confidence of every candidate variety."""


_PRESENTATION_FORMS_RE = regex.compile(r"[\ufb50-\ufdff\ufe70-\ufefe]")


def detect_language(text: str) -> LanguageGuess:
    """Guess whether `text` is Arabic, Persian or something else, and its script."""
    if _PRESENTATION_FORMS_RE.search(text):
        text = unicodedata.normalize("NFKC", text)
    text = _view(text)
    arabic_letters = ARABIC_SCRIPT_LETTER_RE.findall(text)
    latin_letters = LATIN_LETTER_RE.findall(text)
    n_ar, n_lat = len(arabic_letters), len(latin_letters)
    if n_ar == 0 and n_lat == 0:
        return LanguageGuess("other", "none", False, 0.0)
    script = "arabic" if n_lat == 0 else "latin" if n_ar == 0 else "mixed"
    words = _words(text)
    if n_ar >= n_lat * 0.25 and n_ar > 0:
        letters = Counter(arabic_letters)
        fa = 3.0 * sum(letters[c] for c in PERSIAN_ONLY) + 2.0 * text.count(ZWNJ)
        ar = 3.0 * sum(letters[c] for c in ARABIC_ONLY)
        for w in words:
            if w in _FA_WORDS:
                fa += 2.0
            if w in _AR_WORDS:
                ar += 2.0
            elif w.startswith(("ال", "وال", "بال", "فال", "لل")) and len(w) > 3:
                ar += 1.0
        total = fa + ar
        if total == 0:
            return LanguageGuess("ar", script, False, 0.5)
        lang = "fa" if fa > ar else "ar"
        return LanguageGuess(lang, script, False, round(max(fa, ar) / total, 3))
    # Latin-dominant: Arabizi, Finglish, or another language (English, French...).
    arz = sum(1 for w in words if w in _ARABIZI_WORDS) + 1.5 * len(_ARABIZI_DIGIT_RE.findall(text))
    fng = sum(1 for w in words if w in _FINGLISH_WORDS)
    n_words = max(len(words), 1)
    if max(arz, fng) / n_words < 0.12 and max(arz, fng) < 2:
        return LanguageGuess("other", script, False, round(1.0 - max(arz, fng) / n_words, 3))
    lang = "fa" if fng > arz else "ar"
    return LanguageGuess(lang, script, True, round(max(arz, fng) / (arz + fng), 3))


def _softmax(scores: dict[str, float], temperature: float = 1.0) -> dict[str, float]:
    m = max(scores.values())
    exps = {k: math.exp((v - m) / temperature) for k, v in scores.items()}
    z = sum(exps.values())
    return {k: round(v / z, 4) for k, v in exps.items()}


def detect_variety(text: str, lang: str | None = None) -> VarietyGuess:
    """Guess the Arabic variety or Persian register of `text` from lexical cues.

    A text with no cue gets a flat distribution (MSA / formal slightly preferred for
    Arabic-script text, since that is what writers fall back to).
    """
    if lang is None:
        lang = detect_language(text).lang
    words = _words(_view(text))
    if lang == "ar":
        scores = {v: 0.0 for v in ARABIC_VARIETIES}
        for w in words:
            bare = w[1:] if w.startswith(("و", "ف")) and len(w) > 3 else w
            for v in ARABIC_VARIETIES:
                if w in _VARIETY_WORDS[v] or bare in _VARIETY_WORDS[v] or w in _VARIETY_LATIN[v]:
                    scores[v] += 1.0
        if not any(scores.values()):
            scores["msa"] = 0.3
        probs = _softmax(scores, temperature=0.8)
    elif lang == "fa":
        formal = sum(1 for w in words if w in _FA_FORMAL or w in _FINGLISH_FORMAL)
        colloquial = sum(1 for w in words if w in _FA_COLLOQUIAL or w in _FINGLISH_WORDS - _FINGLISH_FORMAL)
        if LATIN_LETTER_RE.search(text) and not ARABIC_SCRIPT_LETTER_RE.search(text):
            colloquial += 1.0  # Finglish is an informal register almost by definition.
        probs = _softmax({"formal": formal + 0.2, "colloquial": float(colloquial)}, temperature=1.0)
    else:
        return VarietyGuess("unknown", 0.0, {})
    best = max(probs, key=probs.get)
    return VarietyGuess(best, probs[best], probs)
