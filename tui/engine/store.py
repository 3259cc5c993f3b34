"""The engine's SQLite state: tokens, credits, sessions with draft history, media, renders.

One connection guarded by a lock (the server is one process; renders in worker processes open
their own). Every write is a transaction, so a kill -9 at any moment loses nothing accepted.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tui.core.sqlite_schema import migrate
from tui.engine.accounts import Accounts
from tui.engine.draft_history import EMPTY_DRAFT as EMPTY_DRAFT
from tui.engine.draft_history import DraftHistory

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
  user_id TEXT PRIMARY KEY, client_id TEXT, available INTEGER NOT NULL, frozen INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
  token TEXT PRIMARY KEY, user_id TEXT NOT NULL, expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT, render_id TEXT, kind TEXT,
  amount INTEGER, at REAL
);
CREATE TABLE IF NOT EXISTS sessions (
  session_id INTEGER PRIMARY KEY AUTOINCREMENT, task_id TEXT UNIQUE, user_id TEXT NOT NULL,
  task_name TEXT, language TEXT, version INTEGER NOT NULL DEFAULT 0, created_at REAL
);
CREATE TABLE IF NOT EXISTS drafts (
  session_id INTEGER, version INTEGER, draft TEXT NOT NULL, note TEXT,
  PRIMARY KEY (session_id, version)
);
CREATE TABLE IF NOT EXISTS media (
  hash TEXT PRIMARY KEY, path TEXT NOT NULL, file_type TEXT, width INTEGER, height INTEGER,
  duration REAL, fps REAL, size INTEGER
);
CREATE TABLE IF NOT EXISTS session_media (
  session_id INTEGER, hash TEXT, filename TEXT, added_at REAL, PRIMARY KEY (session_id, hash)
);
CREATE TABLE IF NOT EXISTS renders (
  id TEXT PRIMARY KEY, user_id TEXT, session_id INTEGER, draft TEXT, quality TEXT,
  status TEXT, progress REAL, cost INTEGER, error TEXT, output TEXT,
  created_at REAL, completed_at REAL
);
"""
# Schema versions (PRAGMA user_version; tui/core/sqlite_schema.py). SCHEMA is version 1 and is never
# edited again: a change is a new step at the end of MIGRATIONS, which takes every older file
# forward on open. Files from before numbering carry version 0 (tables in place) or the CRC of
# SCHEMA that they were stamped with then.
MIGRATIONS: tuple[str, ...] = (
    SCHEMA,
    # 2: the per-request counts of a user's renders in flight, and the start-up requeue.
    "CREATE INDEX IF NOT EXISTS renders_status ON renders (status, user_id);",
    # 3: storage pruning (tui/engine/prune.py): when a session's draft last changed (a turn, an
    # undo), which nothing else records, and an upload's sessions by its hash.
    """
CREATE TABLE IF NOT EXISTS session_touched (session_id INTEGER PRIMARY KEY, at REAL NOT NULL);
CREATE TRIGGER IF NOT EXISTS sessions_touched AFTER UPDATE OF version ON sessions BEGIN
  INSERT OR REPLACE INTO session_touched
  VALUES (NEW.session_id, (julianday('now') - 2440587.5) * 86400.0);
END;
CREATE INDEX IF NOT EXISTS session_media_hash ON session_media (hash);
""",
    # 4: money moves once per render and outcome (freeze, spend, release), whatever runs twice.
    "CREATE UNIQUE INDEX IF NOT EXISTS ledger_once ON ledger (render_id, kind);",
)
SCHEMA_VERSION = len(MIGRATIONS)
LEGACY_VERSIONS = {1877644647: 1}  # crc32(SCHEMA) & 0x7FFFFFFF, stamped before numbering


class Store(Accounts, DraftHistory):
    def __init__(self, path: Path):
        file = Path(path)
        self.path: Path | None = file  # tui/engine/stores.py: EngineStore
        self.locator = str(file)
        self.data_dir = file.parent  # media/ and renders/ beside the file
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(file), check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA busy_timeout=5000")
        self._lock = threading.RLock()
        try:
            # A file at this version is left alone; an older one moves forward in one
            # transaction; a newer one is refused before anything (WAL included) is written.
            migrate(
                self._db,
                MIGRATIONS,
                path=file,
                what="an engine database",
                legacy=LEGACY_VERSIONS,
            )
        except BaseException:
            self._db.close()
            raise
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def one(self, sql: str, *args: Any) -> sqlite3.Row | None:
        with self._lock:
            return self._db.execute(sql, args).fetchone()

    def all(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # ---- tokens and credits ----------------------------------------------------------------

    # ---- sessions and drafts ---------------------------------------------------------------

    def new_session(self, user_id: str, task_name: str, language: str) -> sqlite3.Row:
        task_id = "task_" + uuid.uuid4().hex[:16]
        with self.tx() as db:
            cur = db.execute(
                "INSERT INTO sessions (task_id, user_id, task_name, language, version, created_at)"
                " VALUES (?,?,?,?,0,?)",
                (task_id, user_id, task_name, language, time.time()),
            )
            sid = cur.lastrowid
            db.execute(
                "INSERT INTO drafts VALUES (?,0,?,?)", (sid, json.dumps(EMPTY_DRAFT), "empty")
            )
            return db.execute("SELECT * FROM sessions WHERE session_id=?", (sid,)).fetchone()

    # ---- media -----------------------------------------------------------------------------

    def add_media(self, session_id: int, info: dict, path: Path, filename: str) -> None:
        with self.tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO media VALUES (?,?,?,?,?,?,?,?)",
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
            db.execute(
                "INSERT OR REPLACE INTO session_media VALUES (?,?,?,?)",
                (session_id, info["hash"], filename, time.time()),
            )

    def session_media(self, session_id: int) -> list[sqlite3.Row]:
        return self.all(
            "SELECT m.*, sm.filename, sm.added_at FROM session_media sm JOIN media m"
            " ON m.hash=sm.hash WHERE sm.session_id=? ORDER BY sm.added_at, sm.rowid",
            session_id,
        )

    def media_paths(self, hashes: list[str]) -> dict[str, Path]:
        out: dict[str, Path] = {}
        for h in hashes:
            row = self.one("SELECT path FROM media WHERE hash=?", h)
            if row:
                out[h] = Path(row["path"])
        return out

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
        """Freeze `cost` credits and queue the job, in one transaction. Returns "ok", "busy"
        (the user already has `max_running` jobs pending or running) or "credits" (it would
        overdraw)."""
        now = time.time()
        with self.tx() as db:
            if max_running is not None:
                running = db.execute(
                    "SELECT COUNT(*) AS n FROM renders WHERE user_id=? AND status IN"
                    " ('pending','processing')",
                    (user_id,),
                ).fetchone()["n"]
                if running >= max_running:
                    return "busy"
            row = db.execute("SELECT available FROM users WHERE user_id=?", (user_id,)).fetchone()
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
        return "ok"

    def render(self, render_id: str) -> sqlite3.Row | None:
        return self.one("SELECT * FROM renders WHERE id=?", render_id)

    def finish_render(
        self, render_id: str, status: str, output: str | None = None, error: str | None = None
    ) -> bool:
        """Settle a job once: spend on completed, release on failed/cancelled."""
        now = time.time()
        with self.tx() as db:
            # The guarded update decides who settles: only one caller finds the job unfinished.
            row = db.execute(
                "UPDATE renders SET status=?, output=?, error=?, completed_at=?,"
                " progress=CASE WHEN ?='completed' THEN 100 ELSE progress END"
                " WHERE id=? AND status IN ('pending','processing') RETURNING cost, user_id",
                (status, output, error, now, status, render_id),
            ).fetchall()  # stepped to its end before COMMIT
            if not row:
                return False
            cost, user = row[0]["cost"], row[0]["user_id"]
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
        with self.tx() as db:
            db.execute(
                "UPDATE renders SET progress=?, status=? WHERE id=? AND status IN"
                " ('pending','processing')",
                (progress, status, render_id),
            )

    def requeue_unfinished(self) -> list[sqlite3.Row]:
        """At start: jobs a previous run accepted but did not finish go back to the queue."""
        with self.tx() as db:
            db.execute("UPDATE renders SET status='pending', progress=0 WHERE status='processing'")
        return self.unfinished_renders()

    def requeue(self, render_id: str) -> None:
        """A job whose worker died goes back to the queue (if nobody settled it meanwhile)."""
        with self.tx() as db:
            db.execute(
                "UPDATE renders SET status='pending', progress=0 WHERE id=? AND status IN"
                " ('pending','processing')",
                (render_id,),
            )

    def unfinished_renders(self) -> list[sqlite3.Row]:
        return self.all(
            "SELECT * FROM renders WHERE status IN ('pending','processing') ORDER BY created_at"
        )
