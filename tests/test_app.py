"""The terminal app, driven with a Pilot against the real engine (the app starts it itself)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.media import photo
from tui.app.app import I2VApp
from tui.client.state import ClientState
from tui.core.paths import client_state_file
from widgets.credits import Credits
from widgets.files import FileBrowser, FileInfo, FilesPane
from widgets.jobs import JobRow
from widgets.prompt import Prompt
from widgets.queue import WatchQueue
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


async def until(pilot, cond: Callable[[], object], timeout: float = 60.0, what: str = "") -> None:
    """Wait for a real condition, by the clock (a loaded machine makes each pause longer)."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"not met in {timeout} s: {what}\n{lines(pilot.app)}")
        await pilot.pause(0.05)


async def ready(pilot) -> None:
    await until(pilot, lambda: "Ready" in lines(pilot.app), what="Ready")


async def say(pilot, text: str) -> None:
    prompt = pilot.app.query_one(Prompt)
    prompt.focus()
    prompt.value = text
    await pilot.press("enter")


def cursor_name(app: I2VApp) -> str:
    node = app.browser.cursor_node
    return node.data.path.name if node is not None and node.data is not None else ""


def tracks_text(app: I2VApp) -> str:
    return str(app.query_one(Tracks).render())


async def test_the_whole_flow_upload_turn_tracks_export_credits(tmp_path: Path) -> None:
    folder = pics(tmp_path)
    app = I2VApp(folder, export_quality="standard")  # priced: the draft tier is free
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.focused is app.query_one(Prompt)  # the prompt is focused at start
        assert "Connecting…" in lines(app)
        await ready(pilot)
        # Enter on a file in Files uploads it; the next prompt is queued, not cancelling it.
        await pilot.press("tab")
        assert isinstance(app.focused, FileBrowser)
        await until(pilot, lambda: app.browser.root.children, what="tree loaded")
        await pilot.press("down", "down")  # sub/, beach.jpg
        await until(pilot, lambda: cursor_name(app) == "beach.jpg", what="cursor on beach.jpg")
        await pilot.press("enter")
        await say(pilot, "a 1 second 720p clip, title 'Hello' for 1 s, lo-fi music at 35%")
        await until(pilot, lambda: "Title" in tracks_text(app), timeout=120, what="tracks")
        await until(pilot, lambda: "Done:" in lines(app), what="the streamed answer")
        text = lines(app)
        assert "› /upload beach.jpg" in text
        assert "Uploaded beach.jpg (400×300)" in text
        assert "↳ set_" not in text  # tool calls stay internal…
        app.transcript.focus()
        await pilot.press("t")  # …shown with their arguments on request
        await until(pilot, lambda: '"duration_ms": 1000' in lines(app), what="expanded")
        assert "  ↳ set_" in lines(app)
        await pilot.press("t")
        await until(pilot, lambda: "↳ set_" not in lines(app), what="hidden again")
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
            timeout=240,
            what="two renders done",
        )
        saved = ("Saved exports/beach.mp4", "Saved exports/beach-2.mp4")
        await until(pilot, lambda: all(s in lines(app) for s in saved), what="both saved")
        assert (out / "beach.mp4").stat().st_size > 1000
        assert (out / "beach-2.mp4").stat().st_size > 1000
        # Credits were refreshed after the renders: 1 s each.
        credits = app.query_one(Credits)
        await until(pilot, lambda: credits.available == 98, what="credits refreshed")
        await until(
            pilot,
            lambda: "98 available · 0 frozen · 98 total" in str(credits.render()),
            what="credits shown",
        )
        await pilot.press("ctrl+r")
        await until(pilot, lambda: "Credits: 98 available" in lines(app), what="ctrl+r")
        # /open without a desktop shows the path.
        await say(pilot, "/open")
        await until(pilot, lambda: f"The last export is {out / 'beach'}" in lines(app))
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
        assert "unknown command /frobnicate (/help lists them)" in lines(app)
        await say(pilot, "/watch incoming")
        assert "incoming: no such folder" in lines(app).split("/watch incoming", 1)[1]
        await say(pilot, "/watch off")
        assert "Not watching a folder" in lines(app)
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
        # Typed before the upload ends, the next line would be logged first: wait, so the
        # history's order below is the one thing this test pins.
        await until(pilot, lambda: "Uploaded beach.jpg (400×300)" in lines(app))
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
        # The conversation comes back too, between two rules, its tool lines hidden until `t`.
        await until(pilot, lambda: "── now ──" in lines(app2), what="history shown")
        shown = app2.transcript.lines()
        earlier = shown[shown.index("── earlier in this session ──") : shown.index("── now ──")]
        assert earlier[1:3] == ["› /upload beach.jpg", "Uploaded beach.jpg (400×300)"]
        assert "› a 3 second clip" in earlier
        assert not any("↳" in line for line in earlier)
        assert any(line.startswith("Done: put beach.jpg") for line in earlier)
        app2.transcript.focus()
        await pilot.press("t")
        assert any(line.startswith("  ↳ add_media(") for line in app2.transcript.lines())
        await pilot.press("t")
        assert not any("↳" in line for line in app2.transcript.lines())
        assert not any("Connecting" in line or "Ready" in line for line in earlier)
        # "Ready" follows the history: the last line in sight, however long the history.
        assert shown[shown.index("── now ──") + 1] == "Ready: resumed your last session"
        await say(pilot, "/new")
        await until(pilot, lambda: "New session" in lines(app2))
        await until(pilot, lambda: "empty" in tracks_text(app2))
        await say(pilot, "/credits")
        await until(pilot, lambda: "Credits: " in lines(app2), what="credits")
    # The new session has a history of its own: only what was said in it.
    app3 = I2VApp(folder)
    async with app3.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: "── now ──" in lines(app3), what="history shown")
        shown = app3.transcript.lines()
        earlier = shown[shown.index("── earlier in this session ──") : shown.index("── now ──")]
        assert "New session: an empty timeline" in earlier
        assert "› /credits" in earlier
        assert "› a 3 second clip" not in earlier


async def test_palette_keys_history_heartbeats(tmp_path: Path, monkeypatch) -> None:
    from textual.command import DiscoveryHit

    from tui.app.palette import COMMANDS, I2VCommands
    from tui.core.protocol import FinalText, Heartbeat

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
        "import sys, tui.cli.main, tui.app.app, tui.client, tui.client.state, tui.app.palette\n"
        "heavy = {'av', 'cv2', 'numpy', 'starlette', 'uvicorn', 'PIL'}\n"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert proc.stdout.strip() == "[]", proc.stderr[-2000:]


async def test_watch_mode_in_the_app_feeds_the_queue_pane(tmp_path: Path) -> None:
    folder = pics(tmp_path)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    app = I2VApp(
        folder,
        watch=inbox,
        watch_prompt="a 1 second 720p clip",
        export_quality="draft",
        watch_settle=0.3,
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await until(pilot, lambda: f"Watch: watching {inbox.resolve()}" in lines(app))
        mine = app.client.session.session_id
        queue = app.query_one(WatchQueue)
        photo(inbox / "drop.png", (160, 120))
        await until(
            pilot, lambda: "done" in queue.steps.values(), timeout=60, what="queue row done"
        )
        (row,) = queue.steps
        assert str(queue.get_cell(row, "file")) == "drop.png"
        assert str(queue.get_cell(row, "step")) == "done ✓"
        assert (inbox / "out" / "drop.mp4").stat().st_size > 1000
        assert (inbox / "done" / "drop.png").exists()
        assert "1 done" in queue.border_subtitle
        # The watcher's per-image session never became the app's saved one.
        assert ClientState(client_state_file(), "local").backend["session_id"] == mine
        assert app.client.session.session_id == mine
        # At 80x24 the queue is reachable: Tab focuses it and the side column scrolls to it.
        for _ in range(8):
            await pilot.press("tab")
            if app.focused is queue:
                break
        assert app.focused is queue
        await pilot.pause()
        assert queue.region.height >= 4 and app.screen.region.contains_region(queue.region)
        # /reconnect restarts the engine: the watcher stops, and starts again on the new one.
        await say(pilot, "/reconnect")
        await until(pilot, lambda: "Watch stopped: 1 done" in lines(app), what="stopped")
        await until(pilot, lambda: lines(app).count("Watch: watching") == 2, what="rewatch")
        assert app.query_one(WatchQueue) is queue  # the same folder keeps its rows
        photo(inbox / "later.png", (160, 120), seed=5)
        await until(
            pilot,
            lambda: list(queue.steps.values()).count("done") == 2,
            timeout=120,
            what="the second image done on the new engine",
        )
        assert (inbox / "out" / "later.mp4").stat().st_size > 1000
        # /watch off stops it, with one line in the transcript.
        await say(pilot, "/watch off")
        await until(pilot, lambda: "Watch stopped: 2 done" in lines(app), what="off")
        assert app.watcher is None
        # /watch DIR starts it again (the folder's lock was let go); ctrl+q stops it cleanly.
        await say(pilot, f"/watch {inbox}")
        await until(pilot, lambda: lines(app).count("Watch: watching") == 3, what="again")
        await say(pilot, f"/watch {inbox}")
        assert "Already watching" in lines(app)
        watcher = app.watcher
        assert watcher is not None
        await pilot.press("ctrl+q")
    assert app.watcher is None and watcher._lock_fd is None


async def test_a_render_being_waited_on_is_finished_by_the_new_client_after_reconnect(
    tmp_path: Path,
) -> None:
    import asyncio

    folder = pics(tmp_path)
    app = I2VApp(folder, export_quality="draft")
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await say(pilot, "/upload beach.jpg")
        await say(pilot, "a 1 second 720p clip")
        await until(pilot, lambda: "1. Video: beach.jpg (0-1s)" in tracks_text(app))
        old = app.client
        waited: list[str] = []

        async def stuck(rid: str, on_progress=None):  # the old connection never answers again
            waited.append(rid)
            await asyncio.Event().wait()

        old.wait_render = stuck
        await say(pilot, "/export")
        await until(pilot, lambda: waited, what="render waited on")
        # A watcher's render in flight on the same backend: never the app's to resume.
        foreign = tmp_path / "theirs.mp4"
        old.state.add_render("render_1", state="rendering", owner="watch:/x", target=str(foreign))
        await say(pilot, "/reconnect")
        out = folder / "exports" / "beach.mp4"
        await until(pilot, lambda: "Saved exports/beach.mp4" in lines(app), timeout=60)
        assert app.client is not old
        assert out.stat().st_size > 1000 and not (folder / "exports" / "beach-2.mp4").exists()
        text = lines(app)
        assert "Resuming render beach.mp4" in text
        assert "closed" not in text and "RuntimeError" not in text
        assert "theirs" not in text and not foreign.exists()
        assert app.client.state.pending_renders()["render_1"]["state"] == "rendering"
        (row,) = [r for r in app.query(JobRow) if r.job_id == waited[0]]
        assert row.state == "done"


def test_the_command_line_starts_the_app_watching(tmp_path: Path) -> None:
    from tui.app.app import make_app
    from tui.cli.main import tui_parser

    args = tui_parser().parse_args([str(tmp_path), "--watch", "~/in", "--prompt", "8 seconds"])
    app = make_app(args, watch_settle=0.5)
    assert app.watch_dir == Path("~/in").expanduser() and app.watch_prompt == "8 seconds"
    assert app.folder == tmp_path and app.watch_settle == 0.5


async def test_at_80x24_a_new_render_scrolls_into_sight(tmp_path: Path) -> None:
    """Under Tracks the side column scrolls at 80x24: a render's progress row is in view."""
    folder = pics(tmp_path)
    app = I2VApp(folder, export_quality="draft")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await say(pilot, f"/upload {folder / 'beach.jpg'}")
        await say(pilot, "a 2 second clip, title 'Hello' for 1 s, lo-fi music at 35%")
        await until(pilot, lambda: "Title" in tracks_text(app), timeout=120, what="tracks")
        side = app.query_one("#side-rest")
        await say(pilot, "/export")
        await until(
            pilot,
            lambda: any(r.label.startswith("Render") for r in app.query(JobRow)),
            what="a render row",
        )
        row = next(r for r in app.query(JobRow) if r.label.startswith("Render"))
        await until(
            pilot,
            lambda: side.content_region.contains_region(row.region),
            what="the render row in sight",
        )


# ---- the side column, the transcript's end, focus and errors without colour (issue 15) ------


def _whole_on_screen(app: I2VApp, widget) -> bool:
    return widget.region.height > 0 and app.screen.region.contains_region(widget.region)


async def _three_tracks(pilot, folder: Path) -> None:
    await ready(pilot)
    await say(pilot, f"/upload {folder / 'beach.jpg'}")
    await say(pilot, "a 1 second clip, title 'Hi' for 1 s, lo-fi music at 35%")
    await until(pilot, lambda: "Title" in tracks_text(pilot.app), timeout=120, what="tracks")
    await until(pilot, lambda: not pilot.app.busy, what="turn over")


async def test_at_80x24_ten_jobs_leave_tracks_whole_and_new_clears_finished(
    tmp_path: Path,
) -> None:
    """Ten jobs (eight uploads, two draft renders): Tracks keeps its title and every track, the
    jobs list is the 3 newest finished ones and '+7 earlier'; /new empties it."""
    from widgets.jobs import Jobs

    folder = pics(tmp_path)
    app = I2VApp(folder, export_quality="draft")
    async with app.run_test(size=(80, 24)) as pilot:
        await _three_tracks(pilot, folder)
        for _ in range(7):
            await say(pilot, f"/upload {folder / 'city.png'}")
        await say(pilot, "/export")
        await say(pilot, "/export")
        jobs = app.query_one(Jobs)
        await until(
            pilot,
            lambda: (
                not app.busy
                and jobs.earlier == 7
                and len(jobs.rows()) == 3
                and all(r.state == "done" for r in jobs.rows())
            ),
            timeout=120,
            what="ten jobs finished",
        )
        await until(pilot, lambda: "Saved exports/beach-2.mp4" in lines(app), what="saved")
        await pilot.pause()
        tracks = app.query_one(Tracks)
        assert _whole_on_screen(app, tracks) and tracks.region.height >= 2 + 6
        assert app.query_one("#side").region.contains_region(tracks.region)
        # Newest finished first: the two renders (they run side by side, so either may end
        # last), then the last upload.
        labels = [r.label for r in jobs.rows()]
        assert sorted(labels[:2]) == ["beach-2.mp4", "beach.mp4"], labels
        assert labels[2] == "Uploaded city.png", labels
        assert jobs.border_subtitle == "+7 earlier"
        await say(pilot, "/new")
        await until(pilot, lambda: "New session: an empty timeline" in lines(app), what="/new")
        await until(pilot, lambda: "Title" not in tracks_text(app), what="empty timeline")
        assert jobs.rows() == [] and jobs.earlier == 0
        assert jobs.border_subtitle == ""
        # A job after /new is listed alone.
        await say(pilot, f"/upload {folder / 'beach.jpg'}")
        await until(pilot, lambda: [r.state for r in jobs.rows()] == ["done"], what="upload")


@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
async def test_the_watch_pane_shows_its_summary_under_full_tracks(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    """Watching with a full Tracks pane: Tracks whole, and the Watch pane (four images) whole,
    its summary on its bottom border; at 100x30 with all four rows (at 80x24 they scroll)."""
    folder = pics(tmp_path)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    app = I2VApp(
        folder,
        watch=inbox,
        watch_prompt="a 1 second 720p clip",
        export_quality="draft",
        watch_settle=0.3,
    )
    async with app.run_test(size=size) as pilot:
        await _three_tracks(pilot, folder)
        queue = app.query_one(WatchQueue)
        for i in range(4):
            photo(inbox / f"drop{i}.png", (64, 48), seed=i)
        await until(pilot, lambda: len(queue.steps) == 4, what="four rows")
        await pilot.pause()
        assert _whole_on_screen(app, app.query_one(Tracks))
        assert app.query_one("#side-rest").region.contains_region(queue.region)
        assert queue.border_subtitle  # drawn on the bottom border, which is on screen
        if size == (100, 30):
            assert queue.region.height >= 2 + 1 + 4  # borders, header and the four rows
        await pilot.press("ctrl+q")


async def test_the_transcript_stays_at_its_end_after_resize_t_and_history(tmp_path: Path) -> None:
    """At 80x24, a transcript at its end stays there through a resize, `t` and the history
    shown; one scrolled up stays where it was."""
    from tui.app.history import Entry
    from tui.app.messages import HistoryLoaded

    folder = pics(tmp_path)
    app = I2VApp(folder)
    async with app.run_test(size=(80, 24)) as pilot:
        t = app.transcript
        await _three_tracks(pilot, folder)
        await say(pilot, "/help")
        await until(pilot, lambda: t.max_scroll_y > 10, what="a transcript taller than its view")

        async def at_end(what: str) -> None:
            await pilot.pause()
            await until(pilot, lambda: t.max_scroll_y > 0 and t.scroll_y == t.max_scroll_y, 5, what)

        await at_end("at the end")
        await pilot.resize_terminal(100, 30)
        await at_end("at the end after growing")
        await pilot.resize_terminal(80, 24)
        await at_end("at the end after shrinking")
        t.focus()
        before = t.max_scroll_y
        await pilot.press("t")  # tool details: the content grows under the view
        await until(pilot, lambda: t.max_scroll_y > before, 5, "tool details shown")
        await at_end("at the end after t")
        app.post_message(HistoryLoaded([Entry("user", "earlier words")] * 30))
        await until(pilot, lambda: "earlier words" in lines(app), 5, "history shown")
        await at_end("at the end after the history")
        # Scrolled up by the person: a resize and `t` leave the view where it is.
        await pilot.press("home")
        await pilot.pause()
        assert t.scroll_y == 0
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        await pilot.press("t")
        await pilot.pause()
        assert t.scroll_y == 0 and t.max_scroll_y > 0
        # Back at the end, it follows again.
        await pilot.press("end")
        await pilot.resize_terminal(80, 24)
        await at_end("following again")


async def test_no_color_focus_and_errors_show_by_shape_and_attribute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under NO_COLOR (and in 16 colours, where every border is one cyan) the focused pane has a
    heavy border, the others round; an error line is bold and reversed at full contrast."""
    from rich.style import Style

    from widgets.jobs import Jobs
    from widgets.transcript import Transcript

    monkeypatch.setenv("NO_COLOR", "1")
    folder = pics(tmp_path)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    app = I2VApp(folder, watch=inbox, watch_prompt="a 1 second clip", watch_settle=0.3)
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.no_color
        await ready(pilot)
        await until(pilot, lambda: app.query(WatchQueue), what="the watch pane")
        await say(pilot, "/upload")
        await until(pilot, lambda: "✗ Upload what?" in lines(app), what="the error line")
        error = app.transcript.query(".error").last()
        assert {"bold", "reverse"} <= set(str(error.styles.text_style).split())
        style = Style.parse(str(error.rich_style))
        assert style.bold and style.reverse
        # Reversed full foreground: the line is drawn in the background's colour on the
        # foreground's, not grey on grey.
        assert error.styles.color == app.current_theme.to_color_system().foreground
        panes = {
            FilesPane: app.browser,
            Transcript: app.transcript,
            Tracks: app.query_one(Tracks),
            WatchQueue: app.query_one(WatchQueue),
        }
        for kind, target in panes.items():
            target.focus()
            await pilot.pause()
            borders = {k: app.query_one(k).styles.border_top[0] for k in [*panes, Jobs]}
            assert borders[kind] == "heavy", (kind, borders)
            assert all(b == "round" for k, b in borders.items() if k is not kind), borders
