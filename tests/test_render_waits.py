"""A status poll of a running render is held until the render settles (render_waits.py): the
poller hears of the end at once, not a poll interval later. The engines here hold polls for up
to 60 s, so a poll that comes back sooner was ended by what the test did, not by the clock."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.test_abuse_workers import User, engines  # noqa: F401  (a fixture)
from tests.test_engine_api import auth
from tests.test_engine_lifecycle import HIGH, EngineProc, start
from tui.engine.server.render_waits import RenderWaits

LONG = "60"  # seconds a poll may be held in these engines


def test_a_hold_ends_when_its_render_settles_from_another_thread() -> None:
    async def main() -> None:
        waits = RenderWaits(hold=60)
        waits.bind(asyncio.get_running_loop())
        held = [asyncio.create_task(waits.hold("r1")) for _ in range(2)]
        other = asyncio.create_task(waits.hold("r2"))
        await asyncio.sleep(0.05)
        threading.Thread(target=waits.settled_soon, args=("r1",)).start()
        assert await asyncio.wait_for(asyncio.gather(*held), 30) == [True, True]
        assert not other.done()  # another render's poll still waits
        assert list(waits._waits) == ["r2"]  # the settled render's entry is gone with its pollers
        waits.close()  # the engine stops (uvicorn's shutdown, on its loop)
        assert await asyncio.wait_for(other, 30) is True
        assert await waits.hold("r3") is False  # stopping: answered at once, nothing held
        assert not waits._waits

    asyncio.run(main())


def test_no_hold_when_set_to_zero() -> None:
    async def main() -> None:
        assert await RenderWaits(hold=0).hold("r1") is False

    asyncio.run(main())


@contextlib.contextmanager
def _holding_engine(started: list[EngineProc], tmp_path: Path) -> Iterator[tuple]:
    """An engine holding polls for LONG seconds, a client of it and a user with a photo."""
    e = start(started, tmp_path / "data", "--workers", "1", I2V_ENGINE_POLL_HOLD=LONG)
    with httpx.Client(base_url=e.url, timeout=120) as api:
        yield e, api, User(api, tmp_path, "u")


def _held_get(e: EngineProc, u: User, rid: str, got: list) -> threading.Thread:
    def run() -> None:
        with httpx.Client(base_url=e.url, timeout=120) as c:
            got.append(c.get(f"/api/render/proxy/lambda/{rid}", headers=auth(u.tok)))

    t = threading.Thread(target=run)
    t.start()
    return t


def test_a_held_poll_is_answered_as_the_render_completes(
    engines: list[EngineProc],  # noqa: F811
    tmp_path: Path,
) -> None:
    with _holding_engine(engines, tmp_path) as (_, api, u):
        rid = u.render_id(2, (640, 360), output=HIGH)
        r = api.get(f"/api/render/proxy/lambda/{rid}", headers=auth(u.tok))
        # Held until the end: the first answer is the completed render, with no Retry-After.
        assert r.json()["data"]["status"] == "completed", r.text
        assert "retry-after" not in r.headers
        assert r.json()["data"]["outputUrl"].endswith(f"/{rid}/download")


def test_a_held_poll_is_answered_by_a_cancel_and_by_the_engine_stopping(
    engines: list[EngineProc],  # noqa: F811
    tmp_path: Path,
) -> None:
    with _holding_engine(engines, tmp_path) as (e, api, u):
        rid = u.render_id(20, (1280, 720), output=HIGH)  # a minute of work
        got: list = []
        poll = _held_get(e, u, rid, got)
        time.sleep(0.5)
        assert not got  # held: the render runs
        r = api.post(f"/api/render/proxy/lambda/{rid}/cancel", headers=auth(u.tok))
        assert r.json()["data"]["status"] == "cancelled"
        poll.join(30)
        assert got and got[0].json()["data"]["status"] == "cancelled"
        # A poll held when the engine is told to stop is answered (the engine stops in time).
        rid = u.render_id(20, (1280, 720), output=HIGH)
        got.clear()
        poll = _held_get(e, u, rid, got)
        time.sleep(0.5)
        assert not got
        e.stop()  # SIGINT, as Ctrl+C (the app's stdin pipe closing ends in the same shutdown)
        poll.join(30)
        assert e.proc.returncode == 0  # stopped by itself, not killed after 10 s
        # Answered (still running: it resumes at the next start) or cut by the stop; never
        # held for the whole minute.
        assert not got or got[0].json()["data"]["status"] in ("pending", "processing")


def test_warm_now_starts_a_worker_at_once_and_its_warm_up_draws_cleanly(
    engines: list[EngineProc],  # noqa: F811
    tmp_path: Path,
    caplog,
) -> None:
    """`render` and `watch` start their engine with --warm-now: its worker is there before any
    upload (the app's waits WARM_AFTER, 3 s, to leave its first screen the cores); the
    worker's warm-up frame goes through the renderer's real path without an error."""
    from tests.test_abuse_workers import wait_for
    from tui.engine.render.warm_up import warm_up

    cold = start(engines, tmp_path / "cold", "--workers", "1")
    assert cold.workers() == []  # nothing asked for a render yet
    e = start(engines, tmp_path / "data", "--workers", "1", "--warm-now")
    assert wait_for(e.workers, 2.5), "no render worker 2.5 s after a --warm-now start"
    with httpx.Client(base_url=e.url, timeout=120) as api:
        User(api, tmp_path, "u").normal_render_completes()
    with caplog.at_level("DEBUG", logger="i2v.engine.render"):
        warm_up()
    assert not caplog.records  # it logs only a failure
