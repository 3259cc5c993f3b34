"""`i2v-flow serve --database postgresql://…`: the engine with its state in PostgreSQL, speaking
the same protocol, its render workers (child processes) opening the same database. Each test has
a database of its own on the private cluster (tests/pg_cluster.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.decode import probe
from tests.test_abuse_workers import User, wait_for
from tests.test_engine_api import auth
from tests.test_engine_lifecycle import HIGH, ROOT, EngineProc, _wait_processing, wait_finished

psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed (the `scale` extra)")


@pytest.fixture
def engines():
    started: list[EngineProc] = []
    yield started
    for e in started:
        e.stop()


def books_balance(url: str) -> None:
    """As tests/test_abuse_workers.py's, read from PostgreSQL: every user's 100 credits are
    available + frozen + spent, and each finished render settled once after its one freeze."""
    with psycopg.connect(url) as db:
        for user, available, frozen in db.execute("SELECT user_id, available, frozen FROM users"):
            spent, held = db.execute(
                "SELECT (SELECT COALESCE(SUM(amount), 0) FROM ledger WHERE user_id=%s"
                " AND kind='spend'), (SELECT COALESCE(SUM(cost), 0) FROM renders"
                " WHERE user_id=%s AND status IN ('pending','processing'))",
                (user, user),
            ).fetchone()
            assert (available + frozen + spent, frozen) == (100, held), user
        for rid, status in db.execute("SELECT id, status FROM renders").fetchall():
            kinds = [
                k
                for (k,) in db.execute(
                    "SELECT kind FROM ledger WHERE render_id=%s ORDER BY seq", (rid,)
                )
            ]
            settle = {"completed": ["spend"], "failed": ["release"], "cancelled": ["release"]}
            assert kinds == ["freeze", *settle.get(status, [])], (rid, status, kinds)


def test_a_render_on_postgres_decodes_to_full_length(
    engines: list[EngineProc], pg_url: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    # The URL from the environment, as I2V_FLOW_DATABASE says; no SQLite file is made.
    e = EngineProc(data, {"I2V_FLOW_DATABASE": pg_url}, "--workers", "1")
    engines.append(e)
    with httpx.Client(base_url=e.url, timeout=30) as api:
        u = User(api, tmp_path, "u")
        rid = u.render_id(2, (320, 180))
        assert wait_finished(api, u.tok, rid)["status"] == "completed"
        r = api.get(f"/api/render/proxy/{rid}/download", headers=auth(u.tok))
        assert r.status_code == 200
        (tmp_path / "out.mp4").write_bytes(r.content)
        assert probe(tmp_path / "out.mp4").video_seconds == pytest.approx(2.0, abs=0.05)
        assert u.balance() == {"available": 98, "frozen": 0, "total": 98}
    assert not (data / "engine.sqlite3").exists()
    workers = e.workers()  # the URL reached them in their environment, never on a command line
    assert workers and all(
        b"postgresql" not in Path(f"/proc/{w}/cmdline").read_bytes() for w in workers
    )
    books_balance(pg_url)


def test_a_killed_worker_on_postgres_renders_once(
    engines: list[EngineProc], pg_url: str, tmp_path: Path
) -> None:
    """kill -9 of the render worker mid-render: the job runs again and completes once; one
    freeze, one spend, no partial file."""
    data = tmp_path / "data"
    e = EngineProc(data, None, "--database", pg_url, "--workers", "1")
    engines.append(e)
    with httpx.Client(base_url=e.url, timeout=30) as api:
        u = User(api, tmp_path, "u")
        rid = u.render_id(3, (1280, 720), output=HIGH)
        _wait_processing(api, u.tok, rid)
        (worker,) = e.workers()
        os.kill(worker, signal.SIGKILL)
        assert wait_finished(api, u.tok, rid)["status"] == "completed"
        assert wait_for(lambda: not list((data / "renders").glob(".*.part")))
        assert u.balance() == {"available": 97, "frozen": 0, "total": 97}
    books_balance(pg_url)


def test_serve_refuses_a_database_it_cannot_use(tmp_path: Path) -> None:
    def serve(*args: str, **env: str) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "tui", "serve", "--port", "0", "--data", str(tmp_path)]
        return subprocess.run(
            [*cmd, *args],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
            env={**os.environ, **env},
        )

    bad = serve("--database", "sqlite:///x.db")
    assert bad.returncode == 2 and "not a postgresql:// URL" in bad.stderr
    gone = f"postgresql://u:hunter2@/nothing?host={tmp_path}"  # no server on that socket
    down = serve(I2V_FLOW_DATABASE=gone)
    assert down.returncode == 1, down.stderr
    (line,) = down.stderr.strip().splitlines()[-1:]
    assert line.startswith("error: postgresql://u:***@/nothing") and "hunter2" not in down.stderr
