"""A clip decoded into frames at the preview's size, and a frame as half-block cell rows.

Decoding runs in a child process (PyAV scales each frame with swscale as it decodes), read by a
worker thread, so the UI only indexes a list: a 5 s clip at 100x60 half-block pixels is ~2.7 MB
of RGB, small enough to keep every frame for a steady frame rate. A frame becomes cells only
when shown, with runs of one colour pair merged into one segment and styles cached: the Rich
objects of a whole clip would take hundreds of MB, those of one frame a few thousand.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import math
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rich.color import Color
from rich.segment import Segment
from rich.style import Style

from tui.core.paths import part_path

HALF = "▀"  # the upper pixel is its foreground, the lower its background
MAX_FRAMES = 60 * 60  # 60 s at 60 fps: the engine's longest clip
MAX_BYTES = 40_000_000  # a long clip in a big pane keeps every 2nd (3rd…) frame, not more
STALL = 60.0  # seconds a growing file may stay as it is before the clip counts as ended


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
    path: Path | None = None  # the file they come from

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
    seconds: float | None = None,
    on_frame: Callable[[Clip], None] | None = None,
    stopped: Callable[[], bool] = lambda: False,
) -> Clip:
    """Decode `path` scaled to fit `cols` x `rows` cells (two pixel rows a cell), in a child
    process. `on_frame` is called after the first frame and then every 10, so the first shows
    before the rest decode; `stopped()` ends it early (the child is killed).

    A `path` not there yet whose part file is (a live draft arriving, tui/preview/source.py)
    is decoded as it grows; `seconds` is then the clip's length, which its start cannot say."""
    proc = _take_child()
    assert proc.stdin is not None and proc.stdout is not None
    try:
        request = {"path": str(path), "cols": cols, "rows": rows, "seconds": seconds}
        proc.stdin.write(json.dumps(request).encode() + b"\n")
        proc.stdin.flush()
        head = json.loads(proc.stdout.readline() or b'{"error": "the decoder stopped"}')
        if "error" in head:
            raise ValueError(head["error"])
        w, h = head["width"], head["height"]
        clip = Clip(w, h, head["fps"], head["duration"], head["sound"], path=Path(path))
        size, out = w * h * 3, proc.stdout
        while not stopped() and len(clip.frames) < MAX_FRAMES:
            data = out.read(size)
            if len(data) < size:
                break
            clip.frames.append(np.frombuffer(data, np.uint8).reshape(h, w, 3))
            n = len(clip.frames)
            if on_frame is not None and (n == 1 or n % 10 == 0):
                on_frame(clip)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for f in (proc.stdin, proc.stdout):
            f.close()
        warm_up()  # the next clip's decoder
    if not clip.duration and clip.frames:
        clip.duration = len(clip.frames) / clip.fps
    clip.done = not stopped()
    return clip


# A decoder child started ahead, PyAV already imported, waiting for its one request on stdin:
# PyAV and a decoder would add ~20 MB to the UI's process for good (its budget is 100 MB), and
# a child started on demand would add its start (~0.2 s) to every refresh. Each child decodes
# one clip and exits; it also exits when the app does (its stdin closes).
_spare: subprocess.Popen | None = None
_spare_lock = threading.Lock()


def _start_child() -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tui.preview.frames"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=Path(__file__).resolve().parents[2],
    )


def _take_child() -> subprocess.Popen:
    """The spare (or a new child); the next spare starts when this decode ends (`decode`), not
    now: its start (~0.15 s of CPU importing PyAV) would be taken from the draft rendering and
    arriving meanwhile."""
    global _spare
    with _spare_lock:
        proc = _spare if _spare is not None and _spare.poll() is None else _start_child()
        _spare = None
    return proc


def warm_up() -> None:
    """Start the spare decoder now (while the first draft renders), not at the first clip."""
    global _spare
    with _spare_lock:
        if _spare is None or _spare.poll() is not None:
            _spare = _start_child()


@atexit.register
def _end_spare() -> None:
    """The spare reads EOF and exits: no child left behind, nor a warning about one."""
    with _spare_lock:
        if _spare is not None and _spare.stdin is not None:
            _spare.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                _spare.wait(2)


def _serve_one() -> int:
    """In the child: import PyAV, wait for one request, write its header and frames."""
    import av

    line = sys.stdin.readline()
    if not line:
        return 0  # the app went away
    req = json.loads(line)
    out = sys.stdout
    try:
        path = Path(req["path"])
        # Whole, or still arriving: then read as a stream (no seeking), which a draft's
        # fragmented MP4 allows (its index first, then each fragment with its own).
        growing = not path.exists()
        if growing:
            # What the index says is enough: no reading ahead to find out more (by default
            # ~250 KB, some fragments, before the first picture).
            quick = {"analyzeduration": "0", "probesize": "32"}
            container = av.open(Growing(path), format="mp4", options=quick)
        else:
            container = av.open(str(path))
    except FileNotFoundError:  # (a draft's part file: its render was replaced or failed)
        out.write(json.dumps({"error": "the file is gone"}) + "\n")
        return 0
    except Exception as exc:
        out.write(json.dumps({"error": f"{type(exc).__name__}: {exc}"}) + "\n")
        return 0
    with container:
        if not container.streams.video:
            out.write(json.dumps({"error": "the file has no video"}) + "\n")
            return 0
        stream = container.streams.video[0]
        # A file still arriving is decoded as fast as it comes: frame threads would only hold
        # its first picture back (until as many frames are in) and take cores from the render.
        stream.thread_type = "SLICE" if growing else "AUTO"
        fps = float(stream.average_rate or stream.guessed_rate or 30)
        if growing:  # what has come so far says only how long that is
            duration = float(req.get("seconds") or 0)
        elif stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        else:
            duration = (container.duration or 0) / 1_000_000
        w, h = fit(stream.codec_context.width, stream.codec_context.height, *_box(req))
        step = stride(w, h, fps, duration)
        head = {"width": w, "height": h, "fps": fps / step, "duration": duration}
        out.write(json.dumps({**head, "sound": bool(container.streams.audio)}) + "\n")
        out.flush()
        try:
            for n, frame in enumerate(container.decode(stream)):
                if n % step:
                    continue
                small = frame.reformat(width=w, height=h, format="rgb24", interpolation="AREA")
                out.buffer.write(small.to_ndarray().tobytes())
                out.buffer.flush()
        except BrokenPipeError:  # the app stopped this decode
            pass
    return 0


class Growing:
    """A file being downloaded, read as a stream: at its end, wait for more until its part file
    is renamed into place (whole: what is left is read) or removed (the render failed, was
    cancelled or replaced: the clip ends there). No `seek`: PyAV reads it front to back."""

    def __init__(self, path: Path) -> None:
        self.part = part_path(path)
        self.file = open(self.part, "rb")  # noqa: SIM115  (closed with the child)

    def read(self, n: int) -> bytes:
        still = time.monotonic()
        while True:
            data = self.file.read(n)
            if data:
                return data
            if not self.part.exists():  # renamed or removed: whatever was written before
                return self.file.read(n)
            if time.monotonic() - still > STALL:
                return b""
            time.sleep(0.005)


def stride(width: int, height: int, fps: float, duration: float) -> int:
    """Keep every `stride`-th frame: all of them unless the clip would pass MAX_BYTES."""
    total = width * height * 3 * max(fps, 1) * max(duration, 0)
    return max(1, math.ceil(total / MAX_BYTES))


def _box(req: dict) -> tuple[int, int]:
    return int(req["cols"]), int(req["rows"]) * 2


_styles: dict[int, Style] = {}
_segments: dict[int, Segment] = {}  # by colour pair and run length: most runs come again
CACHED = 1 << 16  # entries each cache holds at most: a long clip's colours come and go


def _style(key: int) -> Style:
    style = _styles.get(key)
    if style is None:
        if len(_styles) > CACHED:
            _styles.clear()
        top, bottom = key >> 24, key & 0xFFFFFF
        bg = Color.from_rgb(bottom >> 16, (bottom >> 8) & 255, bottom & 255)
        fg = None if top == bottom else Color.from_rgb(top >> 16, (top >> 8) & 255, top & 255)
        style = _styles[key] = Style(color=fg, bgcolor=bg)
    return style


def _segment(key: int, n: int) -> Segment:
    if len(_segments) > CACHED:
        _segments.clear()
    text = (" " if key >> 24 == key & 0xFFFFFF else HALF) * n
    seg = _segments[(key << 12) | n] = Segment(text, _style(key))
    return seg


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
    width = keys.shape[1]
    # Runs over the whole frame at once: a run starts at each row's start and at each change.
    flat = keys.ravel()
    starts = np.flatnonzero(
        np.r_[True, flat[1:] != flat[:-1]] | (np.arange(flat.size) % width == 0)
    )
    lengths = np.diff(np.r_[starts, flat.size])
    cache, out = _segments, []
    row: list[Segment] = []
    at = width
    for start, key, n in zip(starts.tolist(), flat[starts].tolist(), lengths.tolist(), strict=True):
        if start >= at:
            out.append(row)
            row, at = [], at + width
        seg = cache.get((key << 12) | n)
        row.append(seg if seg is not None else _segment(key, n))
    out.append(row)
    return out


def frame_image(path: Path, index: int):
    """Frame `index` of `path` at its own size, as a Pillow image (a paused frame in pixels),
    read by a child process like the frames."""
    import io

    from PIL import Image

    done = subprocess.run(
        [sys.executable, "-m", "tui.preview.frames", "--still", str(path), str(index)],
        capture_output=True,
        timeout=30,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    image = Image.open(io.BytesIO(done.stdout))
    image.load()
    return image


def _still(path: str, index: int) -> int:
    """In the child: frame `index` as a PNG on stdout."""
    import av

    with av.open(path) as container:
        last = None
        for n, frame in enumerate(container.decode(container.streams.video[0])):
            last = frame
            if n >= index:
                break
        if last is None:
            return 1
        last.to_image().save(sys.stdout.buffer, format="PNG", compress_level=1)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--still"]:
        sys.exit(_still(sys.argv[2], int(sys.argv[3])))
    sys.exit(_serve_one())
