"""The backbone cache: atomic builds, checksums, partial directories, concurrent builders."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cxnlp.backbones.cache import atomic_directory, cache_root, ensure_built, verify_directory
from cxnlp.backbones.info import INFO_FILE, BackboneInfo, read_backbone_info


def _builder(log: Path | None = None, payload: bytes = b"weights" * 1000):  # type: ignore[no-untyped-def]
    """A real (small) build: two files, like a config and a weight file."""

    def build(tmp: Path) -> BackboneInfo:
        (tmp / "config.json").write_text('{"model_type": "bert"}')
        (tmp / "model.safetensors").write_bytes(payload)
        if log is not None:
            with open(log, "a") as fh:
                fh.write("built\n")
        return BackboneInfo(name="test", source="test")

    return build


def test_cache_root_follows_env_and_argument(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CXNLP_CACHE", str(tmp_path / "env"))
    assert cache_root() == tmp_path / "env"
    assert cache_root(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv("CXNLP_CACHE")
    assert cache_root() == Path.home() / ".cache" / "cxnlp"


def test_builds_once_then_reuses(tmp_path) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "log"
    target = tmp_path / "cache" / "model"
    path, built = ensure_built(target, _builder(log))
    assert built and path == target
    info = read_backbone_info(target)
    assert info is not None and set(info.files) == {"config.json", "model.safetensors"}
    assert len(info.files["model.safetensors"]["sha256"]) == 64
    _, built_again = ensure_built(target, _builder(log))
    assert not built_again
    assert log.read_text().count("built") == 1


def test_failed_build_leaves_nothing_behind(tmp_path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "cache" / "model"

    def crash(tmp: Path) -> BackboneInfo:
        (tmp / "model.safetensors").write_bytes(b"half a file")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        ensure_built(target, crash)
    assert not target.exists()
    assert [p.name for p in target.parent.iterdir() if not p.name.endswith(".lock")] == []


def test_partial_directory_is_never_used(tmp_path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "cache" / "model"
    target.mkdir(parents=True)
    (target / "model.safetensors").write_bytes(b"truncated")  # no info file: an interrupted copy
    assert verify_directory(target)
    _, built = ensure_built(target, _builder())
    assert built
    assert (target / "model.safetensors").read_bytes().startswith(b"weights")
    assert verify_directory(target) == []


def test_missing_file_is_rebuilt(tmp_path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "cache" / "model"
    ensure_built(target, _builder())
    (target / "config.json").unlink()
    assert any("missing" in p for p in verify_directory(target))
    _, built = ensure_built(target, _builder())
    assert built and (target / "config.json").is_file()


def test_corrupted_file_is_detected_by_checksum_and_rebuilt(tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "cache" / "model"
    ensure_built(target, _builder())
    weights = target / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size: only the checksum can tell
    weights.write_bytes(bytes(data))
    assert verify_directory(target, full=False) == []
    assert any("checksum" in p for p in verify_directory(target))
    with caplog.at_level("WARNING", logger="cxnlp.backbones"):
        _, built = ensure_built(target, _builder())
    assert built
    assert "unusable" in caplog.text and "checksum" in caplog.text
    assert weights.read_bytes() == b"weights" * 1000


def test_leftovers_of_a_crashed_build_are_removed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "cache" / "model"
    stale = target.parent / ".tmp-model-abc123"
    stale.mkdir(parents=True)
    (stale / "model.safetensors").write_bytes(b"x")
    ensure_built(target, _builder())
    assert not stale.exists()


def test_atomic_directory_refuses_foreign_folders(tmp_path) -> None:  # type: ignore[no-untyped-def]
    foreign = tmp_path / "my-photos"
    foreign.mkdir()
    (foreign / "cat.jpg").write_bytes(b"meow")
    with pytest.raises(FileExistsError), atomic_directory(foreign) as tmp:
        (tmp / "x").write_text("y")
    assert (foreign / "cat.jpg").read_bytes() == b"meow"


def test_atomic_directory_replaces_its_own_output_and_uses_umask_permissions(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    for version in ("1", "2"):
        with atomic_directory(out) as tmp:
            (tmp / "v.txt").write_text(version)
            (tmp / INFO_FILE).write_text(json.dumps({"name": "x", "source": "test"}))
    assert (out / "v.txt").read_text() == "2"
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~mask
    assert stat.S_IMODE((out / "v.txt").stat().st_mode) == 0o666 & ~mask


_CONCURRENT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from cxnlp.backbones.cache import ensure_built
    from cxnlp.backbones.info import BackboneInfo

    target, log = Path(sys.argv[1]), Path(sys.argv[2])

    def build(tmp):
        with open(log, "a") as fh:
            fh.write("start\\n")
        time.sleep(1.5)  # long enough for the other process to arrive mid-build
        (tmp / "model.safetensors").write_bytes(b"w" * 100)
        return BackboneInfo(name="test", source="test")

    path, built = ensure_built(target, build)
    print(path, built)
    """
)


def test_two_processes_build_only_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    script = tmp_path / "build.py"
    script.write_text(_CONCURRENT)
    target, log = tmp_path / "cache" / "model", tmp_path / "log"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(target), str(log)], stdout=subprocess.PIPE, text=True, env=env
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert log.read_text().count("start") == 1
    assert sorted(o[1] for o in outputs) == ["False", "True"]
    assert verify_directory(target) == []


@pytest.mark.full_weights
def test_corrupted_e5_cache_is_rebuilt(e5, tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    from cxnlp.backbones import rebuild_e5

    # Work on a copy so the session's shared cache stays intact.
    copy_root = tmp_path / "cache"
    copy = copy_root / e5.path.relative_to(e5.path.parents[2])
    shutil.copytree(e5.path, copy)
    with open(copy / "model.safetensors", "r+b") as fh:
        fh.seek(10_000_000)
        byte = fh.read(1)
        fh.seek(10_000_000)
        fh.write(bytes([byte[0] ^ 0x01]))
    with caplog.at_level("WARNING", logger="cxnlp.backbones"):
        again = rebuild_e5(copy_root)
    assert again.path == copy and again.built
    assert "checksum" in caplog.text
    assert verify_directory(copy) == []
    with open(copy / "model.safetensors", "rb") as fh:
        fh.seek(10_000_000)
        assert fh.read(1) == byte
