"""Real pixels in the Files pane: a picture encoded in a thread, drawn by Sixel or Kitty.

`encode` runs in the preview's worker thread (the Sixel encoder takes ~0.1 s for a pane-sized
picture), so the UI thread only places ready-made escape data. The picture is padded to whole
cells in the pane's background colour: it covers every cell it owns and leaves nothing stale.

Sixel (tui/terminal/sixel.py): the data rides a zero-width control segment on the widget's
last line, after a move to its top-left corner, as in textual-image's Sixel widget; every row only
steps the cursor past the picture, so nothing overwrites it and what follows stays in line. Kitty:
the image is sent once per picture and shown through Unicode placeholders (U+10EEEE with row and
column diacritics and the image id as the colour), so it moves and clips like any other cell.
"""

from __future__ import annotations

import base64
import io
import itertools
import random
from dataclasses import dataclass

from rich.control import Control
from rich.segment import ControlType, Segment
from rich.style import Style
from textual.css.query import NoMatches
from textual.dom import NoScreen
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

from tui.terminal.graphics import Graphics
from tui.terminal.sixel import to_sixel

PLACEHOLDER = "\U0010eeee"
# Row/column numbers for Kitty's placeholders: the first entries of the protocol's
# rowcolumn-diacritics table (https://sw.kovidgoyal.net/kitty/_downloads/rowcolumn-diacritics.txt).
DIACRITICS = [
    0x0305, 0x030D, 0x030E, 0x0310, 0x0312, 0x033D, 0x033E, 0x033F, 0x0346, 0x034A, 0x034B,
    0x034C, 0x0350, 0x0351, 0x0352, 0x0357, 0x035B, 0x0363, 0x0364, 0x0365, 0x0366, 0x0367,
    0x0368, 0x0369, 0x036A, 0x036B, 0x036C, 0x036D, 0x036E, 0x036F, 0x0483, 0x0484, 0x0485,
    0x0486, 0x0487, 0x0592, 0x0593, 0x0594, 0x0595, 0x0597, 0x0598, 0x0599, 0x059C, 0x059D,
    0x059E, 0x059F, 0x05A0, 0x05A1, 0x05A8, 0x05A9, 0x05AB, 0x05AC, 0x05AF, 0x05C4, 0x0610,
    0x0611, 0x0612, 0x0613, 0x0614, 0x0615, 0x0616, 0x0617, 0x0657, 0x0658,
]  # fmt: skip
MAX_CELLS = len(DIACRITICS)

# Image ids fit in 24 bits so the placeholder colour alone names them; start anywhere so two
# copies of the app in one Kitty window don't overwrite each other's pictures.
_ids = itertools.count(random.randint(1, 2**23))


@dataclass(frozen=True)
class Picture:
    """An encoded picture and the cells it covers."""

    kind: str  # "sixel" | "kitty"
    data: str  # Sixel: the DCS sequence; Kitty: base64 PNG
    cols: int
    rows: int
    image_id: int = 0


def encode(
    img, graphics: Graphics, cols: int, rows: int, background: tuple[int, int, int]
) -> Picture:
    """In a thread: fit an RGB(A) Pillow image into cols x rows cells and encode it."""
    from PIL import Image

    cw, ch = graphics.cell_width, graphics.cell_height
    cols, rows = min(cols, MAX_CELLS), min(rows, MAX_CELLS)
    fitted = img.copy()
    fitted.thumbnail((cols * cw, rows * ch), Image.Resampling.LANCZOS)
    used_cols = max(1, -(-fitted.width // cw))
    used_rows = max(1, -(-fitted.height // ch))
    canvas = Image.new("RGB", (used_cols * cw, used_rows * ch), background)
    offset = ((canvas.width - fitted.width) // 2, (canvas.height - fitted.height) // 2)
    canvas.paste(fitted, offset, fitted if fitted.mode == "RGBA" else None)
    if graphics.kind == "sixel":
        return Picture("sixel", to_sixel(canvas, graphics.colors), used_cols, used_rows)
    buf = io.BytesIO()
    canvas.save(buf, format="PNG", compress_level=1)
    data = base64.standard_b64encode(buf.getvalue()).decode("ascii")
    return Picture("kitty", data, used_cols, used_rows, next(_ids) % 2**24 or 1)


def kitty_send(picture: Picture) -> str:
    """Transmit the PNG in 4 KB chunks, then a virtual placement for the placeholders."""
    out = []
    chunks = [picture.data[i : i + 4096] for i in range(0, len(picture.data), 4096)] or [""]
    for n, chunk in enumerate(chunks):
        more = int(n < len(chunks) - 1)
        head = f"a=t,f=100,t=d,i={picture.image_id},q=2," if n == 0 else ""
        out.append(f"\x1b_G{head}m={more};{chunk}\x1b\\")
    out.append(f"\x1b_Ga=p,U=1,i={picture.image_id},c={picture.cols},r={picture.rows},q=2\x1b\\")
    return "".join(out)


def kitty_delete(image_id: int) -> str:
    return f"\x1b_Ga=d,d=I,i={image_id},q=2\x1b\\"


def _control(text: str) -> Segment:
    # A control segment has no width: the compositor places it without counting cells.
    return Segment(text, None, [(ControlType.CURSOR_FORWARD, 0)])


class PixelPreview(Widget):
    """Shows a `Picture`; blank until one is set."""

    DEFAULT_CSS = """
    PixelPreview { width: auto; height: auto; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.picture: Picture | None = None
        self._unsent: list[str] = []  # Kitty escapes waiting for the next render

    def show(self, picture: Picture | None) -> None:
        old = self.picture
        if old is not None and old.kind == "kitty":
            self._unsent.append(kitty_delete(old.image_id))
        self.picture = picture
        if picture is not None and picture.kind == "kitty":
            self._unsent.append(kitty_send(picture))
        self.refresh(layout=True)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return self.picture.cols if self.picture else 0

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self.picture.rows if self.picture else 0

    def _covered(self) -> bool:
        """Off screen, under another screen, or under a toast: Sixel data would be cut apart."""
        try:
            if not self.screen.is_active:
                return True
            self.screen.query_one("Toast")
            return True
        except NoMatches:
            return False
        except NoScreen:
            return True

    def render_lines(self, crop: Region) -> list[Strip]:
        picture = self.picture
        if picture is None:
            lines = [Strip.blank(crop.width)] * crop.height
            return self._with_unsent(lines, crop.width)
        if picture.kind == "kitty":
            return self._kitty_lines(picture, crop)
        # No row writes a cell over the picture: each only moves the cursor past the widget, as
        # if it had written its width (a full repaint writes a line's strips back to back).
        x, y = self.region.x, self.region.y
        after = x + crop.right
        lines = [
            Strip([_control(Control.move_to(after, y + row).segment.text)], crop.width)
            for row in range(crop.y, crop.bottom)
        ]
        if self._covered() or crop.size != self.region.size:  # clipped: cannot draw a part
            return lines
        # The last row draws the whole picture from the top-left corner: rows above are written
        # first in a repaint, so nothing of this frame lands on it afterwards.
        last = Control.move_to(after, y + crop.bottom - 1).segment.text
        segments = [_control(Control.move_to(x, y).segment.text), _control(picture.data)]
        lines[-1] = Strip([*segments, _control(last)], crop.width)
        return lines

    def _kitty_lines(self, picture: Picture, crop: Region) -> list[Strip]:
        pid = picture.image_id
        style = Style(color=f"rgb({(pid >> 16) & 255},{(pid >> 8) & 255},{pid & 255})")
        lines = []
        for row in range(crop.y, crop.bottom):
            cells = "".join(
                PLACEHOLDER + chr(DIACRITICS[row]) + chr(DIACRITICS[col])
                for col in range(crop.x, crop.right)
            )
            lines.append(Strip([Segment(cells, style)], crop.width))
        return self._with_unsent(lines, crop.width)

    def _with_unsent(self, lines: list[Strip], width: int) -> list[Strip]:
        """Kitty escapes waiting to go ride the first line: an image reaches the terminal
        before the cells that show it, and a freed one goes even when nothing replaces it."""
        if self._unsent and lines and not self._covered():
            head = _control("".join(self._unsent))
            self._unsent.clear()
            lines[0] = Strip([head, *lines[0]], width)
        return lines
