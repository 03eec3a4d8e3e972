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


# -- tiny models built on the fly (real model code, seconds to build) --------------------


def corpus_records(limit: int | None = None) -> list[dict]:
    rows: list[dict] = []
    for f in sorted((REPO / "data" / "corpus").glob("*.jsonl")):
        rows += [json.loads(line) for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    if limit is not None:
        # Interleave files so a small sample covers both languages.
        rows.sort(key=lambda r: (int(r["id"].rsplit("-", 1)[1]) % 1000, r["id"]))
        rows = rows[:limit]
    return rows


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory) -> Path:
    """~400 corpus records in one JSONL file."""
    path = tmp_path_factory.mktemp("corpus") / "small.jsonl"
    write_jsonl(path, corpus_records(400))
    return path


@pytest.fixture(scope="session")
def tiny_backbone(tmp_path_factory) -> Path:
    from cxnlp.backbones import build_tiny_backbone

    texts = [r["text"] for r in corpus_records(1500)]
    return build_tiny_backbone(tmp_path_factory.mktemp("bb") / "tiny", texts, vocab_size=1200, hidden_size=32,
                               num_layers=2, num_heads=2, seed=0)


def tiny_train_config(data: Path, backbone: Path, out: Path, **overrides):
    from cxnlp.training_args import TrainConfig

    settings = dict(data=str(data), backbone=str(backbone), output_dir=str(out / "model"), run_dir=str(out / "run"),
                    epochs=2, batch_size=16, max_length=64, learning_rate=2e-3, head_learning_rate=5e-3,
                    progress=False, tensorboard=False, seed=7)
    settings.update(overrides)
    return TrainConfig(**settings)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, small_corpus, tiny_backbone) -> Path:
    """A transformer model directory trained for two epochs on the tiny backbone."""
    from cxnlp.trainer import Trainer

    out = tmp_path_factory.mktemp("tiny-model")
    return Trainer(tiny_train_config(small_corpus, tiny_backbone, out)).train().output_dir


@pytest.fixture(scope="session")
def blended_model_dir(tmp_path_factory, small_corpus, tiny_backbone) -> Path:
    """The tiny transformer blended with a linear model (`lexical_blend`)."""
    from cxnlp.trainer import Trainer

    out = tmp_path_factory.mktemp("blended-model")
    cfg = tiny_train_config(small_corpus, tiny_backbone, out, lexical_blend=True, linear_max_features=20_000)
    return Trainer(cfg).train().output_dir


@pytest.fixture(scope="session")
def linear_model_dir(tmp_path_factory, small_corpus) -> Path:
    """A linear-baseline model directory trained on the small corpus."""
    from cxnlp.trainer import Trainer
    from cxnlp.training_args import TrainConfig

    out = tmp_path_factory.mktemp("linear-model")
    cfg = TrainConfig(data=str(small_corpus), model_type="linear", output_dir=str(out / "model"),
                      run_dir=str(out / "run"), linear_max_features=20_000, progress=False, tensorboard=False)
    return Trainer(cfg).train().output_dir
