"""The job state of a local run: the manifest of committed chunks and the dedup index.

One SQLite file (`state.sqlite` in the work directory), because a chunk's commit has to
change several things at once — the manifest row, the texts it classified for the first
time, and the copy counts of texts seen before — and a SQLite transaction makes that
all-or-nothing even under SIGKILL. A chunk's part directory is renamed into place and
fsynced *before* its transaction commits, so:

* a part directory without a manifest row is leftover from a crash and is discarded;
* a manifest row always points at a complete part directory.

The dedup index keys texts by a 128-bit BLAKE2b digest and keeps the prediction record
(zlib-compressed JSON) so that a copy seen a million rows later reuses the record
instead of re-running the model, and a resumed run reuses exactly the records the
interrupted one computed (model scores differ in the last bits with batch composition;
reusing them keeps a resumed output byte-identical). It lives on disk, so memory stays
flat whatever the number of distinct texts; the disk cost is about 0.3-1 KB per distinct
text (more with `--scores`).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    idx INTEGER PRIMARY KEY,
    rows_in INTEGER NOT NULL,
    stats TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS texts (
    hash BLOB PRIMARY KEY,
    record BLOB NOT NULL,
    copies INTEGER NOT NULL,
    sample TEXT,
    first_file INTEGER,
    first_source TEXT,
    first_line INTEGER,
    first_id TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS texts_copies ON texts (copies);
"""

_IN_BATCH = 500


def text_hash(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


@dataclass
class NewText:
    """A text classified for the first time in this chunk."""

    hash: bytes
    """Digest of the text."""
    record: dict[str, Any]
    """Its prediction record."""
    copies: int
    """How many rows of this chunk carry it."""
    sample: str | None
    """The text itself, kept only once it has copies (for the duplicate report)."""
    file_index: int
    """Position of the file of its first occurrence in the input list."""
    source: str
    """File of its first occurrence."""
    line: int
    """Line (or row) of its first occurrence."""
    id: Any
    """Id of its first occurrence, when an id field is given."""


class JobState:
    """Open (or create) the state of the job whose work directory is `work_dir`."""

    def __init__(self, work_dir: Path) -> None:
        work_dir.mkdir(parents=True, exist_ok=True)
        self.path = work_dir / "state.sqlite"
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=DELETE")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    # -- meta --------------------------------------------------------------------------

    def get_meta(self, key: str) -> Any:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def set_meta(self, **values: Any) -> None:
        with self._tx():
            self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                                [(k, json.dumps(v, sort_keys=True, default=str)) for k, v in values.items()])

    # -- manifest ----------------------------------------------------------------------

    def committed(self) -> list[tuple[int, int, dict[str, Any]]]:
        """(index, input rows, stats) of every committed chunk, in order."""
        return [(i, n, json.loads(s)) for i, n, s in
                self.db.execute("SELECT idx, rows_in, stats FROM chunks ORDER BY idx")]

    def commit_chunk(self, idx: int, rows_in: int, stats: dict[str, Any], new: Sequence[NewText],
                     seen_again: Iterable[tuple[bytes, int, str | None]]) -> None:
        """Record chunk `idx` as done, in one transaction with its dedup updates."""
        with self._tx():
            self.db.execute("INSERT INTO chunks VALUES (?, ?, ?)", (idx, rows_in, json.dumps(stats, sort_keys=True)))
            self.db.executemany(
                "INSERT INTO texts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(t.hash, zlib.compress(json.dumps(t.record, ensure_ascii=False).encode("utf-8"), 1), t.copies,
                  t.sample, t.file_index, t.source, t.line, None if t.id is None else str(t.id)) for t in new])
            self.db.executemany("UPDATE texts SET copies = copies + ?, sample = COALESCE(sample, ?) WHERE hash = ?",
                                [(n, sample, h) for h, n, sample in seen_again])

    # -- dedup index -------------------------------------------------------------------

    def lookup(self, hashes: Sequence[bytes]) -> dict[bytes, dict[str, Any]]:
        """Prediction records of the texts already classified by committed chunks."""
        found: dict[bytes, dict[str, Any]] = {}
        for b in range(0, len(hashes), _IN_BATCH):
            part = hashes[b:b + _IN_BATCH]
            q = f"SELECT hash, record FROM texts WHERE hash IN ({','.join('?' * len(part))})"
            for h, rec in self.db.execute(q, part):
                found[h] = json.loads(zlib.decompress(rec))
        return found

    def distinct_texts(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM texts").fetchone()[0]

    def top_duplicates(self, n: int) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT sample, copies, first_source, first_line, first_id FROM texts "
                               "WHERE copies > 1 ORDER BY copies DESC, first_file, first_line LIMIT ?", (n,))
        return [{"text": s, "copies": c, "first_source": src, "first_line": line, "first_id": fid}
                for s, c, src, line, fid in rows]

    def _tx(self) -> _Transaction:
        return _Transaction(self.db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb) -> None:  # noqa: ANN001
        self.db.execute("COMMIT" if exc_type is None else "ROLLBACK")
