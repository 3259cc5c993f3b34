"""What the Files pane says about a file, and the picture it previews: run in a worker thread.

Images: pixel size, shown upright (EXIF orientation). Videos: display size (a phone's rotation
applied), length and frame rate, previewed by their first frame. Audio: length and sample rate.
Pillow and PyAV are imported here, in the thread, never for the first screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.protocol import file_kind

CHANNELS = {1: "mono", 2: "stereo", 6: "5.1", 8: "7.1"}


@dataclass
class Facts:
    """The words after the file's name and size, and the picture to preview (a Pillow image)."""

    words: list[str]
    picture: Any = None


def human_seconds(s: float) -> str:
    if s < 60:
        return f"{s:.1f} s"
    m, sec = divmod(round(s), 60)
    return f"{m}:{sec:02d}"


def read_facts(path: Path, box: tuple[int, int] | None) -> Facts:
    """Facts for `path`; `box` (pixels) is how big the preview will be drawn, None for no
    preview. Raises on an unreadable file: the caller says so."""
    kind = file_kind(path.name)
    if kind == "image":
        return _image(path, box)
    if kind == "video":
        return _video(path, box)
    if kind == "audio":
        return _audio(path)
    return Facts([])


def _image(path: Path, box: tuple[int, int] | None) -> Facts:
    from PIL import Image, ImageOps

    with Image.open(path) as img:
        words = [f"{img.width}×{img.height}"]
        if box is None:
            return Facts(words)
        img.draft("RGB", box)  # a cheap JPEG downscale on decode
        upright = ImageOps.exif_transpose(img)
        alpha = upright.mode in ("RGBA", "LA", "PA") or (
            upright.mode == "P" and "transparency" in upright.info
        )
        return Facts(words, upright.convert("RGBA" if alpha else "RGB"))


def _video(path: Path, box: tuple[int, int] | None) -> Facts:
    import av

    with av.open(str(path)) as c:
        if not c.streams.video:
            return _audio_of(c)
        v = c.streams.video[0]
        seconds = _seconds(c, v)
        frame = next(c.decode(v), None)
        turns = _quarter_turns(frame)
        w, h = (v.height, v.width) if turns % 2 else (v.width, v.height)
        words = [f"{w}×{h}"]
        if seconds:
            words.append(human_seconds(seconds))
        if v.average_rate:
            words.append(f"{float(v.average_rate):.3g} fps")
        if c.streams.audio:
            words.append("with sound")
        if box is None or frame is None:
            return Facts(words)
        # Reduced in swscale with the conversion: a 4K frame never exists here at full size.
        fw, fh = (frame.height, frame.width) if turns % 2 else (frame.width, frame.height)
        scale = min(1.0, box[0] / fw, box[1] / fh)
        sw, sh = max(2, round(frame.width * scale)), max(2, round(frame.height * scale))
        img = frame.to_image(width=sw, height=sh)
        if turns:
            img = img.rotate(90 * turns, expand=True)  # counter-clockwise, as phones write
        return Facts(words, img)


def _audio(path: Path) -> Facts:
    import av

    with av.open(str(path)) as c:
        return _audio_of(c)


def _audio_of(c: Any) -> Facts:
    if not c.streams.audio:
        return Facts(["no sound or picture"])
    a = c.streams.audio[0]
    words = []
    if seconds := _seconds(c, a):
        words.append(human_seconds(seconds))
    if a.rate:
        words.append(f"{a.rate / 1000:g} kHz")
    channels = int(getattr(a, "channels", 0) or 0)
    if channels:
        words.append(CHANNELS.get(channels, f"{channels} channels"))
    return Facts(words)


def _seconds(c: Any, stream: Any) -> float | None:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if c.duration:
        return c.duration / 1_000_000  # microseconds
    return None


def _quarter_turns(frame: Any) -> int:
    try:
        return round(float(frame.rotation or 0) / 90.0) % 4
    except (AttributeError, TypeError, ValueError):
        return 0
