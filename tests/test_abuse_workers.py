"""Render workers under abuse: killed, cancelled mid-frame, out of memory, the engine killed -9
around them idle or busy, and one user's many renders against another's one.

Each test starts its own engine on its own data folder and ends with a normal render that
completes and books that balance. `I2V_TEST_PYTHONS` (paths joined by os.pathsep, each with the
project installed) runs the killed-worker test on those interpreters too.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.test_engine_api import (
    auth,
    balance,
    clip,
    new_session,
    start_render,
    token,
    upload_photo,
)
from tests.test_engine_lifecycle import (
    HIGH,
    EngineProc,
    _alive,
    _wait_processing,
    start,
    wait_finished,
    wait_for,
)
from tui.core.protocol import RATE_LIMITED
from tui.engine.store import Store

PYTHONS = [sys.executable, *filter(None, os.environ.get("I2V_TEST_PYTHONS", "").split(os.pathsep))]


@pytest.fixture
def engines() -> Iterator[list[EngineProc]]:
    started: list[EngineProc] = []
    yield started
    for e in started:
        e.stop()


class User:
    """A token, a session and a photo uploaded to it."""

    def __init__(self, api: httpx.Client, tmp_path: Path, name: str):
        self.api = api
        self.tok = token(api)
        self.sid = new_session(api, self.tok)
        self.src = upload_photo(api, self.tok, self.sid, tmp_path / f"{name}.png", (64, 48))["hash"]

    def render(self, seconds: float = 1, size=(320, 180), **extra) -> httpx.Response:
        return start_render(self.api, self.tok, self.sid, clip(self.src, seconds, size), **extra)

    def render_id(self, seconds: float = 1, size=(320, 180), **extra) -> str:
        r = self.render(seconds, size, **extra)
        assert r.status_code == 200, r.text
        return r.json()["data"]["id"]

    def balance(self) -> dict:
        return balance(self.api, self.tok)

    def normal_render_completes(self) -> None:
        """A small render completes and costs its one credit."""
        before = self.balance()
        rid = self.render_id()
        assert wait_finished(self.api, self.tok, rid)["status"] == "completed"
        less = {"available": before["available"] - 1, "total": before["total"] - 1}
        assert self.balance() == {**before, **less}


def books_balance(data: Path) -> None:
    """Every user: 100 credits = available + frozen + spent; frozen = what unfinished renders
    hold; every finished render settled once (spend or release) after its one freeze."""
    with sqlite3.connect(data / "engine.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        users = db.execute("SELECT user_id, available, frozen FROM users").fetchall()
        for user, available, frozen in users:
            spent = db.execute(
                "SELECT COALESCE(SUM(amount), 0) FROM ledger WHERE user_id=? AND kind='spend'",
                (user,),
            ).fetchone()[0]
            held = db.execute(
                "SELECT COALESCE(SUM(cost), 0) FROM renders WHERE user_id=? AND status IN"
                " ('pending','processing')",
                (user,),
            ).fetchone()[0]
            assert (available + frozen + spent, frozen) == (100, held), user
        for rid, status in db.execute("SELECT id, status FROM renders").fetchall():
            kinds = [k for (k,) in db.execute("SELECT kind FROM ledger WHERE render_id=?", (rid,))]
            settle = {"completed": ["spend"], "failed": ["release"], "cancelled": ["release"]}
            assert kinds == ["freeze", *settle.get(status, [])], (rid, status, kinds)


def cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return -1
    return int(fields[11]) + int(fields[12])  # utime + stime


@pytest.mark.parametrize("python", PYTHONS)
def test_a_killed_worker_is_survived_with_a_queue_behind_it(
    engines: list[EngineProc], tmp_path: Path, python: str
) -> None:
    e = start_with(engines, tmp_path / "data", python, "--workers", "1")
    with httpx.Client(base_url=e.url, timeout=30) as api:
        a, b = User(api, tmp_path, "a"), User(api, tmp_path, "b")
        ra = a.render_id(4, (1280, 720), output=HIGH)
        _wait_processing(api, a.tok, ra)
        rb = b.render_id()  # waits behind it
        (worker,) = e.workers()
        os.kill(worker, signal.SIGKILL)
        # Both finish: a's once more on a new worker; nothing hangs (3.12+ deadlocked here).
        assert wait_finished(api, b.tok, rb)["status"] == "completed"
        assert wait_finished(api, a.tok, ra)["status"] == "completed"
        assert a.balance() == {"available": 96, "frozen": 0, "total": 96}
        # An idle worker killed: another is started and warmed in its place.
        (idle,) = wait_for(e.workers)
        os.kill(idle, signal.SIGKILL)
        assert wait_for(lambda: [w for w in e.workers() if w != idle]), e.workers()
        b.normal_render_completes()
        assert len(e.workers()) == 1
    books_balance(e.data)


def start_with(engines: list[EngineProc], data: Path, python: str, *args: str) -> EngineProc:
    e = EngineProc(data, None, *args, python=python)
    engines.append(e)
    return e


def test_kill_9_of_an_idle_engine_leaves_no_process(
    engines: list[EngineProc], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    e = start(engines, data)
    with httpx.Client(base_url=e.url, timeout=30) as api:
        u = User(api, tmp_path, "u")  # the upload warms a worker up
        assert wait_for(e.workers), "no worker was started"
        u.normal_render_completes()
        assert wait_for(e.workers)  # idle again
    assert e.descendants(), "nothing to leave behind?"
    assert e.kill9() == []  # every process it started died with it, within 5 s
    books_balance(data)
    e2 = start(engines, data)
    with httpx.Client(base_url=e2.url, timeout=30) as api:
        u.api = api
        u.normal_render_completes()
    books_balance(data)


def test_kill_9_of_a_busy_engine_leaves_no_process_and_no_half_file(
    engines: list[EngineProc], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    e = start(engines, data, "--workers", "1")
    with httpx.Client(base_url=e.url, timeout=30) as api:
        u = User(api, tmp_path, "u")
        rid = u.render_id(6, (1280, 720), output=HIGH)
        _wait_processing(api, u.tok, rid)
        (worker,) = e.workers()
    assert e.kill9() == []
    assert not _alive(worker)
    half = list((data / "renders").glob(f".{rid}.mp4.*.part"))
    assert half, "the worker had begun writing"
    books_balance(data)  # its 6 credits still frozen, nothing lost
    e2 = start(engines, data, "--workers", "1")
    with httpx.Client(base_url=e2.url, timeout=30) as api:
        u.api = api
        assert not any(p.exists() for p in half)  # never adopted by the new run
        st = wait_finished(api, u.tok, rid)
        assert st["status"] == "completed"
        r = api.get(f"/api/render/proxy/{rid}/download", headers=auth(u.tok))
        assert r.status_code == 200 and r.content[4:8] == b"ftyp"
        u.normal_render_completes()
        assert u.balance() == {"available": 93, "frozen": 0, "total": 93}
    assert not list((data / "renders").glob(".*.part"))
    books_balance(data)


def test_a_runaway_render_fails_out_of_memory_and_releases_its_credits(
    engines: list[EngineProc], tmp_path: Path
) -> None:
    # The limit: what a small draft took here (~1 GB on 2 cores, most of it thread stacks and
    # malloc arenas, which grow with the cores) and 600 MB more; a 2160p 'high' render needs
    # ~1.8 GB more than that small one.
    data = tmp_path / "data"
    e = start(engines, data, "--workers", "1")
    with httpx.Client(base_url=e.url, timeout=30) as api:
        u = User(api, tmp_path, "u")
        u.normal_render_completes()
        (worker,) = e.workers()
        limit = vm_peak_mb(worker) + 600
    e.stop()
    e = start(engines, data, "--workers", "1", I2V_ENGINE_WORKER_MEMORY=str(limit))
    with httpx.Client(base_url=e.url, timeout=30) as api:
        u.api = api
        rid = u.render_id(1, (3840, 2160), output=HIGH)
        st = wait_finished(api, u.tok, rid)
        assert st["status"] == "failed", st
        assert "ran out of memory" in st["error"] and f"{limit} MB" in st["error"], st
        assert u.balance() == {"available": 99, "frozen": 0, "total": 99}
        u.normal_render_completes()
    books_balance(data)


def vm_peak_mb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmPeak:"):
            return int(line.split()[1]) // 1024
    raise AssertionError(f"no VmPeak for {pid}")


@pytest.mark.parametrize("grace", ["0.5", "0"])
def test_cancel_stops_a_running_render_within_a_second(
    engines: list[EngineProc], tmp_path: Path, grace: str
) -> None:
    """With the default grace the worker stops by itself or is killed; with none, killed."""
    data = tmp_path / "data"
    e = start(engines, data, "--workers", "1", I2V_ENGINE_CANCEL_GRACE=grace)
    with httpx.Client(base_url=e.url, timeout=30) as api:
        u = User(api, tmp_path, "u")
        rid = u.render_id(20, (1280, 720), output=HIGH)  # a minute of work here
        _wait_processing(api, u.tok, rid)
        (worker,) = e.workers()
        r = api.post(f"/api/render/proxy/lambda/{rid}/cancel", headers=auth(u.tok))
        assert r.json()["data"]["status"] == "cancelled"

        def stopped() -> bool:  # gone, or no CPU used over 0.3 s
            before = cpu_ticks(worker)
            time.sleep(0.3)
            return not _alive(worker) or cpu_ticks(worker) == before

        assert wait_for(stopped, 2), "the worker still renders 2 s after the cancel"
        if grace == "0":
            assert not _alive(worker)
            assert wait_for(e.workers), "the killed worker is replaced"
        assert u.balance() == {"available": 100, "frozen": 0, "total": 100}
        u.normal_render_completes()
    assert not list((data / "renders").glob(".*.part"))
    assert not (data / "renders" / f"{rid}.mp4").exists()
    books_balance(data)


def test_renders_are_taken_fairly_and_the_queue_is_bounded(
    engines: list[EngineProc], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    e = start(engines, data, "--workers", "1", I2V_ENGINE_MAX_QUEUED="2")
    with httpx.Client(base_url=e.url, timeout=30) as api:
        a, b, c = (User(api, tmp_path, n) for n in "abc")
        first = a.render_id(3, (1280, 720), output=HIGH)
        _wait_processing(api, a.tok, first)
        a_next = a.render_id()
        b_one = b.render_id()
        r = c.render()  # two wait already: refused, nothing frozen
        assert (r.status_code, r.json()["code"]) == (429, RATE_LIMITED), r.text
        assert int(r.headers["Retry-After"]) > 0 and "waiting" in r.json()["message"]
        assert c.balance() == {"available": 100, "frozen": 0, "total": 100}
        for user, rid in ((a, first), (a, a_next), (b, b_one)):
            assert wait_finished(api, user.tok, rid)["status"] == "completed"
        c.normal_render_completes()
    assert finish_order(data, [first, a_next, b_one]) == [first, b_one, a_next]
    books_balance(data)


def finish_order(data: Path, rids: list[str]) -> list[str]:
    with sqlite3.connect(data / "engine.sqlite3") as db:
        rows = db.execute(
            f"SELECT id FROM renders WHERE id IN ({','.join('?' * len(rids))})"
            " ORDER BY completed_at",
            rids,
        ).fetchall()
    return [r for (r,) in rows]


def test_ten_queued_renders_of_one_user_do_not_hold_up_another(
    engines: list[EngineProc], tmp_path: Path
) -> None:
    """Ten of a's renders then one of b's, all waiting at start (resumed): b's is second."""
    data = tmp_path / "data"
    e = start(engines, data)
    with httpx.Client(base_url=e.url, timeout=30) as api:
        a, b = User(api, tmp_path, "a"), User(api, tmp_path, "b")
    e.stop()
    store = Store(data / "engine.sqlite3")
    try:
        queued = []
        for user, n in ((a, 10), (b, 1)):
            for _ in range(n):
                rid = f"r_{len(queued):02d}"
                draft = clip(user.src, 1, (320, 180))
                uid, sid = user.tok["user_id"], int(user.sid)
                assert store.create_render(rid, uid, sid, draft, "draft", 1) == "ok"
                queued.append(rid)
    finally:
        store.close()
    e2 = start(engines, data, "--workers", "1")
    with httpx.Client(base_url=e2.url, timeout=60) as api:
        a.api = b.api = api
        for user, rid in [(a, r) for r in queued[:10]] + [(b, queued[10])]:
            assert wait_finished(api, user.tok, rid)["status"] == "completed"
        assert a.balance() == {"available": 90, "frozen": 0, "total": 90}
        b.normal_render_completes()
    assert finish_order(data, queued).index(queued[10]) == 1
    books_balance(data)
