"""The engine's state in PostgreSQL (psycopg 3, the `scale` extra): what tui/engine/store.py
keeps in SQLite, for several `serve` nodes and render workers sharing one database.

One connection per store guarded by a lock, as on SQLite (each process opens its own). Money
moves once however often a settlement is tried: the status update is guarded (only the caller
that finds the render unfinished settles it) and the ledger holds one entry per render and
outcome. A user's row is locked while a render is accepted, so the per-user cap and the balance
hold across nodes.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from tui.core.sqlite_schema import SchemaTooNew
from tui.engine.accounts import Accounts
from tui.engine.draft_history import EMPTY_DRAFT, DraftHistory

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
  user_id TEXT PRIMARY KEY, client_id TEXT, available BIGINT NOT NULL, frozen BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
  token TEXT PRIMARY KEY, user_id TEXT NOT NULL, expires_at DOUBLE PRECISION NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger (
  seq BIGSERIAL PRIMARY KEY, user_id TEXT, render_id TEXT, kind TEXT, amount BIGINT,
  at DOUBLE PRECISION, UNIQUE (render_id, kind)
);
CREATE TABLE IF NOT EXISTS sessions (
  session_id BIGSERIAL PRIMARY KEY, task_id TEXT UNIQUE, user_id TEXT NOT NULL,
  task_name TEXT, language TEXT, version INTEGER NOT NULL DEFAULT 0,
  created_at DOUBLE PRECISION
);
CREATE TABLE IF NOT EXISTS drafts (
  session_id BIGINT, version INTEGER, draft TEXT NOT NULL, note TEXT,
  PRIMARY KEY (session_id, version)
);
CREATE TABLE IF NOT EXISTS media (
  hash TEXT PRIMARY KEY, path TEXT NOT NULL, file_type TEXT, width INTEGER, height INTEGER,
  duration DOUBLE PRECISION, fps DOUBLE PRECISION, size BIGINT
);
CREATE TABLE IF NOT EXISTS session_media (
  session_id BIGINT, hash TEXT, filename TEXT, added_at DOUBLE PRECISION,
  seq BIGSERIAL, PRIMARY KEY (session_id, hash)
);
CREATE INDEX IF NOT EXISTS session_media_hash ON session_media (hash);
CREATE TABLE IF NOT EXISTS renders (
  id TEXT PRIMARY KEY, user_id TEXT, session_id BIGINT, draft TEXT, quality TEXT,
  status TEXT, progress DOUBLE PRECISION, cost BIGINT, error TEXT, output TEXT,
  created_at DOUBLE PRECISION, completed_at DOUBLE PRECISION
);
CREATE INDEX IF NOT EXISTS renders_status ON renders (status, user_id);
CREATE TABLE IF NOT EXISTS session_touched (
  session_id BIGINT PRIMARY KEY, at DOUBLE PRECISION NOT NULL
);
CREATE OR REPLACE FUNCTION i2v_session_touched() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO session_touched VALUES (NEW.session_id, extract(epoch FROM clock_timestamp()))
  ON CONFLICT (session_id) DO UPDATE SET at = EXCLUDED.at;
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS sessions_touched ON sessions;
CREATE TRIGGER sessions_touched AFTER UPDATE OF version ON sessions
  FOR EACH ROW EXECUTE FUNCTION i2v_session_touched();
"""
# As on SQLite, the first step is never edited again: a change is a new step at the end.
MIGRATIONS: tuple[str, ...] = (SCHEMA,)
SCHEMA_VERSION = len(MIGRATIONS)
MIGRATE_LOCK = 0x1257F10  # the advisory lock nodes starting together migrate under

_IS_PARAM = re.compile(r"\bIS \?")


def pg_sql(sql: str) -> str:
    """The engine's generic queries (tui/engine/prune.py) are in SQLite's spelling: `?`
    placeholders, `IS ?`, instr(). Their PostgreSQL spelling."""
    sql = _IS_PARAM.sub("IS NOT DISTINCT FROM ?", sql).replace("instr(", "strpos(")
    return sql.replace("?", "%s")


class _Tx:
    """A transaction's connection, taking the engine's generic queries as they are written."""

    def __init__(self, conn: psycopg.Connection):
        self._conn = conn

    def execute(self, sql: str, params: tuple | list = (), /) -> psycopg.Cursor:
        return self._conn.execute(pg_sql(sql), tuple(params))


class PgStore(Accounts, DraftHistory):
    LOCK_ROW = " FOR UPDATE"  # another node may step the same session's drafts
    path: Path | None = None  # no local database file
    # Called in create_render's transaction (connection, render id, user id): the queue defers
    # the render's job there (tui/engine/queue.py), so both commit or neither does.
    on_render: Callable[[psycopg.Connection, str, str], None] | None = None

    def __init__(self, url: str, data_dir: Path):
        self.locator = url
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._db = psycopg.connect(url, autocommit=True, row_factory=dict_row)
        self._lock = threading.RLock()
        try:
            self._migrate()
        except BaseException:
            self._db.close()
            raise

    def _migrate(self) -> None:
        with self._db.transaction():
            self._db.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_LOCK,))
            self._db.execute("CREATE TABLE IF NOT EXISTS i2v_schema (version INTEGER NOT NULL)")
            row = self._db.execute("SELECT version FROM i2v_schema").fetchone()
            was = row["version"] if row else 0
            if was > SCHEMA_VERSION:
                raise SchemaTooNew(
                    f"the database is an engine database of schema version {was}, made by a "
                    f"newer i2v-flow (this one knows up to version {SCHEMA_VERSION}); it was "
                    "left as it is: upgrade i2v-flow"
                )
            for step in MIGRATIONS[was:]:
                self._db.execute(step)
            if row is None:
                self._db.execute("INSERT INTO i2v_schema VALUES (%s)", (SCHEMA_VERSION,))
            elif was != SCHEMA_VERSION:
                self._db.execute("UPDATE i2v_schema SET version=%s", (SCHEMA_VERSION,))

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def tx(self) -> Iterator[_Tx]:
        with self._lock, self._db.transaction():
            yield _Tx(self._db)

    def run(self, fn: Callable[[psycopg.Connection], Any]) -> Any:
        """`fn` on this store's connection, in a transaction (the queue's own statements)."""
        with self._lock, self._db.transaction():
            return fn(self._db)

    def one(self, sql: str, *args: Any) -> dict | None:
        with self._lock:
            return self._db.execute(pg_sql(sql), args).fetchone()

    def all(self, sql: str, *args: Any) -> list[dict]:
        with self._lock:
            return self._db.execute(pg_sql(sql), args).fetchall()

    # ---- tokens and credits ----------------------------------------------------------------

    # ---- sessions and drafts ---------------------------------------------------------------

    def new_session(self, user_id: str, task_name: str, language: str) -> dict:
        task_id = "task_" + uuid.uuid4().hex[:16]
        with self.tx() as db:
            row = db.execute(
                "INSERT INTO sessions (task_id, user_id, task_name, language, version, created_at)"
                " VALUES (?,?,?,?,0,?) RETURNING *",
                (task_id, user_id, task_name, language, time.time()),
            ).fetchone()
            db.execute(
                "INSERT INTO drafts VALUES (?,0,?,?)",
                (row["session_id"], json.dumps(EMPTY_DRAFT), "empty"),
            )
            return row

    # ---- media -----------------------------------------------------------------------------

    def add_media(self, session_id: int, info: dict, path: Path, filename: str) -> None:
        with self.tx() as db:
            db.execute(
                "INSERT INTO media VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (hash) DO NOTHING",
                (
                    info["hash"],
                    str(path),
                    info["file_type"],
                    info.get("width"),
                    info.get("height"),
                    info.get("duration"),
                    info.get("fps"),
                    info.get("size"),
                ),
            )
            # SQLite's INSERT OR REPLACE: the row goes and comes back last (a new seq).
            db.execute(
                "DELETE FROM session_media WHERE session_id=? AND hash=?",
                (session_id, info["hash"]),
            )
            db.execute(
                "INSERT INTO session_media (session_id, hash, filename, added_at) VALUES (?,?,?,?)",
                (session_id, info["hash"], filename, time.time()),
            )

    def session_media(self, session_id: int) -> list[dict]:
        return self.all(
            "SELECT m.*, sm.filename, sm.added_at FROM session_media sm JOIN media m"
            " ON m.hash=sm.hash WHERE sm.session_id=? ORDER BY sm.added_at, sm.seq",
            session_id,
        )

    def media_paths(self, hashes: list[str]) -> dict[str, Path]:
        rows = self.all("SELECT hash, path FROM media WHERE hash = ANY(?)", list(hashes))
        return {r["hash"]: Path(r["path"]) for r in rows}

    # ---- renders ---------------------------------------------------------------------------

    def create_render(
        self,
        render_id: str,
        user_id: str,
        session_id: int,
        draft: dict,
        quality: str,
        cost: int,
        max_running: int | None = None,
    ) -> str:
        """Freeze `cost` credits and queue the job, in one transaction: "ok", "busy" (the user
        has `max_running` jobs pending or running, on any node) or "credits"."""
        now = time.time()
        with self.tx() as db:
            # The user's row, locked: a second node's request for this user waits here.
            row = db.execute(
                "SELECT available FROM users WHERE user_id=? FOR UPDATE", (user_id,)
            ).fetchone()
            if max_running is not None:
                running = db.execute(
                    "SELECT COUNT(*) AS n FROM renders WHERE user_id=? AND status IN"
                    " ('pending','processing')",
                    (user_id,),
                ).fetchone()["n"]
                if running >= max_running:
                    return "busy"
            if row is None or row["available"] < cost:
                return "credits"
            db.execute(
                "UPDATE users SET available=available-?, frozen=frozen+? WHERE user_id=?",
                (cost, cost, user_id),
            )
            db.execute(
                "INSERT INTO renders VALUES (?,?,?,?,?,'pending',0,?,NULL,NULL,?,NULL)",
                (render_id, user_id, session_id, json.dumps(draft), quality, cost, now),
            )
            db.execute(
                "INSERT INTO ledger (user_id, render_id, kind, amount, at) VALUES (?,?,?,?,?)",
                (user_id, render_id, "freeze", cost, now),
            )
            if self.on_render is not None:
                self.on_render(self._db, render_id, user_id)
        return "ok"

    def render(self, render_id: str) -> dict | None:
        return self.one("SELECT * FROM renders WHERE id=?", render_id)

    def finish_render(
        self, render_id: str, status: str, output: str | None = None, error: str | None = None
    ) -> bool:
        """Settle a job once: spend on completed, release on failed/cancelled."""
        now = time.time()
        with self.tx() as db:
            row = db.execute(
                "UPDATE renders SET status=?, output=?, error=?, completed_at=?,"
                " progress=CASE WHEN ?='completed' THEN 100 ELSE progress END"
                " WHERE id=? AND status IN ('pending','processing') RETURNING cost, user_id",
                (status, output, error, now, status, render_id),
            ).fetchone()
            if row is None:
                return False
            cost, user = row["cost"], row["user_id"]
            if status == "completed":
                db.execute("UPDATE users SET frozen=frozen-? WHERE user_id=?", (cost, user))
                kind = "spend"
            else:
                db.execute(
                    "UPDATE users SET frozen=frozen-?, available=available+? WHERE user_id=?",
                    (cost, cost, user),
                )
                kind = "release"
            db.execute(
                "INSERT INTO ledger (user_id, render_id, kind, amount, at) VALUES (?,?,?,?,?)",
                (user, render_id, kind, cost, now),
            )
        return True

    def set_progress(self, render_id: str, progress: float, status: str = "processing") -> None:
        # One statement, committed as it runs (autocommit), not BEGIN/UPDATE/COMMIT: a worker
        # frozen between the two (SIGSTOP, a paused VM: the stall the queue recovers from)
        # would hold the render's row lock, and the worker re-running the job would wait on it
        # to settle the render for as long as the first stayed frozen.
        self.one(
            "UPDATE renders SET progress=?, status=? WHERE id=? AND status IN"
            " ('pending','processing') RETURNING id",
            progress,
            status,
            render_id,
        )

    def requeue_unfinished(self) -> list[dict]:
        with self.tx() as db:
            db.execute("UPDATE renders SET status='pending', progress=0 WHERE status='processing'")
        return self.unfinished_renders()

    def requeue(self, render_id: str) -> None:
        with self.tx() as db:
            db.execute(
                "UPDATE renders SET status='pending', progress=0 WHERE id=? AND status IN"
                " ('pending','processing')",
                (render_id,),
            )

    def unfinished_renders(self) -> list[dict]:
        return self.all(
            "SELECT * FROM renders WHERE status IN ('pending','processing') ORDER BY created_at"
        )
