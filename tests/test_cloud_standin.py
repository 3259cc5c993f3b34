"""The real client, and the app with a Pilot, against the cloud stand-in (tests/cloud_standin.py):
every row of the protocol's error table and of the GUI table, the cloud's turns (no words,
heartbeats, silences), its render shapes and cadence, its CDN on another host, its free plan,
URL uploads, and the state's other fields (`video_infos`, `generated_media`)."""

from __future__ import annotations

import json
import re
import time
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.responses import JSONResponse

from tests.cloud_standin import (
    HOSTILE,
    RAW_READY,
    STATUS_SHAPES,
    CloudStandin,
    adk,
    bare,
    fail,
    sse,
)
from tests.media import photo
from tests.test_app import lines, ready, say, tracks_text, until
from tui.app.app import I2VApp
from tui.cli.main import main
from tui.client import (
    REGISTER_URL,
    Client,
    ClientError,
    FinalText,
    Heartbeat,
    Media,
    OutOfCredits,
    StateUpdate,
    TextChunk,
    ToolCall,
    TurnError,
)
from tui.client.state import ClientState
from tui.core.protocol import (
    FILE_TOO_LARGE,
    MISSING_CLIENT_ID,
    OUT_OF_CREDITS,
    PLAN_BLOCKED,
    RATE_LIMITED,
    TOKEN_EXPIRED,
    UNSUPPORTED_TYPE,
)
from tui.core.session_state import read_media_list, read_session_state
from widgets.credits import Credits

POLL = 0.03  # the cloud's 30 s between polls, scaled down a thousand times
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@pytest.fixture(autouse=True)
def _no_desktop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)


def client_for(cloud: CloudStandin, tmp_path: Path, **kw) -> Client:
    kw.setdefault("cloud", True)
    kw.setdefault("rate_limit_wait", 0.05)
    kw.setdefault("poll_interval", POLL)
    kw.setdefault("language", "en")
    return Client(cloud.url, ClientState(tmp_path / "client.json", cloud.url), **kw)


def png(tmp_path: Path, name: str = "photo.png") -> Path:
    p = tmp_path / name
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    return p


async def turn(c: Client, text: str) -> list:
    return [ev async for ev in c.turn(text)]


def words_of(events: list) -> str:
    return "".join(e.text for e in events if isinstance(e, FinalText))


# ---- turns as the cloud has them --------------------------------------------------------------


async def test_every_third_turn_ends_without_words_and_says_what_changed(cloud, tmp_path):
    async with client_for(cloud, tmp_path) as c:
        await c.upload([png(tmp_path)])
        turns = [await turn(c, f"add title {i}") for i in (1, 2, 3)]
    for events in turns[:2]:
        chunks = "".join(e.text for e in events if isinstance(e, TextChunk))
        assert chunks == words_of(events) == cloud.replies["en"]  # replaced, never doubled
    silent = turns[2]
    assert not [e for e in silent if isinstance(e, TextChunk | FinalText)]
    assert [e.name for e in silent if isinstance(e, ToolCall)] == ["edit_multitrack"]
    update = silent[-1]
    assert isinstance(update, StateUpdate)
    assert update.note == (
        'The assistant finished without words. Changed: Added title "Title 3" (0-3s)'
    )
    # `: ping` comments and empty `data:` lines are heartbeats, each one seen.
    assert sum(isinstance(e, Heartbeat) for e in turns[0]) == 4
    assert sum(isinstance(e, Heartbeat) for e in silent) == 3


async def test_a_zh_session_gets_zh_words_and_they_are_acted_on(cloud, tmp_path) -> None:
    async with client_for(cloud, tmp_path, language="zh") as c:
        await c.upload([png(tmp_path)])
        events = await turn(c, "加一个标题")
    assert cloud.session_bodies == [{"task_name": "project", "language": "zh"}]
    assert words_of(events) == cloud.replies["zh"]
    assert events[-1].actions == ["status"]  # 预览 → the track summary


async def test_a_silence_past_the_read_timeout_is_not_sent_again(cloud, tmp_path) -> None:
    """Nothing at all for longer than the read timeout: the turn is not re-sent (it would run
    and charge twice); the timeline is read back and shows what the turn did."""
    cloud.silence = 0.8
    async with client_for(cloud, tmp_path, read_timeout=0.3) as c:
        await c.upload([png(tmp_path)])
        events = await turn(c, "add a title")
    [error] = [e for e in events if isinstance(e, TurnError)]
    assert "not re-sent" in error.message and error.code == "broken"
    assert cloud.count("run_sse") == 1
    assert events[-1].summary[-1] == '2. Title: "Title 1" (0-3s)'


async def test_heartbeats_carry_a_turn_past_the_read_timeout(cloud, tmp_path) -> None:
    """A turn longer than the read timeout (scaled: 1 s against 0.3 s) is legal while the
    heartbeats come; a shorter silence than the timeout is waited out too."""
    cloud.then("run_sse", cloud.quiet_turn(10, 0.1, "Done at last."))
    cloud.silence = 0.2
    async with client_for(cloud, tmp_path, read_timeout=0.3) as c:
        await c.upload([png(tmp_path)])
        started = time.monotonic()
        first = await turn(c, "make it cinematic")
        assert time.monotonic() - started >= 0.9  # ten heartbeats 0.1 s apart: three read timeouts
        second = await turn(c, "add a title")
    assert words_of(first) == "Done at last." and sum(isinstance(e, Heartbeat) for e in first)
    assert words_of(second) == cloud.replies["en"]
    assert not [e for e in first + second if isinstance(e, TurnError)]


async def test_a_cut_turn_is_read_again_until_its_edit_lands(cloud, tmp_path):
    """The stream drops after the tool call; the cloud goes on and the edit lands 1.5 s later.
    The turn is never sent again: the state is read at once, again one poll interval after
    the cut (the cloud's 30 s, here 1 s: not landed yet) and two (landed: said)."""
    cloud.then("run_sse", cloud.cut_while_working(1.5))
    async with client_for(cloud, tmp_path, poll_interval=1.0) as c:
        await c.upload([png(tmp_path)])
        events = await turn(c, "add a title")
    assert [e.code for e in events if isinstance(e, TurnError)] == ["broken"]
    assert cloud.count("run_sse") == 1  # never re-sent: it would run and charge twice
    sent = next(s.at for s in cloud.seen if s.name == "run_sse")
    reads = [s.at - sent for s in cloud.seen if s.name == "state" and s.at > sent]
    assert len(reads) == 3 and reads[0] < 1.0 <= reads[1] < 2.0 <= reads[2]
    assert events[-1].note == 'The turn was cut off. It changed: Added title "Late title" (0-3s)'


async def test_a_cut_turn_that_never_lands_is_said_unknown_and_not_charged_twice(cloud, tmp_path):
    cloud.then("run_sse", cloud.cut_while_working(30.0))  # lands long after the last read
    async with client_for(cloud, tmp_path) as c:
        await c.upload([png(tmp_path)])
        events = await turn(c, "add a title")
        cloud.then("run_sse", cloud.cut_while_working(0))  # landed before the stream dropped
        landed = await turn(c, "add another")
    sent = [s.at for s in cloud.seen if s.name == "run_sse"]
    reads = [s.at - sent[0] for s in cloud.seen if s.name == "state" and sent[0] < s.at < sent[1]]
    # Three reads, then it gave up (the fourth is the next turn's own, before it is sent).
    assert len(reads) == 4 and reads[1] >= POLL and reads[2] >= 2 * POLL
    assert events[-1].note == (
        "The turn was cut off and the timeline had not changed 0.06 s later: its outcome is "
        "unknown. It was not sent again, so nothing was charged twice."
    )
    assert cloud.count("run_sse") == 2  # each sent once
    # Changed at the first read: said at once, no waiting.
    after = [s for s in cloud.seen if s.name == "state" and s.at > sent[1]]
    assert len(after) == 1
    assert landed[-1].note.startswith("The turn was cut off. It changed: Added title")


async def test_a_temporary_issue_line_after_a_good_answer_is_dropped(cloud, tmp_path) -> None:
    """The cloud's guide: ignore a trailing "I encountered a temporary issue" when the answer
    before it was normal. Alone, it is the answer, and shown."""
    cloud.trailing_issue = True
    async with client_for(cloud, tmp_path) as c:
        await c.upload([png(tmp_path)])
        events = await turn(c, "add a title")
        cloud.then("run_sse", sse(adk("I encountered a temporary issue. Please try again.")))
        alone = await turn(c, "add a title")
    texts = [e.text for e in events if isinstance(e, TextChunk | FinalText)]
    assert "".join(texts) == cloud.replies["en"] * 2  # its chunks, then its final text
    assert events[-1].actions == ["status"]  # the answer's GUI words, not the issue's
    assert words_of(alone) == "I encountered a temporary issue. Please try again."


def test_the_trailing_issue_filter_lets_other_words_through() -> None:
    from tui.client.turn import _TrailingIssue

    f = _TrailingIssue()
    out = [f.feed(ev) for ev in [FinalText("Done."), TextChunk("I enc"), TextChunk("ourage you")]]
    assert out == [[FinalText("Done.")], [], [TextChunk("I enc"), TextChunk("ourage you")]]
    assert f.feed(FinalText("I encourage you to add music.")) == [
        FinalText("I encourage you to add music.")
    ]


# ---- the GUI table: each row, in English and Chinese -------------------------------------------

GUI_ROWS = [
    # (row, English reply, Chinese reply, the actions the client reads from them)
    (
        "click [button]",
        "Added. Click Credits to see your balance.",
        "好了。点击积分查看余额。",
        ["credits"],
    ),
    (
        "open [panel]",
        "Done. Open the Text panel to adjust it.",
        "完成。打开文字面板进行调整。",
        ["status"],
    ),
    (
        "drag/drop",
        "Title added. Drag the title to the top.",
        "标题已添加。把标题拖拽到画面顶部。",
        ["say:Move the title to the top", "say:把标题移动到画面顶部"],
    ),
    (
        "preview in timeline",
        "Done. Preview it in the timeline.",
        "完成。在时间线中预览效果。",
        ["status"],
    ),
    (
        "Export button",
        "Ready! Click the Export button.",
        "好了！点击导出按钮即可下载。",
        ["export"],
    ),
    (
        "check account/billing",
        "Check your account billing page for your credits.",
        "请前往账户查看余额。",
        ["credits"],
    ),
]


def _gui_cases() -> list:
    cases = []
    for row, en, zh, actions in GUI_ROWS:
        for lang, reply in (("en", en), ("zh", zh)):
            want = [a for a in actions if not a.startswith("say:")] or [
                a for a in actions if (lang == "zh") == bool(re.search(r"[\u4e00-\u9fff]", a))
            ]
            cases.append(pytest.param(lang, reply, want, id=f"{row}-{lang}"))
    return cases


@pytest.mark.parametrize(("lang", "reply", "actions"), _gui_cases())
async def test_each_gui_row_becomes_an_action_in_the_client(cloud, tmp_path, lang, reply, actions):
    cloud.replies[lang] = reply
    async with client_for(cloud, tmp_path, language=lang) as c:
        await c.upload([png(tmp_path)])
        events = await turn(c, "add a title")
    update = events[-1]
    assert words_of(events) == reply  # the content words are kept, as said
    assert update.actions == actions and update.note  # and what the app does is said


def _app(cloud: CloudStandin, tmp_path: Path, **kw) -> I2VApp:
    folder = tmp_path / "pics"
    folder.mkdir()
    photo(folder / "beach.jpg", (160, 120))
    kw.setdefault("poll_interval", POLL)
    return I2VApp(folder, tmp_path / "out", cloud.url, **kw)


async def _uploaded(pilot) -> None:
    await ready(pilot)
    await say(pilot, "/upload beach.jpg")
    await until(pilot, lambda: "Uploaded beach.jpg" in lines(pilot.app), 20, "the upload")
    await until(pilot, lambda: not pilot.app.busy, 20, "the upload's end")


# What each action shows in the transcript once the app has done it.
_DONE = {
    "credits": "Credits: 100 available",
    "status": "Timeline: 1. Video: beach.jpg",
    "export": "Saved ",
}


@pytest.mark.parametrize(("lang", "reply", "actions"), _gui_cases())
async def test_each_gui_row_is_done_by_the_app(cloud, tmp_path, lang, reply, actions) -> None:
    cloud.replies = {"en": reply, "zh": reply}
    app = _app(cloud, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _uploaded(pilot)
        await say(pilot, "加一个标题" if lang == "zh" else "add a title")
        [action] = actions
        if action.startswith("say:"):
            sent = f"› {action[4:]}"
            await until(pilot, lambda: sent in lines(app), 20, "the drag sent as words")
            await until(pilot, lambda: cloud.count("run_sse") == 2 and not app.busy, 20, "it")
        else:
            await until(pilot, lambda: _DONE[action] in lines(app), 30, action)
            await until(pilot, lambda: not app.busy, 20, "the queue's end")
        shown = lines(app)
        assert reply in shown and "Here:" not in shown
        assert cloud.count("render") == (1 if action == "export" else 0)
        if action == "export":
            assert (tmp_path / "out" / "beach.mp4").read_bytes() == cloud.video
        await pilot.pause(0.2)
        assert cloud.count("run_sse") == (2 if action.startswith("say:") else 1)  # never a loop


# ---- renders: the cloud's shapes, cadence, CDN and plan -----------------------------------------


@pytest.mark.parametrize("shape", STATUS_SHAPES)
async def test_a_render_in_each_shape_takes_polls_and_comes_from_the_cdn(cloud, tmp_path, shape):
    cloud.shape = shape
    seen: list[float] = []
    async with client_for(cloud, tmp_path) as c:
        await c.upload([png(tmp_path)])
        result = await c.export(
            tmp_path / "clip.mp4", on_progress=lambda s: seen.append(s.progress)
        )
    assert result.path.read_bytes() == cloud.video
    assert cloud.count("render_status") == 4 and seen == [25, 50, 75, 100]
    polls = [s.at for s in cloud.seen if s.name == "render_status"]
    assert all(b - a >= POLL * 0.9 for a, b in pairwise(polls))  # its cadence
    # The file came from the other host, which never saw our token.
    [got] = cloud.cdn.seen
    assert got.path == f"/render-result/{result.render_id}.mp4"
    assert "authorization" not in got.headers and "x-client-id" not in got.headers
    assert cloud.count("download") == 0


@pytest.mark.parametrize("shape", STATUS_SHAPES)
async def test_a_failed_render_in_each_shape_says_why(cloud, tmp_path, shape) -> None:
    cloud.shape, cloud.render_fails, cloud.polls_to_finish = shape, True, 2
    async with client_for(cloud, tmp_path) as c:
        await c.upload([png(tmp_path)])
        with pytest.raises(ClientError) as failed:
            await c.export(tmp_path / "clip.mp4")
    assert str(failed.value) == "render failed: the render ran out of time"
    assert not (tmp_path / "clip.mp4").exists()
    # A timeout is a passing cause: retried once (a new id), then said; both freezes released.
    first, second = [s.path for s in cloud.seen if s.name == "render_status"][::2]
    assert cloud.count("render") == 2 and first != second
    assert cloud.credits == {"available": 100, "frozen": 0}


async def test_a_render_failed_for_a_passing_cause_is_retried_once_under_a_new_id(
    cloud, tmp_path
) -> None:
    cloud.fail_next = 1
    said: list[str] = []
    async with client_for(cloud, tmp_path, on_status=said.append) as c:
        await c.upload([png(tmp_path)])
        result = await c.export(tmp_path / "clip.mp4")
        ids = [s.path.rsplit("/", 1)[1] for s in cloud.seen if s.name == "render_status"]
        first, second = ids[0], ids[-1]
        assert c.state.data["renders"][second]["retry_of"] == first
        assert c.state.data["renders"][first]["state"] == "failed"
    assert re.fullmatch(r"render_\d{13,}", first) and re.fullmatch(r"render_\d{13,}", second)
    assert first != second and result.render_id == second and ids.count(first) == 4
    assert result.path.read_bytes() == cloud.video
    assert [got.path for got in cloud.cdn.seen] == [f"/render-result/{second}.mp4"]
    # The first freeze released, the second spent: 5 credits for the 5 s clip, once.
    assert cloud.credits == {"available": 95, "frozen": 0}
    assert said[1:] == ["The render failed (the render ran out of time); rendering it once more…"]


@pytest.mark.parametrize(
    ("why", "retryable"),
    [("the draft has no video source", None), ("render timed out", False)],
    ids=["the-drafts-cause", "said-not-retryable"],
)
async def test_a_render_failed_for_a_lasting_cause_is_not_retried(
    cloud, tmp_path, why, retryable
) -> None:
    # The backend's own word, where it gives one, wins over the reading of its words.
    cloud.fail_next, cloud.render_error, cloud.render_retryable = 1, why, retryable
    async with client_for(cloud, tmp_path) as c:
        await c.upload([png(tmp_path)])
        with pytest.raises(ClientError) as failed:
            await c.export(tmp_path / "clip.mp4")
    assert str(failed.value) == f"render failed: {why}"
    assert cloud.count("render") == 1
    assert cloud.credits == {"available": 100, "frozen": 0}  # its freeze released


# ---- the error table: each row, with its code and as a bare status ------------------------------


async def test_1001_and_a_bare_401_renew_the_token_once(cloud, tmp_path) -> None:
    async with client_for(cloud, tmp_path) as c:
        first = (await c.connect()).token
        cloud.then("credits", fail(401, 1001, "token expired"))
        assert (await c.credits())["available"] == 100
        cloud.then("state", bare(401, "<html>401 Unauthorized</html>"))
        await c.draft()
        second = c.session.token
        cloud.then("credits", bare(401), bare(401))  # refused twice: said, not looped
        with pytest.raises(ClientError) as twice:
            await c.credits()
    assert twice.value.code == TOKEN_EXPIRED and first != second
    assert cloud.count("token") == 4
    # Each renewal shows the refused token: the proof that keeps the account.
    renewals = [s for s in cloud.seen if s.name == "token"][1:]
    assert renewals[0].headers["authorization"] == f"Bearer {first}"


async def test_1001_with_nemo_token_says_the_token_is_bad(cloud, tmp_path) -> None:
    async with client_for(cloud, tmp_path, token="nmv_usr_revoked") as c:
        with pytest.raises(ClientError) as bad:
            await c.connect()
    assert "NEMO_TOKEN is invalid" in str(bad.value) and cloud.count("token") == 0


@pytest.mark.parametrize("answer", [fail(404, 1002, "session not found"), bare(404)])
async def test_1002_and_a_bare_404_open_a_new_session_in_its_language(cloud, tmp_path, answer):
    async with client_for(cloud, tmp_path, language="zh") as c:
        sid = (await c.connect()).session_id
        cloud.then("run_sse", answer)  # refused before the stream: safe to send again
        events = await turn(c, "加一个标题")
        assert c.session.session_id != sid
    assert words_of(events) == cloud.replies["zh"]
    assert [b["language"] for b in cloud.session_bodies] == ["zh", "zh"]
    assert cloud.count("run_sse") == 2


@pytest.mark.parametrize(
    "answer",
    [
        fail(402, 2001, "insufficient credits"),
        JSONResponse({"success": False, "error": {"code": 2001, "message": "no credits"}}, 402),
    ],
    ids=["code", "success"],
)
async def test_2001_stops_with_the_registration_link_or_a_top_up(cloud, tmp_path, answer):
    async with client_for(cloud, tmp_path) as c:
        await c.connect()
        cloud.then("run_sse", answer)
        with pytest.raises(OutOfCredits) as anon:
            await turn(c, "generate a clip")
        client_id = c.state.client_id
    assert anon.value.code == OUT_OF_CREDITS
    assert anon.value.hint == f"register to get more: {REGISTER_URL}?bind={client_id}"
    token = sorted(cloud.tokens)[0]
    async with client_for(cloud, tmp_path / "registered", token=token) as c:
        cloud.then("credits", answer)
        with pytest.raises(OutOfCredits) as registered:
            await c.credits()
    assert registered.value.hint == "top up your credits at nemovideo.ai"
    assert cloud.count("run_sse") == 1  # never sent again


@pytest.mark.parametrize("answer", [fail(415, 4001, "unsupported file type"), bare(415)])
async def test_4001_and_a_bare_415_show_the_accepted_types(cloud, tmp_path, answer) -> None:
    odd = tmp_path / "notes.txt"
    odd.write_text("not media")
    async with client_for(cloud, tmp_path) as c:
        with pytest.raises(ClientError) as local:
            await c.upload([odd])  # refused here first: nothing sent
        assert cloud.count("upload") == 0
        cloud.then("upload", answer)
        with pytest.raises(ClientError) as remote:
            await c.upload([png(tmp_path)])
    for e in (local.value, remote.value):
        assert e.code == UNSUPPORTED_TYPE and "png" in e.hint and "mp4" in e.hint


@pytest.mark.parametrize("answer", [fail(413, 4002, "file too large"), bare(413, "<html>")])
async def test_4002_and_a_bare_413_suggest_compressing(cloud, tmp_path, answer) -> None:
    async with client_for(cloud, tmp_path) as c:
        cloud.then("upload", answer)
        with pytest.raises(ClientError) as big:
            await c.upload([png(tmp_path)])
    assert big.value.code == FILE_TOO_LARGE and "compress" in big.value.hint
    assert "200 MB" in big.value.hint


async def test_400_missing_client_id_makes_a_new_one_and_retries(cloud, tmp_path) -> None:
    async with client_for(cloud, tmp_path) as c:
        before = c.state.client_id
        cloud.then("token", fail(400, MISSING_CLIENT_ID, "missing X-Client-Id header"))
        await c.connect()
        after = c.state.client_id
    sent = [s.headers.get("x-client-id") for s in cloud.seen if s.name == "token"]
    assert sent == [before, after] and before != after


@pytest.mark.parametrize("how", ["success", "bare"])
async def test_402_free_plan_export_is_a_plan_matter_not_credits(cloud, tmp_path, how) -> None:
    if how == "success":
        cloud.plan = "free"
    else:
        cloud.then("render", bare(402))
    async with client_for(cloud, tmp_path) as c:
        await c.upload([png(tmp_path)])
        with pytest.raises(ClientError) as plan:
            await c.export(tmp_path / "clip.mp4")
    assert plan.value.code == PLAN_BLOCKED and not isinstance(plan.value, OutOfCredits)
    assert "subscription" in plan.value.hint and "not credits" in plan.value.hint
    assert cloud.count("render_status") == 0 and not (tmp_path / "clip.mp4").exists()


async def test_429_waits_then_retries_once(cloud, tmp_path) -> None:
    async with client_for(cloud, tmp_path, rate_limit_wait=0.2) as c:
        await c.connect()
        cloud.then("credits", fail(429, 429, "slow down", {"Retry-After": "0"}))
        assert (await c.credits())["available"] == 100
        cloud.then("credits", bare(429))  # no Retry-After: the client's own wait
        started = time.monotonic()
        assert (await c.credits())["available"] == 100
        assert time.monotonic() - started >= 0.19  # waited, not retried at once
        cloud.then("credits", bare(429), bare(429))
        with pytest.raises(ClientError) as twice:
            await c.credits()
    assert twice.value.code == RATE_LIMITED
    assert cloud.count("credits") == 6


# ---- URL uploads --------------------------------------------------------------------------------


async def test_url_uploads_are_fetched_by_the_cloud(cloud, tmp_path) -> None:
    url = "https://images.example.invalid/spring/photo.jpg"
    async with client_for(cloud, tmp_path) as c:
        files = await c.upload_urls([url])
        state = await c.session_state()
    assert [f["filename"] for f in files] == ["photo.jpg"]
    [upload] = [s for s in cloud.seen if s.name == "upload"]
    assert upload.headers["content-type"] == "application/json"
    assert state.draft["t"][0]["sg"][0]["src"] == url
    assert [m.name for m in state.video_infos] == ["photo.jpg"]


# ---- the state's other fields -------------------------------------------------------------------


async def test_what_the_cloud_made_is_read_and_new_only_once(cloud, tmp_path) -> None:
    async with client_for(cloud, tmp_path) as c:
        await c.upload([png(tmp_path)])
        made = (await turn(c, "generate a 5 second clip"))[-1]
        later = (await turn(c, "add a title"))[-1]
        state = await c.session_state()
    url = f"{cloud.cdn.url}/gen/clip_1.mp4"
    want = Media(url=url, name="clip_1.mp4", kind="video", width=1280, height=720, duration=5.0)
    assert made.made == [want] and later.made == []
    assert made.changes == ["Added video clip_1.mp4 (0-5s)", "Added BGM Lo-fi (0-5s, 35%)"]
    assert state.generated_media == [want]
    assert [(m.name, m.kind, m.width) for m in state.video_infos] == [("photo.png", "image", 1920)]
    assert state.video_infos[0].url == f"{cloud.cdn.url}/up/photo.png"
    assert want.describe() == "clip_1.mp4 (video, 1280×720, 5s)"


async def test_what_the_cloud_made_is_saved_without_our_token(cloud, tmp_path) -> None:
    """generated_media lives on another host (the CDN): fetched whole, under its own name,
    never over a file, and that host never sees our token or client id."""
    async with client_for(cloud, tmp_path) as c:
        await c.upload([png(tmp_path)])
        await turn(c, "generate a 5 second clip")
        [made] = (await c.session_state()).generated_media
        first = await c.save_media(made, tmp_path / "exports")
        again = await c.save_media(made, tmp_path / "exports")
        with pytest.raises(ClientError, match="gave no address"):
            await c.save_media(Media(name="x.mp4"), tmp_path / "exports")
    assert (first.name, again.name) == ("clip_1.mp4", "clip_1-2.mp4")
    assert first.read_bytes() == again.read_bytes() == cloud.video
    assert [s.path for s in cloud.cdn.seen] == ["/gen/clip_1.mp4"] * 2
    for got in cloud.cdn.seen:
        assert "authorization" not in got.headers and "x-client-id" not in got.headers
    assert not list((tmp_path / "exports").glob(".*"))  # no part file left


def test_a_made_files_name_is_safe_in_our_folder() -> None:
    from tui.client.transfer import media_file_name

    url = "https://cdn.example/gen/a%20b/clip.mov?sig=1"
    assert media_file_name(Media(url=url, kind="video")) == "clip.mov"
    assert media_file_name(Media(url="https://h/x/../../etc/passwd", kind="video")) == "passwd.mp4"
    assert media_file_name(Media(name="../.hidden.png")) == "_.hidden.png"  # no dot first
    name = media_file_name(Media(name="\x1b]0;pwned\x07.mp4", kind="video"))
    assert not CONTROL.search(name) and "/" not in name and name.endswith(".mp4")
    assert media_file_name(Media(url="https://h/", kind="audio")) == "made.mp3"


def test_the_state_reader_is_lenient() -> None:
    state = read_session_state(
        {
            "draft": ["not", "a", "dict"],
            "video_infos": {  # a dict by id, odd types, a non-web scheme, a bare string
                "v1": {"file_name": "a.mp4", "width": "1920", "height": 1080.0, "d": 2500},
                "v2": {"cdn_url": "file:///etc/passwd"},
                "v3": None,
                "v4": {"width": True, "name": 7},
            },
            "generated_media": [
                "https://cdn.example/x/gen.mp4",
                {"output": {"url": "https://cdn.example/r.mp4"}, "status": "completed"},
                {"url": f"https://cdn.example/{HOSTILE}n.mp4", "title": f"Clip{HOSTILE}"},
                {"url": "https://cdn.example/has space.mp4"},
                {},
            ],
        }
    )
    assert state.draft == {}
    assert state.video_infos == [
        Media(name="a.mp4", width=1920, height=1080, duration=2.5),
        Media(name="7"),
    ]
    # A URL with a space in it is no URL; an entry with neither URL nor name is skipped.
    assert [(m.name, m.url) for m in state.generated_media] == [
        ("gen.mp4", "https://cdn.example/x/gen.mp4"),
        ("r.mp4", "https://cdn.example/r.mp4"),
        ("Clip", "https://cdn.example/n.mp4"),
    ]
    assert read_session_state(None).generated_media == [] and read_media_list("x") == []


_ANY = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["url", "cdn_url", "name", "type", "width", "duration", "output", "x"]),
            inner,
            max_size=4,
        )
    ),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(_ANY, _ANY)
def test_any_state_is_read_without_error_or_control(video_infos, generated) -> None:
    state = read_session_state({"video_infos": video_infos, "generated_media": generated})
    for m in state.video_infos + state.generated_media:
        assert not CONTROL.search(m.describe() + m.url), m
        assert m.url == "" or m.url.startswith(("http://", "https://"))
        assert m.name or m.url  # nothing shown that says nothing


def test_render_prints_what_the_cloud_made(cloud, tmp_path, capsys) -> None:
    img = photo(tmp_path / "beach.png", (160, 120))
    out = tmp_path / "clip.mp4"
    cloud.polls_to_finish = 1
    code = main(["render", str(img), "-p", "generate a clip", "-o", str(out), "--api", cloud.url])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    url = f"{cloud.cdn.url}/gen/clip_1.mp4"
    assert f"The cloud made clip_1.mp4 (video, 1280×720, 5s): {url}" in printed.out
    assert out.read_bytes() == cloud.video
    code = main(
        ["render", str(img), "-p", "generate", "-o", str(out), "--api", cloud.url, "--json"]
    )
    facts = json.loads(capsys.readouterr().out)
    assert code == 0 and facts["made"] == [
        {"name": "clip_2.mp4", "url": f"{cloud.cdn.url}/gen/clip_2.mp4", "kind": "video"}
    ]


def test_render_saves_what_the_cloud_made_beside_the_clip(cloud, tmp_path, capsys) -> None:
    img = photo(tmp_path / "beach.png", (160, 120))
    out = tmp_path / "clips" / "clip.mp4"
    cloud.polls_to_finish = 1
    args = ["render", str(img), "-p", "generate", "-o", str(out), "--api", cloud.url]
    code = main([*args, "--save-made", "--json", "-q"])
    facts = json.loads(capsys.readouterr().out)
    assert code == 0, facts
    [made] = facts["made"]
    assert made["path"] == str((tmp_path / "clips" / "clip_1.mp4").resolve())
    assert Path(made["path"]).read_bytes() == out.read_bytes() == cloud.video
    gen = [got for got in cloud.cdn.seen if got.path == "/gen/clip_1.mp4"]
    assert len(gen) == 1 and "authorization" not in gen[0].headers


def test_render_each_on_the_standin_names_a_refused_image(cloud, tmp_path, capsys) -> None:
    """`render --each`: both images into one session; the cloud refuses the second's upload
    (415): named, exit 1, and the first's clip is made all the same."""
    a = photo(tmp_path / "beach.png", (160, 120))
    b = photo(tmp_path / "city.png", (120, 160), seed=2)
    cloud.polls_to_finish = 1
    cloud.then("upload", lambda r: None, bare(415))  # the first as the cloud does, then refused
    args = ["render", str(a), str(b), "--each", "-p", "add a title", "-o", str(tmp_path / "out")]
    code = main([*args, "--api", cloud.url, "--json", "-q"])
    got = capsys.readouterr()
    facts = json.loads(got.out)
    assert code == 1 and [c["image"] for c in facts["clips"]] == ["beach.png"]
    [refused] = facts["failed"]
    assert refused["image"] == "city.png" and "HTTP 415 — accepted: jpg" in refused["error"]
    assert (tmp_path / "out" / "beach.mp4").read_bytes() == cloud.video
    assert got.err.strip().splitlines()[-1].startswith("error: 1 of 2 clips saved to")
    assert len({s.path for s in cloud.seen if s.name == "upload"}) == 1  # one session


def test_watch_journals_the_retried_render_it_downloads(cloud, tmp_path, _home) -> None:
    """A watched image's render fails for a passing cause: rendered once more under a new id,
    and the journal names that one (a restart before the download fetches it, not the
    failed one)."""
    import sqlite3

    folder = tmp_path / "in"
    folder.mkdir()
    photo(folder / "a.png", (120, 90))
    cloud.fail_next, cloud.polls_to_finish = 1, 1
    args = ["watch", str(folder), "--once", "--settle", "0", "-q", "--poll", "-p", "a clip"]
    assert main([*args, "--api", cloud.url]) == 0
    assert (folder / "out" / "a.mp4").read_bytes() == cloud.video
    first, second = (s.path.rsplit("/", 1)[1] for s in cloud.seen if s.name == "render_status")
    with sqlite3.connect(_home / "watch.db") as db:
        [(journaled,)] = db.execute("SELECT render_id FROM jobs").fetchall()
    assert first != second and journaled == second
    assert cloud.credits == {"available": 95, "frozen": 0}


# ---- the app against the stand-in --------------------------------------------------------------


async def test_the_app_shows_what_the_cloud_made_and_status_lists_it(cloud, tmp_path) -> None:
    app = _app(cloud, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _uploaded(pilot)
        await say(pilot, "generate a 5 second clip")
        url = f"{cloud.cdn.url}/gen/clip_1.mp4"
        said = f"The cloud made clip_1.mp4 (video, 1280×720, 5s): {url}"
        await until(pilot, lambda: said in lines(app), 20, "what the cloud made")
        await until(pilot, lambda: not app.busy, 20, "the turn's end")
        shown = app.transcript.lines()  # two stages: two messages, each once, in order
        assert shown.count(RAW_READY) == shown.count(cloud.replies["en"]) == 1
        assert shown.index(RAW_READY) < shown.index(cloud.replies["en"]) < shown.index(said)
        await say(pilot, "/status")
        await until(pilot, lambda: "So far the cloud made clip_1.mp4" in lines(app), 20, "/status")
        assert lines(app).count(said) == 1
        assert "Uploaded beach.jpg (1920×1080)" in lines(app)  # what the cloud's upload found


async def test_the_app_opens_its_session_in_the_language_set(cloud, tmp_path, monkeypatch):
    """A Chinese user on an English locale sets I2V_FLOW_LANGUAGE=zh: the app's session is
    opened in Chinese, and the cloud's replies come in Chinese."""
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    monkeypatch.setenv("I2V_FLOW_LANGUAGE", "zh")
    app = _app(cloud, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _uploaded(pilot)
        await say(pilot, "add a title")
        await until(pilot, lambda: cloud.replies["zh"] in lines(app), 20, "a Chinese reply")
    assert cloud.session_bodies == [{"task_name": "project", "language": "zh"}]


async def test_the_app_shows_no_control_from_a_hostile_cloud(cloud, tmp_path) -> None:
    """Terminal controls in the answer, a tool call's name and arguments, a title on the
    timeline and an uploaded file's name: none reaches the transcript or the Tracks pane."""

    def hostile(request):
        title = {"id": "h", "st": 0, "d": 3000, "m": {"text": f"Sale{HOSTILE}"}}
        cloud.project.draft["t"].append({"tt": 7, "sg": [title]})
        call = {"functionCall": {"id": "c", "name": f"add{HOSTILE}", "args": {HOSTILE: HOSTILE}}}
        return sse(
            adk(parts=[call]), adk(f"Work{HOSTILE}", partial=True), adk(f"Done{HOSTILE} now.")
        )

    async def named(request):
        answer = await cloud.on_upload(request, request.url.path.rsplit("/", 1)[1])
        body = json.loads(bytes(answer.body))
        body["data"]["files"][0]["filename"] = f"beach{HOSTILE}.jpg"
        return JSONResponse(body)

    cloud.then("run_sse", hostile)
    app = _app(cloud, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        cloud.then("upload", named)
        await say(pilot, "/upload beach.jpg")
        await until(pilot, lambda: "Uploaded beach.jpg" in lines(app), 20, "the upload")
        await until(pilot, lambda: not app.busy, 20, "the upload's end")
        await say(pilot, "add a title")
        await until(pilot, lambda: "Done now." in lines(app), 20, "the answer")
        await until(pilot, lambda: '"Sale"' in tracks_text(app), 20, "the title in Tracks")
        app.transcript.focus()
        await pilot.press("t")  # the tool calls shown, arguments and all
        await until(pilot, lambda: "↳ add" in lines(app), 5, "the tool call")
        shown = lines(app) + tracks_text(app)
    assert not CONTROL.search(shown)
    assert "Uploaded beach.jpg (1920×1080)" in shown


async def test_the_app_saves_what_the_cloud_made_to_exports(cloud, tmp_path) -> None:
    app = _app(cloud, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _uploaded(pilot)
        await say(pilot, "/save")
        await until(pilot, lambda: "made nothing in this session yet" in lines(app), 20, "none")
        await say(pilot, "generate a 5 second clip")
        await until(pilot, lambda: "The cloud made clip_1.mp4" in lines(app), 20, "made")
        await until(pilot, lambda: not app.busy, 20, "the turn's end")
        await say(pilot, "/save")
        saved = f"Saved {tmp_path / 'out' / 'clip_1.mp4'} (clip_1.mp4 (video, 1280×720, 5s))"
        await until(pilot, lambda: saved in lines(app), 20, "/save")
    assert (tmp_path / "out" / "clip_1.mp4").read_bytes() == cloud.video
    [got] = cloud.cdn.seen
    assert "authorization" not in got.headers and "x-client-id" not in got.headers


async def test_the_app_renders_in_the_clouds_shape_from_its_cdn(cloud, tmp_path) -> None:
    cloud.shape = "task"
    app = _app(cloud, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _uploaded(pilot)
        await say(pilot, "/export")
        await until(pilot, lambda: "Saved " in lines(app), 30, "the export")
        assert (tmp_path / "out" / "beach.mp4").read_bytes() == cloud.video
    assert cloud.count("render_status") == 4
    assert all("authorization" not in s.headers for s in cloud.cdn.seen)


async def test_the_app_renders_once_more_after_a_passing_failure(cloud, tmp_path) -> None:
    cloud.fail_next = 1
    app = _app(cloud, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _uploaded(pilot)
        await say(pilot, "/export")
        await until(pilot, lambda: "Saved " in lines(app), 30, "the export")
        await until(pilot, lambda: app.query_one(Credits).available == 95, 10, "5 spent, once")
        text = lines(app)
    assert "The render failed (the render ran out of time); rendering it once more…" in text
    assert "render failed:" not in text  # the retry made it: no error said
    assert (tmp_path / "out" / "beach.mp4").read_bytes() == cloud.video
    first, second = dict.fromkeys(s.path for s in cloud.seen if s.name == "render_status")
    assert cloud.count("render") == 2 and first != second
    assert [got.path for got in cloud.cdn.seen if got.path.startswith("/render-result/")] == [
        f"/render-result/{second.rsplit('/', 1)[1]}.mp4"
    ]


@pytest.mark.parametrize("words", ["send me the video", "把视频发给我", "download"])
async def test_the_app_takes_send_me_the_video_as_export(cloud, tmp_path, words) -> None:
    app = _app(cloud, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _uploaded(pilot)
        await say(pilot, words)
        await until(pilot, lambda: "Saved " in lines(app), 30, "the export")
    assert cloud.count("render") == 1 and cloud.count("run_sse") == 0  # no agent turn


async def test_the_app_says_a_free_plan_blocks_export(cloud, tmp_path) -> None:
    cloud.plan = "free"
    app = _app(cloud, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _uploaded(pilot)
        await say(pilot, "/export")
        await until(pilot, lambda: "free plan" in lines(app), 20, "the refusal")
        assert "subscription tier matter, not credits" in lines(app)
    assert cloud.count("render_status") == 0


async def test_the_app_shows_the_registration_link_when_credits_run_out(cloud, tmp_path):
    app = _app(cloud, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _uploaded(pilot)
        cloud.then("run_sse", fail(402, 2001, "insufficient credits"))
        await say(pilot, "generate a clip")
        await until(pilot, lambda: "?bind=" in lines(app), 20, "the registration link")
        assert f"{REGISTER_URL}?bind={app.client.state.client_id}" in lines(app)


async def test_the_app_carries_on_through_400_401_404_429_and_says_a_silent_turn(cloud, tmp_path):
    """A 400 for the client id at connect, then a bare 401, a bare 404 and a bare 429 in one turn
    are handled out of sight; the turn, with no words, is told by what it changed."""
    cloud.silent_every = 1
    cloud.then("token", fail(400, MISSING_CLIENT_ID, "missing X-Client-Id header"))
    app = _app(cloud, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _uploaded(pilot)
        cloud.then("state", bare(401))
        cloud.then("run_sse", bare(404), bare(429, headers={"Retry-After": "0"}))
        await say(pilot, "add a title")
        said = 'The assistant finished without words. Changed: Added title "Title 1" (0-3s)'
        await until(pilot, lambda: said in lines(app), 20, "the silent turn told")
        await until(pilot, lambda: not app.busy, 20, "the turn's end")
        assert "Could not" not in lines(app) and "error" not in lines(app).lower()
    assert cloud.count("token") == 3 and cloud.count("session") == 2
    assert cloud.count("run_sse") == 3 and cloud.turns == 1  # refused twice, run once


async def test_the_app_says_a_lost_session_was_replaced_by_an_empty_one(cloud, tmp_path):
    """On the cloud a new session starts empty: the photo uploaded into the lost one is gone,
    and the app says why the timeline emptied rather than leave it unexplained."""
    app = _app(cloud, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _uploaded(pilot)
        cloud.then("run_sse", fail(404, 1002, "session not found"))
        await say(pilot, "add a title")
        await until(pilot, lambda: cloud.replies["en"] in lines(app), 20, "the reply")
        await until(pilot, lambda: not app.busy, 20, "the turn's end")
        shown = app.transcript.lines()
        lost = "The session was lost; starting a new, empty one…"
        assert shown.index("› add a title") < shown.index(lost) < shown.index(cloud.replies["en"])
        assert "beach.jpg" not in tracks_text(app)  # the new session's timeline, as it is
        assert 'Title: "Title 1"' in tracks_text(app)
    assert len(cloud.projects) == 2 and cloud.project.video_infos == []


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (bare(413, "<html>Request Entity Too Large</html>"), "compress or trim"),
        (fail(413, 4002, "file too large"), "compress or trim"),
        (bare(415), "accepted: jpg, jpeg, png"),
        (fail(415, 4001, "unsupported file type"), "accepted: jpg, jpeg, png"),
    ],
    ids=["413", "4002", "415", "4001"],
)
async def test_the_app_says_an_upload_refusal_in_the_tables_words(cloud, tmp_path, answer, words):
    app = _app(cloud, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        cloud.then("upload", answer)
        await say(pilot, "/upload beach.jpg")
        await until(pilot, lambda: words in lines(app), 20, "the refusal said")
        assert "Uploaded" not in lines(app)


async def test_the_app_uploads_a_url_for_the_cloud_to_fetch(cloud, tmp_path) -> None:
    url = "https://images.example.invalid/spring/photo.jpg?w=800"
    app = _app(cloud, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await say(pilot, f"/upload {url}")
        said = "Uploaded photo.jpg (fetched by the backend)"
        await until(pilot, lambda: said in lines(app), 20, "the URL upload")
        await until(pilot, lambda: "1. Video: photo.jpg" in tracks_text(app), 20, "the tracks")
        await say(pilot, "/export")
        await until(pilot, lambda: "Saved " in lines(app), 30, "the export")
    assert (tmp_path / "out" / "photo.mp4").read_bytes() == cloud.video  # named after the URL
    [upload] = [s for s in cloud.seen if s.name == "upload"]
    assert upload.headers["content-type"] == "application/json"


async def test_the_app_on_the_local_engine_refuses_a_url_in_its_words(tmp_path) -> None:
    folder = tmp_path / "pics"
    folder.mkdir()
    app = I2VApp(folder, tmp_path / "out")
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await say(pilot, "/upload https://images.example.invalid/photo.jpg")
        await until(pilot, lambda: "fetches nothing from the network" in lines(app), 30, "why")
        await until(pilot, lambda: not app.busy, 20, "the queue's end")
        assert "Uploaded" not in lines(app)


def test_the_standin_speaks_the_clouds_envelopes(cloud) -> None:
    """Render endpoints answer `{"success", "data"}`, the rest `{"code", "data"}`; errors from
    its gateway are bare."""
    import httpx

    token = httpx.post(cloud.url + "/api/auth/anonymous-token", headers={"X-Client-Id": "c"})
    auth = {"Authorization": f"Bearer {token.json()['data']['token']}"}
    sid = httpx.post(cloud.url + "/api/tasks/me/with-session/nemo_agent", headers=auth, json={})
    sid = sid.json()["data"]["session_id"]
    body = {"id": "render_1", "sessionId": sid, "draft": {}}
    r = httpx.post(cloud.url + "/api/render/proxy/lambda", headers=auth, json=body)
    assert r.json() == {"success": True, "data": {"id": "render_1", "status": "pending"}}
    r = httpx.post(cloud.url + "/run_sse", headers=auth, json={"session_id": "nope"})
    assert (r.status_code, r.content) == (404, b"")
    state = httpx.get(f"{cloud.url}/api/state/nemo_agent/me/{sid}/latest", headers=auth).json()
    assert state["code"] == 0 and "width" not in state["data"]["state"]["draft"]["m"]
    assert set(state["data"]["state"]) >= {"draft", "video_infos", "generated_media"}


async def test_the_app_says_a_refused_nemo_token_is_bad(cloud, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("NEMO_TOKEN", "nmv_usr_revoked")
    app = _app(cloud, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: "Could not connect" in lines(app), 20, "the refusal")
        assert "NEMO_TOKEN is invalid or expired" in lines(app)
        assert "set a valid NEMO_TOKEN, or unset it" in lines(app)
    assert cloud.count("token") == 0  # a token given is never swapped for an anonymous one
