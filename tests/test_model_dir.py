from __future__ import annotations

import json
import os
import stat

import pytest

from cxnlp.model_dir import (
    ModelDirectoryError,
    ModelMeta,
    atomic_directory,
    atomic_write_file,
    load_meta,
    save_meta,
)


def test_atomic_directory_replaces_and_cleans_up(tmp_path):
    target = tmp_path / "m"
    with atomic_directory(target) as tmp:
        (tmp / "a.txt").write_text("one")
    assert (target / "a.txt").read_text() == "one"
    with pytest.raises(RuntimeError), atomic_directory(target) as tmp:
        (tmp / "a.txt").write_text("two")
        raise RuntimeError("crash while writing")
    assert (target / "a.txt").read_text() == "one"  # the old version survives a failed write
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no temporary left behind
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o777 & ~mask


def test_every_file_of_a_model_directory_follows_the_umask(tmp_path):
    import torch
    from safetensors.torch import save_file

    with atomic_directory(tmp_path / "m") as tmp:
        (tmp / "encoder").mkdir()
        save_file({"w": torch.zeros(2)}, str(tmp / "encoder" / "model.safetensors"))
        os.chmod(tmp / "encoder", 0o700)
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE((tmp_path / "m" / "encoder" / "model.safetensors").stat().st_mode) == 0o666 & ~mask
    assert stat.S_IMODE((tmp_path / "m" / "encoder").stat().st_mode) == 0o777 & ~mask


def test_atomic_write_file_mode(tmp_path):
    atomic_write_file(tmp_path / "f", lambda p: p.write_text("x"))
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE((tmp_path / "f").stat().st_mode) == 0o666 & ~mask


def test_meta_roundtrip_and_refusals(tmp_path):
    save_meta(tmp_path, ModelMeta(model_type="linear", taxonomy_name="x"))
    assert load_meta(tmp_path).taxonomy_name == "x"
    data = json.loads((tmp_path / "cxnlp.json").read_text())
    data["format_version"] = 99
    (tmp_path / "cxnlp.json").write_text(json.dumps(data))
    with pytest.raises(ModelDirectoryError, match="format_version 99.*Upgrade cxnlp"):
        load_meta(tmp_path)
    with pytest.raises(ModelDirectoryError, match="not a cxnlp model directory"):
        load_meta(tmp_path / ".." )
    with pytest.raises(ModelDirectoryError, match="unknown model_type"):
        ModelMeta(model_type="svm")
