"""The client against the real engine on loopback: the whole flow, in English and Chinese."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.decode import probe
from tests.media import photo
from tui.client import Client, ClientError, StateUpdate
from tui.client.state import ClientState
from tui.core.protocol import FinalText, TextChunk, ToolCall, TurnError


def client_for(engine_url: str, home: Path, **kw) -> Client:
    kw.setdefault("poll_interval", 0.2)
    return Client(engine_url, ClientState(home / "client.json", "local"), **kw)


async def test_the_whole_flow_against_the_engine(engine_url: str, tmp_path: Path) -> None:
    img = photo(tmp_path / "photo.jpg", (160, 120))
    out = tmp_path / "exports" / "clip.mp4"
    async with client_for(engine_url, tmp_path) as c:
        session = await c.connect()
        before = await c.credits()
        files = await c.upload([img])
        assert files[0]["filename"] == "photo.jpg" and files[0]["file_type"] == "image"
        events = [ev async for ev in c.turn("a 2-second 720p clip, title 'Hi' for 1 s")]
        assert not [e for e in events if isinstance(e, TurnError)]
        chunks = "".join(e.text for e in events if isinstance(e, TextChunk))
        finals = [e.text for e in events if isinstance(e, FinalText)]
        assert len(finals) == 1 and chunks == finals[0]
        assert any(isinstance(e, ToolCall) for e in events)
        update = events[-1]
        assert isinstance(update, StateUpdate)
        assert update.summary[0].startswith("1. Video: photo.jpg (0-2s)")
        assert any(line.endswith('Title: "Hi" (0-1s)') for line in update.summary)
        assert 'Added title "Hi" (0-1s)' in update.changes
        progress = []
        result = await c.export(out, "standard", progress.append)  # priced: 1 a second
        after = await c.credits()
    assert progress[-1].status == "completed"
    assert result.path == out and result.size == out.stat().st_size
    p = probe(out)
    assert (p.codec, p.frames) == ("h264", 60)
    assert after["available"] == before["available"] - 2 and after["frozen"] == 0
    assert not list(out.parent.glob(".*.part"))
    # The next start continues the same session, with the same timeline.
    async with client_for(engine_url, tmp_path) as c2:
        assert (await c2.connect()).session_id == session.session_id
        assert (await c2.draft())["d"] == 2000
    renders = json.loads((tmp_path / "client.json").read_text())["renders"]
    assert renders[result.render_id]["state"] == "downloaded"


async def test_a_chinese_turn_and_a_silent_timeline_diff(engine_url: str, tmp_path: Path) -> None:
    img = photo(tmp_path / "照片.png", (160, 120))
    async with client_for(engine_url, tmp_path) as c:
        await c.upload([img])
        events = [ev async for ev in c.turn("做一个3秒的视频，标题「春季促销」")]
    final = next(e.text for e in events if isinstance(e, FinalText))
    assert any("\u4e00" <= ch <= "\u9fff" for ch in final)
    update = events[-1]
    assert any("春季促销" in line for line in update.summary)
    assert "duration 5s → 3s" in update.changes
    # Its reply ends "可以说“导出”生成视频" (say "export"): words to type, not a button to act
    # on, so the turn exports nothing by itself, in Chinese as in English.
    assert "导出" in final
    assert update.actions == []


async def test_a_restart_resumes_an_engine_render(engine_url: str, tmp_path: Path) -> None:
    img = photo(tmp_path / "photo.jpg", (160, 120))
    target = tmp_path / "resumed.mp4"
    async with client_for(engine_url, tmp_path) as c:
        await c.upload([img])
        _ = [ev async for ev in c.turn("a 1-second clip")]
        rid = await c.start_render("draft", target=target)
    async with client_for(engine_url, tmp_path) as c2:
        (done,) = await c2.resume_renders()
    assert (done.render_id, done.path, done.error) == (rid, target, "")
    assert probe(target).frames == 30


async def test_the_engine_refuses_a_render_without_skill_headers_as_a_plan_matter(
    engine_url: str, tmp_path: Path
) -> None:
    img = photo(tmp_path / "photo.jpg", (160, 120))
    async with client_for(engine_url, tmp_path) as c:
        await c.upload([img])
        _ = [ev async for ev in c.turn("a 1-second clip")]
        del c.http.headers["X-Skill-Platform"]
        with pytest.raises(ClientError) as err:
            await c.start_render("draft")
    assert err.value.code == 402 and "plan" in str(err.value)


async def test_siblings_share_one_pool_and_keep_their_own_sessions(
    engine_url: str, tmp_path: Path
) -> None:
    img = photo(tmp_path / "photo.jpg", (160, 120))
    c = client_for(engine_url, tmp_path, connections=3)
    a, b = c.sibling(), c.sibling()
    a.persist_session = b.persist_session = False
    assert a.http is c.http and b.http is c.http
    for s in (a, b):
        await s.new_session()
        await s.upload([img])
    assert a.session.session_id != b.session.session_id
    assert a.session.token == b.session.token  # one account: the pool's saved token
    turns = [
        [e async for e in s.turn(words)]
        for s, words in ((a, "a 1 second clip"), (b, "a 2 second clip"))
    ]
    assert [t[-1].draft["d"] for t in turns] == [1000, 2000]  # type: ignore[union-attr]
    await a.aclose()  # a sibling leaves the pool open for the others
    assert not c.http.is_closed and (await b.credits())["available"] >= 0
    pool = c.http._transport._pool  # type: ignore[attr-defined]
    assert pool._max_connections == 3
    await c.aclose()
    assert b.http.is_closed
