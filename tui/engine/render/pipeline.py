"""The render pipeline: draft -> frames in YUV planes -> libx264 + AAC -> MP4.

Frames are produced on a helper thread (OpenCV releases the GIL) while the main thread encodes,
so warping and encoding overlap.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from tui.engine.render import audio as audio_mod
from tui.engine.render.errors import RenderCancelled, RenderError
from tui.engine.render.motion import CameraPath, camera_path
from tui.engine.render.sources import load_image
from tui.engine.render.stage import Stage, build_stage, warp_into
from tui.engine.render.text import TextOverlay, make_overlay

QUALITY = {
    "high": {"preset": "medium", "crf": "20"},
    "standard": {"preset": "veryfast", "crf": "23"},
    "draft": {"preset": "ultrafast", "crf": "26"},
}
FPS_ALLOWED = (24, 25, 30, 60)
AAC_FRAME = 1024


@dataclass(frozen=True)
class Canvas:
    width: int
    height: int
    fps: int
    duration_ms: int

    @property
    def frames(self) -> int:
        return round(self.duration_ms * self.fps / 1000)

    @property
    def seconds(self) -> float:
        return self.frames / self.fps


@dataclass(frozen=True)
class RenderResult:
    path: Path
    frames: int
    width: int
    height: int
    fps: int
    seconds: float
    elapsed: float


def canvas_of(draft: Mapping, quality: str = "high") -> Canvas:
    meta = draft.get("m") or {}
    w, h = int(meta.get("width", 1920)), int(meta.get("height", 1080))
    fps = int(meta.get("fps", 30))
    d = int(draft.get("d", 5000))
    if fps not in FPS_ALLOWED:
        raise RenderError(f"fps {fps} is not supported (use one of {FPS_ALLOWED})")
    if not (1000 <= d <= 60000):
        raise RenderError(f"duration {d / 1000:g} s is out of range (1 to 60 s)")
    if not (16 <= w <= 3840 and 16 <= h <= 3840):
        raise RenderError(f"canvas {w}x{h} is out of range")
    if quality == "draft":
        scale = 540 / min(w, h)
        if scale < 1:
            w, h = round(w * scale), round(h * scale)
    return Canvas(w + (w & 1), h + (h & 1), fps, d)


def _tracks(draft: Mapping, kind: int) -> list[dict]:
    segs = [s for t in draft.get("t", []) if t.get("tt") == kind for s in t.get("sg", [])]
    return sorted(segs, key=lambda s: int(s.get("st", 0)))


@dataclass
class _Shot:
    """One video segment being rendered: its frame span, stage and camera path."""

    first: int
    last: int  # exclusive
    seg: dict
    stage: Stage | None = None
    path: CameraPath | None = None


class _FrameMaker:
    def __init__(self, draft: Mapping, media: Mapping[str, Path], canvas: Canvas):
        self.canvas = canvas
        self.media = media
        fps = canvas.fps
        self.shots = [
            _Shot(
                first=round(int(s.get("st", 0)) * fps / 1000),
                last=round((int(s.get("st", 0)) + int(s.get("d", 0))) * fps / 1000),
                seg=s,
            )
            for s in _tracks(draft, 0)
        ]
        self.overlays: list[TextOverlay] = []
        for s in _tracks(draft, 7):
            m = s.get("m") or {}
            text = str(m.get("text", "")).strip()
            if not text:
                continue
            st = int(s.get("st", 0)) / 1000
            self.overlays.append(
                make_overlay(
                    text,
                    (canvas.width, canvas.height),
                    start=st,
                    end=st + int(s.get("d", 0)) / 1000,
                    position=str(m.get("position", "center")),
                    role=str(m.get("role", "title")),
                )
            )

    def _prepare(self, shot: _Shot) -> None:
        m = shot.seg.get("m") or {}
        src = shot.seg.get("src")
        path = self.media.get(src) if src else None
        if path is None:
            raise RenderError(f"segment {shot.seg.get('id', '?')}: unknown source {src!r}")
        n = max(1, shot.last - shot.first)
        focus = m.get("focus") or (0.5, 0.5)
        shot.path = camera_path(
            n,
            motion=str(m.get("motion", "zoom_in")),
            strength=str(m.get("strength", "medium")),
            easing=str(m.get("easing", "ease")),
            focus=(float(focus[0]), float(focus[1])),
        )
        z = shot.path.max_zoom
        sw, sh = round(self.canvas.width * z), round(self.canvas.height * z)
        rgb = load_image(Path(path), need=(sw, sh))
        shot.stage = build_stage(rgb, sw, sh, fit=str(m.get("fit", "cover")))

    def frame(self, i: int, out: np.ndarray) -> None:
        shot = next((s for s in self.shots if s.first <= i < s.last), None)
        if shot is None:
            h = self.canvas.height
            out[:h] = 16
            out[h:] = 128
        else:
            if shot.stage is None:
                self._prepare(shot)
            assert shot.stage is not None and shot.path is not None
            k = min(i - shot.first, len(shot.path.zoom) - 1)
            warp_into(shot.stage, out, shot.path.zoom[k], shot.path.cx[k], shot.path.cy[k])
            if i + 1 >= shot.last:
                shot.stage = None  # free the stage once its last frame is out
        t = i / self.canvas.fps
        for ov in self.overlays:
            ov.blend(out, t)


def _music(draft: Mapping, media: Mapping[str, Path], canvas: Canvas) -> np.ndarray | None:
    segs = _tracks(draft, 1)
    if not segs:
        return None
    total = round(canvas.seconds * audio_mod.RATE)
    bed = np.zeros((2, total), dtype=np.float32)
    for s in segs:
        m = s.get("m") or {}
        src = str(s.get("src", ""))
        start_s = int(s.get("st", 0)) / 1000
        length = min(int(s.get("d", canvas.duration_ms)) / 1000, canvas.seconds - start_s)
        if length <= 0:
            continue
        if src.startswith("builtin:"):
            track = audio_mod.synth(src.split(":", 1)[1], length)
        elif src in media:
            track = audio_mod.load_audio(Path(media[src]), length)
        else:
            raise RenderError(f"segment {s.get('id', '?')}: unknown audio source {src!r}")
        volume = float(m.get("volume", 0.5))
        bed += audio_mod.place(track, total, round(start_s * audio_mod.RATE), volume, fade_out=1.0)
    np.clip(bed, -1.0, 1.0, out=bed)
    return bed


def render_draft(
    draft: Mapping,
    media: Mapping[str, Path],
    out: Path,
    *,
    quality: str = "high",
    progress: Callable[[float], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> RenderResult:
    """Render `draft` to `out` (written under a temporary name, then renamed into place)."""
    started = time.perf_counter()
    if quality not in QUALITY:
        raise RenderError(f"unknown quality {quality!r} (use high, standard or draft)")
    if not _tracks(draft, 0) and not _tracks(draft, 7):
        raise RenderError("the timeline is empty: add an image first")
    canvas = canvas_of(draft, quality)
    maker = _FrameMaker(draft, media, canvas)
    music = _music(draft, media, canvas)
    out = Path(out)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.part")
    try:
        _encode(maker, music, canvas, tmp, quality, progress, cancel)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return RenderResult(
        out,
        canvas.frames,
        canvas.width,
        canvas.height,
        canvas.fps,
        canvas.seconds,
        time.perf_counter() - started,
    )


def _encode(
    maker: _FrameMaker,
    music: np.ndarray | None,
    canvas: Canvas,
    path: Path,
    quality: str,
    progress: Callable[[float], None] | None,
    cancel: Callable[[], bool] | None,
) -> None:
    w, h, n = canvas.width, canvas.height, canvas.frames
    q = QUALITY[quality]
    container = av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
    try:
        vs = container.add_stream("libx264", rate=canvas.fps)
        vs.width, vs.height = w, h
        vs.pix_fmt = "yuv420p"
        vs.time_base = Fraction(1, canvas.fps)
        cc = vs.codec_context
        cc.thread_type = "FRAME"
        cc.thread_count = 0
        cc.colorspace = av.video.reformatter.Colorspace.ITU709
        cc.color_primaries = 1  # BT.709
        cc.color_trc = 1  # BT.709
        cc.color_range = av.video.reformatter.ColorRange.MPEG
        vs.options = {
            "preset": q["preset"],
            "crf": q["crf"],
            "profile": "high",
            "x264-params": "colorprim=bt709:transfer=bt709:colormatrix=bt709:range=tv",
        }
        astream = None
        if music is not None:
            astream = container.add_stream("aac", rate=audio_mod.RATE)
            astream.layout = "stereo"
            astream.time_base = Fraction(1, audio_mod.RATE)
        audio_pos = 0

        frames: queue.Queue = queue.Queue(maxsize=6)
        stop = threading.Event()

        def produce() -> None:
            try:
                for i in range(n):
                    if stop.is_set():
                        return
                    buf = np.empty((h * 3 // 2, w), dtype=np.uint8)
                    maker.frame(i, buf)
                    frames.put(buf)
                frames.put(None)
            except BaseException as exc:  # handed to the encoding thread
                frames.put(exc)

        producer = threading.Thread(target=produce, name="i2v-frames", daemon=True)
        producer.start()
        try:
            for i in range(n):
                item = frames.get()
                if isinstance(item, BaseException):
                    raise item
                if cancel is not None and i % 8 == 0 and cancel():
                    raise RenderCancelled("render cancelled")
                vf = av.VideoFrame.from_ndarray(item, format="yuv420p")
                vf.pts = i
                vf.colorspace = cc.colorspace
                vf.color_range = cc.color_range
                for pkt in vs.encode(vf):
                    container.mux(pkt)
                if astream is not None and music is not None:
                    until = min(music.shape[1], int((i + 1) * audio_mod.RATE / canvas.fps))
                    audio_pos = _feed_audio(container, astream, music, audio_pos, until)
                if progress is not None and (i % 10 == 0 or i == n - 1):
                    progress((i + 1) / n)
        finally:
            stop.set()
            while producer.is_alive():
                try:
                    frames.get_nowait()
                except queue.Empty:
                    producer.join(0.05)
        for pkt in vs.encode(None):
            container.mux(pkt)
        if astream is not None and music is not None:
            _feed_audio(container, astream, music, audio_pos, music.shape[1], final=True)
            for pkt in astream.encode(None):
                container.mux(pkt)
    finally:
        container.close()


def _feed_audio(container, stream, music: np.ndarray, pos: int, until: int, final=False) -> int:
    """Encode whole AAC frames of `music` up to `until` (the tail too when `final`)."""
    while until - pos >= AAC_FRAME or (final and pos < until):
        end = min(pos + AAC_FRAME, until)
        chunk = np.ascontiguousarray(music[:, pos:end])
        af = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
        af.sample_rate = audio_mod.RATE
        af.pts = pos
        for pkt in stream.encode(af):
            container.mux(pkt)
        pos = end
    return pos
