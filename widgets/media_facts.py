"""What the Files pane says about a file, and the picture it previews: run in a worker thread.

Images: pixel size, shown upright (EXIF orientation). Videos: display size (a phone's rotation
applied), length and frame rate, previewed by their first frame. Audio: length and sample rate.
Pillow is imported here, in the thread, never for the first screen. Videos and audio are read
by a short-lived child process (`python -m widgets.media_facts FILE W H`): PyAV and a decoder
would add ~45 MB to the UI's process for good (its budget is 100 MB), for a ~0.2 s wait here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.core.protocol import file_kind

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
    if kind in ("video", "audio"):
        return _in_child(path, box)
    return Facts([])


def _in_child(path: Path, box: tuple[int, int] | None) -> Facts:
    import base64
    import io
    import json
    import subprocess
    import sys

    w, h = box or (0, 0)
    done = subprocess.run(
        [sys.executable, "-m", "widgets.media_facts", str(path), str(w), str(h)],
        capture_output=True,
        timeout=20,
        check=True,
    )
    reply = json.loads(done.stdout)
    if "error" in reply:
        raise ValueError(reply["error"])
    picture = None
    if reply.get("png"):
        from PIL import Image

        picture = Image.open(io.BytesIO(base64.b64decode(reply["png"])))
        picture.load()
    return Facts(list(reply["words"]), picture)


def _child_main(argv: list[str]) -> int:
    """In the child: read one video or audio file, print its facts (and a PNG) as JSON."""
    import base64
    import io
    import json

    path, w, h = Path(argv[0]), int(argv[1]), int(argv[2])
    try:
        found = _video(path, (w, h) if w and h else None)
    except Exception as exc:  # the parent says "unreadable (...)"
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        return 0
    png = None
    if found.picture is not None:
        buf = io.BytesIO()
        found.picture.save(buf, format="PNG", compress_level=1)
        png = base64.b64encode(buf.getvalue()).decode("ascii")
    print(json.dumps({"words": found.words, "png": png}))
    return 0


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
    # As render/video_source.py's: importing that would load the renderer (cv2, numpy) here.
    try:
        return round(float(frame.rotation or 0) / 90.0) % 4
    except (AttributeError, TypeError, ValueError):
        return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(_child_main(sys.argv[1:]))
