"""A clip decoded into frames at the preview's size, and a frame as half-block cell rows.

Decoding runs in a worker thread (PyAV scales each frame with swscale as it decodes), so the UI
only indexes a list: a 5 s clip at 100x60 half-block pixels is ~2.7 MB of RGB, small enough to
keep every frame for a steady frame rate. A frame becomes cells only when shown, with runs of
one colour pair merged into one segment and styles cached: the Rich objects of a whole clip
would take hundreds of MB, those of one frame a few thousand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style

HALF = "▀"  # the upper pixel is its foreground, the lower its background
MAX_FRAMES = 60 * 60  # 60 s at 60 fps: the engine's longest clip


@dataclass
class Clip:
    """Every frame of a clip as an RGB array of `height` x `width` pixels (height even)."""

    width: int
    height: int
    fps: float
    duration: float  # seconds
    sound: bool  # the file has an audio stream
    frames: list[np.ndarray] = field(default_factory=list)
    done: bool = False  # every frame decoded

    @property
    def nbytes(self) -> int:
        return sum(f.nbytes for f in self.frames)


def fit(src_w: int, src_h: int, box_w: int, box_h: int) -> tuple[int, int]:
    """The largest size with the source's shape inside the box; the height even (two pixel rows
    a cell) and both at least 2."""
    if src_w <= 0 or src_h <= 0 or box_w <= 0 or box_h <= 0:
        return 2, 2
    scale = min(box_w / src_w, box_h / src_h)
    w = max(2, min(box_w, round(src_w * scale)))
    h = max(2, min(box_h - box_h % 2, round(src_h * scale)))
    return w, h - h % 2


def decode(
    path: Path,
    cols: int,
    rows: int,
    *,
    on_frame: Callable[[Clip], None] | None = None,
    stopped: Callable[[], bool] = lambda: False,
) -> Clip:
    """Decode `path` scaled to fit `cols` x `rows` cells (two pixel rows a cell). `on_frame` is
    called after the first frame and then every 10, so the first shows before the rest decode."""
    import av

    with av.open(str(path)) as container:
        if not container.streams.video:
            raise ValueError(f"{path.name} has no video")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        fps = float(stream.average_rate or stream.guessed_rate or 30)
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        else:
            duration = (container.duration or 0) / 1_000_000
        w, h = fit(stream.codec_context.width, stream.codec_context.height, cols, rows * 2)
        clip = Clip(w, h, fps, duration, bool(container.streams.audio))
        for frame in container.decode(stream):
            if stopped() or len(clip.frames) >= MAX_FRAMES:
                break
            small = frame.reformat(width=w, height=h, format="rgb24", interpolation="AREA")
            clip.frames.append(small.to_ndarray())
            n = len(clip.frames)
            if on_frame is not None and (n == 1 or n % 10 == 0):
                on_frame(clip)
    if not clip.duration and clip.frames:
        clip.duration = len(clip.frames) / clip.fps
    clip.done = not stopped()
    return clip


_styles: dict[int, Style] = {}


def _style(key: int) -> Style:
    style = _styles.get(key)
    if style is None:
        if len(_styles) > 1 << 16:  # bounded: a long clip's colours come and go
            _styles.clear()
        top, bottom = key >> 24, key & 0xFFFFFF
        bg = Color.from_rgb(bottom >> 16, (bottom >> 8) & 255, bottom & 255)
        fg = None if top == bottom else Color.from_rgb(top >> 16, (top >> 8) & 255, top & 255)
        style = Style(color=fg, bgcolor=bg)
        _styles[key] = style
    return style


def cell_rows(frame: np.ndarray) -> list[list[Segment]]:
    """One list of segments per cell row: '▀' in the upper pixel's colour on the lower's, or
    a space in their colour where both are one (fewer bytes to the terminal).

    Colours are rounded to 5 bits a channel (the middle of each step, so a pure colour stays
    within 4 of itself): a flat area after compression becomes one run, not one cell each."""
    px = (frame.astype(np.int64) & 0xF8) | 4
    rgb = (px[..., 0] << 16) | (px[..., 1] << 8) | px[..., 2]
    if rgb.shape[0] % 2:
        rgb = np.vstack([rgb, rgb[-1:]])
    keys = (rgb[0::2] << 24) | rgb[1::2]
    out = []
    for row in keys:
        starts = np.flatnonzero(np.diff(row)) + 1
        bounds = [0, *starts.tolist(), len(row)]
        values = row[[b for b in bounds[:-1]]].tolist()
        out.append(
            [
                Segment((" " if v >> 24 == v & 0xFFFFFF else HALF) * (b - a), _style(v))
                for a, b, v in zip(bounds[:-1], bounds[1:], values, strict=True)
            ]
        )
    return out


def frame_image(path: Path, index: int):
    """Frame `index` of `path` at its own size, as a Pillow image (a paused frame in pixels)."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        last = None
        for n, frame in enumerate(container.decode(stream)):
            last = frame
            if n >= index:
                break
        if last is None:
            raise ValueError(f"{path.name} has no frames")
        return last.to_image()
