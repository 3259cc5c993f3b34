"""SVG snapshots of the app's main screen at 80x24 and 120x40, compared in the test run.

Volatile bits stay out of the picture: the folder is shown by its name, the session id, timings
and temporary paths are never drawn, the prompt's cursor does not blink, and a fresh engine
always starts with the same 100 credits.
"""

from __future__ import annotations

from pathlib import Path

import pytest_textual_snapshot

from tests.media import photo
from tui.app.app import I2VApp
from widgets.files import FileInfo
from widgets.prompt import Prompt
from widgets.tracks import Tracks


async def _until(pilot, cond, timeout: float = 30.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if cond():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not met in time")


def _app(tmp_path: Path) -> I2VApp:
    folder = tmp_path / "pics"
    folder.mkdir()
    photo(folder / "beach.jpg", (400, 300))
    photo(folder / "city.png", (300, 400), seed=2)
    (folder / "sub").mkdir()
    return I2VApp(folder)


async def _after_a_turn(pilot) -> None:
    app: I2VApp = pilot.app
    prompt = app.query_one(Prompt)
    prompt.cursor_blink = False
    await _until(pilot, lambda: "Ready" in app.transcript.lines())
    prompt.value = "/upload beach.jpg"
    await pilot.press("enter")
    await _until(pilot, lambda: any("Uploaded" in x for x in app.transcript.lines()))
    prompt.value = "a 4 second clip, title 'Spring Sale' for 3 s, lo-fi music at 35%"
    await pilot.press("enter")
    await _until(pilot, lambda: "Title" in str(app.query_one(Tracks).render()))
    await _until(pilot, lambda: not app.busy)
    # Highlight the image in Files: its facts (and, when wide, its preview) show.
    tree = app.browser
    await _until(pilot, lambda: len(tree.root.children) == 3)
    tree.focus()
    await pilot.press("down", "down")
    facts = app.query_one(FileInfo).query_one("#facts")
    await _until(pilot, lambda: "400×300" in str(facts.render()))
    prompt.focus()
    await pilot.pause(0.2)


async def _screenshot(pilot) -> str:
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()
    return pilot.app.export_screenshot(title=pilot.app.title, simplify=True)


async def test_main_screen_after_a_turn(snapshot, tmp_path: Path) -> None:
    """You should see the Files pane with beach.jpg highlighted (size and 400×300; at 120x40 also
    a coloured half-block preview), the transcript with the upload and the answer (no tool
    lines: `t` shows them), the Tracks pane with three numbered tracks and time bars
    (4s · 1920×1080), the credits (100 available) with the finished upload, and the one-line
    prompt over the footer.
    At 120x40 all three columns show; at 80x24 the side panes stack under Files.

    One app run gives both pictures (the terminal is resized between them), compared as
    pytest-textual-snapshot's `snap_compare` does, in snapshots/test_app_snapshots/.
    """
    svg = snapshot.use_extension(pytest_textual_snapshot.SVGImageExtension)
    app = _app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _after_a_turn(pilot)
        wide = await _screenshot(pilot)
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.2)
        narrow = await _screenshot(pilot)
    assert svg(name="120x40") == wide
    assert svg(name="80x24") == narrow


async def test_files_root_names_the_folder(snapshot, tmp_path: Path, monkeypatch) -> None:
    """You should see, at 80x24, the Files pane focused with its cursor on the root row, which
    names the folder ("pics", though the app was started on "."), over sub/, beach.jpg and
    city.png; the transcript says Ready (Connecting… gone); 100 credits available."""
    svg = snapshot.use_extension(pytest_textual_snapshot.SVGImageExtension)
    app = _app(tmp_path)
    monkeypatch.chdir(app.folder)
    app = I2VApp(Path("."))
    async with app.run_test(size=(80, 24)) as pilot:
        app.query_one(Prompt).cursor_blink = False
        await _until(pilot, lambda: "Ready" in app.transcript.lines())
        await _until(pilot, lambda: len(app.browser.root.children) == 3)
        await _until(pilot, lambda: "100 available" in str(app.query_one("#credits").render()))
        app.browser.focus()
        shot = await _screenshot(pilot)
    assert svg(name="80x24") == shot


async def test_esc_stops_waiting_on_a_slow_turn(snapshot, tmp_path: Path, monkeypatch) -> None:
    """You should see, at 80x24, the upload of beach.jpg, then "› make it a 4 second clip" and
    under it "✗ Stopped waiting for the assistant; the turn was not sent again" with the hint
    "→ the Tracks pane shows the timeline as the backend has it now"; no "Working…" line is
    left, and the Tracks pane shows the timeline read back: still empty, the turn's change is not
    there (an upload alone adds nothing to it)."""
    monkeypatch.setenv("I2V_ENGINE_TURN_DELAY", "6")  # Esc comes long before the turn ends
    svg = snapshot.use_extension(pytest_textual_snapshot.SVGImageExtension)
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        prompt = app.query_one(Prompt)
        prompt.cursor_blink = False
        await _until(pilot, lambda: "Ready" in app.transcript.lines())
        prompt.value = "/upload beach.jpg"
        await pilot.press("enter")
        await _until(pilot, lambda: any("Uploaded" in x for x in app.transcript.lines()))
        await _until(pilot, lambda: not app.busy)
        prompt.value = "make it a 4 second clip"
        await pilot.press("enter")
        await _until(pilot, lambda: any("Working…" in x for x in app.transcript.lines()))
        await pilot.press("escape")
        await _until(pilot, lambda: not app.busy)
        await _until(pilot, lambda: not any("Working…" in x for x in app.transcript.lines()))
        shot = await _screenshot(pilot)
    assert svg(name="80x24") == shot


async def _say_and_wait(pilot, text: str, done) -> None:
    """One action at a time, each over before the next: the transcript's order is fixed."""
    app: I2VApp = pilot.app
    prompt = app.query_one(Prompt)
    prompt.value = text
    await pilot.press("enter")
    await _until(pilot, lambda: done() and not app.busy, timeout=60)


async def test_side_column_after_ten_jobs(snapshot, tmp_path: Path) -> None:
    """You should see, at 80x24, the Tracks pane whole (its title, three tracks with time bars,
    1s · 1920×1080), and under it Credits & jobs: 98 available, the two renders as their saved
    paths (exports/beach-2.mp4 over exports/beach.mp4) and the last upload; only the pane's
    bottom border ('+7 earlier') is below, where the column under Tracks scrolls."""
    from widgets.jobs import Jobs

    svg = snapshot.use_extension(pytest_textual_snapshot.SVGImageExtension)
    app = _app(tmp_path)
    app.export_quality = "standard"  # priced (the draft tier is free): 98 available
    async with app.run_test(size=(80, 24)) as pilot:
        app.query_one(Prompt).cursor_blink = False
        await _until(pilot, lambda: "Ready" in app.transcript.lines())
        jobs = app.query_one(Jobs)

        def finished(n: int):
            return lambda: len([r for r in jobs.rows() if r.state == "done"]) + jobs.earlier == n

        await _say_and_wait(pilot, "/upload beach.jpg", finished(1))
        await _say_and_wait(
            pilot,
            "a 1 second clip, title 'Hi' for 1 s, lo-fi music at 35%",
            lambda: "Title" in str(app.query_one(Tracks).render()),
        )
        for n in range(2, 9):
            await _say_and_wait(pilot, "/upload city.png", finished(n))
        for name in ("beach.mp4", "beach-2.mp4"):
            saved = f"Saved exports/{name} (/open opens it)"
            await _say_and_wait(pilot, "/export", lambda s=saved: s in app.transcript.lines())
        await _until(pilot, finished(10))
        await _until(pilot, lambda: "98 available" in str(app.query_one("#credits").render()))
        shot = await _screenshot(pilot)
    assert svg == shot


async def test_no_color_an_error_and_the_focused_pane(
    snapshot, tmp_path: Path, monkeypatch
) -> None:
    """You should see, at 80x24 in greys only, the transcript's border heavy (it has the focus),
    every other pane's round, and the error line '✗ Upload what?' bold and reversed (light on
    dark turned dark on light), its hint under it."""
    svg = snapshot.use_extension(pytest_textual_snapshot.SVGImageExtension)
    monkeypatch.setenv("NO_COLOR", "1")
    app = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        app.query_one(Prompt).cursor_blink = False
        await _until(pilot, lambda: "Ready" in app.transcript.lines())
        app.query_one(Prompt).value = "/upload"
        await pilot.press("enter")
        await _until(pilot, lambda: "✗ Upload what?" in app.transcript.lines())
        app.transcript.focus()
        shot = await _screenshot(pilot)
    assert svg == shot


async def test_transcript_at_its_end_after_a_resize(snapshot, tmp_path: Path) -> None:
    """You should see, at 80x24 after the app was 120x40, the transcript's last lines (the help's
    end: '…ctrl+q quits.') at the bottom of its pane, not an earlier part of it."""
    svg = snapshot.use_extension(pytest_textual_snapshot.SVGImageExtension)
    app = _app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await _after_a_turn(pilot)
        app.query_one(Prompt).value = "/help"
        await pilot.press("enter")
        await _until(pilot, lambda: "** quits." in "".join(app.transcript.lines()))
        await pilot.pause(0.2)
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.2)
        await _until(pilot, lambda: app.transcript.scroll_y == app.transcript.max_scroll_y > 0)
        shot = await _screenshot(pilot)
    assert svg == shot


async def test_a_cut_answer_then_a_reply_that_exports(snapshot, fb, tmp_path: Path) -> None:
    """You should see, at 80x24 against the cloud's stand-in, "› make it 5 s" over the cut
    answer "Setting the clip to … (cut off)", the error (not re-sent) with its hint, the
    timeline read again (0.05 s and 0.1 s after the cut, scaled down from 30 and 60 s) and
    "its outcome is unknown … nothing was charged twice"; then "› add a title", the reply
    "Done! Click the Export button…" in its own block under it,
    "Its Export button: exporting here (/export).", "Rendering beach.mp4 (high)…" and "Saved
    exports/beach.mp4"; no tool lines; exports/ in Files. (The header's subtitle stands for the
    stand-in's address, whose port changes.)"""
    svg = snapshot.use_extension(pytest_textual_snapshot.SVGImageExtension)
    fb.then("run_sse", fb.cut_turn("Setting the clip to"))
    fb.reply = "Done! Click the Export button to download your video."
    app = I2VApp(_app(tmp_path).folder, None, fb.url, poll_interval=0.05)

    def shown(text: str):
        return lambda: text in "\n".join(app.transcript.lines())

    async with app.run_test(size=(80, 24)) as pilot:
        app.query_one(Prompt).cursor_blink = False
        await _until(pilot, shown("Ready"))
        app.sub_title = "cloud stand-in"
        await _say_and_wait(pilot, "/upload beach.jpg", shown("Uploaded"))
        await _say_and_wait(pilot, "make it 5 s", shown("(cut off)"))
        await _say_and_wait(pilot, "add a title", shown("Saved exports/beach.mp4"))
        await _until(pilot, lambda: len(app.browser.root.children) == 4)  # exports/ too
        shot = await _screenshot(pilot)
    assert svg == shot
