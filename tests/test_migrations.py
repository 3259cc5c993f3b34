"""Schema versions: files made by the previous code move forward on open, keeping every row;
a file made by a newer release is refused and left byte for byte as it was."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.cli import i2v
from tui.core.sqlite_schema import SchemaTooNew, migrate, statements
from tui.engine.store import SCHEMA_VERSION, Store
from tui.watch.journal import DONE, RENDERING, SEEN, Journal
from tui.watch.journal import SCHEMA_VERSION as JOURNAL_VERSION

ROOT = Path(__file__).resolve().parents[1]

# The engine's DDL exactly as tui/engine/store.py had it before schema versions (the same text
# since the first commit). Files made before 22afcac say user_version 0; after, crc32 of it.
OLD_ENGINE_DDL = """
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
OLD_ENGINE_CRC = 1877644647

# The watch journal's DDL exactly as tui/watch/journal.py had it (user_version left at 0).
OLD_JOURNAL_DDL = """
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

DRAFT = {"d": 3000, "m": {"title": "old", "width": 1280, "height": 720, "fps": 30}, "t": []}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def indexes(db: sqlite3.Connection) -> set[str]:
    return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}


def old_engine_db(path: Path, user_version: int) -> None:
    """A database as the previous engine left it: WAL, its tables, a user with history."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(OLD_ENGINE_DDL)
    db.execute(f"PRAGMA user_version={user_version}")
    db.execute("INSERT INTO users VALUES ('u_old', 'client-1', 93, 2)")
    db.execute("INSERT INTO tokens VALUES ('nmv_old', 'u_old', 4102444800.0)")
    db.execute(
        "INSERT INTO ledger (user_id, render_id, kind, amount, at)"
        " VALUES ('u_old', 'r_done', 'spend', 5, 1.0)"
    )
    db.execute(
        "INSERT INTO sessions (task_id, user_id, task_name, language, version, created_at)"
        " VALUES ('task_old', 'u_old', 'spring', 'en', 1, 1.0)"
    )
    db.execute("INSERT INTO drafts VALUES (1, 0, '{}', 'empty')")
    db.execute("INSERT INTO drafts VALUES (1, 1, ?, 'made')", (json.dumps(DRAFT),))
    db.execute("INSERT INTO media VALUES ('h1', '/m/h1.png', 'image', 640, 480, NULL, NULL, 99)")
    db.execute("INSERT INTO session_media VALUES (1, 'h1', 'cat.png', 2.0)")
    for rid, status in (("r_done", "completed"), ("r_wait", "pending"), ("r_run", "processing")):
        db.execute(
            "INSERT INTO renders VALUES (?, 'u_old', 1, ?, 'draft', ?, 0, 1, NULL, NULL, ?, NULL)",
            (rid, json.dumps(DRAFT), status, {"r_done": 1.0, "r_wait": 2.0, "r_run": 3.0}[rid]),
        )
    db.close()


@pytest.mark.parametrize("user_version", [0, OLD_ENGINE_CRC, 1], ids=["unstamped", "crc", "v1"])
def test_an_engine_database_of_the_previous_schema_moves_forward_keeping_its_rows(
    tmp_path: Path, user_version: int
) -> None:
    path = tmp_path / "engine.sqlite3"
    old_engine_db(path, user_version)
    store = Store(path)
    try:
        assert store.one("PRAGMA user_version")[0] == SCHEMA_VERSION == 4
        assert "renders_status" in {
            r["name"] for r in store.all("SELECT name FROM sqlite_master WHERE type='index'")
        }
        assert store.credits("u_old") == (93, 2)
        tok = store.token("nmv_old")
        assert tok is not None and tok.user_id == "u_old"
        assert store.account_for("client-1", "nmv_old") == "u_old"
        assert store.draft(1) == DRAFT
        assert [r["filename"] for r in store.session_media(1)] == ["cat.png"]
        assert [r["id"] for r in store.unfinished_renders()] == ["r_wait", "r_run"]
        assert [r["user_id"] for r in store.unfinished_renders()] == ["u_old", "u_old"]
        assert store.render("r_done")["status"] == "completed"
        # New rows follow the old ones (AUTOINCREMENT kept its place).
        assert store.new_session("u_old", "next", "en")["session_id"] == 2
        assert store.one("PRAGMA journal_mode")[0] == "wal"
    finally:
        store.close()
    # Opened again: already at this version, nothing to do, nothing lost.
    again = Store(path)
    try:
        assert again.credits("u_old") == (93, 2)
        assert len(again.all("SELECT * FROM ledger")) == 1
    finally:
        again.close()


def test_a_new_engine_database_is_made_at_the_current_version(tmp_path: Path) -> None:
    store = Store(tmp_path / "new.sqlite3")
    try:
        assert store.one("PRAGMA user_version")[0] == SCHEMA_VERSION
        token, credits = store.new_token("c")
        assert credits == 100 and store.token(token.token) is not None
    finally:
        store.close()


def test_the_per_request_render_counts_use_the_index(tmp_path: Path) -> None:
    path = tmp_path / "engine.sqlite3"
    Store(path).close()
    db = sqlite3.connect(path)
    for sql in (
        "SELECT COUNT(*) FROM renders WHERE user_id='u' AND status IN ('pending','processing')",
        "SELECT * FROM renders WHERE status IN ('pending','processing') ORDER BY created_at",
    ):
        plan = " ".join(r[-1] for r in db.execute("EXPLAIN QUERY PLAN " + sql))
        assert "renders_status" in plan, plan
    db.close()


def newer(path: Path, ddl: str, version: int) -> str:
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(ddl)
    db.execute("CREATE TABLE from_the_future (x)")
    db.execute("INSERT INTO from_the_future VALUES (42)")
    db.execute(f"PRAGMA user_version={version}")
    db.close()
    return digest(path)


def test_an_engine_database_from_a_newer_release_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "engine.sqlite3"
    before = newer(path, OLD_ENGINE_DDL, SCHEMA_VERSION + 1)
    with pytest.raises(SchemaTooNew) as err:
        Store(path)
    msg = str(err.value)
    assert str(path) in msg and "newer i2v-flow" in msg and f"version {SCHEMA_VERSION + 1}" in msg
    assert "\n" not in msg
    assert digest(path) == before
    assert not Path(f"{path}-wal").exists()  # not even switched to WAL


def test_the_engine_process_refuses_a_newer_database_and_leaves_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    path = data / "engine.sqlite3"
    before = newer(path, OLD_ENGINE_DDL, SCHEMA_VERSION + 5)
    proc = subprocess.run(
        [sys.executable, "-m", "tui.engine", "--port", "0", "--data", str(data)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 1
    line = proc.stderr.strip()  # one sentence, no traceback
    assert "\n" not in line and line.startswith(f"error: {path} is an engine database")
    assert "made by a newer i2v-flow" in line
    assert "listening" not in proc.stdout
    assert digest(path) == before


def old_journal(path: Path, folder: Path, user_version: int) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(OLD_JOURNAL_DDL)
    if user_version:
        db.execute(f"PRAGMA user_version={user_version}")
    rows = [
        ("h_done", "a.png", DONE, "/o/a.mp4", 1.0),
        ("h_run", "b.png", RENDERING, "", 3.0),
        ("h_seen", "c.png", SEEN, "", 2.0),
    ]
    for key, name, state, out, created in rows:
        db.execute(
            "INSERT INTO jobs (folder, hash, path, state, prompt, render_id, out, created,"
            " updated) VALUES (?,?,?,?,?,?,?,?,?)",
            (str(folder), key, str(folder / name), state, "p", "r_" + key, out, created, created),
        )
    db.close()


@pytest.mark.parametrize("user_version", [0, 1], ids=["unstamped", "v1"])
def test_a_watch_journal_of_the_previous_schema_moves_forward_keeping_its_rows(
    tmp_path: Path, user_version: int
) -> None:
    folder = (tmp_path / "in").resolve()
    folder.mkdir()
    path = tmp_path / "watch.db"
    old_journal(path, folder, user_version)
    j = Journal(path, folder)
    try:
        assert j.db.execute("PRAGMA user_version").fetchone()[0] == JOURNAL_VERSION == 2
        assert "jobs_open" in indexes(j.db)
        done = j.get("h_done")
        assert done is not None and done.state == DONE and done.out == "/o/a.mp4"
        assert [x.hash for x in j.unfinished()] == ["h_seen", "h_run"]  # by created
        assert j.out_taken("/o/a.mp4")
        assert j.counts() == {DONE: 1, RENDERING: 1, SEEN: 1}
        assert j.step("h_run", DONE).state == DONE
        assert [x.hash for x in j.unfinished()] == ["h_seen"]
    finally:
        j.close()


def test_the_watchers_per_file_queries_never_scan_the_journal(tmp_path: Path) -> None:
    """Every statement the journal runs for a file, and the start-up list, uses an index."""
    j = Journal(tmp_path / "watch.db", tmp_path)
    try:
        traced: list[str] = []
        j.db.set_trace_callback(traced.append)  # the SQL as run, values filled in
        j.add("k1", tmp_path / "a.png", "p")
        j.get("k1")
        j.step("k1", RENDERING, render_id="r1")
        j.set("k1", path=str(tmp_path / "b.png"))
        j.out_taken(str(tmp_path / "out" / "a.mp4"))
        j.unfinished()
        j.db.set_trace_callback(None)
        asked = [s for s in traced if s.split()[0].upper() in ("SELECT", "UPDATE", "INSERT")]
        assert len(asked) >= 6
        for sql in asked:
            plan = [r[-1] for r in j.db.execute("EXPLAIN QUERY PLAN " + sql)]
            assert not any(p.startswith("SCAN") for p in plan), (sql, plan)
            assert not any("TEMP B-TREE" in p for p in plan), (sql, plan)
        listing = next(s for s in asked if "NOT IN" in s)
        plan = " ".join(r[-1] for r in j.db.execute("EXPLAIN QUERY PLAN " + listing))
        assert "jobs_open" in plan, plan
    finally:
        j.close()


def test_a_watch_journal_from_a_newer_release_stops_the_watcher_in_one_line(
    tmp_path: Path, engine_url: str
) -> None:
    home, folder = tmp_path / "home", tmp_path / "in"
    home.mkdir()
    folder.mkdir()
    path = home / "watch.db"
    before = newer(path, OLD_JOURNAL_DDL, JOURNAL_VERSION + 1)
    proc = i2v(tmp_path, "watch", str(folder), "--api", engine_url, timeout=60)
    assert proc.returncode == 1
    line = proc.stderr.strip()
    assert "\n" not in line and line.startswith("error: ") and "newer i2v-flow" in line
    assert str(path) in line
    assert digest(path) == before


def test_a_failing_step_leaves_the_file_at_its_old_version_whole(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    db = sqlite3.connect(path, isolation_level=None)
    steps = ["CREATE TABLE a (x);\nINSERT INTO a VALUES (1);"]
    assert migrate(db, steps, path=path, what="a test file") == 0
    broken = [*steps, "CREATE TABLE b (y);", "ALTER TABLE nowhere ADD COLUMN z;"]
    with pytest.raises(sqlite3.OperationalError):
        migrate(db, broken, path=path, what="a test file")
    assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"a"}  # step 2's table went with the failed step 3
    assert not db.in_transaction
    db.close()


def test_statements_split_a_script_on_whole_statements() -> None:
    script = "CREATE TABLE t (\n  a TEXT DEFAULT ';' -- a; comment\n);\nCREATE INDEX i ON t (a);\n"
    assert statements(script) == [
        "CREATE TABLE t (\n  a TEXT DEFAULT ';' -- a; comment\n);",
        "CREATE INDEX i ON t (a);",
    ]


def test_two_watchers_opening_an_old_journal_at_once_both_get_it_migrated(tmp_path: Path) -> None:
    folder = (tmp_path / "in").resolve()
    folder.mkdir()
    path = tmp_path / "watch.db"
    old_journal(path, folder, 0)
    start = threading.Barrier(2, timeout=10)
    opened: list[int] = []
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            start.wait()
            j = Journal(path, folder)
            opened.append(len(j.unfinished()))
            j.close()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == [] and opened == [2, 2]
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == JOURNAL_VERSION
    assert db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0] == 3
    db.close()
