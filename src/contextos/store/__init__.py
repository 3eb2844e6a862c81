"""SQLite storage: connections, numbered migrations, the workspace schema."""

from contextos.store.db import connect, transaction

__all__ = ["connect", "transaction"]
