"""Schema versions for our SQLite files (the engine's store, the watch journal).

A database carries its version in PRAGMA user_version. `migrate` takes it forward on open, one
step at a time and all steps in one transaction (a crash half-way leaves the old version, whole),
and refuses a database that a newer release made: its tables mean something this code does not
know, so it is neither read nor written.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path


class SchemaTooNew(Exception):
    """The database was made by a newer release of i2v-flow."""


def statements(script: str) -> list[str]:
    """A DDL script split into its statements (executescript would commit our transaction)."""
    out: list[str] = []
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out


def version(db: sqlite3.Connection, legacy: Mapping[int, int] | None = None) -> int:
    """The schema version; `legacy` maps user_version values from before numbering."""
    v = int(db.execute("PRAGMA user_version").fetchone()[0])
    return (legacy or {}).get(v, v)


def _refuse(path: Path, what: str, found: int, known: int) -> SchemaTooNew:
    return SchemaTooNew(
        f"{path} is {what} of schema version {found}, made by a newer i2v-flow "
        f"(this one knows up to version {known}); it was left as it is: upgrade i2v-flow, "
        f"or move the file away to start afresh"
    )


def migrate(
    db: sqlite3.Connection,
    steps: Sequence[str],
    *,
    path: Path,
    what: str,
    legacy: Mapping[int, int] | None = None,
) -> int:
    """Bring `db` (opened with isolation_level=None) to version len(steps).

    steps[i] is the DDL that takes version i to i+1; version 0 is a new, empty file (or one
    from before versions, whose tables step 0's CREATE ... IF NOT EXISTS finds in place).
    Returns the version the file had. Raises SchemaTooNew, having written nothing.
    """
    target = len(steps)
    was = version(db, legacy)
    if was == target:  # the usual case: no write lock taken
        return was
    if was > target:
        raise _refuse(path, what, was, target)
    db.execute("BEGIN IMMEDIATE")
    try:
        was = version(db, legacy)  # another process may have migrated it meanwhile
        if was > target:
            raise _refuse(path, what, was, target)
        for step in steps[was:]:
            for sql in statements(step):
                db.execute(sql)
        db.execute(f"PRAGMA user_version={target}")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return was
