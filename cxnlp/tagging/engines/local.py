"""The local engine: one process streams the input in chunks, commits each, then assembles.

Why chunks: memory is bounded by one chunk (plus the model), whatever the input size, and
a chunk is the unit of commit, so a crash or a kill loses at most the chunk in flight.
Work directory (`<output>.partial/` unless `--work-dir`):

    state.sqlite          job options and input fingerprint, the manifest of committed
                          chunks, and the dedup index (see `cxnlp.tagging.state`)
    parts/part-000000/    one directory per committed chunk: data.<fmt>, quarantine.jsonl

Chunk boundaries are counted in input rows (including malformed ones), so a resumed run
re-reads the input, skips the rows of committed chunks and cuts the same chunks again;
with the dedup index restored from the same commit, every chunk is classified exactly as
in an uninterrupted run, and the assembled output is the same, byte for byte.
"""

from __future__ import annotations

import itertools
import logging
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa

from cxnlp.model_dir import ModelDirectoryError, load_meta
from cxnlp.predict import Predictor
from cxnlp.tagging.classify import classify
from cxnlp.tagging.columns import OutputColumns, unify
from cxnlp.tagging.inputs import (
    InputFile,
    InputRow,
    check_text_column,
    declared_columns,
    fingerprint,
    iter_inputs,
    parquet_schema,
    plan_inputs,
    quarantine_entry,
    row_problem,
)
from cxnlp.tagging.options import MaxErrorsExceeded, TagError, TagOptions
from cxnlp.tagging.progress import TagProgress
from cxnlp.tagging.state import JobState, NewText, text_hash
from cxnlp.tagging.summary import Summary, count_rows, merge_counts, reason_kind
from cxnlp.tagging.writers import assemble, assemble_quarantine, part_dir, part_index, write_part

logger = logging.getLogger("cxnlp.tagging")


def model_fingerprint(path: Path) -> dict[str, Any]:
    """Identifies the model a run used (a resumed run must use the same one)."""
    meta = load_meta(path)
    return {"path": str(Path(path).resolve()), "created_at": meta.created_at, "model_type": meta.model_type,
            "data_fingerprint": meta.data_fingerprint}


def load_model(opts: TagOptions) -> tuple[Predictor, OutputColumns]:
    try:
        predictor = Predictor.load(opts.model, num_threads=opts.threads, batch_size=opts.batch_size)
    except (ModelDirectoryError, FileNotFoundError) as exc:
        raise TagError(str(exc)) from None
    try:
        columns = OutputColumns.build(predictor.taxonomy, opts.heads, opts.scores, opts.prefix)
    except KeyError as exc:
        raise TagError(str(exc.args[0])) from None
    return predictor, columns


def check_collisions(files: list[InputFile], columns: OutputColumns) -> None:
    added = set(columns.names)
    for f in files:
        cols = declared_columns(f)
        clash = sorted(added & set(cols or ()))
        if clash:
            raise TagError(_collision_message(f"{f.path} has column(s) {clash}", columns))


def _collision_message(where: str, columns: OutputColumns) -> str:
    return (f"{where} that the tagger adds; input columns pass through unchanged, so pick a prefix for the added "
            f"columns, e.g. --prefix pred_ (current prefix: {columns.prefix!r})")


class LocalEngine:
    """Runs a tagging job in this process."""

    def __init__(self, opts: TagOptions) -> None:
        self.opts = opts

    def run(self) -> Summary:
        opts = self.opts
        files = plan_inputs(opts.input)
        check_text_column(files, opts.text_field, opts.id_field, opts.time_field)
        predictor, columns = load_model(opts)
        check_collisions(files, columns)
        self.columns = columns
        self.predictor = predictor
        self.files = files
        self._added = set(columns.names)
        self._declared: dict[int, pa.Schema] = {i: parquet_schema(f.path) for i, f in enumerate(files)
                                                if f.fmt == "parquet" and f.path != "-"}

        state = self._open_state(files)
        parts_root = opts.work_dir / "parts"
        try:
            committed = state.committed()
            self._discard_uncommitted(parts_root, len(committed))
            counts: dict[str, Any] = {}
            for _, _, stats in committed:
                merge_counts(counts, stats)
            skip = sum(n for _, n, _ in committed)
            if committed:
                logger.info("resuming after %d committed chunk(s) (%s input rows)", len(committed), f"{skip:,}")
            self._check_errors(counts, parts_root, len(committed))
            self._run_chunks(state, parts_root, len(committed), skip, counts)
            parts = [part_dir(parts_root, i) for i in range(len(state.committed()))]
            assemble(parts, opts.output_format or "parquet", columns, opts.output)
            assemble_quarantine(parts, opts.quarantine)
            summary = Summary(counts=counts, dedup=opts.dedup,
                              distinct_texts=state.distinct_texts() if opts.dedup else None,
                              top_duplicates=state.top_duplicates(opts.top_duplicates) if opts.dedup else [],
                              heads={h.name: h.label_names for h in columns.heads},
                              time_bucket=opts.time_bucket if opts.time_field else None,
                              output=str(opts.output), quarantine=str(opts.quarantine))
        finally:
            state.close()
        if not opts.keep_work:
            shutil.rmtree(opts.work_dir, ignore_errors=True)
        return summary

    # -- state -------------------------------------------------------------------------

    def _open_state(self, files: list[InputFile]) -> JobState:
        opts = self.opts
        assert opts.work_dir is not None
        existing = (opts.work_dir / "state.sqlite").exists()
        if existing and not opts.resume:
            logger.info("discarding the unfinished run in %s (pass --resume to continue it instead)", opts.work_dir)
            shutil.rmtree(opts.work_dir)
            existing = False
        if opts.resume and not existing:
            logger.info("nothing to resume in %s; starting from the beginning", opts.work_dir)
        state = JobState(opts.work_dir)
        expected = {"options": opts.output_affecting(), "inputs": fingerprint(files),
                    "model": model_fingerprint(opts.model)}
        if existing:
            for key, want in expected.items():
                have = state.get_meta(key)
                if have != want:
                    state.close()
                    raise TagError(f"cannot resume: the {key} differ from the interrupted run's "
                                   f"({have} vs now {want}). Rerun without --resume to start over.")
        else:
            state.set_meta(**expected)
        return state

    def _discard_uncommitted(self, parts_root: Path, n_committed: int) -> None:
        parts_root.mkdir(parents=True, exist_ok=True)
        for p in parts_root.iterdir():
            idx = part_index(p)
            if idx is None or idx >= n_committed:
                # A chunk written but not committed (or a temporary directory of one): redo it.
                shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
        missing = [i for i in range(n_committed) if not part_dir(parts_root, i).is_dir()]
        if missing:
            raise TagError(f"the work directory {self.opts.work_dir} is damaged: committed chunk(s) {missing[:5]} "
                           "have no part files. Rerun without --resume to start over.")

    def _check_errors(self, counts: dict[str, Any], parts_root: Path, n_committed: int) -> None:
        opts = self.opts
        quarantined = int(counts.get("quarantined", 0))
        if opts.max_errors is not None and quarantined > opts.max_errors:
            assemble_quarantine([part_dir(parts_root, i) for i in range(n_committed)], opts.quarantine)
            raise MaxErrorsExceeded(
                f"{quarantined:,} malformed rows quarantined, more than --max-errors {opts.max_errors:,}; they are in "
                f"{opts.quarantine}. Committed chunks are kept: fix the input and rerun, or rerun with --resume and "
                "a higher --max-errors to continue.")

    # -- the loop ----------------------------------------------------------------------

    def _run_chunks(self, state: JobState, parts_root: Path, first_idx: int, skip: int,
                    counts: dict[str, Any]) -> None:
        opts = self.opts
        rows = iter_inputs(self.files)
        skipped_bytes = sum(r.nbytes for r in itertools.islice(rows, skip))
        total = sum(f.size for f in self.files)
        progress = TagProgress(total, quiet=opts.quiet, done_bytes=skipped_bytes, done_rows=skip)
        try:
            for idx in itertools.count(first_idx):
                chunk = list(itertools.islice(rows, opts.chunk_size))
                if not chunk:
                    break
                stats = self._process(state, parts_root, idx, chunk)
                merge_counts(counts, stats)
                progress.advance(sum(r.nbytes for r in chunk), len(chunk))
                progress.chunk_committed(idx)
                self._check_errors(counts, parts_root, idx + 1)
        finally:
            progress.close()

    def _process(self, state: JobState, parts_root: Path, idx: int, chunk: list[InputRow]) -> dict[str, Any]:
        opts = self.opts
        t0 = time.perf_counter()
        good: list[InputRow] = []
        quarantined: list[dict[str, Any]] = []
        reasons: Counter[str] = Counter()
        for r in chunk:
            problem = row_problem(r, opts.text_field)
            if problem is not None:
                quarantined.append(quarantine_entry(r, problem, opts.id_field))
                reasons[reason_kind(problem)] += 1
                continue
            assert r.data is not None
            if not self._added.isdisjoint(r.data):
                clash = sorted(self._added.intersection(r.data))
                raise TagError(_collision_message(f"{r.source}:{r.line} has field(s) {clash}", self.columns))
            good.append(r)
        texts: list[str] = [r.data[opts.text_field] for r in good]  # type: ignore[index]
        new: list[NewText] = []
        seen_again: list[tuple[bytes, int, str | None]] = []
        if opts.dedup:
            hashes = [text_hash(t) for t in texts]
            first: dict[bytes, int] = {}
            for i, h in enumerate(hashes):
                first.setdefault(h, i)
            known = state.lookup(list(first))
            todo = [h for h in first if h not in known]
            fresh = dict(zip(todo, self._classify([texts[first[h]] for h in todo]), strict=True))
            records = [known[h] if h in known else fresh[h] for h in hashes]
            copies = Counter(hashes)
            for h in todo:
                r = good[first[h]]
                new.append(NewText(h, fresh[h], copies[h], texts[first[h]] if copies[h] > 1 else None, r.file_index,
                                   r.source, r.line, r.data.get(opts.id_field) if opts.id_field else None))  # type: ignore[union-attr]
            seen_again = [(h, copies[h], texts[first[h]]) for h in first if h in known]
            duplicates = len(texts) - len(todo)
            classified = sum(1 for h in todo if fresh[h]["heads"] is not None)
        else:
            records = self._classify(texts)
            duplicates = 0
            classified = sum(1 for rec in records if rec["heads"] is not None)
        predictions = [self.columns.flatten(rec) for rec in records]
        times = [r.data.get(opts.time_field) for r in good] if opts.time_field else None  # type: ignore[union-attr]
        stats = count_rows(self.columns, predictions, times, opts.time_bucket)
        stats.update(rows_read=len(chunk), quarantined=len(quarantined), duplicates=duplicates,
                     classified_texts=classified, reasons=dict(reasons))
        declared = self._declared_for(good)
        write_part(part_dir(parts_root, idx), opts.output_format or "parquet", self.columns,
                   [r.data for r in good], predictions, quarantined, declared)  # type: ignore[misc]
        state.commit_chunk(idx, len(chunk), stats, new, seen_again)
        logger.debug("chunk %d: %d rows, %d classified in %.2fs", idx, len(chunk), classified,
                     time.perf_counter() - t0)
        return stats

    def _classify(self, texts: list[str]) -> list[dict[str, Any]]:
        opts = self.opts
        return classify(self.predictor, texts, heads=[h.name for h in self.columns.heads], scores=opts.scores,
                        classify_other=opts.classify_other)

    def _declared_for(self, rows: list[InputRow]) -> pa.Schema | None:
        schemas = [self._declared[i] for i in sorted({r.file_index for r in rows}) if i in self._declared]
        if not schemas:
            return None
        return schemas[0] if len(schemas) == 1 else unify(schemas)

