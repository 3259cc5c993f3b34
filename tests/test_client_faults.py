"""The client against a backend that misbehaves in every documented way (real sockets)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tests.test_client_fakes import FakeBackend, adk, env, fail, sse, sse_stream
from tui import __version__
from tui.client import Client, ClientError, OutOfCredits, StateUpdate
from tui.client.state import ClientState
from tui.client.wire import MAX_RETRY_AFTER, retry_after
from tui.core.protocol import FinalText, Heartbeat, TextChunk, ToolCall, ToolResult, TurnError


def client_for(fb: FakeBackend, tmp_path: Path, **kw) -> Client:
    kw.setdefault("cloud", True)
    kw.setdefault("rate_limit_wait", 0.05)
    kw.setdefault("poll_interval", 0.01)
    return Client(fb.url, ClientState(tmp_path / "client.json", fb.url), **kw)


def png(tmp_path: Path, name: str = "photo.png") -> Path:
    p = tmp_path / name
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    return p


async def events_of(client: Client, text: str = "make a clip") -> list:
    return [ev async for ev in client.turn(text)]


# ---- connecting, headers, saved state ---------------------------------------------------------


async def test_connecting_is_saved_so_the_next_start_continues(fb, tmp_path) -> None:
    said: list[str] = []
    async with client_for(fb, tmp_path, on_status=said.append) as c:
        s = await c.connect()
    assert said == ["Connecting…"]
    saved = json.loads((tmp_path / "client.json").read_text())
    assert saved["backends"][fb.url]["session_id"] == s.session_id
    assert saved["backends"][fb.url]["token"] == s.token
    assert not list(tmp_path.glob(".client-*"))  # no temp files left
    async with client_for(fb, tmp_path) as c2:
        s2 = await c2.connect()
        await c2.credits()
    assert (s2.token, s2.session_id) == (s.token, s.session_id)
    assert (fb.count("token"), fb.count("session")) == (1, 1)


async def test_every_request_carries_the_skill_headers(fb, tmp_path) -> None:
    async with client_for(fb, tmp_path) as c:
        await c.upload([png(tmp_path)])
        await events_of(c)
        await c.export(tmp_path / "out.mp4", "draft")
        await c.credits()
    assert len(fb.seen) >= 8
    for s in fb.seen:
        assert s.headers["x-skill-source"] == "image-to-video-in-flow", s.name
        assert s.headers["x-skill-version"] == __version__
        assert s.headers["x-skill-platform"] in ("clawhub", "cursor", "unknown")
        if s.name != "token":
            assert s.headers["authorization"].startswith("Bearer tok-"), s.name
    assert fb.seen[0].headers["x-client-id"]


# ---- the error table ---------------------------------------------------------------------------


async def test_a_429_on_the_token_request_is_waited_out_and_said(fb, tmp_path) -> None:
    fb.then("token", fail(429, 429, "too many new tokens", {"Retry-After": "0"}))
    said: list[str] = []
    async with client_for(fb, tmp_path, on_status=said.append) as c:
        await c.connect()
    assert fb.count("token") == 2
    assert "Too many new tokens; waiting 0 s…" in said  # not a silent wait of up to minutes


async def test_429_is_waited_out_per_retry_after_then_retried_once(fb, tmp_path) -> None:
    fb.then("credits", fail(429, 429, "slow down", {"Retry-After": "0"}))
    async with client_for(fb, tmp_path, rate_limit_wait=60) as c:
        started = time.monotonic()
        assert (await c.credits())["available"] == 100
        assert time.monotonic() - started < 5  # Retry-After: 0 beat the 60 s default
    assert fb.count("credits") == 2


async def test_429_waits_the_precise_retry_after_ms_over_the_whole_second(fb, tmp_path) -> None:
    # Our engine says the wait in milliseconds too (a burst over its rate waits what it must):
    # taken over Retry-After's whole second, and so short a pause is not said.
    fb.then("credits", fail(429, 429, "slow down", {"Retry-After": "1", "Retry-After-Ms": "150"}))
    said: list[str] = []
    async with client_for(fb, tmp_path, rate_limit_wait=60, on_status=said.append) as c:
        await c.credits()
    first, second = [s.at for s in fb.seen if s.name == "credits"]
    assert 0.15 <= second - first < 0.9
    assert not [s for s in said if "Rate limited" in s]


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"Retry-After": "2", "Retry-After-Ms": "250"}, 0.25),
        ({"Retry-After": "2", "Retry-After-Ms": "soon"}, 2.0),  # unusable: the other one
        ({"Retry-After": "2", "Retry-After-Ms": "-5"}, 2.0),
        ({"Retry-After-Ms": "nan"}, 7.0),  # neither: the client's own
        ({"Retry-After-Ms": "1e15"}, MAX_RETRY_AFTER),
    ],
)
def test_retry_after_reads_milliseconds_first(headers: dict, wait: float) -> None:
    assert retry_after(httpx.Response(429, headers=headers), 7.0) == wait


async def test_429_without_retry_after_waits_the_default(fb, tmp_path) -> None:
    fb.then("credits", fail(429, 429, "slow down"))
    async with client_for(fb, tmp_path, rate_limit_wait=0.3) as c:
        await c.credits()
    first, second = [s.at for s in fb.seen if s.name == "credits"]
    assert second - first >= 0.3


async def test_429_twice_is_reported_not_retried_again(fb, tmp_path) -> None:
    busy = fail(429, 429, "slow down", {"Retry-After": "0"})
    fb.then("credits", busy, busy, busy)
    async with client_for(fb, tmp_path) as c:
        with pytest.raises(ClientError, match="rate limiting") as err:
            await c.credits()
    assert err.value.code == 429
    assert fb.count("credits") == 2


async def test_a_token_expiring_mid_flow_is_renewed_and_the_request_retried(fb, tmp_path) -> None:
    async with client_for(fb, tmp_path) as c:
        await c.upload([png(tmp_path)])
        old = c.session.token
        fb.tokens.clear()  # expired on the server
        events = await events_of(c)
        assert any(isinstance(e, FinalText) for e in events)
        assert fb.count("run_sse") == 1
        # Refused at the turn itself, before any stream: a new token, the turn sent again.
        fb.then("run_sse", fail(401, 1001, "token expired"))
        events = await events_of(c)
        assert any(isinstance(e, FinalText) for e in events)
        assert fb.count("run_sse") == 3
        fb.tokens.clear()
        await c.export(tmp_path / "out.mp4", "draft")
    assert c.session.token != old
    assert fb.count("token") == 4
    saved = json.loads((tmp_path / "client.json").read_text())
    assert saved["backends"][fb.url]["token"] == c.session.token


async def test_a_bad_nemo_token_is_reported_not_looped_on(fb, tmp_path) -> None:
    async with client_for(fb, tmp_path, token="bad-token") as c:
        with pytest.raises(ClientError, match="NEMO_TOKEN is invalid") as err:
            await c.credits()
    assert err.value.code == 1001
    assert (fb.count("credits"), fb.count("token")) == (1, 0)


async def test_a_lost_session_is_replaced_and_the_request_retried(fb, tmp_path) -> None:
    async with client_for(fb, tmp_path) as c:
        await c.connect()
        first = c.session.session_id
        fb.sessions.clear()
        files = await c.upload([png(tmp_path)])
        assert files[0]["filename"] == "photo.png"
        second = c.session.session_id
        fb.sessions.clear()
        events = await events_of(c)
    assert first != second != c.session.session_id
    assert isinstance(events[-1], StateUpdate)
    assert fb.count("session") == 3
    saved = json.loads((tmp_path / "client.json").read_text())
    assert saved["backends"][fb.url]["session_id"] == c.session.session_id


async def test_a_lost_session_at_render_time_renders_in_the_new_one(fb, tmp_path) -> None:
    async with client_for(fb, tmp_path) as c:
        await c.upload([png(tmp_path)])
        fb.then("render", fail(404, 1002, "session not found"))
        result = await c.export(tmp_path / "out.mp4")
    assert result.path.read_bytes() == fb.video
    assert (fb.count("session"), fb.count("render")) == (2, 2)


async def test_a_token_expiring_before_the_download_is_renewed(fb, tmp_path) -> None:
    fb.then("download", fail(401, 1001, "token expired"))
    async with client_for(fb, tmp_path) as c:
        await c.upload([png(tmp_path)])
        result = await c.export(tmp_path / "out.mp4")
    assert result.path.read_bytes() == fb.video
    assert (fb.count("token"), fb.count("download")) == (2, 2)


async def test_media_by_url(fb, tmp_path) -> None:
    async with client_for(fb, tmp_path) as c:
        files = await c.upload_urls(["https://cdn.test/a.png"])
    assert files == [{"filename": "a.png", "file_type": "image"}]


async def test_a_missing_client_id_gets_a_new_one(fb, tmp_path) -> None:
    fb.then("token", fail(400, 400, "missing X-Client-Id header"))
    async with client_for(fb, tmp_path) as c:
        before = c.state.client_id
        await c.connect()
        assert c.state.client_id != before
    ids = [s.headers["x-client-id"] for s in fb.seen if s.name == "token"]
    assert ids == [before, c.state.client_id]


async def test_out_of_credits_gives_anonymous_users_the_bind_link(fb, tmp_path) -> None:
    await _upload_and_turn(fb, tmp_path)
    fb.then("render", fail(402, 2001, "out of credits: this render needs 5, you have 0"))
    async with client_for(fb, tmp_path) as c:
        with pytest.raises(OutOfCredits) as err:
            await c.export(tmp_path / "out.mp4")
    assert f"?bind={c.state.client_id}" in str(err.value)
    assert "register" in str(err.value)
    assert fb.count("render") == 1


async def test_out_of_credits_gives_registered_users_a_top_up_hint(fb, tmp_path) -> None:
    fb.tokens.add("registered")
    fb.then("render", JSONResponse({"success": False, "error": {"code": 2001, "message": "no"}}))
    async with client_for(fb, tmp_path, token="registered") as c:
        await c.upload([png(tmp_path)])
        with pytest.raises(OutOfCredits, match="top up") as err:
            await c.export(tmp_path / "out.mp4")
    assert "bind=" not in str(err.value)


async def test_402_is_explained_as_a_plan_matter(fb, tmp_path) -> None:
    fb.then("render", fail(402, 402, "free plan: export blocked"))
    async with client_for(fb, tmp_path) as c:
        await c.upload([png(tmp_path)])
        with pytest.raises(ClientError) as err:
            await c.export(tmp_path / "out.mp4")
    assert not isinstance(err.value, OutOfCredits)
    assert "plan" in err.value.message and "not credits" in err.value.hint


async def test_4001_and_4002_are_caught_before_uploading(fb, tmp_path) -> None:
    txt = tmp_path / "notes.txt"
    txt.write_text("hi")
    big = tmp_path / "huge.mp4"
    with open(big, "wb") as f:
        f.truncate(201 * 1024 * 1024)  # sparse: no real 201 MB written
    async with client_for(fb, tmp_path) as c:
        with pytest.raises(ClientError, match="unsupported file type") as e1:
            await c.upload([png(tmp_path), txt])
        with pytest.raises(ClientError, match="200 MB") as e2:
            await c.upload([big])
    assert (e1.value.code, e2.value.code) == (4001, 4002)
    assert "png" in e1.value.hint and "compress" in e2.value.hint
    assert fb.count("upload") == 0


async def test_a_4001_from_the_backend_shows_the_accepted_types(fb, tmp_path) -> None:
    fb.then("upload", JSONResponse({"code": 4001, "msg": "photo.png: not an image"}, 415))
    async with client_for(fb, tmp_path) as c:
        with pytest.raises(ClientError, match="not an image") as err:
            await c.upload([png(tmp_path)])
    assert err.value.code == 4001 and "webp" in err.value.hint


# ---- envelopes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"code": 0, "message": "ok", "data": {"available": 7, "frozen": 3, "total": 10}},
        {"code": 0, "msg": "ok", "data": {"available": 7, "frozen": 3}},
        {"success": True, "data": {"available": 7, "frozen": 3, "total": 10}},
    ],
    ids=["code-message", "code-msg", "success"],
)
async def test_both_envelopes_are_read(fb, tmp_path, body) -> None:
    fb.then("credits", JSONResponse(body))
    async with client_for(fb, tmp_path) as c:
        assert await c.credits() == {"available": 7, "frozen": 3, "total": 10}


# ---- the agent turn --------------------------------------------------------------------------


async def test_partial_chunks_then_one_final_text_that_replaces_them(fb, tmp_path) -> None:
    async with client_for(fb, tmp_path) as c:
        events = await events_of(c)
    chunks = [e.text for e in events if isinstance(e, TextChunk)]
    finals = [e.text for e in events if isinstance(e, FinalText)]
    assert "".join(chunks) == fb.reply and len(chunks) == 2
    assert finals == [fb.reply]  # once, never appended to the chunks
    assert [type(e) for e in events[:2]] == [ToolCall, ToolResult]
    assert events[0].name == "add_title" and events[0].args == {"text": "Spring"}
    last = events[-1]
    assert isinstance(last, StateUpdate) and last.note == ""
    assert last.changes == ['Added title "Spring Sale" (0-3s)']
    assert '1. Title: "Spring Sale" (0-3s)' in last.summary


async def test_the_alternative_typed_event_form_is_read_the_same(fb, tmp_path) -> None:
    fb.then(
        "run_sse",
        sse(
            {"type": "tool_call", "id": "1", "name": "set_duration", "args": {"seconds": 5}},
            {"type": "tool_result", "id": "1", "name": "set_duration", "result": {"ok": True}},
            {"type": "text", "partial": True, "content": "Five "},
            {"type": "text", "partial": True, "content": "seconds."},
            {"type": "text", "content": "Five seconds."},
        ),
    )
    async with client_for(fb, tmp_path) as c:
        events = await events_of(c)
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["ToolCall", "ToolResult", "TextChunk", "TextChunk", "FinalText", "StateUpdate"]
    assert events[4].text == "Five seconds."


async def test_heartbeats_of_every_documented_kind(fb, tmp_path) -> None:
    fb.then(
        "run_sse",
        sse(
            ": ping\n\n",
            "data:\n\n",
            {"type": "heartbeat"},
            adk("Hel", partial=True),
            adk("lo", partial=True),
            adk("Hello"),
        ),
    )
    async with client_for(fb, tmp_path) as c:
        events = await events_of(c)
    assert sum(isinstance(e, Heartbeat) for e in events) == 3
    assert [e.text for e in events if isinstance(e, TextChunk)] == ["Hel", "lo"]
    assert [e.text for e in events if isinstance(e, FinalText)] == ["Hello"]
    assert not any(isinstance(e, TurnError) for e in events)


async def test_the_read_timeout_outlasts_the_heartbeat_gap(fb, tmp_path) -> None:
    # 1.5 s of stream with a heartbeat every 0.3 s, against a 1 s read timeout: it holds,
    # because httpx applies the read timeout to each read, not to the whole stream.
    done = b"data: " + json.dumps(adk("Done.")).encode() + b"\n\n"
    fb.then("run_sse", lambda r: sse_stream([b": ping\n\n", 0.3] * 5 + [done]))
    async with client_for(fb, tmp_path, read_timeout=1.0) as c:
        events = await events_of(c)
    assert [e.text for e in events if isinstance(e, FinalText)] == ["Done."]
    assert sum(isinstance(e, Heartbeat) for e in events) == 5
    assert not any(isinstance(e, TurnError) for e in events)


async def test_a_silence_longer_than_the_read_timeout_is_a_broken_stream(fb, tmp_path) -> None:
    late = b"data: " + json.dumps(adk("too late")).encode() + b"\n\n"
    fb.then("run_sse", lambda r: sse_stream([b": ping\n\n", 1.5, late]))
    async with client_for(fb, tmp_path, read_timeout=0.3) as c:
        events = await events_of(c)
    assert [e.code for e in events if isinstance(e, TurnError)] == ["broken"]
    assert fb.count("run_sse") == 1 and isinstance(events[-1], StateUpdate)


async def test_a_turn_with_no_text_says_what_changed_in_the_timeline(fb, tmp_path) -> None:
    def silent_edit(request: Request):
        fb.draft["d"] = 8000
        title = {"id": "t9", "st": 0, "d": 3000, "m": {"text": "X"}}
        fb.draft["t"].append({"tt": 7, "sg": [title]})
        call = {"functionCall": {"id": "c", "name": "add_title", "args": {}}}
        return sse(adk(parts=[call]), ": ping\n\n")

    async with client_for(fb, tmp_path) as c:
        await c.upload([png(tmp_path)])
        fb.then("run_sse", silent_edit)
        events = await events_of(c, "add a title X and make it 8 seconds")
    last = events[-1]
    assert isinstance(last, StateUpdate)
    assert last.changes == ['Added title "X" (0-3s)', "duration 5s → 8s"]
    assert last.note == (
        'The assistant finished without words. Changed: Added title "X" (0-3s); duration 5s → 8s'
    )
    names = fb.names()
    assert names[names.index("run_sse") + 1 :] == ["state"]  # fetched after the turn


async def test_a_stream_cut_in_the_middle_is_not_resent_the_state_is_fetched(fb, tmp_path) -> None:
    cut = [
        b"data: " + json.dumps(adk("Working on ", partial=True)).encode() + b"\n\n",
        0.05,
        ConnectionResetError("cut"),
    ]
    fb.then("run_sse", lambda r: sse_stream(cut))
    async with client_for(fb, tmp_path) as c:
        events = await events_of(c)
    assert fb.count("run_sse") == 1  # never re-sent: it would run and charge twice
    errors = [e for e in events if isinstance(e, TurnError)]
    assert len(errors) == 1 and errors[0].code == "broken"
    assert "not re-sent" in errors[0].message
    assert isinstance(events[-1], StateUpdate)
    names = fb.names()
    # Read at once, then one and two poll intervals later: the timeline never changed.
    assert names[names.index("run_sse") + 1 :] == ["state"] * 3
    assert "outcome is unknown" in events[-1].note


async def test_the_whole_turn_has_a_deadline(fb, tmp_path) -> None:
    forever = [b": ping\n\n", 0.05] * 200
    fb.then("run_sse", lambda r: sse_stream(forever))
    async with client_for(fb, tmp_path, turn_deadline=0.5) as c:
        started = time.monotonic()
        events = await events_of(c)
    assert time.monotonic() - started < 5
    errors = [e for e in events if isinstance(e, TurnError)]
    assert [e.code for e in errors] == ["deadline"]
    assert fb.count("run_sse") == 1
    assert isinstance(events[-1], StateUpdate)


@pytest.mark.parametrize(
    "error",
    [{"error": "the agent crashed"}, {"errorCode": "E1", "errorMessage": "the agent crashed"}],
    ids=["error", "errorCode"],
)
async def test_an_error_event_ends_the_turn(fb, tmp_path, error) -> None:
    fb.then("run_sse", sse(adk("Let me ", partial=True), error, adk("never shown")))
    async with client_for(fb, tmp_path) as c:
        events = await events_of(c)
    assert [type(e).__name__ for e in events] == ["TextChunk", "TurnError", "StateUpdate"]
    assert events[1].message == "the agent crashed"


async def test_gui_words_in_the_answer_become_actions(fb, tmp_path) -> None:
    fb.reply = "Done! Click the Export button to download your video."
    async with client_for(fb, tmp_path) as c:
        events = await events_of(c)
    assert events[-1].actions == ["export"]
    assert "/export" in events[-1].note


# ---- export --------------------------------------------------------------------------------


async def _upload_and_turn(fb: FakeBackend, tmp_path: Path) -> None:
    async with client_for(fb, tmp_path) as c:
        await c.upload([png(tmp_path)])


def _rid(request: Request) -> str:
    return request.url.path.rsplit("/", 1)[1]


@pytest.mark.parametrize("shape", ["data.outputUrl", "top-level output.url", "taskId output.url"])
async def test_every_render_status_shape_is_read(fb, tmp_path, shape) -> None:
    def processing(request: Request):
        return JSONResponse(env({"id": _rid(request), "status": "processing", "progress": 40}))

    def done(request: Request):
        rid = _rid(request)
        url = f"{fb.url}/cdn/{rid}.mp4"
        if shape == "data.outputUrl":
            body = env({"id": rid, "status": "completed", "progress": 100, "outputUrl": url})
        elif shape == "top-level output.url":
            body = {"success": True, "status": "completed", "output": {"url": url}}
        else:
            body = {"taskId": rid, "status": "completed", "output": {"url": url}}
        return JSONResponse(body)

    fb.then("render_status", processing, done)
    seen = []
    async with client_for(fb, tmp_path) as c:
        await c.upload([png(tmp_path)])
        result = await c.export(tmp_path / "out.mp4", "draft", seen.append)
    assert [s.status for s in seen] == ["processing", "completed"]
    assert seen[0].progress == 40
    assert result.path.read_bytes() == fb.video
    assert fb.count("cdn") == 1 and fb.count("download") == 0


async def test_render_failure_is_reported_with_its_reason(fb, tmp_path) -> None:
    fb.then(
        "render_status",
        lambda r: JSONResponse(
            env({"id": _rid(r), "status": "failed", "error": "decoder exploded"})
        ),
    )
    async with client_for(fb, tmp_path) as c:
        await c.upload([png(tmp_path)])
        with pytest.raises(ClientError, match="render failed: decoder exploded"):
            await c.export(tmp_path / "out.mp4")
    assert not (tmp_path / "out.mp4").exists()
    renders = json.loads((tmp_path / "client.json").read_text())["renders"]
    assert [r["state"] for r in renders.values()] == ["failed"]


async def test_polling_honours_retry_after(fb, tmp_path) -> None:
    fb.polls_to_finish = 3
    async with client_for(fb, tmp_path, poll_interval=30) as c:  # the cloud's 30 s, overridden
        await c.upload([png(tmp_path)])
        started = time.monotonic()
        await c.export(tmp_path / "out.mp4")
    assert time.monotonic() - started < 5
    assert fb.count("render_status") == 3


@pytest.mark.parametrize(
    "header, wait",
    [
        ("1e12", 300.0),  # a backend's huge Retry-After must not park the wait for ever
        ("inf", 300.0),
        ("Infinity", 300.0),
        ("2.5", 2.5),
        ("0", 0.0),
        ("nan", None),  # unusable: we poll at our own pace
        ("-5", None),
        ("-inf", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", None),
    ],
)
async def test_a_render_polls_retry_after_is_capped_at_5_minutes(
    fb, tmp_path, header, wait
) -> None:
    body = env({"id": "render_x", "status": "processing", "progress": 10})
    fb.then("render_status", JSONResponse(body, headers={"Retry-After": header}))
    async with client_for(fb, tmp_path) as c:
        status, got = await c.render_status("render_x")
    assert (status.status, status.progress, got) == ("processing", 10, wait)


async def test_an_unusable_retry_after_polls_at_our_own_pace_not_in_a_hot_loop(
    fb, tmp_path
) -> None:
    def processing(header: str):
        return lambda r: JSONResponse(
            env({"id": _rid(r), "status": "processing", "progress": 10}),
            headers={"Retry-After": header},
        )

    fb.polls_to_finish = 1  # the third poll finds it done
    fb.then("render_status", processing("nan"), processing("-1"))
    async with client_for(fb, tmp_path, poll_interval=0.3) as c:
        await c.upload([png(tmp_path)])
        await c.export(tmp_path / "out.mp4")
    polls = [s.at for s in fb.seen if s.name == "render_status"]
    assert len(polls) == 3
    assert polls[1] - polls[0] >= 0.3 and polls[2] - polls[1] >= 0.3


async def test_polling_rides_out_a_dropped_connection_and_a_502(fb, tmp_path) -> None:
    fb.then("render_status", lambda r: sse_stream([ConnectionResetError("cut")]))
    fb.then("render_status", JSONResponse({"message": "bad gateway"}, 502))
    async with client_for(fb, tmp_path) as c:
        await c.upload([png(tmp_path)])
        result = await c.export(tmp_path / "out.mp4")
    assert result.path.read_bytes() == fb.video
    assert fb.count("render_status") == 4
    fb.then("render_status", *[JSONResponse({"message": "bad gateway"}, 502)] * 4)
    async with client_for(fb, tmp_path) as c:
        with pytest.raises(ClientError, match="bad gateway"):
            await c.export(tmp_path / "out2.mp4")


async def test_a_download_cut_short_is_resumed_with_range(fb, tmp_path) -> None:
    fb.then("download", fb.cut_download(100_000))
    progress = []
    async with client_for(fb, tmp_path) as c:
        await c.upload([png(tmp_path)])
        rid = await c.start_render("draft")
        status = await c.wait_render(rid)
        out = await c.download(rid, tmp_path / "clip.mp4", status, progress.append)
    assert out.read_bytes() == fb.video
    ranges = [s.headers.get("range") for s in fb.seen if s.name == "download"]
    assert ranges[0] is None and ranges[1].startswith("bytes=") and ranges[1] != "bytes=0-"
    resumed_from = int(ranges[1][6:-1])
    assert 0 < resumed_from <= 100_000
    assert progress[-1].done == progress[-1].total == len(fb.video)
    assert not list(tmp_path.glob("*.part"))
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [
        "client.json",
        "clip.mp4",
        "photo.png",
    ]


@pytest.mark.parametrize("left", ["whole", "stale half, Range ignored"])
async def test_a_part_file_left_by_a_crash(fb, tmp_path, left) -> None:
    async with client_for(fb, tmp_path) as c:
        await c.upload([png(tmp_path)])
        rid = await c.start_render("draft")
        status = await c.wait_render(rid)
        part = tmp_path / ".clip.mp4.part"
        if left == "whole":
            part.write_bytes(fb.video)  # the server answers 416: nothing more to fetch
        else:
            part.write_bytes(b"junk" * 1000)
            fb.then("download", Response(fb.video, media_type="video/mp4"))
        out = await c.download(rid, tmp_path / "clip.mp4", status)
    assert out.read_bytes() == fb.video and not part.exists()
    assert fb.count("download") == 1


async def test_a_download_that_never_completes_keeps_the_part_and_fails(fb, tmp_path) -> None:
    fb.then("download", *[fb.cut_download(10_000) for _ in range(6)])
    fb.video = fb.video[:10_000] * 3
    async with client_for(fb, tmp_path) as c:
        await c.upload([png(tmp_path)])
        rid = await c.start_render("draft")
        status = await c.wait_render(rid)
        with pytest.raises(ClientError, match="download incomplete"):
            await c.download(rid, tmp_path / "clip.mp4", status)
    assert not (tmp_path / "clip.mp4").exists()
    assert (tmp_path / ".clip.mp4.part").exists()


async def test_a_restart_resumes_saved_renders_instead_of_orphaning_them(fb, tmp_path) -> None:
    target = tmp_path / "exports" / "clip.mp4"
    async with client_for(fb, tmp_path) as c:
        await c.upload([png(tmp_path)])
        rid = await c.start_render("draft", target=target)
    # ... the app quit here, before the first poll. The next start:
    state = json.loads((tmp_path / "client.json").read_text())
    assert state["renders"][rid]["target"] == str(target)
    c2 = client_for(fb, tmp_path)
    c2.state.add_render("render_gone", state="rendering", target=str(tmp_path / "gone.mp4"))
    async with c2:
        resumed = {r.render_id: r for r in await c2.resume_renders()}
        again = await c2.resume_renders()
    assert resumed[rid].path == target and target.read_bytes() == fb.video
    assert resumed["render_gone"].path is None and "not found" in resumed["render_gone"].error
    assert again == []  # downloaded and lost renders are not polled again
    renders = json.loads((tmp_path / "client.json").read_text())["renders"]
    assert (renders[rid]["state"], renders["render_gone"]["state"]) == ("downloaded", "lost")


async def test_cancel_marks_the_render_cancelled(fb, tmp_path) -> None:
    async with client_for(fb, tmp_path) as c:
        await c.upload([png(tmp_path)])
        rid = await c.start_render("draft")
        status = await c.cancel_render(rid)
        assert status.status == "cancelled"
        assert c.state.pending_renders() == {}


async def test_an_empty_timeline_is_refused_before_rendering(fb, tmp_path) -> None:
    async with client_for(fb, tmp_path) as c:
        with pytest.raises(ClientError, match="timeline is empty"):
            await c.export(tmp_path / "out.mp4")
    assert fb.count("render") == 0


# ---- sharing one client state: sessions and renders by owner ---------------------------------


async def test_a_session_opened_without_persist_leaves_the_saved_one(fb, tmp_path) -> None:
    async with client_for(fb, tmp_path) as app:
        mine = (await app.connect()).session_id
    async with client_for(fb, tmp_path, persist_session=False) as watcher:
        first = (await watcher.connect()).session_id  # reuses the saved session…
        await watcher.new_session()  # …but its own new ones are its business
        own = watcher.session.session_id
    async with client_for(fb, tmp_path) as batch:
        await batch.connect()
        await batch.new_session(persist=False)  # per call, on a client that persists
        other = batch.session.session_id
    assert first == mine and own != mine and other not in (mine, own)
    saved = json.loads((tmp_path / "client.json").read_text())["backends"][fb.url]
    assert saved["session_id"] == mine


async def test_each_owner_resumes_only_its_own_renders(fb, tmp_path) -> None:
    async with client_for(fb, tmp_path, owner="app") as c:
        await c.upload([png(tmp_path)])
        app_rid = await c.start_render("draft", target=tmp_path / "app.mp4")
    async with client_for(fb, tmp_path, owner="watch:/in") as w:
        w.session = c.session
        watch_rid = await w.start_render("draft", target=tmp_path / "watch.mp4")
    renders = json.loads((tmp_path / "client.json").read_text())["renders"]
    assert (renders[app_rid]["owner"], renders[watch_rid]["owner"]) == ("app", "watch:/in")
    started: list[tuple[str, Path]] = []
    async with client_for(fb, tmp_path, owner="app") as again:
        skipped = await again.resume_renders(skip={app_rid})
        resumed = await again.resume_renders(on_start=lambda r, d: started.append((r, d)))
    assert skipped == []
    assert [(r.render_id, r.path) for r in resumed] == [(app_rid, tmp_path / "app.mp4")]
    assert started == [(app_rid, tmp_path / "app.mp4")]
    assert not (tmp_path / "watch.mp4").exists()  # the watcher's render is left to it
    renders = json.loads((tmp_path / "client.json").read_text())["renders"]
    assert (renders[app_rid]["state"], renders[watch_rid]["state"]) == ("downloaded", "rendering")


async def test_unreachable_backends_are_flagged_transient(tmp_path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    c = Client(url, ClientState(tmp_path / "client.json", url), token="t", cloud=True)
    c.session.session_id = "1"
    async with c:
        with pytest.raises(ClientError) as credits:
            await c.credits()
        with pytest.raises(ClientError) as turn:
            await events_of(c)
    assert credits.value.transient and turn.value.transient
    assert "cannot reach the backend" in str(turn.value)
    assert not ClientError("out of credits", code=2001).transient
    assert ClientError("gateway", code=502, transient=True).transient


async def test_a_404_is_not_transient(fb, tmp_path) -> None:
    async with client_for(fb, tmp_path) as c:
        with pytest.raises(ClientError) as err:
            await c.wait_render("render_nowhere")
    assert err.value.code == 404 and not err.value.transient


async def test_a_closed_client_says_so_in_words(fb, tmp_path) -> None:
    c = client_for(fb, tmp_path)
    await c.connect()
    await c.aclose()  # the app's /reconnect replaced it while a worker still held it
    for call in (c.credits(), events_of(c), c.download("render_1", tmp_path / "x.mp4")):
        with pytest.raises(ClientError) as err:
            await call
        assert "connection was closed" in str(err.value) and err.value.transient
