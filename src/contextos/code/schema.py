"""Numbered migrations of a workspace database (the code index).

Tables:
- ``meta``: key/value facts (embedder name, chunker version, Merkle root hash, last index time).
- ``files``: one row per indexed file with its content hash; written in the same transaction as
  the file's chunks, so a file's row exists only if all its chunks do.
- ``dirs``: the Merkle tree: one hash per directory over its children's names and hashes.
- ``chunks`` + ``chunks_fts`` (FTS5 over code-aware tokens) + ``files_fts`` (whole-file tokens).
- ``symbols``: definitions (name → chunk).
- ``audit``: one row per change to the index (append-only).
"""

from __future__ import annotations

from contextos.store.db import Connection, PortableMigration, ddl, ddl_script
from contextos.store.pg import Dialect, PgMigration

__all__ = ["DIALECT", "MIGRATIONS", "PG_MIGRATIONS"]

_TOKENIZER = "\"unicode61 remove_diacritics 0 tokenchars '_'\""


def m001_code_index(conn: Connection) -> None:
    """Files, chunks, FTS5 tables, symbols, Merkle dirs, meta and audit."""
    ddl_script(
        conn,
        f"""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE files (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,
            hash TEXT NOT NULL,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            language TEXT NOT NULL,
            n_chunks INTEGER NOT NULL,
            is_test INTEGER NOT NULL DEFAULT 0,
            indexed_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
        );
        CREATE TABLE dirs (path TEXT PRIMARY KEY, hash TEXT NOT NULL);
        CREATE TABLE chunks (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL,
            start_line INTEGER NOT NULL,
            end_line INTEGER NOT NULL,
            symbol TEXT,
            kind TEXT NOT NULL,
            language TEXT NOT NULL,
            context TEXT NOT NULL,
            text TEXT NOT NULL,
            vector BLOB
        );
        CREATE INDEX chunks_path ON chunks(path);
        CREATE VIRTUAL TABLE chunks_fts USING fts5(body, names, tokenize = {_TOKENIZER});
        CREATE VIRTUAL TABLE files_fts USING fts5(body, names, tokenize = {_TOKENIZER});
        CREATE VIRTUAL TABLE chunks_vocab USING fts5vocab(chunks_fts, 'row');
        CREATE VIRTUAL TABLE files_vocab USING fts5vocab(files_fts, 'row');
        CREATE TABLE symbols (
            name TEXT NOT NULL,
            path TEXT NOT NULL,
            chunk_id INTEGER NOT NULL,
            kind TEXT NOT NULL
        );
        CREATE INDEX symbols_name ON symbols(name);
        CREATE INDEX symbols_path ON symbols(path);
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            ts TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
            action TEXT NOT NULL,
            detail TEXT NOT NULL
        );
        """,
    )


def m002_unembedded_chunks(conn: Connection) -> None:
    """Partial index so finding chunks without a vector does not scan every vector."""
    ddl(conn, "CREATE INDEX chunks_unembedded ON chunks(id) WHERE vector IS NULL")


MIGRATIONS: list[PortableMigration] = [m001_code_index, m002_unembedded_chunks]

# PostgreSQL runs the same migrations (``store.db.ddl`` rewrites each statement; the FTS5
# vocabulary tables have no PostgreSQL counterpart and nothing reads them).
PG_MIGRATIONS: list[PgMigration] = list(MIGRATIONS)
DIALECT = Dialect(keys={"meta": ("key",)}, serial={"files": "id", "chunks": "id", "audit": "id"})
