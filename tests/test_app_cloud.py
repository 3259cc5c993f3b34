"""The app against the cloud's habits, played by the programmable fake backend on a real socket
(tests/cloud_standin.py): GUI words in its answers become actions, a stream cut mid-answer is
closed, tool calls stay out of sight until `t`, a long quiet turn says so in one line."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from starlette.requests import Request
from starlette.responses import Response

from tests.media import photo
from tests.test_app import lines, ready, say, until
from tests.test_client_fakes import FakeBackend, adk, sse, sse_stream
from tui.app.app import I2VApp
from tui.cli.main import main
from widgets.transcript import ToolCallLine


@pytest.fixture(autouse=True)
def _no_desktop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)


def _app(fb: FakeBackend, tmp_path: Path, **kw) -> I2VApp:
    folder = tmp_path / "pics"
    folder.mkdir()
    photo(folder / "beach.jpg", (160, 120))
    return I2VApp(folder, tmp_path / "out", fb.url, **kw)


async def _uploaded(pilot) -> None:
    await ready(pilot)
    await say(pilot, "/upload beach.jpg")
    await until(pilot, lambda: "Uploaded beach.jpg" in lines(pilot.app), 20, "the upload")
    await until(pilot, lambda: not pilot.app.busy, 20, "the upload's end")


def _said_to_the_agent(fb_bodies: list[dict]) -> list[str]:
    return [b["new_message"]["parts"][0]["text"] for b in fb_bodies]


def _recorder(bodies: list[dict], answer: Response | None = None):
    """A `then` answer that notes the turn's body, then answers (None: as the fake does)."""

    async def record(request: Request) -> Response | None:
        bodies.append(json.loads(await request.body()))
        return answer

    return record


@pytest.mark.parametrize(
    "reply",
    ["Done! Click the Export button to download your video.", "完成了！点击导出按钮即可下载。"],
    ids=["en", "zh"],
)
async def test_the_export_button_in_an_answer_exports_once(fb, tmp_path, reply) -> None:
    fb.reply = reply
    app = _app(fb, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _uploaded(pilot)
        await say(pilot, "make a 5 second clip")
        await until(pilot, lambda: "Saved " in lines(app), 30, "the export the words asked for")
        await until(pilot, lambda: not app.busy, 10, "the queue's end")
        text = lines(app)
        assert reply in text  # the assistant's words, as it said them
        # What the app did about them, in the answer's language (issue 15, item 10).
        if reply.isascii():
            assert "Its Export button: exporting here (/export)." in text
        else:
            assert "它说的“导出”按钮：已在这里导出（/export）。" in text
            assert "Its Export button" not in text
        assert "Here:" not in text  # no hint left to follow: it was done
        assert fb.count("render") == 1
        assert (tmp_path / "out" / "beach.mp4").read_bytes() == fb.video
        await pilot.pause(0.3)
        assert fb.count("render") == 1  # once, not again later


async def test_a_drag_is_sent_as_words_and_a_panel_reads_the_timeline(fb, tmp_path) -> None:
    bodies: list[dict] = []
    words = "Title added. Drag the title to the top of the frame, then open the Text panel."
    fb.then("run_sse", _recorder(bodies, sse(adk(words))), _recorder(bodies))
    app = _app(fb, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _uploaded(pilot)
        await say(pilot, "add a title")
        await until(pilot, lambda: lines(app).count(fb.reply) == 1, 20, "the follow-up's reply")
        await until(pilot, lambda: not app.busy, 10, "the queue's end")
        await until(pilot, lambda: "Timeline: 1. Video: beach.jpg" in lines(app), 10, "/status")
        sent = "Move the title to the top of the frame"
        assert _said_to_the_agent(bodies) == ["add a title", sent]
        assert fb.count("run_sse") == 2  # the follow-up's own words start no third turn
        shown = app.transcript.lines()
        assert shown.index(words) < shown.index(f"› {sent}") < shown.index(fb.reply)
        assert fb.count("render") == 0  # nothing asked for an export


async def test_an_undo_offered_if_you_want_is_only_named(fb, tmp_path) -> None:
    fb.reply = "Added the title. If it looks wrong, click Undo. Preview it in the timeline."
    app = _app(fb, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _uploaded(pilot)
        await say(pilot, "add a title")
        await until(pilot, lambda: "Timeline: 1. Video" in lines(app), 20, "the preview: /status")
        await until(pilot, lambda: not app.busy, 10, "the queue's end")
        assert "its Undo button is /undo here" in lines(app)
        assert fb.count("run_sse") == 1  # no "undo" turn sent for the person


async def test_a_cut_stream_closes_its_answer_and_the_next_reply_has_its_own(fb, tmp_path):
    fb.then("run_sse", fb.cut_turn("Setting the clip to"))
    app = _app(fb, tmp_path, poll_interval=0.05)  # the timeline read again 0.05 and 0.1 s on
    async with app.run_test(size=(120, 40)) as pilot:
        await _uploaded(pilot)
        await say(pilot, "make it 5 s")
        await until(pilot, lambda: "not re-sent" in lines(app), 20, "the cut")
        await until(pilot, lambda: not app.busy, 10, "the turn's end")
        await say(pilot, "add a title")
        await until(pilot, lambda: fb.reply in lines(app), 20, "the second reply")
        await until(pilot, lambda: not app.busy, 10, "the turn's end")
        shown = app.transcript.lines()
        cut = "Setting the clip to … *(cut off)*"
        assert cut in shown  # the first turn's words are kept, closed
        assert shown.index("› make it 5 s") < shown.index(cut) < shown.index("› add a title")
        assert shown.index("› add a title") < shown.index(fb.reply)
        errors = [i for i, x in enumerate(shown) if "not re-sent" in x]
        assert len(errors) == 1 and shown.index(cut) < errors[0] < shown.index("› add a title")
        assert fb.count("run_sse") == 2  # the cut turn was never sent again


async def test_tool_calls_are_hidden_until_t(fb, tmp_path) -> None:
    app = _app(fb, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _uploaded(pilot)
        await say(pilot, "add a title")
        await until(pilot, lambda: fb.reply in lines(app), 20, "the reply")
        await until(pilot, lambda: not app.busy, 10, "the turn's end")
        line = app.transcript.query_one(ToolCallLine)
        assert "↳ add_title" not in lines(app)
        assert not line.display and line.region.height == 0
        app.transcript.focus()
        await pilot.press("t")
        await until(pilot, lambda: line.region.height > 0, 5, "the tool call shown")
        assert '↳ add_title\n{\n  "text": "Spring"\n}' in lines(app)
        await pilot.press("t")
        await until(pilot, lambda: line.region.height == 0, 5, "hidden again")
        assert "↳ add_title" not in lines(app)


async def test_a_long_quiet_turn_says_still_working_in_one_line(fb, tmp_path) -> None:
    """Heartbeats for 1.2 s with a 0.2 s interval: five intervals, one line, then the words."""
    fb.then("run_sse", fb.quiet_turn(12, 0.1, "Done at last."))
    app = _app(fb, tmp_path, still_working_every=0.2)
    async with app.run_test(size=(120, 40)) as pilot:
        await _uploaded(pilot)
        await say(pilot, "make it cinematic")
        await until(pilot, lambda: "Done at last." in lines(app), 20, "the words")
        await until(pilot, lambda: not app.busy, 10, "the turn's end")
        shown = app.transcript.lines()
        still = [x for x in shown if x.startswith("⏳ Still working…")]
        assert still == ["⏳ Still working…"]
        assert shown.index("› make it cinematic") < shown.index(still[0])
        assert shown.index(still[0]) < shown.index("Done at last.")


def test_render_exports_once_when_the_answer_says_click_export(fb, tmp_path, capsys) -> None:
    fb.reply = "Done! Click the Export button to download your video."
    img = photo(tmp_path / "beach.png", (160, 120))
    out = tmp_path / "clip.mp4"
    assert main(["render", str(img), "-p", "a clip", "-o", str(out), "--api", fb.url]) == 0
    printed = capsys.readouterr().out
    assert fb.count("render") == 1
    assert out.read_bytes() == fb.video
    assert "Here:" not in printed and "exporting here" not in printed


def test_render_says_still_working_on_stderr_each_period(fb, tmp_path, capsys, monkeypatch):
    """`render` in a long quiet turn: one "⏳ Still working…" line on stderr per period of
    heartbeats without words (2 min; 0.3 s here), none on stdout, none once words come."""
    import tui.cli.render as render

    monkeypatch.setattr(render, "STILL_WORKING_EVERY", 0.3)
    fb.then("run_sse", fb.quiet_turn(10, 0.1, "Done at last."))  # 1 s of heartbeats
    img = photo(tmp_path / "beach.png", (160, 120))
    out = tmp_path / "clip.mp4"
    started = time.monotonic()
    assert main(["render", str(img), "-p", "a clip", "-o", str(out), "--api", fb.url]) == 0
    periods = (time.monotonic() - started) / 0.3  # at most one line each, not one a heartbeat
    got = capsys.readouterr()
    lines_said = [x for x in got.err.splitlines() if x.startswith("⏳ Still working… no words for")]
    assert 2 <= len(lines_said) <= periods and "Still working" not in got.out
    assert "Done at last." in got.out


async def test_esc_on_a_half_said_answer_closes_it(fb, tmp_path) -> None:
    first = f"data: {json.dumps(adk('Working on the', partial=True))}\n\n".encode()
    beats: list[bytes | float | BaseException] = [b": ping\n\n", 0.1] * 100  # 10 s, cut by Esc
    fb.then("run_sse", lambda r: sse_stream([first, *beats]))
    app = _app(fb, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _uploaded(pilot)
        await say(pilot, "make it 5 s")
        await until(pilot, lambda: "Working on the" in lines(app), 20, "the first words")
        await pilot.press("escape")
        await until(pilot, lambda: "Stopped waiting" in lines(app), 10, "Esc")
        await until(pilot, lambda: not app.busy, 10, "the turn's end")
        await say(pilot, "add a title")
        await until(pilot, lambda: fb.reply in lines(app), 20, "the next reply")
        shown = app.transcript.lines()
        cut = "Working on the … *(cut off)*"
        assert shown.index(cut) < shown.index("› add a title") < shown.index(fb.reply)


async def test_still_working_counts_from_the_last_words(fb, tmp_path) -> None:
    """Quiet, then words, then quiet again: a line for each quiet spell, each in its place."""
    chunk = f"data: {json.dumps(adk('Thinking about it.', partial=True))}\n\n".encode()
    quiet: list[bytes | float | BaseException] = [b": ping\n\n", 0.1] * 6
    final = f"data: {json.dumps(adk('Thinking about it. Done.'))}\n\n".encode()
    fb.then("run_sse", lambda r: sse_stream([*quiet, chunk, *quiet, final]))
    app = _app(fb, tmp_path, still_working_every=0.3)
    async with app.run_test(size=(120, 40)) as pilot:
        await _uploaded(pilot)
        await say(pilot, "make it cinematic")
        await until(pilot, lambda: "Thinking about it. Done." in lines(app), 20, "the words")
        await until(pilot, lambda: not app.busy, 10, "the turn's end")
        shown = app.transcript.lines()
        at = [i for i, x in enumerate(shown) if x.startswith("⏳ Still working…")]
        assert len(at) == 2, shown
        assert at[0] < shown.index("Thinking about it. Done.") < at[1]


async def test_a_batch_exports_each_clip_once_though_the_answer_says_export(fb, tmp_path):
    fb.reply = "Done! Click the Export button to download your video."
    app = _app(fb, tmp_path)
    photo(app.folder / "city.png", (120, 160), seed=2)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        app.submit("batch", "a 5 second clip", [app.folder / "beach.jpg", app.folder / "city.png"])
        out = [tmp_path / "out" / "beach.mp4", tmp_path / "out" / "city.mp4"]
        await until(pilot, lambda: all(p.exists() for p in out) and not app.busy, 30, "the batch")
        await pilot.pause(0.3)
        assert fb.count("render") == 2  # one each: its Export button is the batch's export
        assert fb.count("run_sse") == 2


@pytest.mark.parametrize(
    ("text", "actions"),
    [
        ("Drag the music to start at 2 s.", ["say:Move the music to start at 2 s"]),
        ("把标题拖拽到画面顶部，然后点击导出。", ["say:把标题移动到画面顶部", "export"]),
        ("Click Export. Then drag the title up.", ["say:Move the title up", "export"]),
        ("Don't click Export yet: check the title first.", []),
        ("If it looks wrong, click Undo.", []),
        ("Click Undo to go back.", ["undo"]),
        ("Open the Credits panel to see your balance.", ["credits"]),
        ("Drop your video here.", ["upload"]),
        ("好的。可以说“导出”生成视频。", []),  # words to type, as the local engine says
        ("视频准备好后，请点击“导出”。", ["export"]),
        ("导出按钮在右上角。", ["export"]),
    ],
)
def test_gui_words_in_more_shapes(text, actions) -> None:
    from tui.core.gui_words import translate_gui

    assert translate_gui(text).actions == actions


async def test_on_the_real_engine_a_slow_turn_says_still_working_once_and_hides_tools(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The embedded engine, made slow (1.5 s) and chatty (a heartbeat every 0.1 s): one
    'Still working' line for the quiet spell, the answer, and tool calls only after `t`."""
    monkeypatch.setenv("I2V_ENGINE_TURN_DELAY", "1.5")
    monkeypatch.setenv("I2V_ENGINE_HEARTBEAT", "0.1")
    folder = tmp_path / "pics"
    folder.mkdir()
    photo(folder / "beach.jpg", (160, 120))
    app = I2VApp(folder, still_working_every=0.5)
    async with app.run_test(size=(120, 40)) as pilot:
        await _uploaded(pilot)
        await say(pilot, "a 2 second clip")
        await until(pilot, lambda: "Done:" in lines(app), 30, "the engine's answer")
        await until(pilot, lambda: not app.busy, 10, "the turn's end")
        shown = app.transcript.lines()
        still = [x for x in shown if x.startswith("⏳ Still working…")]
        assert len(still) == 1, shown
        assert not any("↳" in x for x in shown)
        app.transcript.focus()
        await pilot.press("t")
        await until(pilot, lambda: "  ↳ add_media" in lines(app), 5, "the engine's tool calls")
