"""Incremental, crash-safe indexing of a workspace into its SQLite database.

A run walks the tree, re-reads only files whose size or mtime changed, re-chunks only files whose
content hash changed, and removes files that disappeared; when ``CHUNKER_VERSION`` differs from
the one recorded in ``meta`` (key ``chunker``), every file is re-read and re-chunked once. Each
batch of files is written in one
transaction that replaces a file's row, chunks, FTS rows, symbols and references together, so a
``kill -9`` at any moment leaves every file either fully indexed at its old or its new content;
the next run finds the rest by comparing hashes and completes the index.

A run can be stopped between batches (``should_stop``), which raises ``IndexCancelled``: a
server shutting down never waits for a whole index or kills a write half-way.

One file never ends a run: a file that cannot be read, is no longer a regular file, or whose
reading, analysis or writing raises is skipped and counted (``unreadable``, ``not_regular``,
``error: <ExceptionType>``), and the next run tries it again. What ends a run is what means it
cannot go on: a stop request, Ctrl-C, a database or embedder error (``ContextosError``). Pool
workers die with the indexer (``analyze.die_with_parent``).

Secret values are redacted (``contextos.secrets.redact``) as soon as a file is read, so
chunks, FTS rows and embeddings hold ``[REDACTED:<kind>]``, never the value.

Left out: watching the file system (the MCP server drives re-runs).
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import stat
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from contextos.code.analyze import Analysis, analyze_args, die_with_parent
from contextos.code.chunking import CHUNKER_VERSION
from contextos.code.merkle import changed_dirs, dir_hashes, file_hash
from contextos.embed.protocol import Embedder
from contextos.errors import ContextosError, IndexCancelled, StoreError
from contextos.secrets import redact
from contextos.settings import Settings
from contextos.store.db import Connection, bump_generation, transaction
from contextos.types import Chunk, IndexSummary
from contextos.walk import WalkedFile, classify_content, is_test_path, walk

__all__ = ["Progress", "embed_text", "row_chunk", "run_index", "verify_index"]

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``; stages: "scan", "index", "embed"."""

_BATCH_FILES = 64
_WINDOW_FILES = 512
_PARALLEL_MIN_BYTES = 2 << 20
"""Below this many bytes to (re)read, files are chunked in this process: a pool's start, and
sending every text to a worker and its chunks back, cost more than a small tree saves."""
_MIN_WORKERS = 2
"""Fewer spare CPUs than this (the indexer keeps one) and there is no pool: with one worker on
two CPUs the pool was slower than one process (laravel 10.0 s vs 8.4 s, tokio 4.7 s vs 3.2 s)."""
_MAX_WORKERS = 4
_BATCH_CHUNKS = 1024
_EMBED_CHARS = 2000


@dataclass(slots=True)
class _Prepared:
    rel: str
    digest: str
    size: int
    mtime_ns: int
    analysis: Analysis


@dataclass(slots=True)
class _Pending:
    """A file whose new content was read and accepted, waiting for analysis."""

    walked: WalkedFile
    digest: str
    text: str


def embed_text(chunk: Chunk) -> str:
    """The text an embedder sees for a chunk: path, context and code, truncated."""
    return f"{chunk.path}\n{chunk.context}\n{chunk.text}"[:_EMBED_CHARS]


@contextmanager
def _index_lock(db_path: Path) -> Iterator[None]:
    """One indexer per workspace at a time; a second one waits for the first."""
    with open(str(db_path) + ".lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_index(
    conn: Connection,
    db_path: Path,
    root: Path,
    settings: Settings,
    embedder: Embedder | None,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    *,
    embed: bool = True,
) -> IndexSummary:
    """Bring the index of ``root`` up to date; see the module docstring for the guarantees.

    ``embed=False`` writes files without vectors and leaves existing vectors and the recorded
    embedder alone: a fast lexical pass, which a later run with an embedder completes.
    """
    with _index_lock(db_path):
        run = _Run(conn, root, settings, embedder if embed else None, progress or (lambda *_: None))
        run.should_stop = should_stop or (lambda: False)
        run.fill_vectors = embed
        return run.execute()


class _Run:
    def __init__(
        self,
        conn: Connection,
        root: Path,
        settings: Settings,
        embedder: Embedder | None,
        progress: Progress,
    ) -> None:
        self.conn, self.root, self.settings = conn, root, settings
        self.embedder, self.progress = embedder, progress
        self.summary = IndexSummary(root=str(root), embedder=embedder.name if embedder else "none")
        self.skipped: Counter[str] = Counter()
        self.should_stop: Callable[[], bool] = lambda: False
        self.fill_vectors = True
        self.rechunk = False

    def _check_stop(self) -> None:
        if self.should_stop():
            raise IndexCancelled("index run stopped on request; the next run completes it")

    def execute(self) -> IndexSummary:
        started = time.perf_counter()
        walked = walk(self.root, max_file_bytes=self.settings.max_file_bytes)
        self.skipped.update(walked.skipped)
        stored = {
            r["path"]: r for r in self.conn.execute("SELECT path, hash, size, mtime_ns FROM files")
        }
        seen = {w.rel for w in walked.files}
        self._delete([p for p in stored if p not in seen], reason="deleted")
        version = self.conn.execute("SELECT value FROM meta WHERE key = 'chunker'").fetchone()
        self.rechunk = version is None or version[0] != CHUNKER_VERSION
        todo: list[WalkedFile] = []
        for w in walked.files:
            row = stored.get(w.rel)
            if (
                not self.rechunk
                and row is not None
                and row["size"] == w.size
                and row["mtime_ns"] == w.mtime_ns
            ):
                self.summary.files_unchanged += 1
            else:
                todo.append(w)
        self.summary.files_seen = len(walked.files)
        self._process(todo, stored)
        with transaction(self.conn):
            self.conn.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('chunker', ?)", (CHUNKER_VERSION,)
            )
        if self.fill_vectors:
            self._fill_vectors()
        self._update_merkle()
        self.summary.skipped = dict(sorted(self.skipped.items()))
        self.summary.chunks_total = int(
            self.conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        )
        self.summary.seconds = round(time.perf_counter() - started, 3)
        with transaction(self.conn):
            self.conn.execute(
                "INSERT INTO audit(action, detail) VALUES ('index', ?)",
                (json.dumps(asdict(self.summary)),),
            )
        return self.summary

    def _process(self, todo: list[WalkedFile], stored: dict[str, Any]) -> None:
        """Read and filter files here; chunk and tokenise them in worker processes when there
        are enough bytes to chunk; write batches of whole files, one transaction each. Workers
        leave one CPU to this process, which reads, embeds and writes meanwhile."""
        big = sum(w.size for w in todo) >= _PARALLEL_MIN_BYTES
        workers = min((os.cpu_count() or 1) - 1, _MAX_WORKERS) if big else 0
        workers = workers if workers >= _MIN_WORKERS else 0
        pool = (
            ProcessPoolExecutor(
                workers,
                mp_context=get_context("spawn"),
                initializer=die_with_parent,
                initargs=(os.getpid(),),
            )
            if workers > 0
            else None
        )
        try:
            for start in range(0, len(todo), _WINDOW_FILES):
                self._check_stop()
                window = todo[start : start + _WINDOW_FILES]
                pending = [p for w in window if (p := self._read_one(w, stored.get(w.rel)))]
                args = [
                    (
                        p.walked.rel,
                        p.text,
                        self.settings.window_lines,
                        self.settings.max_chunk_lines,
                    )
                    for p in pending
                ]
                analyses = (
                    pool.map(analyze_args, args, chunksize=8) if pool else map(analyze_args, args)
                )
                self._write_all(pending, analyses, start, len(todo), stored)
        except BrokenProcessPool as exc:
            raise ContextosError(
                f"an index worker process died ({exc}); what was committed is whole: run the "
                "index again"
            ) from exc
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)

    def _write_all(
        self,
        pending: list[_Pending],
        analyses: Iterator[Analysis | str],
        done: int,
        total: int,
        stored: dict[str, Any],
    ) -> None:
        batch: list[_Prepared] = []
        n_chunks = 0
        for i, (p, analysis) in enumerate(zip(pending, analyses, strict=True), start=1):
            w = p.walked
            if isinstance(analysis, str):
                self._skip_accepted(w.rel, analysis, w.rel in stored)
            else:
                batch.append(_Prepared(w.rel, p.digest, w.size, w.mtime_ns, analysis))
                n_chunks += len(analysis.chunks)
            if len(batch) >= _BATCH_FILES or n_chunks >= _BATCH_CHUNKS:
                self._check_stop()
                self._write_each(batch, stored)
                batch, n_chunks = [], 0
            self.progress("index", min(done + i, total), total)
        if batch:
            self._write_each(batch, stored)

    def _write_each(self, batch: list[_Prepared], stored: dict[str, Any]) -> None:
        """Write ``batch`` in one transaction; if one of its files makes that fail (not the
        database: that ends the run), write them one by one and skip the ones that fail."""
        try:
            self._write(batch)
        except Exception as exc:  # one file's fault, e.g. a value SQLite cannot store
            reason = _skip_reason(exc)
            if len(batch) == 1:
                self._skip_accepted(batch[0].rel, reason, batch[0].rel in stored)
                return
            for p in batch:
                self._write_each([p], stored)

    def _skip_accepted(self, rel: str, reason: str, existed: bool) -> None:
        """Skip a file ``_read`` had accepted (and counted as added or changed)."""
        self.skipped[reason] += 1
        if existed:
            self.summary.files_changed -= 1
        else:
            self.summary.files_added -= 1
        self._delete([rel] if existed else [], reason=reason)

    def _read_one(self, w: WalkedFile, row: Any | None) -> _Pending | None:
        """``_read``, with a file whose reading raises skipped as ``error: <ExceptionType>``."""
        try:
            return self._read(w, row)
        except Exception as exc:  # one file's fault; fatal errors are raised again
            self.skipped[_skip_reason(exc)] += 1
            self._delete([w.rel] if row is not None else [], reason="error")
            return None

    def _read(self, w: WalkedFile, row: Any | None) -> _Pending | None:
        data = _file_bytes(self.root / w.rel)
        if isinstance(data, str):
            self.skipped[data] += 1
            self._delete([w.rel] if row is not None else [], reason=data)
            return None
        digest = file_hash(data)
        if not self.rechunk and row is not None and row["hash"] == digest:
            with transaction(self.conn):
                self.conn.execute(
                    "UPDATE files SET size = ?, mtime_ns = ? WHERE path = ?",
                    (w.size, w.mtime_ns, w.rel),
                )
            self.summary.files_unchanged += 1
            return None
        reason = classify_content(w.rel, data)
        if reason is not None:
            self.skipped[reason] += 1
            self._delete([w.rel] if row is not None else [], reason=reason)
            return None
        text = data.decode("utf-8", errors="replace")
        if "\ufffd" in text and not _mostly_text(text):
            self.skipped["binary"] += 1
            self._delete([w.rel] if row is not None else [], reason="binary")
            return None
        if row is None:
            self.summary.files_added += 1
        else:
            self.summary.files_changed += 1
        return _Pending(w, digest, redact(text))

    def _write(self, batch: list[_Prepared]) -> None:
        all_chunks = [c for p in batch for c in p.analysis.chunks]
        vectors = self._embed(all_chunks)
        with transaction(self.conn):
            for p in batch:
                _delete_file(self.conn, p.rel)
            _insert_files(self.conn, batch, vectors)
            bump_generation(self.conn)
        self.summary.chunks_written += len(all_chunks)

    def _embed(self, chunks: list[Chunk]) -> np.ndarray | None:
        if self.embedder is None or not chunks:
            return None
        texts = [embed_text(c) for c in chunks]
        out = []
        size = self.settings.embed_batch_size
        for start in range(0, len(texts), size):
            out.append(self.embedder.embed_batch(texts[start : start + size]))
        return np.vstack(out).astype(np.float32)

    def _delete(self, paths: list[str], *, reason: str) -> None:
        if not paths:
            return
        with transaction(self.conn):
            for path in paths:
                _delete_file(self.conn, path)
            bump_generation(self.conn)
        if reason == "deleted":
            self.summary.files_deleted += len(paths)

    def _fill_vectors(self) -> None:
        """Embed chunks that have no vector (new embedder, or indexed while none was available)."""
        current = self.embedder.name if self.embedder else "none"
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'embedder'").fetchone()
        if row is not None and row[0] != current:
            with transaction(self.conn):
                self.conn.execute("UPDATE chunks SET vector = NULL")
                bump_generation(self.conn)
        with transaction(self.conn):
            self.conn.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('embedder', ?)", (current,)
            )
        if self.embedder is None:
            return
        missing = self.conn.execute(
            "SELECT id, path, start_line, end_line, symbol, kind, language, context, text"
            " FROM chunks WHERE vector IS NULL"
        ).fetchall()
        for start in range(0, len(missing), _BATCH_CHUNKS):
            self._check_stop()
            rows = missing[start : start + _BATCH_CHUNKS]
            chunks = [row_chunk(r) for r in rows]
            vectors = self._embed(chunks)
            assert vectors is not None
            with transaction(self.conn):
                self.conn.executemany(
                    "UPDATE chunks SET vector = ? WHERE id = ?",
                    [(v.tobytes(), r["id"]) for v, r in zip(vectors, rows, strict=True)],
                )
                bump_generation(self.conn)
            self.progress("embed", start + len(rows), len(missing))

    def _update_merkle(self) -> None:
        files = {r[0]: r[1] for r in self.conn.execute("SELECT path, hash FROM files")}
        new = dir_hashes(files)
        old = {r[0]: r[1] for r in self.conn.execute("SELECT path, hash FROM dirs")}
        changed = changed_dirs(old, new)
        if not changed:
            return
        with transaction(self.conn):
            self.conn.execute("DELETE FROM dirs")
            self.conn.executemany("INSERT INTO dirs(path, hash) VALUES (?, ?)", new.items())
            self.conn.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('root_hash', ?)", (new[""],)
            )


def _file_bytes(path: Path) -> bytes | str:
    """The bytes of ``path``, or why there are none: ``unreadable``, or ``not_regular`` when a
    FIFO or device took the walked file's place (opened non-blocking: reading never hangs)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return "unreadable"
    with open(fd, "rb") as handle:
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return "not_regular"
            return handle.read()
        except OSError:
            return "unreadable"


def _skip_reason(exc: Exception) -> str:
    """The skip reason for a file whose processing raised ``exc``, ``error: <ExceptionType>``;
    an error that means the run cannot go on (a ``ContextosError`` such as a stop request or a
    store or embedder failure, or a raw SQLite error) is raised again instead."""
    if isinstance(exc, ContextosError):
        raise exc
    if isinstance(exc, sqlite3.Error):
        raise StoreError(f"the index database failed: {exc}") from exc
    return f"error: {type(exc).__name__}"


def _mostly_text(text: str) -> bool:
    return text.count("\ufffd") < max(8, len(text) // 100)


def row_chunk(r: Any) -> Chunk:
    return Chunk(
        path=r["path"],
        language=r["language"],
        start_line=r["start_line"],
        end_line=r["end_line"],
        text=r["text"],
        symbol=r["symbol"],
        kind=r["kind"],
        context=r["context"],
    )


def _delete_file(conn: Connection, path: str) -> None:
    row = conn.execute("SELECT id FROM files WHERE path = ?", (path,)).fetchone()
    if row is None:
        return
    conn.execute(
        "DELETE FROM chunks_fts WHERE rowid IN (SELECT id FROM chunks WHERE path = ?)", (path,)
    )
    conn.execute("DELETE FROM chunks WHERE path = ?", (path,))
    conn.execute("DELETE FROM symbols WHERE path = ?", (path,))
    conn.execute("DELETE FROM files_fts WHERE rowid = ?", (row[0],))
    conn.execute("DELETE FROM files WHERE id = ?", (row[0],))


def _insert_files(conn: Connection, batch: list[_Prepared], vectors: np.ndarray | None) -> None:
    """Insert the rows of ``batch``: files, chunks, their FTS rows and symbols, one
    ``executemany`` per table. Ids count on from the largest in use, which is the id SQLite
    itself gives a row of an ``INTEGER PRIMARY KEY`` table without AUTOINCREMENT."""
    file_id = int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM files").fetchone()[0])
    chunk_id = int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM chunks").fetchone()[0])
    files: list[tuple[object, ...]] = []
    file_fts: list[tuple[object, ...]] = []
    chunks: list[tuple[object, ...]] = []
    chunk_fts: list[tuple[object, ...]] = []
    symbols: list[tuple[object, ...]] = []
    blobs = iter(vectors) if vectors is not None else None
    for p in batch:
        a = p.analysis
        file_id += 1
        files.append(
            (
                file_id,
                p.rel,
                p.digest,
                p.size,
                p.mtime_ns,
                a.language,
                len(a.chunks),
                int(is_test_path(p.rel)),
            )
        )
        defined: set[str] = set()
        for chunk, tokens, names in zip(a.chunks, a.chunk_tokens, a.chunk_names, strict=True):
            chunk_id += 1
            blob = next(blobs).tobytes() if blobs is not None else None
            chunks.append(
                (
                    chunk_id,
                    chunk.path,
                    chunk.start_line,
                    chunk.end_line,
                    chunk.symbol,
                    chunk.kind,
                    chunk.language,
                    chunk.context,
                    chunk.text,
                    blob,
                )
            )
            chunk_fts.append((chunk_id, tokens, names))
            if chunk.symbol and chunk.kind != "module" and chunk.symbol not in defined:
                defined.add(chunk.symbol)
                symbols.append((chunk.symbol.rsplit(".", 1)[-1], p.rel, chunk_id, chunk.kind))
        file_fts.append((file_id, " ".join(a.chunk_tokens), a.file_names))
    conn.executemany(
        "INSERT INTO files(id, path, hash, size, mtime_ns, language, n_chunks, is_test)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        files,
    )
    conn.executemany(
        "INSERT INTO chunks(id, path, start_line, end_line, symbol, kind, language, context,"
        " text, vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        chunks,
    )
    conn.executemany("INSERT INTO chunks_fts(rowid, body, names) VALUES (?, ?, ?)", chunk_fts)
    conn.executemany("INSERT INTO symbols(name, path, chunk_id, kind) VALUES (?, ?, ?, ?)", symbols)
    conn.executemany("INSERT INTO files_fts(rowid, body, names) VALUES (?, ?, ?)", file_fts)


def verify_index(conn: Connection) -> list[str]:
    """Consistency problems of the index (empty when consistent): every file row has exactly
    its recorded chunks, every chunk has its FTS row and its file, every file its FTS row."""
    problems: list[str] = []
    for path, expected, actual in conn.execute(
        "SELECT f.path, f.n_chunks, COUNT(c.id) FROM files f LEFT JOIN chunks c ON c.path = f.path"
        " GROUP BY f.path, f.n_chunks HAVING f.n_chunks != COUNT(c.id)"
    ):
        problems.append(f"{path}: {actual} chunks stored, {expected} recorded")
    orphans = conn.execute(
        "SELECT COUNT(*) FROM chunks WHERE path NOT IN (SELECT path FROM files)"
    ).fetchone()[0]
    if orphans:
        problems.append(f"{orphans} chunks belong to no file")
    n_chunks = conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
    n_fts = conn.execute("SELECT COUNT(*) FROM chunks_fts").fetchone()[0]
    if n_chunks != n_fts:
        problems.append(f"{n_chunks} chunks but {n_fts} chunk FTS rows")
    n_files = conn.execute("SELECT COUNT(*) FROM files").fetchone()[0]
    n_ffts = conn.execute("SELECT COUNT(*) FROM files_fts").fetchone()[0]
    if n_files != n_ffts:
        problems.append(f"{n_files} files but {n_ffts} file FTS rows")
    return problems
