"""The session layer (tui/session/): one Backend under the app, `render` and `watch`, against the
real engine (the shared one, and the embedded one it starts itself) and the cloud stand-in."""

from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path

import pytest

from tests.cloud_standin import CloudStandin
from tests.decode import probe
from tests.media import photo
from tui.client import ClientError, StateUpdate, TextChunk, ToolCall, Unreachable
from tui.core.paths import client_state_file
from tui.session.actions import (
    Batch,
    Export,
    FetchUrls,
    NewSession,
    Save,
    Say,
    Upload,
    action_for,
)
from tui.session.backend import Backend, check_uploads
from tui.session.results import Connected, Credits, Uploaded

FAST = 0.05  # seconds between render polls: the engine's draft renders in well under one


def saved() -> dict:
    return json.loads(client_state_file().read_text())


def test_the_routers_words_become_typed_actions(tmp_path: Path) -> None:
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    assert action_for("upload", "a.png", resolve=lambda s: tmp_path / s) == Upload((a,))
    assert action_for("upload", "", [a, b]) == Upload((a, b))
    assert action_for("upload", "https://x.test/1.jpg  http://y.test/2.png") == FetchUrls(
        ("https://x.test/1.jpg", "http://y.test/2.png")
    )
    # Marked files are files even when the words look like an address.
    assert action_for("upload", "https://x.test/1.jpg", [a]) == Upload((a,))
    assert action_for("agent", "a 3 second clip") == Say("a 3 second clip")
    assert (action_for("undo", ""), action_for("redo", "")) == (Say("undo"), Say("redo"))
    assert action_for("new") == NewSession()
    assert action_for("save") == Save()
    assert (action_for("export", ""), action_for("export", "high")) == (Export(""), Export("high"))
    assert action_for("batch", "make it pop", [a, b]) == Batch((a, b), "make it pop")


def test_uploads_are_checked_before_a_byte_is_sent(tmp_path: Path) -> None:
    good = photo(tmp_path / "ok.jpg", (64, 48))
    check_uploads([good])
    with pytest.raises(ClientError, match=r"gone\.jpg"):
        check_uploads([good, tmp_path / "gone.jpg"])
    (tmp_path / "notes.txt").write_text("words")
    with pytest.raises(ClientError, match=r"notes\.txt"):
        check_uploads([tmp_path / "notes.txt"])


async def test_a_session_on_the_engine_uploads_turns_exports_and_reads(
    engine_url: str, tmp_path: Path
) -> None:
    img = photo(tmp_path / "beach.jpg", (400, 300))
    out = tmp_path / "exports" / "beach.mp4"
    statuses: list[str] = []
    async with Backend(engine_url, poll_interval=FAST, on_status=statuses.append) as backend:
        assert backend.client is None  # nothing opened, nothing asked, before connect
        connected = await backend.connect()
        host = engine_url.split("://", 1)[1]
        assert connected == Connected(host, engine_url, resumed=False)
        sid = backend.live.session.session_id
        assert sid and saved()["backends"][engine_url]["session_id"] == sid
        before = await backend.credits()
        assert isinstance(before, Credits) and before.total == before.available + before.frozen
        assert before.line() == (
            f"Credits: {before.available} available, {before.frozen} frozen, {before.total} total"
        )
        (up,) = await backend.upload([img])
        assert up == Uploaded("beach.jpg", 400, 300) and up.describe() == "beach.jpg (400×300)"
        events = [ev async for ev in backend.turn("a 2-second 720p clip")]
        assert any(isinstance(e, TextChunk) for e in events)
        assert any(isinstance(e, ToolCall) for e in events)
        update = events[-1]
        assert isinstance(update, StateUpdate)
        assert update.summary[0].startswith("1. Video: beach.jpg (0-2s)")
        assert (await backend.draft())["d"] == 2000
        assert (await backend.session_state()).draft["d"] == 2000
        seen: list[int] = []
        result = await backend.export(out, "draft", lambda s: seen.append(s.progress))
        after = await backend.credits()
    assert statuses == ["Connecting…"]
    assert seen and seen[-1] == 100
    assert result.path == out and out.stat().st_size == result.size
    p = probe(out)
    assert (p.codec, p.frames, p.height) == ("h264", 60, 540)  # 720p asked, the draft tier is 540p
    assert after == before  # the draft tier is free
    # The next Backend on this backend takes the saved session up again, timeline and all.
    async with Backend(engine_url, poll_interval=FAST) as again:
        assert (await again.connect()).resumed
        assert again.live.session.session_id == sid
        assert (await again.draft())["d"] == 2000
        await again.new_session()  # saved as the current one: the app's /new
        assert again.live.session.session_id != sid
        assert saved()["backends"][engine_url]["session_id"] == again.live.session.session_id


async def test_a_headless_session_never_replaces_the_saved_one(
    engine_url: str, tmp_path: Path
) -> None:
    async with Backend(engine_url) as app:
        await app.connect()
        mine = app.live.session.session_id
    async with Backend(engine_url, persist_session=False) as cli:
        assert (await cli.connect()).resumed  # `render` then opens a fresh one…
        await cli.new_session()
        assert cli.live.session.session_id != mine
    assert saved()["backends"][engine_url]["session_id"] == mine  # …never saved over the app's


async def test_the_embedded_engine_is_started_restarted_and_stopped(tmp_path: Path) -> None:
    backend = Backend(None, owner="app")
    assert not backend.is_cloud and backend.engine is None
    backend.prestart()  # the app's on_load: before its first screen
    engine = backend.engine
    assert engine is not None
    try:
        connected = await backend.connect()
        assert backend.engine is engine  # the one launched early, not a second
        assert connected == Connected("local engine", "local", resumed=False)
        assert backend.live.url.startswith("http+unix://")
        assert not backend.engine_dead
        sid = backend.live.session.session_id
        assert engine.proc is not None
        os.kill(engine.proc.pid, signal.SIGKILL)
        await engine.proc.wait()
        assert backend.engine_dead  # "Lost the local engine", the app says
        with pytest.raises(ClientError):
            await backend.credits()
        await backend.restart()  # /reconnect
        assert backend.engine is None and not backend.engine_dead
        again = await backend.connect()
        assert backend.engine is not None and backend.engine is not engine
        assert again.resumed and backend.live.session.session_id == sid  # the data folder kept it
        assert (await backend.credits()).available > 0
        last = backend.engine
    finally:
        await backend.aclose()
    assert last.proc is None and backend.engine is last  # stopped, and still there to look at


async def test_siblings_share_the_pool_and_keep_sessions_of_their_own(fb, tmp_path: Path) -> None:
    async with Backend(fb.url, connections=3) as backend:
        await backend.open()
        assert fb.names() == []  # open asks nothing: the watcher's pool
        job = backend.sibling()
        job.persist_session = False  # as the watcher's jobs are: one session per image
        assert job.http is backend.live.http
        await job.connect()
        assert fb.names() == ["token", "session"]
        await backend.connect()  # a new client: the token the sibling saved, its own session
        assert fb.names() == ["token", "session", "session"]
        await job.aclose()  # a sibling leaves the pool open
        assert not backend.live.http.is_closed
        assert (await backend.credits()) == Credits(100, 0, 100)
    assert backend.live.http.is_closed


async def test_urls_the_backend_fetches_come_back_typed(fb) -> None:
    async with Backend(fb.url) as backend:
        await backend.connect()
        got = await backend.fetch_urls(["https://cdn.test/a/sunset.jpg"])
    assert got == [Uploaded("sunset.jpg")] and got[0].describe() == "sunset.jpg"


async def test_a_render_is_followed_and_resumed_by_its_owner_only(tmp_path: Path) -> None:
    with CloudStandin() as cloud:
        img = photo(tmp_path / "shore.jpg", (160, 120))
        first, later = tmp_path / "first.mp4", tmp_path / "later.mp4"
        async with Backend(cloud.url, owner="app", poll_interval=0.01) as backend:
            await backend.connect()
            await backend.upload([img])
            _ = [ev async for ev in backend.turn("a 5 second clip")]
            draft = await backend.draft()
            rid = await backend.start_render("draft", draft, first)
            stages: list[str] = []
            path = await backend.follow(
                rid, first, lambda s: stages.append(s.status), lambda: stages.append("download")
            )
            assert path == first and first.read_bytes() == cloud.video
            assert stages[-2:] == ["completed", "download"]
            left = await backend.start_render("draft", draft, later)  # then the app quits
        async with Backend(cloud.url, owner="cli", poll_interval=0.01) as other:
            await other.connect()
            assert await other.resume() == []  # never another face's render
        async with Backend(cloud.url, owner="app", poll_interval=0.01) as again:
            await again.connect()
            taken: list[str] = []
            (done,) = await again.resume(on_start=lambda r, dest: taken.append(r))
    assert taken == [left] and (done.render_id, done.path, done.error) == (left, later, "")
    assert later.read_bytes() == cloud.video


async def test_an_unreachable_backend_is_words_not_a_traceback() -> None:
    async with Backend("http://127.0.0.1:9") as backend:
        with pytest.raises(
            Unreachable, match=re.escape("cannot reach the backend at http://127.0.0.1:9")
        ):
            await backend.connect()
    with pytest.raises(RuntimeError, match="not open"):
        Backend("http://127.0.0.1:9").sibling()


async def test_a_batch_works_in_sessions_of_its_own_and_comes_back(fb) -> None:
    async with Backend(fb.url) as backend:
        await backend.connect()
        mine = backend.where()
        clip = await backend.new_session(persist=False)  # a batch's file: never saved
        assert clip != mine and backend.where() == clip
        await backend.draft()
        backend.go(mine)
        await backend.draft()
        backend.go(clip)
        await backend.draft()
    asked = [s.path.split("/")[-2] for s in fb.seen if s.name == "state"]
    assert asked == [clip.session_id, mine.session_id, clip.session_id]
    assert saved()["backends"][fb.url]["session_id"] == mine.session_id


async def test_the_app_stands_on_its_backend_with_the_stand_in_under_it(fb, tmp_path) -> None:
    from tests.test_app import lines, ready, say, until
    from tui.app.app import I2VApp

    photo(tmp_path / "beach.jpg", (160, 120))
    app = I2VApp(tmp_path, api=fb.url)
    assert app.backend.is_cloud and app.client is None and app.engine is None
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        client = app.backend.live
        assert app.client is client and client.owner == "app" and app.backend.key == fb.url
        assert app.sub_title == fb.url.split("://", 1)[1]
        # Typed at the prompt: the router's words, a typed action, the backend's calls.
        await say(pilot, "/upload beach.jpg")
        await until(pilot, lambda: "Uploaded beach.jpg" in lines(app), 20, "upload")
        await say(pilot, "/upload https://cdn.test/a/sunset.jpg")
        await until(pilot, lambda: "Uploaded sunset.jpg (fetched by the backend)" in lines(app))
        await say(pilot, "/reconnect")
        await until(pilot, lambda: lines(app).count("Ready") == 2, 20, "second Ready")
        assert app.backend.live is not client and client.http.is_closed
    assert app.backend.live.http.is_closed  # the quit closed the one pool
    assert fb.names().count("token") == 1  # the saved token, taken again by the new client
