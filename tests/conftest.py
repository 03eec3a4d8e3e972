"""Shared fixtures: the default taxonomy, a small labelled sample, file writers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cxnlp.taxonomy import Taxonomy

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def taxonomy() -> Taxonomy:
    return Taxonomy.from_yaml(REPO / "data" / "taxonomy.yaml")


def make_record(i: int, text: str, lang: str = "ar", **labels: object) -> dict:
    base = {
        "emotion": ["neutral"], "sentiment": "neutral", "effort": "low", "expectation": "unknown",
        "execution": "unknown", "complaint": [], "journey": "unknown", "signal": "genuine",
    }
    base.update(labels)
    return {"id": f"t-{i:04d}", "text": text, "lang": lang, "labels": base}


@pytest.fixture
def sample_records() -> list[dict]:
    return [
        make_record(1, "الطلب تأخر ثلاث أيام وما حد رد علي", emotion=["frustration"], sentiment="negative",
                    effort="medium", expectation="unmet", execution="not_done", complaint=["delay", "access"],
                    journey="delivery"),
        make_record(2, "شكراً للموظف أحمد، خدمة ممتازة", emotion=["gratitude", "satisfaction"], sentiment="positive",
                    expectation="met", execution="done", journey="after_sales"),
        make_record(3, "سفارشم هنوز نرسیده، سه بار زنگ زدم", lang="fa", emotion=["frustration"],
                    sentiment="negative", effort="high", expectation="unmet", execution="not_done",
                    complaint=["delay"], journey="delivery"),
        make_record(4, "کارمند خیلی مودب بود، ممنونم", lang="fa", emotion=["gratitude"], sentiment="positive",
                    expectation="met", execution="done", journey="after_sales"),
    ]


def write_jsonl(path: Path, rows: list) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n")
    return path
