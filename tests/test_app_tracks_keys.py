"""The Tracks pane's keys, driven with a Pilot against the real engine the app starts: the
sentence each key sends (shown in the transcript as the person's own), the timeline after it,
undo and redo; and SVG snapshots of the selected segment at 80x24 and 120x40."""

from __future__ import annotations

from pathlib import Path

import pytest_textual_snapshot
from textual.message import Message

from tests.media import photo
from tests.test_app import lines, ready, say, tracks_text, until
from tui.app.app import I2VApp
from widgets.prompt import Prompt
from widgets.tracks import SELECTED, TextEditor, Tracks, playhead_cell, render_tracks


def _app(tmp_path: Path) -> I2VApp:
    folder = tmp_path / "pics"
    folder.mkdir()
    photo(folder / "beach.jpg", (400, 300))
    return I2VApp(folder)


async def _with_a_timeline(pilot) -> Tracks:
    """beach.jpg uploaded, a 4 s clip with lo-fi at 50 % and a 2 s title; Tracks focused."""
    app: I2VApp = pilot.app
    app.query_one(Prompt).cursor_blink = False
    await ready(pilot)
    await say(pilot, "/upload beach.jpg")
    await until(pilot, lambda: "Uploaded beach.jpg" in lines(app), what="uploaded")
    await say(pilot, "a 4 second clip, title 'Spring Sale' for 2 s, lo-fi music at 50%")
    await until(pilot, lambda: "Title" in tracks_text(app) and not app.busy, what="tracks")
    tracks = app.query_one(Tracks)
    tracks.focus()
    await pilot.pause()
    return tracks


async def _key(pilot, key: str, said: list[str], sentence: str, after: str) -> None:
    """Press `key`: it must send `sentence`, and the timeline from the engine must show `after`."""
    app: I2VApp = pilot.app
    n = len(said)
    await pilot.press(key)
    await until(pilot, lambda: len(said) > n, what=f"{key} sent nothing")
    assert said[n:] == [sentence]
    await until(pilot, lambda: f"› {sentence}" in lines(app), what="the sentence shown")
    await until(pilot, lambda: after in tracks_text(app) and not app.busy, what=after)


async def test_track_keys_send_sentences_the_engine_acts_on(tmp_path: Path) -> None:
    said: list[str] = []
    seen: dict[int, Message] = {}  # (kept alive: no id is reused)

    def hook(message: Message) -> None:  # called at each pump the message bubbles through
        if isinstance(message, Tracks.Say) and id(message) not in seen:
            seen[id(message)] = message
            said.append(message.text)

    app = _app(tmp_path)
    async with app.run_test(size=(120, 40), message_hook=hook) as pilot:
        tracks = await _with_a_timeline(pilot)
        t = tracks_text(app).splitlines()
        assert t[1].startswith(f" {SELECTED} ") and t[0] == "1. Video: beach.jpg (0-4s)"
        await pilot.press("down", "j")  # the title: the third line
        t = tracks_text(app).splitlines()
        assert t[4] == '3. Title: "Spring Sale" (0-2s)' and t[5].startswith(f" {SELECTED} ")
        assert SELECTED not in t[1] + t[3]
        await pilot.press("k", "j")
        assert tracks.segment is not None and tracks.segment.kind == "title"
        # A click selects too: the music's bar (rows: border, video, bar, music, bar).
        await pilot.click(Tracks, offset=(5, 4))
        assert tracks.segment is not None and tracks.segment.kind == "music"
        await pilot.click(Tracks, offset=(5, 5))  # the title's line
        assert tracks.segment is not None and tracks.segment.kind == "title"

        await _key(pilot, "]", said, "make the title 0.5 seconds longer", "(0-2.5s)")
        await _key(pilot, "}", said, "make the title 1 second longer", "(0-3.5s)")
        await _key(pilot, "[", said, "make the title 0.5 seconds shorter", '"Spring Sale" (0-3s)')
        await _key(pilot, "right", said, "move the title 0.5 seconds later", "(0.5-3.5s)")
        await _key(pilot, "shift+left", said, "move the title 1 second earlier", "(0-3s)")
        await _key(pilot, "u", said, "undo", "(0.5-3.5s)")
        await _key(pilot, "r", said, "redo", '"Spring Sale" (0-3s)')

        # Enter opens the text in place; Enter there says the change, and Tracks has the focus.
        await pilot.press("enter")
        editor = app.query_one(TextEditor)
        assert editor.value == "Spring Sale" and app.focused is editor
        editor.value = "Summer Sale"
        await _key(pilot, "enter", said, "change the title text to 'Summer Sale'", "Summer")
        assert app.focused is tracks and not app.query(TextEditor)
        # Esc leaves the text as it was, saying nothing.
        await pilot.press("e")
        await pilot.press("escape")
        await pilot.pause()
        assert not app.query(TextEditor) and app.focused is tracks
        assert said[-1] == "change the title text to 'Summer Sale'"

        await pilot.press("up")  # the music
        assert tracks.segment is not None and tracks.segment.kind == "music"
        await _key(pilot, "minus", said, "set the music volume to 40%", "Lo-fi (0-4s, 40%)")
        await _key(pilot, "m", said, "set the music volume to 0%", "Lo-fi (0-4s, 0%)")
        await _key(pilot, "m", said, "set the music volume to 40%", "Lo-fi (0-4s, 40%)")
        # Two presses before the first answer: the second goes on from the first.
        n = len(said)
        await pilot.press("plus", "plus")
        await until(pilot, lambda: len(said) == n + 2, what="two sentences")
        assert said[n:] == ["set the music volume to 50%", "set the music volume to 60%"]
        await until(pilot, lambda: "Lo-fi (0-4s, 60%)" in tracks_text(app) and not app.busy)
        # A key with no meaning on the music: a warning, nothing sent.
        n = len(said)
        await pilot.press("]")
        await pilot.pause(0.2)
        assert len(said) == n and "The music runs as long as the clip" in str(
            [x.message for x in app._notifications]
        )

        await pilot.press("down")  # the title again
        await _key(pilot, "x", said, "delete the title", "BGM")
        assert "Title" not in tracks_text(app)
        await _key(pilot, "u", said, "undo", '"Summer Sale"')
        text = lines(app)
        assert "Done: removed the title" in text and "Done: set the title" in text


async def test_selected_segment_snapshots(snapshot, tmp_path: Path) -> None:
    """You should see the Tracks pane with a heavy border (it has the focus) and its third line,
    the title "Spring Sale" (0-2s), marked ▶ and reversed; the footer lists the pane's keys
    (] Longer, [ Shorter, → Later, ← Earlier, del Delete, …).
    At 120x40 the pane is in the right column; at 80x24 it is under Files on the left."""
    svg = snapshot.use_extension(pytest_textual_snapshot.SVGImageExtension)
    app = _app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _with_a_timeline(pilot)
        await pilot.press("down", "down")
        await pilot.pause(0.2)
        await pilot.wait_for_scheduled_animations()
        wide = app.export_screenshot(title=app.title, simplify=True)
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.3)
        await pilot.wait_for_scheduled_animations()
        narrow = app.export_screenshot(title=app.title, simplify=True)
    assert wide == svg(name="selected_120x40")
    assert narrow == svg(name="selected_80x24")


def test_the_playhead_marks_every_bar_at_its_time() -> None:
    draft = {
        "d": 4000,
        "t": [
            {"tt": 0, "sg": [{"st": 0, "d": 4000}]},
            {"tt": 7, "sg": [{"st": 2000, "d": 2000, "m": {"text": "Hi"}}]},
        ],
    }
    summary = ["1. Video: a.jpg (0-4s)", '2. Title: "Hi" (2-4s)']
    plain = render_tracks(draft, summary).plain.splitlines()
    marked = render_tracks(draft, summary, playhead=1000).plain.splitlines()
    assert playhead_cell(1000, 4000) == 5
    assert plain[1] == "   " + "█" * 20 and plain[3] == "   " + "·" * 10 + "█" * 10
    assert marked[1] == "   " + "█" * 5 + "┃" + "█" * 14
    assert marked[3] == "   " + "·" * 5 + "┃" + "·" * 4 + "█" * 10
    assert marked[0] == plain[0] and marked[2] == plain[2]  # the lines themselves unchanged
    end = render_tracks(draft, summary, playhead=9999).plain.splitlines()
    assert end[1].endswith("┃")  # past the end: on the last cell
    # The selected line is reversed (seen without colour) and its bar marked, no wider.
    chosen = render_tracks(draft, summary, selected=1)
    assert chosen.plain.splitlines()[3] == f" {SELECTED} " + "·" * 10 + "█" * 10
    reversed_ = [chosen.plain[x.start : x.end] for x in chosen.spans if "reverse" in str(x.style)]
    assert reversed_ == [summary[1]]


async def test_show_playhead_draws_and_hides_the_mark(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        tracks = await _with_a_timeline(pilot)
        assert "┃" not in tracks_text(app)
        tracks.show_playhead(2.0)
        await pilot.pause()
        bars = tracks_text(app).splitlines()[1::2]
        assert len(bars) == 3 and all(x[3 + 10] == "┃" for x in bars), bars
        tracks.show_playhead(None)
        await pilot.pause()
        assert "┃" not in tracks_text(app)
