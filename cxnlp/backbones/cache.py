"""Writing backbone directories so that a half-written or damaged one is never used.

Rebuilding the offline backbone takes seconds and writes ~450 MB; a crash, a full disk or
two processes starting at once must not leave a directory that later loads as garbage.
So every build goes to a hidden temporary directory next to the target, gets a checksum
manifest (`cxnlp_backbone.json`), and only then is renamed into place -- a rename within
one file system is atomic, so the target name either does not exist or is complete.
A lock file serialises builders; the second process waits and then reuses the first one's
result. On every resolve the manifest is checked (sizes always, SHA-256 once per process
per directory state), and a directory that fails is rebuilt instead of loaded.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from cxnlp.backbones.info import INFO_FILE, BackboneInfo, read_backbone_info, write_backbone_info

logger = logging.getLogger("cxnlp.backbones")

CACHE_ENV = "CXNLP_CACHE"
_TMP_PREFIX = ".tmp-"
_TRASH_PREFIX = ".trash-"
_LOCK_POLL_SECONDS = 0.5

# (directory, file states) that already passed a full SHA-256 check in this process.
_verified: set[tuple[str, tuple[tuple[str, int, int], ...]]] = set()


def cache_root(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The cxnlp cache: `cache_dir`, else `$CXNLP_CACHE`, else `~/.cache/cxnlp`."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "cxnlp"


def file_sha256(path: str | os.PathLike[str]) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _listed_files(directory: Path) -> list[Path]:
    return sorted(
        p
        for p in directory.rglob("*")
        if p.is_file() and p.name != INFO_FILE and not p.name.endswith(".lock")
    )


def directory_checksums(directory: str | os.PathLike[str]) -> dict[str, dict[str, int | str]]:
    """Size and SHA-256 of every file under `directory` except the info file itself."""
    root = Path(directory)
    return {
        p.relative_to(root).as_posix(): {"size": p.stat().st_size, "sha256": file_sha256(p)}
        for p in _listed_files(root)
    }


def finalize_directory(directory: str | os.PathLike[str], info: BackboneInfo) -> BackboneInfo:
    """Record checksums of everything in `directory` into `info` and write the info file."""
    info.files = directory_checksums(directory)
    write_backbone_info(directory, info)
    return info


def verify_directory(directory: str | os.PathLike[str], *, full: bool = True) -> list[str]:
    """Problems that make `directory` unusable as a cached backbone; empty when it is sound.

    Sizes are always compared; with `full`, file contents are hashed too (about half a
    second for the full e5 model), once per process for an unchanged directory.
    """
    root = Path(directory)
    if not root.is_dir():
        return [f"{root} does not exist"]
    info = read_backbone_info(root)
    if info is None:
        return [f"{root / INFO_FILE} is missing or unreadable (incomplete build?)"]
    if not info.files:
        return [f"{root / INFO_FILE} lists no files"]
    problems: list[str] = []
    states: list[tuple[str, int, int]] = []
    for rel, meta in sorted(info.files.items()):
        path = root / rel
        try:
            st = path.stat()
        except OSError:
            problems.append(f"{rel} is missing")
            continue
        if st.st_size != int(meta.get("size", -1)):
            problems.append(f"{rel} has {st.st_size} bytes, expected {meta.get('size')}")
        states.append((rel, st.st_size, st.st_mtime_ns))
    if problems or not full:
        return problems
    key = (str(root.resolve()), tuple(states))
    if key in _verified:
        return []
    for rel, meta in sorted(info.files.items()):
        digest = file_sha256(root / rel)
        if digest != meta.get("sha256"):
            problems.append(
                f"{rel} fails its checksum (sha256 {digest[:12]}…, expected {str(meta.get('sha256'))[:12]}…)"
            )
    if not problems:
        _verified.add(key)
    return problems


@contextlib.contextmanager
def file_lock(lock_path: Path, *, timeout: float = 1800.0, what: str = "") -> Iterator[None]:
    """An exclusive advisory lock on `lock_path`, released when the block ends.

    The kernel drops the lock when the holder dies, so a crashed builder never blocks the
    next one; a live one is waited for (with a log line, since a rebuild takes a while).
    """
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fh = open(lock_path, "a+b")  # noqa: SIM115 -- held open for the lock's lifetime
    try:
        _lock_file(fh, lock_path, timeout, what)
        yield
    finally:
        _unlock_file(fh)
        fh.close()


def _lock_file(fh, lock_path: Path, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    announced = False
    while True:
        try:
            if os.name == "nt":  # pragma: no cover - exercised on Windows only
                import msvcrt

                msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl

                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"gave up waiting for {lock_path} after {timeout:.0f}s") from None
            if not announced:
                logger.info("Another process is building %s; waiting for it to finish.", what or lock_path)
                announced = True
            time.sleep(_LOCK_POLL_SECONDS)


def _unlock_file(fh) -> None:  # type: ignore[no-untyped-def]
    try:
        if os.name == "nt":  # pragma: no cover
            import msvcrt

            msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    except OSError:
        pass


def _apply_umask(directory: Path) -> None:
    """Give the build the permissions a plain mkdir/open would have had.

    mkdtemp (and some writers) create owner-only files; a cache shared with a service
    account, or a model directory copied to a server, must be readable like any other.
    """
    mask = os.umask(0o022)
    os.umask(mask)
    for p in [directory, *directory.rglob("*")]:
        os.chmod(p, (0o777 if p.is_dir() else 0o666) & ~mask)


def _fsync_tree(directory: Path) -> None:
    # Without fsync a power loss after the rename could expose a directory whose name is
    # final but whose file contents never reached the disk.
    for p in directory.rglob("*"):
        if p.is_file():
            with open(p, "rb") as fh:
                os.fsync(fh.fileno())
    _fsync_dir(directory)


def _fsync_dir(directory: Path) -> None:
    if os.name == "nt":  # pragma: no cover - directories cannot be opened on Windows
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _discard(path: Path) -> None:
    """Move `path` out of the way under a hidden name, then delete it."""
    if not path.exists():
        return
    trash = path.parent / f"{_TRASH_PREFIX}{path.name}-{os.getpid()}-{time.monotonic_ns()}"
    os.rename(path, trash)
    shutil.rmtree(trash, ignore_errors=True)


def _remove_leftovers(target: Path) -> None:
    """Delete temp/trash directories that a crashed build of `target` left behind.

    Only called while holding the target's lock, so nobody else is writing them.
    """
    for prefix in (_TMP_PREFIX, _TRASH_PREFIX):
        for p in target.parent.glob(f"{prefix}{target.name}-*"):
            shutil.rmtree(p, ignore_errors=True)


def _owned_by_cxnlp(directory: Path) -> bool:
    return (directory / INFO_FILE).is_file()


@contextlib.contextmanager
def atomic_directory(
    target: str | os.PathLike[str], *, replace: bool = True, replace_foreign: bool = False
) -> Iterator[Path]:
    """Yield a temporary directory beside `target`; on success it replaces `target` by rename.

    If the block raises, the temporary directory is deleted and `target` is untouched.
    An existing `target` is replaced only if it is empty or was written by cxnlp (has an
    info file) -- never a user's unrelated folder, unless `replace_foreign` (used inside
    cxnlp's own cache, where a directory without an info file is a broken build).
    """
    target = Path(target).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and not replace:
        raise FileExistsError(f"{target} already exists")
    if target.exists() and not replace_foreign and any(target.iterdir()) and not _owned_by_cxnlp(target):
        raise FileExistsError(
            f"{target} exists and was not written by cxnlp; choose an empty or new directory"
        )
    tmp = Path(tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{target.name}-", dir=target.parent))
    try:
        yield tmp
        _apply_umask(tmp)
        _fsync_tree(tmp)
        _discard(target)
        os.rename(tmp, target)
        _fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def ensure_built(
    target: str | os.PathLike[str],
    build: Callable[[Path], BackboneInfo],
    *,
    what: str = "",
) -> tuple[Path, bool]:
    """Return (`target`, rebuilt?) after making sure `target` is a complete, verified build.

    `build(tmp_dir)` writes the backbone into `tmp_dir` and returns its info; checksums
    are added here. A damaged or partial `target` is logged and rebuilt; two processes
    calling this at once build it only once.
    """
    target = Path(target).expanduser()
    problems = verify_directory(target) if target.exists() else ["not built yet"]
    if not problems:
        return target, False
    with file_lock(target.parent / f".{target.name}.lock", what=what or str(target)):
        # Someone else may have finished the build while we waited for the lock.
        problems = verify_directory(target) if target.exists() else ["not built yet"]
        if not problems:
            return target, False
        if target.exists():
            logger.warning(
                "Cached backbone %s is unusable (%s); rebuilding it.", target, "; ".join(problems[:3])
            )
        _remove_leftovers(target)
        with atomic_directory(target, replace_foreign=True) as tmp:
            info = build(tmp)
            finalize_directory(tmp, info)
        return target, True
