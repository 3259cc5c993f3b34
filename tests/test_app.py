"""The terminal app, driven with a Pilot against the real engine (the app starts it itself)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.media import photo
from tui.app import I2VApp
from widgets.credits import Credits, JobRow
from widgets.files import FileBrowser, FileInfo, FilesPane
from widgets.prompt import Prompt
from widgets.tracks import Tracks

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _no_desktop(monkeypatch: pytest.MonkeyPatch) -> None:
    """/open must show the path, never launch a viewer, in tests."""
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)


def pics(tmp_path: Path) -> Path:
    folder = tmp_path / "pics"
    folder.mkdir()
    photo(folder / "beach.jpg", (400, 300))
    photo(folder / "city.png", (300, 400), seed=2)
    (folder / "notes.txt").write_text("not media")
    (folder / "sub").mkdir()
    return folder


def lines(app: I2VApp) -> str:
    return "\n".join(app.transcript.lines())


async def until(pilot, cond: Callable[[], object], timeout: float = 30.0, what: str = "") -> None:
    for _ in range(int(timeout / 0.05)):
        if cond():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"not met in {timeout} s: {what}\n{lines(pilot.app)}")


async def ready(pilot) -> None:
    await until(pilot, lambda: "Ready" in lines(pilot.app), what="Ready")


async def say(pilot, text: str) -> None:
    prompt = pilot.app.query_one(Prompt)
    prompt.focus()
    prompt.value = text
    await pilot.press("enter")


def tracks_text(app: I2VApp) -> str:
    return str(app.query_one(Tracks).render())


async def test_the_whole_flow_upload_turn_tracks_export_credits(tmp_path: Path) -> None:
    folder = pics(tmp_path)
    app = I2VApp(folder, export_quality="draft")
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.focused is app.query_one(Prompt)  # the prompt is focused at start
        assert "Connecting…" in lines(app)
        await ready(pilot)
        # Enter on a file in Files uploads it; the next prompt is queued, not cancelling it.
        await pilot.press("tab")
        assert isinstance(app.focused, FileBrowser)
        await until(pilot, lambda: app.browser.root.children, what="tree loaded")
        await pilot.press("down", "down", "enter")  # sub/, beach.jpg
        await say(pilot, "a 1 second 720p clip, title 'Hello' for 1 s, lo-fi music at 35%")
        await until(pilot, lambda: "Title" in tracks_text(app), what="tracks")
        text = lines(app)
        assert "› /upload beach.jpg" in text
        assert "Uploaded beach.jpg (400×300)" in text
        assert "  ↳ set_" in text  # tool calls: one compact line each…
        app.transcript.focus()
        await pilot.press("t")  # …expanded with their arguments on request
        assert '"duration_ms": 1000' in lines(app)
        assert "Done:" in text  # the streamed answer
        t = tracks_text(app)
        assert "1. Video: beach.jpg (0-1s)" in t
        assert "2. BGM: Lo-fi (0-1s, 35%)" in t
        assert '3. Title: "Hello" (0-1s)' in t
        assert "████" in t  # the time bars
        # Two exports: both land, named after the source, the second never overwriting.
        await say(pilot, "/export")
        await say(pilot, "export")
        out = folder / "exports"
        await until(
            pilot,
            lambda: len([r for r in app.query(JobRow) if r.state == "done"]) == 3,
            timeout=60,
            what="two renders done",
        )
        assert (out / "beach.mp4").stat().st_size > 1000
        assert (out / "beach-2.mp4").stat().st_size > 1000
        assert "Saved exports/beach.mp4" in lines(app)
        # Credits were refreshed after the renders: 1 s each.
        credits = app.query_one(Credits)
        await until(pilot, lambda: credits.available == 98, what="credits refreshed")
        assert "98 available · 0 frozen · 98 total" in str(credits.render())
        await pilot.press("ctrl+r")
        await until(pilot, lambda: "Credits: 98 available" in lines(app), what="ctrl+r")
        # /open without a desktop shows the path.
        await say(pilot, "/open")
        assert f"The last export is {out / 'beach'}" in lines(app)
        # /undo steps the timeline back, and the tracks follow.
        await say(pilot, "/undo")
        await until(pilot, lambda: "Title" not in tracks_text(app), what="undo")


async def test_files_pane_facts_preview_marks_and_batch(tmp_path: Path) -> None:
    folder = pics(tmp_path)
    app = I2VApp(folder, export_quality="draft")
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        tree = app.browser
        tree.focus()
        await until(pilot, lambda: tree.root.children, what="tree loaded")
        names = [str(n.label) for n in tree.root.children]
        assert names == ["sub", "beach.jpg", "city.png"]  # no notes.txt
        await pilot.press("down", "down")
        info = app.query_one(FileInfo)
        facts = info.query_one("#facts")
        await until(pilot, lambda: "400×300" in str(facts.render()), what="facts")
        size = (folder / "beach.jpg").stat().st_size
        assert f"{size / 1000:.1f} KB" in str(facts.render())
        preview = str(info.query_one("#preview").render())
        assert preview.count("▀") >= 28 * 4  # coloured half-blocks
        # Space marks several files; the next instruction goes to each, each rendered.
        await pilot.press("space", "down", "space")
        assert tree.marked == [folder / "beach.jpg", folder / "city.png"]
        assert app.query_one(FilesPane).border_subtitle == "2 marked"
        await say(pilot, "a 1 second 720p clip")
        assert tree.marked == []
        await until(
            pilot,
            lambda: (
                (folder / "exports" / "city.mp4").exists()
                and (folder / "exports" / "beach.mp4").exists()
            ),
            timeout=60,
            what="batch renders",
        )
        text = lines(app)
        assert "Batch 1/2: beach.jpg" in text and "Batch 2/2: city.png" in text


async def test_errors_say_what_to_do_next(tmp_path: Path) -> None:
    folder = pics(tmp_path)
    app = I2VApp(folder)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await say(pilot, "/upload notes.txt")
        await until(pilot, lambda: "unsupported file type" in lines(app))
        assert "→ accepted: jpg, jpeg, png" in lines(app)
        await say(pilot, "/upload nowhere.jpg")
        await until(pilot, lambda: "nowhere.jpg: no such file" in lines(app))
        await say(pilot, "/export")
        await until(pilot, lambda: "the timeline is empty" in lines(app))
        assert "→ upload an image and describe the clip" in lines(app)
        await say(pilot, "/frobnicate")
        assert "Unknown command /frobnicate" in lines(app)
        await say(pilot, "/watch incoming")
        assert "Watch" in lines(app).split("/watch incoming", 1)[1]
        # Out of credits: the engine's balance drained behind the app's back.
        await say(pilot, "/upload beach.jpg")
        await until(pilot, lambda: "Uploaded beach.jpg" in lines(app))
        db = sqlite3.connect(Path(os.environ["I2V_FLOW_HOME"]) / "engine" / "engine.sqlite3")
        with db:
            db.execute("UPDATE users SET available=0")
        db.close()
        await say(pilot, "a 2 second clip")
        await say(pilot, "/export")
        await until(pilot, lambda: "out of credits" in lines(app))
        assert "→ the local engine's credits are used up" in lines(app)
        # Lost connection: the engine goes away mid-session.
        await app.engine.stop()
        await say(pilot, "/credits")
        await until(pilot, lambda: "Lost the local engine" in lines(app))
        assert "→ type /reconnect to start it again" in lines(app)
        # …and /reconnect brings it back, with the same session and timeline.
        await say(pilot, "/reconnect")
        await until(pilot, lambda: lines(app).count("Ready") == 2, what="second Ready")
        await until(pilot, lambda: "1. Video: beach.jpg (0-2s)" in tracks_text(app))


async def test_session_resumes_after_restart_and_quit_stops_the_engine(tmp_path: Path) -> None:
    folder = pics(tmp_path)
    app = I2VApp(folder)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await say(pilot, "/upload beach.jpg")
        await say(pilot, "a 3 second clip")
        await until(pilot, lambda: "(0-3s)" in tracks_text(app))
        proc = app.engine.proc
        await pilot.press("ctrl+q")
    assert proc.returncode is not None  # the engine stopped with the app
    assert app.engine.proc is None
    app2 = I2VApp(folder)
    async with app2.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "Ready: resumed your last session" in lines(app2))
        await until(pilot, lambda: "1. Video: beach.jpg (0-3s)" in tracks_text(app2))
        await say(pilot, "/new")
        await until(pilot, lambda: "New session" in lines(app2))
        await until(pilot, lambda: "empty" in tracks_text(app2))


async def test_palette_keys_history_heartbeats(tmp_path: Path, monkeypatch) -> None:
    from textual.command import DiscoveryHit

    from tui.commands import COMMANDS, I2VCommands
    from tui.protocol import FinalText, Heartbeat

    monkeypatch.setenv("NO_COLOR", "1")
    app = I2VApp(pics(tmp_path), still_working_every=0.0)
    assert app.no_color  # NO_COLOR respected (Textual renders without colour)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        # Every action is in the palette, each calling a command_* method of the app.
        provider = I2VCommands(app.screen)
        hits = [h async for h in provider.discover()]
        assert all(isinstance(h, DiscoveryHit) for h in hits) and len(hits) == len(COMMANDS)
        assert all(callable(getattr(app, m)) for _, m, _ in COMMANDS)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Theme" in titles  # Textual's themes are offered
        # The footer shows the keys that matter.
        keys = {k for k, b in app.active_bindings.items() if b.binding.show}
        assert {"ctrl+q", "ctrl+s", "ctrl+r", "ctrl+n"} <= keys
        # Tab moves between the panes and back to the prompt.
        seen = []
        for _ in range(8):
            await pilot.press("tab")
            seen.append(type(app.focused).__name__)
            if isinstance(app.focused, Prompt):
                break
        assert {"FileBrowser", "Transcript", "Tracks", "Prompt"} <= set(seen), seen
        # History: up and down.
        await say(pilot, "/help")
        assert "/upload PATH" in lines(app)
        await say(pilot, "/status")
        await until(pilot, lambda: "The timeline is empty" in lines(app))
        prompt = app.query_one(Prompt)
        await pilot.press("up")
        assert prompt.value == "/status"
        await pilot.press("up")
        assert prompt.value == "/help"
        await pilot.press("down", "down")
        assert prompt.value == ""

        # "⏳ Still working…" on heartbeats (here every heartbeat: the interval is 0).
        async def slow_turn(text: str):
            yield Heartbeat()
            yield FinalText("done")

        monkeypatch.setattr(app.client, "turn", slow_turn)
        await say(pilot, "make it pop")
        await until(pilot, lambda: "⏳ Still working…" in lines(app))


def test_ui_process_imports_only_what_the_first_screen_needs() -> None:
    """The engine runs in its own process: the UI never imports the renderer's stack."""
    code = (
        "import sys, tui.cli, tui.app, tui.client, tui.client_state, tui.commands\n"
        "heavy = {'av', 'cv2', 'numpy', 'starlette', 'uvicorn', 'PIL'}\n"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert proc.stdout.strip() == "[]", proc.stderr[-2000:]
