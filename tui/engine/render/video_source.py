"""Video files as a segment's source: decoded as a stream, fitted to the canvas, held at the end.

Only the frame on screen and the one after it are ever held, so memory stays bounded whatever
the file's length. Each source frame becomes a Stage (the same fitted YUV planes a still image
makes), so the segment's camera path and the pipeline's warp apply to it unchanged.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from tui.engine.render.errors import RenderError
from tui.engine.render.stage import Stage, build_stage


def kind_of(path: Path) -> str | None:
    """The file's kind by its first bytes (not its name): "video", "audio", "image" (HEIF
    and AVIF stills) or None for anything else."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError:
        return None
    if head[4:8] == b"ftyp":  # ISO BMFF: mp4, mov, m4a (and HEIF/AVIF stills)
        if head[8:12] in (b"M4A ", b"M4B "):
            return "audio"
        if head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"avif", b"avis"):
            return "image"
        return "video"
    if head[:4] == b"RIFF" and head[8:11] == b"AVI":
        return "video"
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: webm, mkv
        return "video"
    return None


def is_video(path: Path) -> bool:
    return kind_of(Path(path)) == "video"


class VideoSource:
    """Stages for output frames 0, 1, … of a segment, from a video file decoded as a stream.

    Output frame k shows the source frame on screen at k / fps seconds from the file's start
    (or from `start` seconds in); past the file's end the last frame is held. `need` is the
    stage size (the canvas times the camera path's largest zoom). A cover fit's crop is placed
    at `centre` (0..1 of the upright picture: the subject, see `first_rgb`), which may be set
    until the first stage is asked for.
    """

    def __init__(
        self,
        path: Path,
        need: tuple[int, int],
        *,
        fps: int,
        fit: str = "cover",
        start: float = 0.0,
        centre: tuple[float, float] = (0.5, 0.5),
        make: Callable[[np.ndarray], Any] | None = None,
    ) -> None:
        self.path = Path(path)
        self.name = self.path.name
        self.need = need
        self.fps = fps
        self.fit = fit
        self.centre = centre
        self.make = make  # what is held per source frame, from its upright RGB (else a Stage)
        self.start = max(0.0, float(start))
        try:
            self._container = av.open(str(self.path))
        except Exception as exc:
            raise RenderError(f"{self.name}: not a readable video ({_why(exc)})") from None
        if not self._container.streams.video:
            self._container.close()
            raise RenderError(f"{self.name}: has no video stream")
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"
        self._tb = self._stream.time_base or Fraction(1, 90000)
        # Time 0 is where the stream starts (not always pts 0: edit lists, MPEG-TS offsets).
        st = self._stream.start_time
        self._origin: float | None = float(st * self._tb) if st is not None else None
        if self.start > 0:
            with contextlib.suppress(Exception):  # unseekable: decode from the top
                at = (self._origin or 0.0) + self.start
                self._container.seek(int(at / self._tb), stream=self._stream)
        self._frames: Iterator[av.VideoFrame] | None = self._decode()
        self._cur: tuple[float, Stage] | None = None  # (time, stage) on screen
        self._next: av.VideoFrame | None = None
        self._next_t = 0.0
        self._pull()
        if self._next is None:
            self.close()
            raise RenderError(f"{self.name}: the video has no decodable frames")

    def first_rgb(self, side: int = 576) -> np.ndarray:
        """The first frame shown, upright, as RGB with its long side at most `side` (for
        finding the subject before the crop is placed)."""
        fr = self._next if self._cur is None else None
        if fr is None:
            raise RuntimeError("first_rgb is for before the first stage")
        s = min(1.0, side / max(fr.width, fr.height))
        w, h = max(2, round(fr.width * s)), max(2, round(fr.height * s))
        rgb = fr.to_ndarray(
            format="rgb24", width=w, height=h, src_colorspace=_colorspace(fr), interpolation="AREA"
        )
        turns = _quarter_turns(fr)
        return np.ascontiguousarray(np.rot90(rgb, k=turns)) if turns else rgb

    def _decode(self) -> Iterator[av.VideoFrame]:
        try:
            yield from self._container.decode(self._stream)
        except av.error.EOFError:
            return
        except Exception as exc:
            if self._cur is None:
                raise RenderError(f"{self.name}: damaged video ({_why(exc)})") from None
            # A damaged tail: hold what was shown last.
            return

    def _pull(self) -> None:
        """Read the next decodable frame at or after `start` into `_next` (None at the end)."""
        self._next = None
        if self._frames is None:
            return
        for fr in self._frames:
            if fr.pts is None:
                t = self._next_t + self.start + 1 / max(1, self.fps)
            else:
                t = float(fr.pts * self._tb)
                if self._origin is None:
                    self._origin = t
                t -= self._origin
            if t + 1e-6 < self.start:
                continue
            self._next, self._next_t = fr, t - self.start
            return
        self._frames = None

    def _advance(self) -> None:
        fr, t = self._next, self._next_t
        assert fr is not None
        self._cur = (t, self._stage(fr))
        self._pull()

    def _stage(self, fr: av.VideoFrame) -> Any:
        if self.make is not None:
            return self.make(self._rgb(fr))
        if self.fit == "cover":
            return self._stage_yuv(fr)
        return self._stage_rgb(fr)

    def _stage_yuv(self, fr: av.VideoFrame) -> Stage:
        """Cover fit without RGB: swscale scales and converts to BT.709 yuv420p in one pass,
        then the planes are cropped to the stage (a third of the work of the RGB path)."""
        w, h = self.need
        w, h = w + (w & 1), h + (h & 1)
        turns = _quarter_turns(fr)
        fw, fh = (fr.height, fr.width) if turns % 2 else (fr.width, fr.height)
        scale = max(w / fw, h / fh)
        cw, ch = max(w, math.ceil(fw * scale - 1e-6)), max(h, math.ceil(fh * scale - 1e-6))
        cw, ch = cw + (cw & 1), ch + (ch & 1)
        sw, sh = (ch, cw) if turns % 2 else (cw, ch)
        out = fr.reformat(
            width=sw,
            height=sh,
            format="yuv420p",
            src_colorspace=_colorspace(fr),
            dst_colorspace="ITU709",
            interpolation="AREA" if scale < 1.0 else "BICUBIC",
            src_color_range="JPEG" if _full_range(fr) else "MPEG",
            dst_color_range="MPEG",
        )
        y, u, v = (_plane(out, i) for i in range(3))
        if turns:
            y, u, v = (np.rot90(p, k=turns) for p in (y, u, v))
        cx, cy = self.centre  # the crop on the subject, as near it as the picture allows
        x0 = min(max(0, round(cx * cw - w / 2)), cw - w) & ~1
        y0 = min(max(0, round(cy * ch - h / 2)), ch - h) & ~1
        return Stage(
            np.ascontiguousarray(y[y0 : y0 + h, x0 : x0 + w]),
            np.ascontiguousarray(u[y0 // 2 : (y0 + h) // 2, x0 // 2 : (x0 + w) // 2]),
            np.ascontiguousarray(v[y0 // 2 : (y0 + h) // 2, x0 // 2 : (x0 + w) // 2]),
            chroma_x0=0.5,  # swscale averages chroma centred; the warp puts it left-sited
        )

    def _stage_rgb(self, fr: av.VideoFrame) -> Stage:
        w, h = self.need
        return build_stage(self._rgb(fr), w, h, fit=self.fit, centre=self.centre)

    def _rgb(self, fr: av.VideoFrame) -> np.ndarray:
        """The frame upright as RGB, reduced (not below what `need` covers) in swscale."""
        w, h = self.need
        # Phones store portrait video as landscape plus a display rotation: honour it.
        turns = _quarter_turns(fr)
        fw, fh = (fr.height, fr.width) if turns % 2 else (fr.width, fr.height)
        # Reduce in swscale (with the colour conversion) when the file is bigger than needed.
        scale = max(w / fw, h / fh)
        sw, sh = fr.width, fr.height
        if scale < 1.0:
            sw, sh = max(2, round(fr.width * scale)), max(2, round(fr.height * scale))
        rgb = fr.to_ndarray(
            format="rgb24",
            width=sw,
            height=sh,
            src_colorspace=_colorspace(fr),
            interpolation="AREA",
        )
        if turns:
            rgb = np.rot90(rgb, k=turns)  # counter-clockwise, as the display matrix says
        return np.ascontiguousarray(rgb)

    def stage_at(self, k: int) -> Any:
        """The stage for the segment's output frame `k` (k never goes backwards)."""
        if self._cur is None:
            self._advance()
        t = k / self.fps + 1e-3  # timestamps in ms (Matroska) are rounded: 1 ms of slack
        while self._next is not None and self._next_t <= t:
            # Skip frames that would be replaced before being shown (a faster source).
            fr, ft = self._next, self._next_t
            self._pull()
            if self._next is not None and self._next_t <= t:
                continue
            self._cur = (ft, self._stage(fr))
        assert self._cur is not None
        return self._cur[1]

    def close(self) -> None:
        self._frames = None
        self._next = None
        with contextlib.suppress(Exception):
            self._container.close()

    def __enter__(self) -> VideoSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _plane(fr: av.VideoFrame, i: int) -> np.ndarray:
    p = fr.planes[i]
    return np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, : p.width]


def _full_range(fr: av.VideoFrame) -> bool:
    return int(getattr(fr, "color_range", 0) or 0) == 2 or fr.format.name.startswith("yuvj")


def _quarter_turns(fr: av.VideoFrame) -> int:
    try:
        return round(float(fr.rotation or 0) / 90.0) % 4
    except (AttributeError, TypeError, ValueError):
        return 0


def _colorspace(fr: av.VideoFrame) -> str:
    """The matrix the file's YUV was made with: its tag, else by size (HD is BT.709)."""
    cs = int(getattr(fr, "colorspace", 2) or 2)
    if cs == 1:
        return "ITU709"
    if cs in (5, 6):
        return "ITU601"
    if cs in (9, 10):
        return "BT2020"
    return "ITU709" if fr.height >= 720 else "ITU601"


def _why(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    # PyAV's messages repeat the full path; the file's name is said already.
    return text.split(": '")[0]
