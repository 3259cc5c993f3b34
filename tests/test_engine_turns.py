"""Agent turns on the engine: compound undo ("undo and make it 6 s"), and the per-session turn
locks (turns on one session run one at a time; the lock table does not grow with the sessions).

The compound-undo tests speak to the shared engine process (`engine_url`). The lock tests run an
Engine of their own in this process, served by uvicorn on 127.0.0.1, so they can read its table.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.test_engine_api import auth, new_session, token, upload_photo
from tui.engine.server import Engine
from tui.engine.server.ratelimit import RateLimiter


@pytest.fixture
def api(engine_url: str) -> httpx.Client:
    with httpx.Client(base_url=engine_url, timeout=30) as c:
        yield c


def turn(api: httpx.Client, tok: dict, sid: str, text: str) -> tuple[list[dict], str]:
    """One turn over the event stream: its function calls and responses, and the final text."""
    body = {"session_id": sid, "new_message": {"parts": [{"text": text}]}}
    with api.stream("POST", "/run_sse", headers=auth(tok), json=body) as resp:
        assert resp.status_code == 200
        raw = resp.read().decode()
    events = [json.loads(chunk[6:]) for chunk in raw.split("\n\n") if chunk]
    events = [ev for ev in events if "content" in ev]
    parts = [p for ev in events for p in ev["content"]["parts"]]
    tools = [p for p in parts if "functionCall" in p or "functionResponse" in p]
    return tools, events[-1]["content"]["parts"][0]["text"]


def called(tools: list[dict]) -> list[tuple[str, bool]]:
    """(name, ok) of each call, its response checked to follow it."""
    out = []
    for call, answer in zip(tools[::2], tools[1::2], strict=True):
        fc, fr = call["functionCall"], answer["functionResponse"]
        assert fc["id"] == fr["id"] and fc["name"] == fr["name"]
        out.append((fc["name"], fr["response"]["ok"]))
    return out


def draft_of(api: httpx.Client, tok: dict, sid: str) -> dict:
    r = api.get(f"/api/state/nemo_agent/me/{sid}/latest", headers=auth(tok))
    return r.json()["data"]["state"]["draft"]


def session_with_photo(api: httpx.Client, tmp_path: Path) -> tuple[dict, str]:
    tok = token(api)
    sid = new_session(api, tok)
    upload_photo(api, tok, sid, tmp_path / "p.png", (64, 48))
    return tok, sid


# ---- compound undo ------------------------------------------------------------------------------


def test_undo_and_make_it_6_s_undoes_then_applies_the_rest(
    api: httpx.Client, tmp_path: Path
) -> None:
    tok, sid = session_with_photo(api, tmp_path)
    assert draft_of(api, tok, sid)["d"] == 5000  # a new session's draft
    tools, _ = turn(api, tok, sid, "make it 8 seconds")
    set_length = called(tools)
    assert set_length and all(ok for _, ok in set_length)
    assert draft_of(api, tok, sid)["d"] == 8000

    tools, reply = turn(api, tok, sid, "undo and make it 6 s")
    # Both show in the stream: the undo, then the rest's own calls.
    assert called(tools) == [("undo", True), *set_length]
    assert draft_of(api, tok, sid)["d"] == 6000
    assert reply.startswith("Undid: ") and "6 s" in reply

    # The rest is a change of its own on top of the restored draft: one undo takes it back to
    # the draft before "make it 8 seconds" (the 8 s version is gone, as after any new change).
    tools, reply = turn(api, tok, sid, "undo")
    assert called(tools) == [("undo", True)]
    assert draft_of(api, tok, sid)["d"] == 5000
    turn(api, tok, sid, "redo")
    assert draft_of(api, tok, sid)["d"] == 6000
    tools, reply = turn(api, tok, sid, "redo")
    assert called(tools) == [("redo", False)] and reply == "There is nothing to redo."
    assert draft_of(api, tok, sid)["d"] == 6000


def test_the_chinese_compound_undo(api: httpx.Client, tmp_path: Path) -> None:
    tok, sid = session_with_photo(api, tmp_path)
    turn(api, tok, sid, "改成8秒")
    assert draft_of(api, tok, sid)["d"] == 8000
    tools, reply = turn(api, tok, sid, "撤销然后改成6秒")
    names = called(tools)
    assert names[0] == ("undo", True) and len(names) >= 2 and all(ok for _, ok in names)
    assert draft_of(api, tok, sid)["d"] == 6000
    assert reply.startswith("已撤销：") and "。" in reply
    turn(api, tok, sid, "撤销")
    assert draft_of(api, tok, sid)["d"] == 5000


def test_with_nothing_to_undo_the_rest_is_not_applied(api: httpx.Client, tmp_path: Path) -> None:
    tok, sid = session_with_photo(api, tmp_path)
    before = draft_of(api, tok, sid)
    tools, reply = turn(api, tok, sid, "undo and make it 6 s")
    assert called(tools) == [("undo", False)]
    assert reply == "There is nothing to undo."
    assert draft_of(api, tok, sid) == before and before["d"] == 5000
    tools, reply = turn(api, tok, sid, "撤销然后改成6秒")
    assert called(tools) == [("undo", False)] and reply == "没有可以撤销的修改。"
    assert draft_of(api, tok, sid) == before


# ---- turn locks -------------------------------------------------------------------------------


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[Engine, str]]:
    """An Engine in this process, served on 127.0.0.1 as `serve()` would (a turn takes 0.4 s);
    with room for more than 20 requests a second (these tests send hundreds)."""
    import uvicorn

    engine = Engine(tmp_path / "engine", 1, turn_delay=0.4)
    engine.limiter = RateLimiter(per_second=100_000)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    config = uvicorn.Config(
        engine.app, loop="asyncio", http="h11", ws="none", lifespan="on", log_config=None
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])))
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started
    try:
        yield engine, f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def test_two_turns_on_one_session_run_one_at_a_time(
    live: tuple[Engine, str], tmp_path: Path
) -> None:
    engine, url = live
    with httpx.Client(base_url=url, timeout=30) as api:
        tok, sid = session_with_photo(api, tmp_path)
        other = new_session(api, tok)
        seen: list[int] = []

        def watch() -> None:
            while len(seen) < 400 and not done.is_set():
                seen.append(len(engine.turn_locks))
                time.sleep(0.01)

        async def both(sids: list[str], texts: list[str]) -> float:
            async with httpx.AsyncClient(base_url=url, timeout=30) as c:

                async def one(s: str, text: str) -> None:
                    body = {"session_id": s, "new_message": {"parts": [{"text": text}]}}
                    r = await c.post("/run_sse", headers=auth(tok), json=body)
                    assert r.status_code == 200 and "functionCall" in r.text

                t0 = time.monotonic()
                await asyncio.gather(*(one(s, t) for s, t in zip(sids, texts, strict=True)))
                return time.monotonic() - t0

        done = threading.Event()
        watcher = threading.Thread(target=watch)
        watcher.start()
        took = asyncio.run(both([sid, sid], ["make it 7 seconds", "make it 720p"]))
        done.set()
        watcher.join()
        # One after the other: each waited out the other's 0.4 s, and each read the draft the
        # other left (run at once, both would read the same draft and one change would be lost).
        assert took >= 0.8
        draft = draft_of(api, tok, sid)
        assert (draft["d"], draft["m"]["height"]) == (7000, 720)
        assert max(seen) == 1 and engine.turn_locks == {}

        # Turns on different sessions do not wait for each other.
        took = asyncio.run(both([sid, other], ["make it 9 seconds", "make it 1080p"]))
        assert took < 0.8 + 0.35
        assert draft_of(api, tok, sid)["d"] == 9000 and engine.turn_locks == {}


def test_the_lock_table_does_not_grow_with_the_sessions(
    live: tuple[Engine, str], tmp_path: Path
) -> None:
    engine, url = live
    engine.turn_delay = 0.0

    async def many() -> list[str]:
        async with httpx.AsyncClient(base_url=url, timeout=60) as c:
            tok = (
                await c.post("/api/auth/anonymous-token", headers={"X-Client-Id": "locks-test"})
            ).json()["data"]

            async def one(_: int) -> str:
                r = await c.post(
                    "/api/tasks/me/with-session/nemo_agent", headers=auth(tok), json={}
                )
                s = r.json()["data"]["session_id"]
                body = {"session_id": s, "new_message": {"parts": [{"text": "make it 3 s"}]}}
                r = await c.post("/run_sse", headers=auth(tok), json=body)
                assert r.status_code == 200 and '"text"' in r.text
                return s

            return await asyncio.gather(*(one(i) for i in range(300)))

    sids = asyncio.run(many())
    assert len(set(sids)) == 300
    assert engine.turn_locks == {}


async def test_a_lock_stays_while_held_or_awaited_and_goes_after(tmp_path: Path) -> None:
    engine = Engine(tmp_path / "engine", 1)
    order: list[str] = []
    holding = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with engine.turn_lock(7):
            order.append("first in")
            holding.set()
            await release.wait()
            order.append("first out")

    async def second() -> None:
        async with engine.turn_lock(7):
            order.append("second in")

    a = asyncio.create_task(first())
    await holding.wait()
    waiter = asyncio.create_task(second())  # waits, then is cancelled while it waits
    b = asyncio.create_task(second())
    await asyncio.sleep(0.05)
    assert engine.turn_locks[7].users == 3 and order == ["first in"]
    waiter.cancel()
    await asyncio.sleep(0.05)
    # The cancelled waiter left; the lock stays for the holder and the other waiter.
    assert engine.turn_locks[7].users == 2 and engine.turn_locks[7].lock.locked()
    release.set()
    await asyncio.gather(a, b)
    assert order == ["first in", "first out", "second in"]
    assert engine.turn_locks == {}

    # Hundreds of sessions, each with a few turns at once: nothing is left behind.
    async def turn_of(sid: int) -> None:
        async with engine.turn_lock(sid):
            await asyncio.sleep(0)

    await asyncio.gather(*(turn_of(sid % 300) for sid in range(900)))
    assert engine.turn_locks == {}
    engine.store.close()
