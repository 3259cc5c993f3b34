"""Renders on the PostgreSQL queue (tui/engine/queue.py): a `serve --database` node queues them,
two `i2v-flow worker` processes run them (tui/engine/queue_worker.py), sharing one storage
folder. Workers heart-beat every 0.3 s here and count as stopped after 1.5 s without one.
Each test has a database of its own on the private cluster (tests/pg_cluster.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.decode import probe
from tests.test_abuse_workers import User, cpu_ticks, wait_for
from tests.test_engine_api import auth
from tests.test_engine_lifecycle import (
    HIGH,
    ROOT,
    EngineProc,
    _alive,
    _children,
    _cmdline,
    _wait_processing,
    wait_finished,
)

psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed (the `scale` extra)")
pytest.importorskip("procrastinate", reason="procrastinate is not installed (the `scale` extra)")

QUICK = {"I2V_QUEUE_HEARTBEAT": "0.3", "I2V_QUEUE_STALL": "1.5"}


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


class WorkerProc:
    """`i2v-flow worker --storage DIR`, read until it says it is ready."""

    def __init__(self, url: str, storage: Path):
        env = {**os.environ, **QUICK, "I2V_FLOW_DATABASE": url}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tui", "worker", "--storage", str(storage)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            env=env,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode()
        if "ready" not in line:
            self.proc.kill()
            raise RuntimeError(f"worker did not start: {line!r} {self.proc.stderr.read()!r}")
        self.pid = self.proc.pid

    def renders(self) -> list[int]:
        """Its live render processes."""
        kids = _children(self.pid)
        return [k for k in kids if _alive(k) and b"tui.engine.worker" in _cmdline(k)]

    def kill9(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


class Cluster:
    """One serve node and the workers started on one database and storage folder."""

    def __init__(self, url: str, storage: Path):
        self.url, self.storage = url, storage
        self.node = EngineProc(storage, {**QUICK, "I2V_FLOW_DATABASE": url})
        self.workers: list[WorkerProc] = []

    def worker(self) -> WorkerProc:
        w = WorkerProc(self.url, self.storage)
        self.workers.append(w)
        return w

    def running(self, rid: str) -> tuple[WorkerProc, int]:
        """The live worker, and its render process, writing `rid` now (waits up to 30 s): the
        one whose child's partial file is there (workers keep idle render processes too)."""

        def find() -> list[tuple[WorkerProc, int]]:
            writing = {int(p.name.split(".")[-2]) for p in self.parts() if f".{rid}." in p.name}
            return [
                (w, pid)
                for w in self.workers
                if w.proc.poll() is None
                for pid in w.renders()
                if pid in writing
            ]

        found = wait_for(find, 30)
        assert found, f"no worker runs {rid}"
        return found[0]

    def parts(self) -> list[Path]:
        return list((self.storage / "renders").glob(".*.part"))

    def jobs(self) -> list[tuple[str, int]]:
        with psycopg.connect(self.url) as db:
            return db.execute(
                "SELECT status::text, attempts FROM procrastinate_jobs ORDER BY id"
            ).fetchall()

    def stop(self) -> None:
        for w in self.workers:
            w.stop()
        self.node.stop()


@pytest.fixture
def cluster(pg_url: str, tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(pg_url, tmp_path / "storage")
    try:
        yield c
    finally:
        c.stop()


def test_a_killed_render_process_runs_again_on_its_worker(cluster: Cluster, tmp_path: Path) -> None:
    """The render's child process killed: the same worker runs it once more; it completes
    once, decodes to its full length, and costs its credits once."""
    w = cluster.worker()
    with httpx.Client(base_url=cluster.node.url, timeout=30) as api:
        u = User(api, tmp_path, "u")
        rid = u.render_id(3, (1280, 720), output=HIGH)
        _wait_processing(api, u.tok, rid)
        runner, child = cluster.running(rid)
        assert runner is w
        os.kill(child, signal.SIGKILL)
        assert wait_finished(api, u.tok, rid)["status"] == "completed"
        r = api.get(f"/api/render/proxy/{rid}/download", headers=auth(u.tok))
        assert r.status_code == 200
        (tmp_path / "out.mp4").write_bytes(r.content)
        assert probe(tmp_path / "out.mp4").video_seconds == pytest.approx(3.0, abs=0.05)
        assert u.balance() == {"available": 97, "frozen": 0, "total": 97}
    assert not (cluster.storage / "engine.sqlite3").exists()  # the state is in PostgreSQL
    assert not cluster.parts()
    assert cluster.jobs() == [("succeeded", 2)]
    books_balance(cluster.url)


def test_kill_9_of_a_worker_mid_render_completes_once_on_the_other(
    cluster: Cluster, tmp_path: Path
) -> None:
    cluster.worker(), cluster.worker()
    with httpx.Client(base_url=cluster.node.url, timeout=30) as api:
        u = User(api, tmp_path, "u")
        rid = u.render_id(3, (1280, 720), output=HIGH)
        _wait_processing(api, u.tok, rid)
        victim, _ = cluster.running(rid)  # and it has begun writing
        victim.kill9()
        assert wait_finished(api, u.tok, rid)["status"] == "completed"
        (other,) = [w for w in cluster.workers if w is not victim]
        assert other.proc.poll() is None
        r = api.get(f"/api/render/proxy/{rid}/download", headers=auth(u.tok))
        assert r.status_code == 200
        (tmp_path / "out.mp4").write_bytes(r.content)
        assert probe(tmp_path / "out.mp4").video_seconds == pytest.approx(3.0, abs=0.05)
        assert u.balance() == {"available": 97, "frozen": 0, "total": 97}
    assert not cluster.parts()  # the dead attempt's half file went
    assert cluster.jobs() == [("succeeded", 2)]  # run twice, paid once
    books_balance(cluster.url)  # one freeze, one spend


def test_cancel_mid_render_releases_once(cluster: Cluster, tmp_path: Path) -> None:
    cluster.worker(), cluster.worker()
    with httpx.Client(base_url=cluster.node.url, timeout=30) as api:
        u = User(api, tmp_path, "u")
        rid = u.render_id(6, (1280, 720), output=HIGH)
        _wait_processing(api, u.tok, rid)
        _, child = cluster.running(rid)
        r = api.post(f"/api/render/proxy/lambda/{rid}/cancel", headers=auth(u.tok))
        assert r.json()["data"]["status"] == "cancelled"
        assert api.post(f"/api/render/proxy/lambda/{rid}/cancel", headers=auth(u.tok)).is_success

        def stopped() -> bool:  # killed, or idle (it noticed first): no CPU used over 0.3 s
            before = cpu_ticks(child)
            time.sleep(0.3)
            return before == -1 or cpu_ticks(child) in (before, -1)

        assert wait_for(stopped, 10), "the render process stopped"
        assert wait_for(lambda: cluster.jobs() and cluster.jobs()[0][0] != "doing", 10)
        assert u.balance() == {"available": 100, "frozen": 0, "total": 100}
        assert wait_for(lambda: not cluster.parts(), 5)
        u.normal_render_completes()  # both workers still serve
    for w in cluster.workers:  # SIGTERM: a clean stop
        w.proc.terminate()
        assert w.proc.wait(15) == 0, w.proc.stderr.read().decode()[-2000:]
    books_balance(cluster.url)  # one freeze, one release


def test_a_job_that_kills_every_worker_fails_after_two_attempts(
    cluster: Cluster, tmp_path: Path
) -> None:
    """Whichever worker runs the render dies (kill -9, as an OOM kill would): the first time the
    other worker's reaper runs it again, the second time the job fails, its credits released."""
    cluster.worker(), cluster.worker()
    with httpx.Client(base_url=cluster.node.url, timeout=30) as api:
        u = User(api, tmp_path, "u")
        rid = u.render_id(6, (1280, 720), output=HIGH)
        _wait_processing(api, u.tok, rid)
        first, _ = cluster.running(rid)
        first.kill9()
        second, _ = cluster.running(rid)  # the reaper gave it to the other worker
        assert second is not first
        second.kill9()
        cluster.worker()  # a worker to see the second death
        st = wait_finished(api, u.tok, rid)
        assert st["status"] == "failed" and "stopped 2 times" in st["error"]
        assert u.balance() == {"available": 100, "frozen": 0, "total": 100}
        assert not cluster.parts()
        assert cluster.jobs() == [("failed", 2)]
        u.normal_render_completes()
    books_balance(cluster.url)


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


def test_a_render_and_its_job_commit_together_and_users_interleave(
    pg_url: str, tmp_path: Path
) -> None:
    """create_render defers the job in its own transaction: a refused render (busy, out of
    credits) queues nothing. Priorities interleave users: each user's n-th unfinished render
    waits behind every user's first."""
    from tui.engine.queue import QueueJobs
    from tui.engine.store_pg import PgStore

    store = PgStore(pg_url, tmp_path)
    try:
        jobs = QueueJobs(store)
        a, b = store.new_token("a")[0].user_id, store.new_token("b")[0].user_id
        sid = store.new_session(a, "t", "en")["session_id"]
        assert store.create_render("a1", a, sid, {}, "draft", 1, 2) == "ok"
        assert store.create_render("a2", a, sid, {}, "draft", 1, 2) == "ok"
        assert store.create_render("a3", a, sid, {}, "draft", 1, 2) == "busy"
        assert store.create_render("b1", b, sid, {}, "draft", 101, 2) == "credits"
        assert store.create_render("b2", b, sid, {}, "draft", 1, 2) == "ok"
        rows = store.all(
            "SELECT args->>'render_id' AS rid, priority FROM procrastinate_jobs"
            " ORDER BY priority DESC, id"
        )
        assert [(r["rid"], r["priority"]) for r in rows] == [("a1", -1), ("b2", -1), ("a2", -2)]
        assert not jobs.queue_full()
        store.finish_render("a1", "cancelled")
        jobs.cancel("a1")  # a waiting job leaves the queue
        left = store.all("SELECT args->>'render_id' AS rid, status::text FROM procrastinate_jobs")
        assert {r["rid"]: r["status"] for r in left}["a1"] == "cancelled"
    finally:
        store.close()


def test_a_worker_paused_past_the_stall_timeout_charges_nothing_twice(
    cluster: Cluster, tmp_path: Path
) -> None:
    """A worker and its render process stopped (SIGSTOP) mid-render for longer than the stall
    timeout: the other worker runs the job again and completes it. Resumed, the first finishes
    its copy too: it is not charged again and the clip the other made stays."""
    cluster.worker(), cluster.worker()
    with httpx.Client(base_url=cluster.node.url, timeout=30) as api:
        u = User(api, tmp_path, "u")
        rid = u.render_id(3, (1280, 720), output=HIGH)
        _wait_processing(api, u.tok, rid)
        paused, child = cluster.running(rid)
        for pid in (paused.pid, child):
            os.kill(pid, signal.SIGSTOP)
        try:
            assert wait_finished(api, u.tok, rid)["status"] == "completed"
        finally:
            for pid in (child, paused.pid):
                os.kill(pid, signal.SIGCONT)
        # The resumed copy runs to its end (or notices it is settled) and leaves nothing.
        assert wait_for(lambda: not cluster.parts(), 30)
        r = api.get(f"/api/render/proxy/{rid}/download", headers=auth(u.tok))
        assert r.status_code == 200
        (tmp_path / "out.mp4").write_bytes(r.content)
        assert probe(tmp_path / "out.mp4").video_seconds == pytest.approx(3.0, abs=0.05)
        assert u.balance() == {"available": 97, "frozen": 0, "total": 97}
        u.normal_render_completes()
    dead = [w for w in cluster.workers if w.proc.poll() is not None]
    assert not dead, [w.proc.stderr.read().decode()[-3000:] for w in dead]  # both serve on
    books_balance(cluster.url)
