"""The watch journal: one SQLite row per image (keyed by folder and content hash).

Every step is committed before the next one starts, so a restart (even after kill -9) knows
exactly where each image stands: what to resume, what to redo, and what never to do again.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from tui.core.sqlite_schema import migrate

# The steps, in order. A row moves forward only; `failed` and `done` are final until the
# person moves the image back into the folder.
SEEN, UPLOADED, TURNED, RENDERING, DOWNLOADING, DOWNLOADED = (
    "seen",
    "uploaded",
    "turned",
    "rendering",
    "downloading",
    "downloaded",
)
DONE, FAILED, GONE = "done", "failed", "gone"
FINAL = (DONE, FAILED, GONE)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
  folder TEXT NOT NULL,
  hash TEXT NOT NULL,
  path TEXT NOT NULL,          -- where the image is (or was last seen), absolute
  state TEXT NOT NULL,
  prompt TEXT NOT NULL DEFAULT '',
  session_id TEXT NOT NULL DEFAULT '',
  task_id TEXT NOT NULL DEFAULT '',
  render_id TEXT NOT NULL DEFAULT '',
  out TEXT NOT NULL DEFAULT '',     -- the clip's path, reserved before the download starts
  moved_to TEXT NOT NULL DEFAULT '', -- done/ or failed/ path of the image
  error TEXT NOT NULL DEFAULT '',
  attempts INTEGER NOT NULL DEFAULT 0,
  created REAL NOT NULL,
  updated REAL NOT NULL,
  PRIMARY KEY (folder, hash)
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (folder, state);
CREATE INDEX IF NOT EXISTS jobs_out ON jobs (out);
"""
# Schema versions (PRAGMA user_version; tui/core/sqlite_schema.py). _SCHEMA is version 1 (journals
# from before numbering say 0 and have it in place) and is never edited again: a change is a new
# step at the end, which takes every older journal forward on open.
_OPEN = "state NOT IN ('done', 'failed', 'gone')"  # literal: the partial index must match it
MIGRATIONS: tuple[str, ...] = (
    _SCHEMA,
    # 2: the images still under way, found without reading a year of finished rows.
    f"CREATE INDEX IF NOT EXISTS jobs_open ON jobs (folder, created) WHERE {_OPEN};",
)
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True)
class Job:
    folder: str
    hash: str
    path: str
    state: str
    prompt: str = ""
    session_id: str = ""
    task_id: str = ""
    render_id: str = ""
    out: str = ""
    moved_to: str = ""
    error: str = ""
    attempts: int = 0

    @property
    def name(self) -> str:
        return Path(self.path).name

    @property
    def short(self) -> str:
        return self.hash[:10]


_FIELDS = tuple(Job.__dataclass_fields__)


class Journal:
    def __init__(self, path: Path, folder: Path):
        self.path = Path(path)
        self.folder = str(Path(folder).resolve())
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        try:
            migrate(self.db, MIGRATIONS, path=self.path, what="a watch journal")
        except BaseException:
            self.db.close()
            raise
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")

    def close(self) -> None:
        self.db.close()

    def _job(self, row: sqlite3.Row | None) -> Job | None:
        return Job(**{k: row[k] for k in _FIELDS}) if row is not None else None

    def get(self, key: str) -> Job | None:
        row = self.db.execute(
            "SELECT * FROM jobs WHERE folder=? AND hash=?", (self.folder, key)
        ).fetchone()
        return self._job(row)

    def add(self, key: str, path: Path, prompt: str) -> Job:
        """A new image (or one moved back after a failure): starts again at `seen`."""
        now = time.time()
        self.db.execute(
            "INSERT INTO jobs (folder, hash, path, state, prompt, created, updated)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (folder, hash) DO UPDATE SET path=excluded.path, state=excluded.state,"
            " prompt=excluded.prompt, session_id='', task_id='', render_id='', out='',"
            " moved_to='', error='', attempts=attempts+1, updated=excluded.updated",
            (self.folder, key, str(path), SEEN, prompt, now, now),
        )
        job = self.get(key)
        assert job is not None
        return job

    def step(self, key: str, state: str, **values: str) -> Job:
        """Record a step (committed at once: autocommit mode)."""
        sets = ", ".join(f"{k}=?" for k in values)
        self.db.execute(
            f"UPDATE jobs SET state=?, updated=?{', ' + sets if sets else ''}"
            " WHERE folder=? AND hash=?",
            (state, time.time(), *values.values(), self.folder, key),
        )
        job = self.get(key)
        assert job is not None
        return job

    def set(self, key: str, **values: str) -> Job:
        """Change fields without moving the step (a path after a rename)."""
        job = self.get(key)
        assert job is not None
        return self.step(key, job.state, **values)

    def unfinished(self) -> list[Job]:
        rows = self.db.execute(
            f"SELECT * FROM jobs WHERE folder=? AND {_OPEN} ORDER BY created", (self.folder,)
        ).fetchall()
        return [j for r in rows if (j := self._job(r)) is not None]

    def out_taken(self, out: str) -> bool:
        """Is this clip path reserved by some image (of any folder)?"""
        return (
            self.db.execute("SELECT 1 FROM jobs WHERE out=? LIMIT 1", (out,)).fetchone() is not None
        )

    def counts(self) -> dict[str, int]:
        rows = self.db.execute(
            "SELECT state, COUNT(*) AS n FROM jobs WHERE folder=? GROUP BY state", (self.folder,)
        ).fetchall()
        return {r["state"]: r["n"] for r in rows}
