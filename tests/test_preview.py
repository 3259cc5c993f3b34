"""The preview: draft renders of the real engine decoded into half-block frames, and the pane
played with a Pilot (play, pause, step, loop, refresh after a turn), with SVG snapshots."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from textual.app import App, ComposeResult

from tests.cloud_standin import CloudStandin
from tests.media import RED, colour_video
from tui.app.app import I2VApp
from tui.client import Client
from tui.client.state import ClientState
from tui.preview.frames import HALF, cell_rows, decode, fit
from tui.preview.source import OWNER, render_draft, sound_words
from tui.session.backend import Backend
from tui.session.results import Credits
from tui.terminal.graphics import Graphics
from widgets.pixels import PixelPreview
from widgets.preview import FrameView, PreviewPane
from widgets.prompt import Prompt
from widgets.tracks import Tracks

BLUE = (30, 60, 220)


def flat(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (320, 180)) -> Path:
    Image.new("RGB", size, colour).save(path)
    return path


def near(a, b, tol: int = 24) -> bool:
    return all(abs(int(x) - int(y)) <= tol for x, y in zip(a, b, strict=True))


def centre_cell(rows) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """The colours (upper, lower pixel) of the cell in the middle of the picture."""
    row = rows[len(rows) // 2]
    middle, at = sum(len(s.text) for s in row) // 2, 0
    for seg in row:
        if at + len(seg.text) > middle:
            bottom = seg.style.bgcolor.triplet
            return (seg.style.color.triplet if seg.text[0] == HALF else bottom), bottom
        at += len(seg.text)
    raise AssertionError("an empty row")


# ---- frames: decode and half-blocks ---------------------------------------------------------


def test_fit_keeps_the_shape_inside_the_box_with_an_even_height() -> None:
    assert fit(1920, 1080, 80, 44) == (78, 44)
    assert fit(1080, 1920, 80, 44) == (25, 44)
    assert fit(960, 540, 100, 60) == (100, 56)
    assert fit(100, 100, 7, 9) == (7, 6)
    assert fit(0, 10, 80, 44) == (2, 2)


def test_cell_rows_put_the_upper_pixel_over_the_lower_and_merge_runs() -> None:
    frame = np.zeros((4, 6, 3), np.uint8)
    frame[0], frame[1] = RED, BLUE  # cell row 0: red over blue
    frame[2:, :3], frame[2:, 3:] = (0, 200, 0), (255, 255, 255)  # row 1: two runs
    rows = cell_rows(frame)
    assert len(rows) == 2
    assert [len(s.text) for s in rows[0]] == [6] and rows[0][0].text == HALF * 6
    assert near(rows[0][0].style.color.triplet, RED, 4)
    assert near(rows[0][0].style.bgcolor.triplet, BLUE, 4)
    assert [s.text for s in rows[1]] == [" " * 3] * 2  # one colour a cell: a space on it
    assert near(rows[1][1].style.bgcolor.triplet, (255, 255, 255), 4)
    # An odd height repeats its last pixel row below it.
    assert len(cell_rows(np.zeros((5, 2, 3), np.uint8))) == 3


def test_sound_words_say_music_and_a_videos_own_sound() -> None:
    video = {"tt": 0, "sg": [{"m": {"name": "clip.mp4"}}]}
    image = {"tt": 0, "sg": [{"m": {"name": "photo.jpg"}}]}
    music = {"tt": 1, "sg": [{"m": {"volume": 0.35}}]}
    assert sound_words({"t": [image]}) == ""
    assert sound_words({"t": [image, music]}) == "music"
    assert sound_words({"t": [video, music]}) == "music + video sound"
    muted = {"tt": 0, "sg": [{"m": {"name": "clip.mp4", "mute": True}}]}
    assert sound_words({"t": [muted, {"tt": 1, "sg": [{"m": {"volume": 0}}]}]}) == ""


async def test_frames_of_a_real_draft_render(engine_url: str, tmp_path: Path, _home) -> None:
    """A red image, one turn, the draft tier rendered into the state folder and decoded."""
    img = flat(tmp_path / "red.png", RED)
    async with Backend(engine_url, poll_interval=0.2) as backend:
        await backend.connect()
        await backend.upload([img])
        [ev async for ev in backend.turn("a 2 second clip, lo-fi music at 35%")]
        source = await render_draft(backend, await backend.draft())
        state_file = backend.live.state.path
    assert source.path.parent == _home / "preview"  # the app's state, not the exports
    assert source.sound == "music"
    renders = json.loads(state_file.read_text())["renders"]
    assert [r["owner"] for r in renders.values()] == [OWNER]  # never resumed as an export
    seen: list[int] = []
    clip = decode(source.path, 80, 22, on_frame=lambda c: seen.append(len(c.frames)))
    assert seen[0] == 1  # the first frame is handed over before the rest decode
    assert clip.done and len(clip.frames) == 60 and clip.fps == 30
    assert abs(clip.duration - 2.0) < 0.05 and clip.sound
    assert (clip.width, clip.height) == (78, 44)  # 16:9 in 80x22 cells, two pixels a cell
    assert clip.frames[0].shape == (44, 78, 3)
    rows = cell_rows(clip.frames[30])
    assert len(rows) == 22 and all(sum(len(s.text) for s in r) == 78 for r in rows)
    top, bottom = centre_cell(rows)
    assert near(top, RED) and near(bottom, RED)


async def test_a_newer_timeline_cancels_the_draft_in_flight(engine_url, tmp_path, _home) -> None:
    """The preview's older draft is cancelled on the engine when a newer one replaces it (the
    app's worker is cancelled): it neither renders on nor holds one of the user's two places."""
    import asyncio
    import contextlib

    img = flat(tmp_path / "red.png", RED)
    async with Backend(engine_url, poll_interval=0.2) as backend:
        await backend.connect()
        await backend.upload([img])
        [ev async for ev in backend.turn("a 60 second clip")]
        task = asyncio.create_task(render_draft(backend, await backend.draft()))
        state = backend.live.state
        deadline = time.monotonic() + 20
        while not state.pending_renders(OWNER):
            assert time.monotonic() < deadline and not task.done(), "no draft started"
            await asyncio.sleep(0.02)
        [rid] = state.pending_renders(OWNER)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        status = await backend.render_status(rid)
        assert status.status == "cancelled"
        assert (await backend.credits()) == Credits(100, 0, 100)
    assert not list((_home / "preview").glob("draft-*.mp4"))  # nothing half-written kept


# ---- the pane in the app --------------------------------------------------------------------


async def until(pilot, cond: Callable[[], object], timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            t = getattr(pilot.app, "transcript", None)
            lines = "\n".join(t.lines()) if t is not None else ""
            pane = pilot.app.query_one(PreviewPane)
            raise AssertionError(f"not met in {timeout} s: {what} ({pane.note})\n{lines}")
        await pilot.pause(0.05)


async def say(pilot, text: str) -> None:
    prompt = pilot.app.query_one(Prompt)
    prompt.focus()
    prompt.value = text
    await pilot.press("enter")


def red_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "pics"
    folder.mkdir()
    flat(folder / "red.png", RED)
    return folder


async def a_clip(pilot, seconds: int = 2) -> None:
    """Ready, red.png uploaded and a clip described."""
    app = pilot.app
    app.query_one(Prompt).cursor_blink = False
    await until(pilot, lambda: "Ready" in app.transcript.lines(), what="Ready")
    await say(pilot, "/upload red.png")
    # Upload done before the next words, as a person waits for it (else they are queued, and
    # under load the transcript says so: a snapshot that changed with the machine's speed).
    await until(
        pilot,
        lambda: any(x.startswith("Uploaded red.png") for x in app.transcript.lines()),
        what="the upload",
    )
    await say(pilot, f"a {seconds} second clip")
    await until(pilot, lambda: "Video" in str(app.query_one(Tracks).render()), what="tracks")
    await until(pilot, lambda: not app.busy, what="the turn's end")


def shown(pane: PreviewPane) -> bool:
    """The file the pane was last given is decoded and on show."""
    clip = pane.clip
    return (
        clip is not None
        and clip.done
        and clip.path == pane.source
        and bool(pane.query_one(FrameView)._rows)
    )


async def test_play_pause_step_loop_and_refresh_after_a_turn(engine_url, tmp_path) -> None:
    moved: list[float | None] = []

    def hook(msg) -> None:
        if isinstance(msg, PreviewPane.PlayheadMoved):
            moved.append(msg.seconds)

    app = I2VApp(red_folder(tmp_path), api=engine_url)
    async with app.run_test(size=(80, 24), message_hook=hook) as pilot:
        await a_clip(pilot)
        pane = app.query_one(PreviewPane)
        assert not pane.display
        await pilot.press("f2")
        assert pane.display and app.focused is pane
        await until(pilot, lambda: shown(pane), what="the first clip decoded")
        assert pane.playing and abs(pane.clip.duration - 2) < 0.05
        # The draft was free: nothing spent or frozen, and the Credits pane says so.
        assert await app.client.credits() == {"available": 100, "frozen": 0, "total": 100}
        await until(pilot, lambda: "100 available" in str(app.query_one("#credits").render()))
        view = pane.query_one(FrameView)
        assert near(centre_cell(view._rows)[0], RED)
        facts = str(pane.query_one("#facts").render())
        assert "/ 2.0 s" in facts and "loop" in facts and "silent" in facts
        # Playing: the frame shown moves on by the clock, and the playhead with it.
        first = pane.index
        await until(pilot, lambda: pane.index != first, what="the next frame")
        await until(pilot, lambda: len({m for m in moved if m}) >= 2, what="playhead moving")
        await pilot.press("space")
        assert not pane.playing
        paused = pane.index
        await pilot.pause(0.3)
        assert pane.index == paused  # paused: stays put
        assert moved[-1] == pytest.approx(paused / 30)
        await pilot.press("right")
        assert pane.index == (paused + 1) % 60
        await pilot.press("left", "left")
        assert pane.index == (paused - 1) % 60
        await pilot.press("home")
        assert pane.index == 0 and moved[-1] == 0
        assert "‖ 0.0 / 2.0 s" in str(pane.query_one("#facts").render())
        # Once, not looping: played to the end it stops on the last frame.
        await pilot.press("l", "space")
        assert "once" in str(pane.query_one("#facts").render())
        await until(pilot, lambda: not pane.playing, timeout=10, what="the end")
        assert pane.index == 59
        # A turn that changes the timeline: the preview renders and plays the new one.
        old = pane.source  # a new render is a new file (a new size, a new Clip)
        await say(pilot, "make it 3 seconds")
        await until(pilot, lambda: pane.source != old and shown(pane), what="the new clip")
        assert abs(pane.clip.duration - 3) < 0.05 and len(pane.clip.frames) == 90
        # f2 again hides it, the prompt taking the keys, the playhead gone from Tracks.
        await pilot.press("f2")
        assert not pane.display and isinstance(app.focused, Prompt)
        await pilot.pause()
        assert moved[-1] is None and not pane.playing
        # A new session empties the timeline: no picture, no playhead, and why.
        await pilot.press("f2")
        await say(pilot, "/new")
        await until(pilot, lambda: pane.clip is None, what="cleared")
        assert "nothing to play yet" in pane.note and not pane.query_one(FrameView)._rows


async def test_preview_auto_off_keeps_the_clip_until_asked(engine_url, tmp_path) -> None:
    app = I2VApp(red_folder(tmp_path), api=engine_url, preview_auto=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await a_clip(pilot)
        await say(pilot, "/preview")
        pane = app.query_one(PreviewPane)
        await until(pilot, lambda: shown(pane), what="the clip")
        old = pane.source
        pane.focus()
        await pilot.press("space")
        await say(pilot, "make it 3 seconds")
        await until(pilot, lambda: "3s" in str(app.query_one(Tracks).border_subtitle))
        await pilot.pause(1.0)
        assert pane.source == old  # no render of its own
        await say(pilot, "/preview")  # hidden, then shown again: now it renders the new one
        await say(pilot, "/preview")
        await until(pilot, lambda: pane.source != old and shown(pane), what="the new clip")
        assert abs(pane.clip.duration - 3) < 0.05


def test_preview_auto_is_a_setting(tmp_path, monkeypatch) -> None:
    from tui.cli.main import tui_parser
    from tui.core.config import load

    cfg = tmp_path / "config.toml"
    cfg.write_text("preview_auto = false\n")
    monkeypatch.setenv("I2V_FLOW_CONFIG", str(cfg))
    loaded = load()
    assert loaded.settings.preview_auto is False and loaded.sources["preview_auto"] == "file"
    from tui.app.app import make_app

    app = make_app(tui_parser(loaded.settings).parse_args([str(tmp_path)]))
    assert app.preview_auto is False


async def _paused_at_start(pilot) -> None:
    await a_clip(pilot)
    await pilot.press("f2")
    pane = pilot.app.query_one(PreviewPane)
    await until(pilot, lambda: shown(pane), what="the clip")
    credits = pilot.app.query_one("#credits")
    await until(pilot, lambda: "100 available" in str(credits.render()), what="credits read")
    await pilot.press("space", "home")
    # The transcript, shorter now, at its end (where it follows to after the layout settles).
    await pilot.pause(0.2)
    t = pilot.app.transcript
    t.scroll_end(animate=False, immediate=True)
    await until(pilot, lambda: t.scroll_y == t.max_scroll_y, what="the end")
    await pilot.pause(0.1)


def test_snapshot_preview_80x24(snap_compare, tmp_path) -> None:
    """You should see, at 80x24, the Preview pane (heavy border: focused) over the transcript
    in the right column: a red 16:9 picture in half-blocks, and under it "‖ 0.0 / 2.0 s ·
    loop · silent"; the footer lists space, ←, →, l and home."""
    app = I2VApp(red_folder(tmp_path))  # the embedded engine: the header says "local engine"
    assert snap_compare(app, terminal_size=(80, 24), run_before=_paused_at_start)


def test_snapshot_preview_120x40(snap_compare, tmp_path) -> None:
    """You should see, at 120x40, Files | the Preview (a red 16:9 picture, paused at 0.0 of
    2.0 s) over the transcript | Tracks and credits."""
    app = I2VApp(red_folder(tmp_path))
    assert snap_compare(app, terminal_size=(120, 40), run_before=_paused_at_start)


# ---- the pane alone: a file of known frames ---------------------------------------------------


class PaneAlone(App):
    def __init__(self, graphics: Graphics | None = None) -> None:
        super().__init__()
        self.graphics = graphics

    def compose(self) -> ComposeResult:
        yield PreviewPane(graphics=self.graphics, id="player")


def red_then_blue(tmp_path: Path) -> Path:
    """1 s at 12 fps: six red frames, then six blue, 160x120 (4:3)."""
    return colour_video(tmp_path / "rb.mp4", [RED] * 6 + [BLUE] * 6, (160, 120), fps=12)


async def test_steps_show_each_frame_and_a_resize_decodes_again(tmp_path) -> None:
    app = PaneAlone()
    async with app.run_test(size=(60, 20)) as pilot:
        pane = app.query_one(PreviewPane)
        pane.focus()
        pane.play(red_then_blue(tmp_path))
        await until(pilot, lambda: shown(pane), what="decoded")
        await pilot.press("space", "home")
        view = pane.query_one(FrameView)
        size = view.size
        assert (pane.clip.width, pane.clip.height) == fit(160, 120, size.width, size.height * 2)
        assert len(view._rows) == pane.clip.height // 2
        assert near(centre_cell(view._rows)[0], RED)
        await pilot.press(*["right"] * 6)
        assert pane.index == 6 and near(centre_cell(view._rows)[0], BLUE)
        await pilot.press("comma")
        assert pane.index == 5 and near(centre_cell(view._rows)[1], RED)
        old = pane.clip
        await pilot.resize_terminal(100, 30)
        await until(pilot, lambda: pane.clip is not old and shown(pane), what="decoded again")
        assert pane.clip.height > old.height and pane.index == 5  # the same place, bigger
        assert near(centre_cell(view._rows)[0], RED)


async def test_a_paused_frame_in_real_pixels(tmp_path) -> None:
    """Where the terminal draws Sixel: paused, the frame shows as a picture; playing, blocks."""
    app = PaneAlone(Graphics("sixel", 10, 20))
    async with app.run_test(size=(60, 20)) as pilot:
        pane = app.query_one(PreviewPane)
        pane.focus()
        pane.play(red_then_blue(tmp_path))
        await until(pilot, lambda: shown(pane), what="decoded")
        await pilot.press("space", "home", "right", "right", "right", "right", "right", "right")
        still = pane.query_one(PixelPreview)
        await until(pilot, lambda: pane.has_class("-pixels"), what="the picture")
        picture = still.picture
        assert picture is not None and picture.kind == "sixel" and picture.data.startswith("\x1bP")
        assert picture.cols <= pane.picture_size.width
        assert "pixels when paused" not in str(pane.query_one("#facts").render())
        await pilot.press("space")
        assert pane.playing and not pane.has_class("-pixels")  # playing: half-blocks
        assert str(pane.query_one("#facts").render()).endswith("silent · pixels when paused")


async def test_a_paused_frame_in_kitty_graphics(tmp_path, monkeypatch) -> None:
    """Where the terminal answers as kitty 0.35 does: a paused frame goes as the Kitty graphics
    protocol (PNG in 4 KB base64 chunks, then a virtual placement shown by placeholders); the
    next one under a new image id, the old one deleted; playing, half-blocks and nothing sent."""
    import base64
    import io
    import re

    from tests.test_graphics import KITTY
    from tui.terminal.graphics import read_replies, usable
    from widgets.pixels import DIACRITICS, PLACEHOLDER

    graphics = usable(read_replies(KITTY), {})
    assert graphics == Graphics("kitty", cell_width=10, cell_height=20)
    sent: list[str] = []  # every Kitty escape the pane hands the compositor, in order
    render_lines = PixelPreview.render_lines

    def recorded(self, crop):
        strips = render_lines(self, crop)
        text = "".join(seg.text for strip in strips for seg in strip)
        sent.extend(re.findall(r"\x1b_G[^\x1b]*\x1b\\", text))
        return strips

    monkeypatch.setattr(PixelPreview, "render_lines", recorded)
    app = PaneAlone(graphics)
    async with app.run_test(size=(60, 20)) as pilot:
        pane = app.query_one(PreviewPane)
        pane.focus()
        pane.play(red_then_blue(tmp_path))
        await until(pilot, lambda: shown(pane), what="decoded")
        assert not sent  # playing: half-blocks only
        await pilot.press("space", "home")
        still = pane.query_one(PixelPreview)
        await until(pilot, lambda: pane.has_class("-pixels") and sent, what="the picture")
        first = still.picture
        assert first.kind == "kitty" and 0 < first.image_id < 2**24
        # Transmitted in chunks of at most 4096 base64 bytes, m=1 on all but the last.
        head = f"a=t,f=100,t=d,i={first.image_id},q=2,"
        chunks = [re.fullmatch(r"\x1b_G(.*?)m=([01]);(.*)\x1b\\", e) for e in sent[:-1]]
        assert all(chunks) and chunks[0].group(1) == head
        assert all(c.group(1) == "" for c in chunks[1:])
        assert [c.group(2) for c in chunks] == ["1"] * (len(chunks) - 1) + ["0"]
        data = "".join(c.group(3) for c in chunks)
        assert all(0 < len(c.group(3)) <= 4096 for c in chunks) and data == first.data
        assert len(chunks) == -(-len(data) // 4096)
        cols, rows = first.cols, first.rows
        assert sent[-1] == f"\x1b_Ga=p,U=1,i={first.image_id},c={cols},r={rows},q=2\x1b\\"
        assert cols <= pane.picture_size.width and rows <= pane.picture_size.height
        # The PNG is the paused frame: red, in whole cells of the terminal's size.
        image = Image.open(io.BytesIO(base64.standard_b64decode(data))).convert("RGB")
        assert image.size == (cols * 10, rows * 20)
        assert near(image.getpixel((image.width // 2, image.height // 2)), RED)
        # Placeholders in the cells: the id as their colour, row and column as diacritics.
        await pilot.pause()
        lines = still.render_lines(still.region.reset_offset)
        row = "".join(seg.text for seg in lines[1])
        assert row.count(PLACEHOLDER) == cols
        assert row.startswith(PLACEHOLDER + chr(DIACRITICS[1]) + chr(DIACRITICS[0]))
        colour = lines[1]._segments[0].style.color.triplet
        assert (colour.red << 16 | colour.green << 8 | colour.blue) == first.image_id
        # Six frames on: blue, under a new id, the old image deleted before it is sent.
        sent.clear()
        await pilot.press(*["right"] * 6)
        await until(pilot, lambda: still.picture is not first and sent, what="the next one")
        second = still.picture
        assert second.image_id != first.image_id
        assert sent[0] == f"\x1b_Ga=d,d=I,i={first.image_id},q=2\x1b\\"
        assert sent[1].startswith(f"\x1b_Ga=t,f=100,t=d,i={second.image_id},q=2,")
        blue = Image.open(io.BytesIO(base64.standard_b64decode(second.data))).convert("RGB")
        assert near(blue.getpixel((blue.width // 2, blue.height // 2)), BLUE)
        # Playing again: half-blocks, and no image goes out while it plays.
        sent.clear()
        await pilot.press("space")
        assert pane.playing and not pane.has_class("-pixels")
        await pilot.pause(0.3)
        assert not [e for e in sent if "a=t" in e]


async def test_our_engine_is_known_by_its_health_not_its_address(engine_url, tmp_path) -> None:
    """Both on 127.0.0.1: the engine names itself on /health, the cloud's stand-in has none."""
    with CloudStandin() as cloud:
        for url, ours in ((engine_url, True), (cloud.url, False)):
            async with Client(url, ClientState(tmp_path / "client.json", url)) as c:
                assert await c.own_engine() is ours
                assert await c.own_engine() is ours  # asked once: the answer is kept
        assert cloud.seen == []  # the question reached no endpoint of the protocol


async def test_on_the_cloud_the_preview_plays_the_last_export(tmp_path) -> None:
    """The cloud (its stand-in, on loopback): no draft render, ever; the export plays."""
    with CloudStandin() as cloud:
        cloud.video = red_then_blue(tmp_path).read_bytes()  # what its render makes
        app = I2VApp(red_folder(tmp_path), tmp_path / "out", cloud.url, poll_interval=0.03)
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: "Ready" in app.transcript.lines(), what="Ready")
            await say(pilot, "/upload red.png")
            await until(pilot, lambda: "Video" in str(app.query_one(Tracks).render()), what="up")
            await until(pilot, lambda: not app.busy, what="the upload's end")
            await pilot.press("f2")
            pane = app.query_one(PreviewPane)
            await until(pilot, lambda: "/export, then it plays here" in pane.note, what="why")
            assert pane.clip is None
            await say(pilot, "/export")
            saved = tmp_path / "out" / "red.mp4"
            await until(pilot, lambda: pane.source == saved and shown(pane), what="the export")
            assert saved.read_bytes() == cloud.video
            assert pane.clip.duration == pytest.approx(1.0, abs=0.05)
            assert len(pane.clip.frames) == 12
            assert near(pane.clip.frames[2][pane.clip.height // 2, pane.clip.width // 2], RED)
            assert near(pane.clip.frames[9][pane.clip.height // 2, pane.clip.width // 2], BLUE)
            # A turn changes the timeline: still no render of the preview's own.
            await say(pilot, "add a title")
            await until(pilot, lambda: cloud.count("run_sse") == 1 and not app.busy, what="turn")
            await pilot.pause(1.0)  # past the preview's settle time
            assert cloud.count("render") == 1  # the export's, nothing else
            assert pane.source == saved


def test_a_long_clip_in_a_big_pane_keeps_fewer_frames() -> None:
    from tui.preview.frames import MAX_BYTES, stride

    assert stride(96, 54, 30, 5) == 1  # a 5 s draft at 100x30: every frame (2.3 MB)
    assert stride(130, 70, 30, 60) == 2  # 60 s in a 130x35-cell pane: 49 MB -> every 2nd
    w, h, fps, secs = 200, 110, 60, 60
    assert w * h * 3 * fps * secs / stride(w, h, fps, secs) <= MAX_BYTES


async def test_the_playhead_reaches_the_tracks_pane(engine_url, tmp_path) -> None:
    app = I2VApp(red_folder(tmp_path), api=engine_url)
    async with app.run_test(size=(120, 40)) as pilot:
        await a_clip(pilot)
        await pilot.press("f2")
        pane, tracks = app.query_one(PreviewPane), app.query_one(Tracks)
        await until(pilot, lambda: shown(pane), what="the clip")
        await pilot.press("space", "home", "right", "right", "right")
        await pilot.pause()
        assert tracks.playhead == 100  # frame 3 of 30 a second
        await pilot.press("f2")  # put away: no playhead
        await pilot.pause()
        assert tracks.playhead is None
