"""Render the schema that a list of migrations produces, as Markdown (``docs/schema.md``).

The docs are generated from the migrations, never written by hand, so they cannot drift; a test
regenerates them and compares.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

from contextos.store.db import Migration, connect

__all__ = ["schema_markdown"]


def schema_markdown(title: str, migrations: Sequence[Migration]) -> str:
    """Markdown listing each migration and the resulting ``CREATE`` statements."""
    with tempfile.TemporaryDirectory() as tmp:
        conn = connect(Path(tmp) / "schema.db", migrations)
        rows = conn.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL"
            " AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%_data' AND name NOT LIKE '%_idx'"
            " AND name NOT LIKE '%_content' AND name NOT LIKE '%_docsize'"
            " AND name NOT LIKE '%_config'"
            " ORDER BY type DESC, name"
        ).fetchall()
        conn.close()
    lines = [f"# {title}", "", "Generated from the migrations; do not edit by hand.", ""]
    lines += ["## Migrations", ""]
    lines += [
        f"{i}. `{m.__name__}`: {(m.__doc__ or '').strip()}" for i, m in enumerate(migrations, 1)
    ]
    lines += ["", "## Objects", ""]
    for kind, name, sql in rows:
        lines += [f"### {kind} `{name}`", "", "```sql", _tidy(sql), "```", ""]
    return "\n".join(lines)


def _tidy(sql: str) -> str:
    return "\n".join(line.rstrip() for line in sql.strip().splitlines())


if __name__ == "__main__":
    from contextos.code.schema import MIGRATIONS

    print(schema_markdown("Workspace database schema", MIGRATIONS))
