"""What a newcomer's keyboard-only test found (issue 15), driven with a Pilot against the real
engine: no hidden focus stop, a Files pane that follows the folder, watch mode that says what it
does, and slow turns that show they are working and can be stopped waiting on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from textual import events
from textual.widgets import Static

from tests.media import photo
from tests.test_app import lines, pics, ready, say, until
from tui.app.app import I2VApp
from widgets.credits import Credits
from widgets.prompt import Prompt


@pytest.fixture(autouse=True)
def _no_desktop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)


def tree_rows(app: I2VApp) -> list[str]:
    tree = app.browser
    return [
        "".join(seg.text for seg in tree.render_line(y)).strip()
        for y in range(tree.content_size.height)
    ]


def cursor_path(app: I2VApp) -> Path | None:
    node = app.browser.cursor_node
    return node.data.path if node is not None and node.data is not None else None


async def test_tab_never_stops_where_nothing_shows_and_the_root_names_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = pics(tmp_path)
    monkeypatch.chdir(folder)  # `i2v-flow` with no folder: the tree's root is "."
    app = I2VApp(Path("."))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        # The root row names the folder, so the first Tab into Files shows its cursor on it.
        await until(pilot, lambda: tree_rows(app) and tree_rows(app)[0].endswith("pics"))
        seen = []
        for _ in range(12):
            await pilot.press("tab")
            focused = app.focused
            assert focused is not None
            seen.append(type(focused).__name__)
            # Every stop is a pane that shows it has the focus: its border or the cursor.
            assert focused.id in ("tree", "transcript", "tracks", "prompt", "queue"), seen
            if isinstance(focused, Prompt) and len(seen) > 1:
                break
        assert seen == ["FileBrowser", "Transcript", "Tracks", "Prompt"], seen
        # Text typed after a round of Tab lands in the prompt, not in a hidden stop.
        await pilot.press("h", "i")
        assert app.query_one(Prompt).value == "hi"
        # A path pasted while a pane that takes no text has the focus goes to the prompt
        # (the terminal's paste reaches the app first, as here).
        app.query_one(Prompt).value = ""
        app.transcript.focus()
        await pilot.pause()
        app.post_message(events.Paste(f"{folder / 'beach.jpg'}\nsecond line"))
        await until(pilot, lambda: isinstance(app.focused, Prompt), 5, "the prompt focused")
        assert app.query_one(Prompt).value == str(folder / "beach.jpg")
        app.query_one(Prompt).value = ""
        app.browser.focus()
        await pilot.pause()
        assert app.browser.cursor_line == 0 and "pics" in str(app.browser.cursor_node.label)


async def test_files_shows_new_files_and_exports_keeping_the_cursor(tmp_path: Path) -> None:
    folder = pics(tmp_path)
    app = I2VApp(folder)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        tree = app.browser
        await until(pilot, lambda: len(tree.root.children) == 3, what="sub, beach, city")
        tree.focus()
        await pilot.press("down", "down", "down")  # root, sub, beach, city
        await until(pilot, lambda: cursor_path(app) == folder / "city.png", what="on city")
        # A file made while the app runs shows, sorted above the cursor; the cursor stays put.
        photo(folder / "alps.png", (64, 48))
        await until(
            pilot, lambda: any("alps.png" in r for r in tree_rows(app)), 10, "alps.png shows"
        )
        await pilot.pause(0.2)
        assert cursor_path(app) == folder / "city.png"
        # An exports folder appears; opened, a new clip in it shows too.
        (folder / "exports").mkdir()
        await until(pilot, lambda: any("exports" in r for r in tree_rows(app)), 10, "exports")
        node = next(n for n in tree.root.children if n.data.path.name == "exports")
        node.expand()
        await pilot.pause(0.3)  # the watch now takes in the opened folder
        (folder / "exports" / ".beach.mp4.part").write_bytes(b"partial")
        (folder / "exports" / "beach.mp4").write_bytes(b"\0" * 2000)
        await until(pilot, lambda: any("beach.mp4" in r for r in tree_rows(app)), 10, "clip")
        assert not any(".part" in r for r in tree_rows(app))
        assert cursor_path(app) == folder / "city.png"
        # A removed file leaves; so does an open folder, without an error, and the watch goes on.
        (folder / "alps.png").unlink()
        await until(
            pilot, lambda: not any("alps.png" in r for r in tree_rows(app)), 10, "alps gone"
        )
        assert tree_rows(app)[0].endswith("pics")
        for p in (folder / "exports").iterdir():
            p.unlink()
        (folder / "exports").rmdir()
        await until(pilot, lambda: not any("exports" in r for r in tree_rows(app)), 10, "rmdir")
        photo(folder / "zoo.png", (64, 48))
        await until(pilot, lambda: any("zoo.png" in r for r in tree_rows(app)), 10, "zoo.png")
        assert cursor_path(app) == folder / "city.png"
        assert "✗" not in lines(app)


async def test_watch_mode_says_its_instruction_each_clip_and_the_credits(tmp_path: Path) -> None:
    folder = pics(tmp_path)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    app = I2VApp(folder, export_quality="standard", watch_settle=0.3)  # priced: not a draft
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        credits = app.query_one(Credits)
        await until(pilot, lambda: credits.available == 100, what="credits read")
        # No prompt.txt, no --prompt: the default, said as such.
        await say(pilot, f"/watch {inbox}")
        await until(pilot, lambda: "Watch: watching" in lines(app), what="watching")
        assert "Instruction: an image's own NAME.txt, else" in lines(app)
        assert "(by default)" in lines(app)
        await say(pilot, "/watch off")
        await until(pilot, lambda: app.watcher is None, what="stopped")
        (inbox / "prompt.txt").write_text("a 2 second 720p clip\n")
        await say(pilot, f"/watch {inbox}")
        await until(pilot, lambda: '"a 2 second 720p clip" (from prompt.txt)' in lines(app))
        await until(pilot, lambda: lines(app).count("Watch: watching") == 2, what="rewatch")
        photo(inbox / "drop.png", (160, 120))
        await until(pilot, lambda: "Watch: drop.png done → " in lines(app), 60, "done line")
        assert "drop.mp4 ✓" in lines(app)
        # The 2 s clip cost 2 credits: the pane says so without ctrl+r.
        await until(pilot, lambda: credits.available == 98, 10, "credits refreshed")
        await say(pilot, "/watch off")
        await until(pilot, lambda: app.watcher is None, what="off")


def working_lines(app: I2VApp) -> list[str]:
    return [ln for ln in app.transcript.lines() if ln.startswith("⏳ Working…")]


def working_seconds(app: I2VApp) -> int | None:
    found = re.findall(r"⏳ Working… (\d+) s", "\n".join(working_lines(app)))
    return int(found[0]) if found else None


async def test_a_slow_turn_shows_it_is_working_and_esc_stops_waiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("I2V_ENGINE_TURN_DELAY", "5")  # the embedded engine inherits it
    app = I2VApp(pics(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        # Esc with no turn in flight does nothing (and says nothing).
        before = lines(app)
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert lines(app) == before
        # A slow turn: "Working… N s" from the start, counting each second.
        await say(pilot, "make it a 3-second clip")
        await until(pilot, lambda: working_lines(app), 5, "working line")
        assert "Esc stops waiting" in working_lines(app)[0]
        first = working_seconds(app)
        assert first is not None and first < 5
        await until(pilot, lambda: (working_seconds(app) or 0) > first, 5, "the count goes on")
        assert app.busy  # still waiting: the engine holds the turn for 5 s
        # Esc stops waiting: one line says so, the timeline is read back, nothing re-sent.
        await pilot.press("escape")
        await until(pilot, lambda: "Stopped waiting for the assistant" in lines(app), 5, "esc")
        await until(pilot, lambda: not working_lines(app) and not app.busy, 5, "line gone")
        assert "the Tracks pane shows the timeline as the backend has it now" in lines(app)
        # The queue goes on: the next action runs at once.
        await say(pilot, "/status")
        await until(pilot, lambda: "The timeline is empty" in lines(app), 10, "status")


def child_index(app: I2VApp, text: str) -> int:
    for i, child in enumerate(app.transcript.children):
        if isinstance(child, Static) and str(child.render()) == text:
            return i
    raise AssertionError(f"{text!r} not in the transcript:\n{lines(app)}")


async def test_a_queued_message_waits_and_its_reply_lands_under_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("I2V_ENGINE_TURN_DELAY", "1.5")
    app = I2VApp(pics(tmp_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await say(pilot, "/upload beach.jpg")
        await until(pilot, lambda: "Uploaded beach.jpg" in lines(app), what="uploaded")
        await say(pilot, "make it 4 seconds")
        await until(pilot, lambda: working_lines(app), 10, "the first turn working")
        await say(pilot, "add the title 'Hello'")
        assert "Queued: add the title 'Hello' (runs after the current step)" in lines(app)
        assert "› add the title 'Hello'" not in lines(app)  # not yet: its turn has not come
        await until(pilot, lambda: not app.busy and app._actions.empty(), 30, "both done")
        await until(pilot, lambda: not working_lines(app), 5, "no working line left")
        first = child_index(app, "› make it 4 seconds")
        second = child_index(app, "› add the title 'Hello'")
        answers = [
            i for i, c in enumerate(app.transcript.children) if hasattr(c, "source") and i > first
        ]
        assert len(answers) == 2, lines(app)
        assert first < answers[0] < second < answers[1], lines(app)
        assert "Hello" in str(app.transcript.children[answers[1]].source)


async def test_a_folder_gone_while_open_is_never_taken_for_a_file_to_upload(tmp_path: Path) -> None:
    """DirectoryTree reads the re-expansion of a node that is no longer a folder as a file
    chosen: the reload after an open folder is removed would upload it."""
    folder = pics(tmp_path)
    (folder / "gone").mkdir()
    app = I2VApp(folder)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        tree = app.browser
        await until(pilot, lambda: any("gone" in r for r in tree_rows(app)), what="gone shows")
        node = next(n for n in tree.root.children if n.data.path.name == "gone")
        (folder / "gone").rmdir()
        node.expand()  # what a reload does to a folder that was open
        await pilot.pause(0.5)
        assert not any("/upload" in line for line in lines(app).splitlines()), lines(app)
