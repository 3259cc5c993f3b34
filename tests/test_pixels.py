"""The Files pane's real-pixel preview (widgets/pixels.py), driven with a Pilot.

What reaches the terminal is checked as the compositor gets it: the widget's strips.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pyte
from rich.control import Control
from textual.app import App, ComposeResult
from textual.geometry import Region

from tests.media import photo
from tests.test_sixel import decode
from tui.terminal.graphics import Graphics
from widgets.files import FileInfo, FilesPane
from widgets.pixels import DIACRITICS, PLACEHOLDER, PixelPreview

SIXEL = Graphics("sixel", cell_width=8, cell_height=16, colors=64)
KITTY = Graphics("kitty", cell_width=8, cell_height=16)


class Host(App):
    def __init__(self, folder: Path, graphics: Graphics | None) -> None:
        super().__init__()
        self.folder, self.graphics = folder, graphics

    def compose(self) -> ComposeResult:
        yield FilesPane(self.folder, graphics=self.graphics, id="files")


def folder_with_images(tmp_path: Path) -> Path:
    folder = tmp_path / "pics"
    folder.mkdir()
    photo(folder / "a_wide.jpg", (400, 200))
    photo(folder / "b_tall.png", (200, 400), seed=3)
    return folder


async def until(pilot, cond, timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"not met in {timeout} s: {what}"
        await pilot.pause(0.05)


async def highlight(pilot, n: int) -> PixelPreview:
    tree = pilot.app.query_one(FilesPane).browser
    tree.focus()
    await until(pilot, lambda: tree.root.children, what="tree loaded")
    await pilot.press(*["down"] * n)
    return pilot.app.query_one(PixelPreview)


def all_text(strips) -> str:
    return "".join(seg.text for strip in strips for seg in strip)


async def test_sixel_preview_draws_the_picture_at_the_widget(tmp_path: Path) -> None:
    app = Host(folder_with_images(tmp_path), SIXEL)
    async with app.run_test(size=(40, 30)) as pilot:
        preview = await highlight(pilot, 1)
        await until(pilot, lambda: preview.picture is not None, what="picture")
        await pilot.pause()
        pic = preview.picture
        assert pic.kind == "sixel"
        # 400x200 into 36x8 cells of 8x16 px: 256x128 px -> 32 cells wide, 8 rows.
        assert (pic.cols, pic.rows) == (32, 8)
        assert preview.region.size == (32, 8)
        pixels = decode(pic.data)
        assert pixels.shape == (8 * 16, 32 * 8, 3)  # whole cells: nothing left stale
        strips = preview.render_lines(Region(0, 0, *preview.region.size))
        assert len(strips) == 8
        x, y, right = preview.region.x, preview.region.y, preview.region.right
        for row, strip in enumerate(strips[:-1]):  # rows above only step past the picture
            assert all_text([strip]) == Control.move_to(right, y + row).segment.text
        last = all_text(strips[-1:])
        assert last == (
            Control.move_to(x, y).segment.text
            + pic.data
            + Control.move_to(right, y + 7).segment.text
        )
        assert all(strip.cell_length == 32 for strip in strips)
        # The facts say what the file is, as with half-blocks.
        facts = str(app.query_one(FileInfo).query_one("#facts").render())
        assert "400×200" in facts
        # Another file: another picture, sized to it.
        await pilot.press("down")
        await until(pilot, lambda: preview.picture is not pic, what="next picture")
        assert (preview.picture.cols, preview.picture.rows) == (8, 8)  # 64x128 px


async def test_sixel_is_withheld_while_a_toast_covers_the_screen(tmp_path: Path) -> None:
    app = Host(folder_with_images(tmp_path), SIXEL)
    async with app.run_test(size=(40, 30), notifications=True) as pilot:
        preview = await highlight(pilot, 1)
        await until(pilot, lambda: preview.picture is not None, what="picture")
        app.notify("hello")
        await until(pilot, lambda: app.screen.query("Toast"), what="toast")
        strips = preview.render_lines(Region(0, 0, *preview.region.size))
        assert "\x1bP" not in all_text(strips)  # it would be cut apart at the toast's edge
        assert all(strip.cell_length == preview.region.width for strip in strips)


async def test_kitty_preview_sends_once_and_places_by_placeholders(tmp_path: Path) -> None:
    app = Host(folder_with_images(tmp_path), KITTY)
    async with app.run_test(size=(40, 30)) as pilot:
        preview = await highlight(pilot, 1)
        await until(pilot, lambda: preview.picture is not None, what="picture")
        pic = preview.picture
        assert pic.kind == "kitty" and 0 < pic.image_id < 2**24
        full = Region(0, 0, *preview.region.size)
        # The test's render already took the escapes; render again by hand from a fresh picture.
        preview.show(pic)
        strips = preview.render_lines(full)
        head = strips[0]._segments[0].text
        assert head.startswith(f"\x1b_Ga=d,d=I,i={pic.image_id}")  # the old copy freed
        assert f"a=t,f=100,t=d,i={pic.image_id}" in head
        assert head.endswith(f"\x1b_Ga=p,U=1,i={pic.image_id},c={pic.cols},r={pic.rows},q=2\x1b\\")
        # Placeholders: one per cell, row and column as diacritics, the id as the colour.
        row3 = strips[3]
        cells = "".join(seg.text for seg in row3._segments)
        assert cells.count(PLACEHOLDER) == pic.cols
        assert cells.startswith(PLACEHOLDER + chr(DIACRITICS[3]) + chr(DIACRITICS[0]))
        colour = row3._segments[0].style.color.triplet
        assert (colour.red << 16 | colour.green << 8 | colour.blue) == pic.image_id
        assert all(strip.cell_length == pic.cols for strip in strips)
        # Sent once: the next render only places.
        again = preview.render_lines(full)
        assert "\x1b_G" not in all_text(again)
        # A folder highlighted: the picture goes, and the terminal frees its copy.
        preview.show(None)
        freed = all_text(preview.render_lines(full))
        assert freed.startswith(f"\x1b_Ga=d,d=I,i={pic.image_id},q=2\x1b\\")
        preview.show(pic)
        preview.render_lines(full)
        # A clipped render keeps the cells' own row and column numbers.
        part = preview.render_lines(Region(2, 1, 3, 2))
        first = "".join(seg.text for seg in part[0]._segments)
        assert first.startswith(PLACEHOLDER + chr(DIACRITICS[1]) + chr(DIACRITICS[2]))


async def test_narrow_layout_hides_pixels_and_folders_clear_them(tmp_path: Path) -> None:
    folder = folder_with_images(tmp_path)
    (folder / "sub").mkdir()
    app = Host(folder, SIXEL)
    async with app.run_test(size=(40, 30)) as pilot:
        preview = await highlight(pilot, 2)  # sub, a_wide.jpg
        await until(pilot, lambda: preview.picture is not None, what="picture")
        await pilot.press("up")
        await until(pilot, lambda: preview.picture is None, what="folder clears")
        strips = preview.render_lines(Region(0, 0, 10, 2))
        assert not re.search("\x1b", all_text(strips))


def test_the_app_asks_before_it_starts_and_draws_sixel_in_a_pty(tmp_path: Path) -> None:
    """The real command on a pseudo-terminal that answers like xterm as a VT340."""
    import os
    import select
    import sys

    from tests.terminal import end, spawn
    from tests.test_graphics import XTERM_VT340
    from tui.terminal.graphics import DA1_QUERY

    folder = folder_with_images(tmp_path)
    env = {
        k: v for k, v in os.environ.items() if k not in ("TMUX", "STY", "NO_COLOR", "TERM_PROGRAM")
    }
    env.update(TERM="xterm-256color", XTERM_VERSION="XTerm(379)", COLUMNS="120", LINES="30")
    env["I2V_FLOW_HOME"] = str(tmp_path / "home")
    # The app, exactly as the console script starts it.
    argv = [sys.executable, "-c", "from tui.cli.main import main; raise SystemExit(main())"]
    proc, fd = spawn([*argv, str(folder)], env=env, cwd=tmp_path, rows=30, cols=120)
    heard = b""

    def read_until(pred, timeout: float, what: str) -> None:
        nonlocal heard
        deadline = time.monotonic() + timeout
        while not pred(heard):
            left = deadline - time.monotonic()
            assert left > 0, f"no {what} in {timeout} s; last output: {heard[-400:]!r}"
            if select.select([fd], [], [], min(left, 0.2))[0]:
                try:
                    heard += os.read(fd, 65536)
                except OSError:
                    break

    try:
        read_until(lambda b: DA1_QUERY in b, 30, "terminal query")
        asked_at = len(heard)
        os.write(fd, XTERM_VT340)
        read_until(lambda b: b"Ready" in b, 60, "Ready")
        os.write(fd, b"\t")  # to Files
        time.sleep(0.3)
        os.write(fd, b"\x1b[B\x1b[B")  # the second image
        read_until(lambda b: b'\x1bP0;1;0q"1;1;' in b[asked_at:], 30, "Sixel picture")
        # The answer was read as an answer, never typed into the prompt.
        assert b"1;2;4;6;9" not in heard[asked_at:]
        # Uploading it repaints the whole screen with the picture in place. Every row must still
        # line up: replayed in a terminal emulator (the Sixel data, pixels to a terminal, taken
        # out), each pane border stands in the same column on every row.
        os.write(fd, b"\r")
        read_until(lambda b: b"Uploaded" in b[asked_at:], 30, "the upload")
        os.write(fd, b"\t\t")  # on to the prompt: focus moves repaint too
        time.sleep(1.0)
        read_until(lambda b: not select.select([fd], [], [], 0.3)[0], 10, "a quiet screen")
        screen = pyte.Screen(120, 30)
        pyte.ByteStream(screen).feed(re.sub(rb"\x1bP.*?\x1b\\", b"", heard, flags=re.S))
        rows = screen.display
        borders = [i for i, ch in enumerate(rows[5]) if ch in "│┃"]
        assert len(borders) >= 4, rows[5]
        for y in range(5, 27):  # below the tree's emoji icons, which pyte measures otherwise
            found = [i for i, ch in enumerate(rows[y]) if ch in "│┃"]
            shown = "\n".join(f"{i:2} {r}" for i, r in enumerate(rows))
            assert set(borders) <= set(found), f"row {y} out of line:\n{shown}"
        os.write(fd, b"\x11")  # ctrl+q
        deadline = time.monotonic() + 20
        while proc.poll() is None:
            assert time.monotonic() < deadline, "the app did not quit"
            read_until(lambda b: True, 1, "")
            time.sleep(0.1)
        assert proc.returncode == 0
    finally:
        end(proc, fd)
