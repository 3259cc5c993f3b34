"""The Preview pane: plays the clip in the terminal, in half-blocks (two pixels a cell).

The app hands it a file (`play`), a draft as soon as its first bytes have come: a worker thread
decodes it at the pane's size (tui/preview/frames.py; a file still arriving as it grows), the
first frame showing at once and the rest as they come; a timer then shows frames by the clock,
so a slow terminal drops frames instead of slowing the clip (and waits for one still to come).
Where the terminal draws real pixels (Sixel, Kitty: widgets/pixels.py), a paused or stepped
frame is shown in them too, and the line under the picture says so while it plays in blocks.
Playing in pixels was measured and left out (tests/bench/bench_pixels.py, a photo at 100x30):
a frame is 87 KB in half-blocks, 357 KB in Sixel (and 0.33 s of CPU to encode: 3 frames a
second at most) and 429 KB in Kitty PNG; at even 6 frames a second that is 2.1-2.6 MB/s, more
than an 8-20 Mbit/s SSH link carries, where half-blocks play 15 frames a second in 1.3 MB/s.
Sound is never played; the line under the picture says when the clip has some.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.segment import Segment
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import get_current_worker

if TYPE_CHECKING:
    from tui.preview.frames import Clip
    from tui.terminal.graphics import Graphics
    from widgets.pixels import Picture

MAX_FPS = 15.0  # frames drawn a second at most: ~100 KB of escapes each at 100x30


class FrameView(Widget):
    """One frame of a clip, centred in half-blocks; blank without one."""

    DEFAULT_CSS = """
    FrameView { width: 1fr; height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: list[list[Segment]] = []
        self._width = 0

    def show(self, frame) -> None:
        from tui.preview.frames import cell_rows

        self._rows = cell_rows(frame) if frame is not None else []
        self._width = frame.shape[1] if frame is not None else 0
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width, height = self.size
        top = (height - len(self._rows)) // 2
        row = y - top
        if not 0 <= row < len(self._rows):
            return Strip.blank(width, self.rich_style)
        left = max(0, (width - self._width) // 2)
        blank = self.rich_style
        segments = [Segment(" " * left, blank), *self._rows[row]]
        return Strip(segments).adjust_cell_length(width, blank).crop(0, width)


class PreviewPane(Vertical):
    """The player: a frame view over one line of time, state and sound."""

    DEFAULT_CSS = """
    PreviewPane { border: round $primary-darken-1; height: 1fr; }
    PreviewPane:focus { border: heavy $primary; }
    PreviewPane > #facts { height: 1; padding: 0 1; color: $text-muted; }
    PreviewPane > PixelPreview { display: none; }
    PreviewPane.-pixels > PixelPreview { display: block; }
    PreviewPane.-pixels > FrameView { display: none; }
    """
    can_focus = True
    BINDINGS = [
        Binding("space", "toggle_play", "Play/pause"),
        Binding("left,comma", "step(-1)", "◀ frame", key_display="←"),
        Binding("right,full_stop", "step(1)", "frame ▶", key_display="→"),
        Binding("l", "toggle_loop", "Loop"),
        Binding("home", "to_start", "Start"),
    ]

    @dataclass
    class PlayheadMoved(Message):
        """Where the clip is, in seconds (None: nothing is playing): for the Tracks pane."""

        seconds: float | None

    def __init__(self, *, graphics: Graphics | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.graphics = graphics
        self.clip: Clip | None = None
        self.source: Path | None = None
        self.sound: str | None = None
        self._seconds: float | None = None  # the clip's length, told with a file still arriving
        self.index = 0
        self.playing = False
        self.loop = True
        self.note = "nothing to play yet"  # what the pane is doing, when it is not playing
        self._clock = (0.0, 0)  # (when, frame) playing started from
        self._said: float | None = None  # the playhead last posted
        self._decoded_for = Size(0, 0)
        self._place = 0  # the frame to stay on while the clip decodes again at a new size

    def compose(self) -> ComposeResult:
        yield FrameView(id="frame")
        if self.graphics is not None:
            from widgets.pixels import PixelPreview

            yield PixelPreview(id="still")
        yield Static("", id="facts", markup=False)

    def on_mount(self) -> None:
        self.border_title = "Preview"
        self._timer = self.set_interval(1 / MAX_FPS, self._tick, pause=True)
        self._show_facts()

    # ---- what to play ----------------------------------------------------------------------

    def say(self, note: str) -> None:
        """A state in words ("Rendering the draft…", an error); the last frame stays shown."""
        self.note = note
        self._show_facts()

    def clear(self, note: str) -> None:
        """Nothing to play (an empty timeline): no picture, no playhead, and why."""
        self.workers.cancel_group(self, "preview-decode")
        self.clip, self.source, self.sound, self.index = None, None, None, 0
        self.playing = False
        self._timer.pause()
        self.note = note
        self._show()

    def hidden(self) -> None:
        """The pane was put away: paused, and the Tracks pane loses its playhead."""
        if self.playing:
            self._stop()
        self._said = None
        self.post_message(self.PlayheadMoved(None))

    def play(self, path: Path, sound: str | None = None, seconds: float | None = None) -> None:
        """Decode `path` at the pane's size and play it from the start. `sound`: what the
        timeline has ("music", "", …); None: whether the file has a sound track says.
        `seconds`: the clip's length, for a file that is still arriving (it plays as it comes)."""
        self.source, self.sound, self._seconds = Path(path), sound, seconds
        self.note = "decoding…"
        self._show_facts()
        # After the next layout: a pane shown just now has no size yet.
        self.call_after_refresh(lambda: self._decode(Path(path), *self._cells()))

    @property
    def picture_size(self) -> Size:
        """The cells a frame may fill: the pane's, less the facts line (whichever view shows)."""
        width, height = self.content_size
        return Size(width, max(0, height - 1))

    def _cells(self) -> tuple[int, int]:
        size = self._decoded_for = self.picture_size
        return max(2, size.width), max(1, size.height)

    def on_resize(self) -> None:
        self.call_after_refresh(self._resized)

    def _resized(self) -> None:
        # Frames are decoded at the pane's size: a new size decodes again, from the same place.
        size = self.picture_size
        if self.source is not None and size.area and size != self._decoded_for:
            self._place = self.index
            self._decode(self.source, *self._cells(), keep_place=True)

    @work(thread=True, exclusive=True, group="preview-decode", exit_on_error=False)
    def _decode(self, path: Path, cols: int, rows: int, keep_place: bool = False) -> None:
        from tui.preview.frames import decode

        worker = get_current_worker()

        def arrived(clip: Clip) -> None:
            if not worker.is_cancelled:
                self.app.call_from_thread(self._arrived, clip, keep_place)

        try:
            clip = decode(
                path,
                cols,
                rows,
                seconds=self._seconds,
                on_frame=arrived,
                stopped=lambda: worker.is_cancelled,
            )
        except Exception as exc:  # a broken or vanished file: said in the pane, not a crash
            if not worker.is_cancelled:
                self.app.call_from_thread(self.say, f"cannot play: {exc}")
            return
        arrived(clip)

    def _arrived(self, clip: Clip, keep_place: bool) -> None:
        """Frames came: a new clip plays from its start; the same one at a new size stays
        where it was (paused: on its frame once decoded; playing: by the clock)."""
        first = clip is not self.clip
        self.clip = clip
        if first:
            self.note = ""
        if not keep_place:
            if first:
                self.index = 0
                self._start()
            else:
                self._show_facts()
            return
        index = min(self._place, len(clip.frames) - 1)
        if not self.playing and (first or index != self.index):
            self.index = index
            self._show()
            if index == self._place:
                self._still()
        else:
            self._show_facts()

    # ---- playing ---------------------------------------------------------------------------

    def _start(self) -> None:
        self.playing = True
        self._clock = (time.monotonic(), self.index)
        self._timer.resume()
        self._show()

    def _stop(self) -> None:
        self.playing = False
        self._timer.pause()
        self._show()
        self._still()

    def _tick(self) -> None:
        clip = self.clip
        if clip is None or not clip.frames:
            return
        since, start = self._clock
        index = start + int((time.monotonic() - since) * clip.fps)
        if index >= len(clip.frames):
            if not clip.done:  # decoding is behind the clock: wait at the last frame
                index = len(clip.frames) - 1
            elif self.loop:
                self._clock = (time.monotonic(), 0)
                index = 0
            else:
                self.index = len(clip.frames) - 1
                self._stop()
                return
        if index != self.index:
            self.index = index
            self._show()

    def _show(self) -> None:
        clip = self.clip
        frame = clip.frames[self.index] if clip is not None and clip.frames else None
        self.query_one(FrameView).show(frame)
        self.remove_class("-pixels")
        self._show_facts()
        # While playing, the playhead is told every 0.1 s at most (a Tracks bar cell is longer).
        seconds, said = self.seconds, self._said
        if seconds != said and (
            seconds is None or said is None or not self.playing or abs(seconds - said) >= 0.1
        ):
            self._said = seconds
            self.post_message(self.PlayheadMoved(seconds))

    @property
    def seconds(self) -> float | None:
        """Where the playhead is; None before there is a clip."""
        clip = self.clip
        if clip is None or not clip.frames:
            return None
        return self.index / clip.fps

    def _show_facts(self) -> None:
        clip = self.clip
        parts = []
        if clip is not None and clip.frames:
            mark = "▶" if self.playing else "‖"
            parts.append(f"{mark} {self.seconds or 0:.1f} / {clip.duration:.1f} s")
            parts.append("loop" if self.loop else "once")
            sound = ("sound" if clip.sound else "") if self.sound is None else self.sound
            parts.append(f"♪ {sound} (not played)" if sound else "silent")
            if self.playing and self.graphics is not None:
                parts.append("pixels when paused")  # blocks while playing: see the docstring
        if self.note:
            parts.append(self.note)
        self.query_one("#facts", Static).update(" · ".join(parts))

    # ---- keys ------------------------------------------------------------------------------

    def action_toggle_play(self) -> None:
        clip = self.clip
        if clip is None or not clip.frames:
            return
        if self.playing:
            self._stop()
            return
        if clip.done and self.index >= len(clip.frames) - 1:
            self.index = 0  # at the end: play again from the start
        self._start()

    def action_step(self, by: int) -> None:
        clip = self.clip
        if clip is None or not clip.frames:
            return
        self.playing = False
        self._timer.pause()
        self.index = (self.index + by) % len(clip.frames)
        self._show()
        self._still()

    def action_toggle_loop(self) -> None:
        self.loop = not self.loop
        self._show_facts()

    def action_to_start(self) -> None:
        self.index = 0
        self._clock = (time.monotonic(), 0)
        self._show()
        if not self.playing:
            self._still()

    # ---- real pixels, paused -----------------------------------------------------------------

    def _still(self) -> None:
        """Paused where the terminal draws pixels: this frame in them, at the file's own size."""
        if self.graphics is None or self.source is None or self.clip is None:
            return
        size = self.picture_size
        _, bg = self.background_colors
        self._encode_still(self.source, self.index, size.width, size.height, bg.rgb)

    @work(thread=True, exclusive=True, group="preview-still", exit_on_error=False)
    def _encode_still(
        self, path: Path, index: int, cols: int, rows: int, bg: tuple[int, int, int]
    ) -> None:
        from tui.preview.frames import frame_image
        from widgets.pixels import encode

        assert self.graphics is not None
        worker = get_current_worker()
        try:
            picture = encode(frame_image(path, index), self.graphics, cols, rows, bg)
        except Exception:  # the half-block frame stays: it shows the same picture
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self._show_still, picture, index)

    def _show_still(self, picture: Picture, index: int) -> None:
        from widgets.pixels import PixelPreview

        if self.playing or index != self.index:
            return  # moved on meanwhile
        self.query_one(PixelPreview).show(picture)
        self.add_class("-pixels")
