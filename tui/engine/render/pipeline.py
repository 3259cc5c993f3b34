"""The render pipeline: draft -> frames in YUV planes -> libx264 + AAC -> MP4 (or a still PNG).

- Each video segment is a shot with a Look (StillLook, ParallaxLook, VideoLook; a new kind of
  source is a new Look made in `_FrameMaker._prepare`). A still's stage (the image fitted to the
  canvas times the path's largest zoom, converted to BT.709 YUV once) is prepared on a helper
  thread one shot ahead, and dropped when its last frame is out.
- A still is framed on its subject (saliency.find_subject: faces first, else the most salient
  region): the crop to the canvas's aspect is placed on the subject's box, and the camera path
  keeps that box inside every frame (motion.py). `m.focus` (0..1 of the image) overrides both.
  A video source is framed the same way, by the subject of its first frame. A subject wider or
  taller than the crop can hold is shown whole instead.
- `m.fit` = "contain" (show it all): the whole picture over a blurred, darkened copy of itself,
  the motion moving the picture, never cut (contain.py).
- A draft's prepared still stage is kept for the next draft of the same file framed the same way
  in this process (_Prepared): a preview made again skips decoding and framing. Its decoded
  photo and subject are kept too (kept_stills.py): a draft framed anew skips decoding.
- Shots meeting on the track crossfade (0.5 s by default, centred on the join).
- The draft's `m.fade_in` / `m.fade_out` (ms) fade the whole clip from / to black (luma to 16,
  chroma to 128, titles included) and the music with it.
- Sound: the music track, and each video segment's own sound where its picture plays (trimmed,
  held silent and crossfaded as the picture is; `m.volume`, `m.mute`), the music ducked under it
  (soundtrack.py). No music and no video sound: the MP4 has no audio stream.
- Text segments: `m.text`, `m.position`, `m.role`, `m.size` (small, medium, large or a
  number) and `m.fade` (ms, the title's own fade in and out).
- Frames are made on a producer thread (OpenCV releases the GIL) into a ring of RING buffers that
  the encoder reads in place, so decode, warp and encode overlap, memory stays bounded, and no
  frame is allocated or copied on the way to x264.
"""

from __future__ import annotations

import functools
import itertools
import os
import queue
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
from PIL import Image

from tui.core.protocol import DRAFT_SHORT_SIDE
from tui.core.text_sizes import text_scale
from tui.core.tiers import DEFAULT_TIER, DRAFT, HIGH, STANDARD, TIERS, tier_list
from tui.engine.outputs import writing_path
from tui.engine.render import audio as audio_mod
from tui.engine.render import soundtrack
from tui.engine.render.contain import (
    VideoContainLook,
    contain_look,
    contain_parts,
    contain_path,
)
from tui.engine.render.errors import RenderCancelled, RenderError
from tui.engine.render.kept_stills import STILLS
from tui.engine.render.motion import (
    MARGIN,
    MOTIONS,
    PARALLAX_GAIN,
    CameraPath,
    camera_path,
    max_zoom_of,
    parallax_paths,
)
from tui.engine.render.saliency import Subject, find_subject
from tui.engine.render.sources import load_image
from tui.engine.render.stage import (
    Layer,
    Stage,
    composite_into,
    cover_window,
    fit_image,
    fitted_box,
    layer_of,
    stage_of,
    stage_size,
    warp_into,
)
from tui.engine.render.text import TextOverlay, make_overlay, parse_colour
from tui.engine.render.video_source import VideoSource, is_video
from tui.engine.render.x264_cpu import x264_asm

# x264's settings for each tier (tui/core/tiers.py names them; a test keeps the two in step).
QUALITY = {
    HIGH: {"preset": "medium", "crf": "20"},
    STANDARD: {"preset": "veryfast", "crf": "23"},
    # A constant quantiser: 20 % less x264 time and half the bytes of crf 26 at ultrafast, for
    # 0.4 dB less PSNR (measured on 150 draft frames): a preview is for seeing, quickly. With
    # no frame-type decisions to make, x264's lookahead thread only hands frames on: without it
    # the same file (byte for byte) takes ~4 % less CPU. (At the other tiers it does real work
    # on its own core: without it a 1080p render takes 10-30 % longer.)
    DRAFT: {"preset": "ultrafast", "qp": "26", "x264": "sync-lookahead=0"},
}
# How the MP4 is laid out. An export: the index (moov) moved before the pictures at the end, so
# it plays while downloading. A draft: fragments of a quarter second, each on disk as soon as it
# is made (the index first, written with the first fragment so that its edit list can skip the
# AAC encoder's priming, else the sound runs 21 ms late; a small index before each fragment),
# so the preview plays it while it renders (GET .../live, tui/engine/server/routes/live.py):
# every byte is written once, in order, and what was read early is the finished file's start.
# (Negative composition offsets: without, the AAC track beside it can stretch the last picture.)
MUXING = {
    False: {"movflags": "+faststart"},
    True: {
        "movflags": "+delay_moov+default_base_moof+negative_cts_offsets",
        "frag_duration": "250000",  # microseconds
        "flush_packets": "1",
    },
}
FPS_ALLOWED = (24, 25, 30, 60)
AAC_FRAME = 1024
CROSSFADE_MS = 500
RING = 4  # frame buffers in flight between the frame maker and the encoder


@dataclass(frozen=True)
class Canvas:
    width: int
    height: int
    fps: int
    duration_ms: int
    fade_in_ms: int = 0  # the whole clip from black (picture and music), `m.fade_in`
    fade_out_ms: int = 0  # and to black at the end, `m.fade_out`

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


def canvas_of(draft: Mapping, quality: str = DEFAULT_TIER) -> Canvas:
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
    if quality == DRAFT:  # free (tui/core/protocol.py render_cost), so never larger
        scale = DRAFT_SHORT_SIDE / min(w, h)
        if scale < 1:
            w, h = round(w * scale), round(h * scale)
    fade_in, fade_out = _ms(meta, "fade_in", d), _ms(meta, "fade_out", d)
    return Canvas(w + (w & 1), h + (h & 1), fps, d, fade_in, fade_out)


def _ms(meta: Mapping, key: str, most: int) -> int:
    """A duration in ms from the draft's metadata, 0 when absent or unreadable, at most `most`."""
    try:
        v = float(meta.get(key) or 0)
    except (TypeError, ValueError):
        return 0
    return int(min(max(v, 0.0), most)) if v == v else 0


def fade_gain(canvas: Canvas, i: int) -> float:
    """How much of frame `i` shows through the clip's fades: 0 (black) .. 1 (untouched).

    Linear in time: from 0 on the first frame to 1 `fade_in_ms` later, and from 1 down to 0 on
    the last frame over the last `fade_out_ms`.
    """
    g = 1.0
    if canvas.fade_in_ms > 0:
        g = min(g, i / (canvas.fade_in_ms * canvas.fps / 1000))
    if canvas.fade_out_ms > 0:
        g = min(g, (canvas.frames - 1 - i) / (canvas.fade_out_ms * canvas.fps / 1000))
    return max(0.0, g)


def _tracks(draft: Mapping, kind: int) -> list[dict]:
    segs = [s for t in draft.get("t", []) if t.get("tt") == kind for s in t.get("sg", [])]
    return sorted(segs, key=lambda s: int(s.get("st", 0)))


@dataclass
class _Shot:
    """One video segment being rendered: its frame span (crossfades included) and its look.

    `fade` is the span [a, b) over which this shot fades in over the one before it.
    """

    first: int
    last: int  # exclusive
    seg: dict
    fade: tuple[int, int] | None = None
    look: Look | None = None
    future: Future | None = None


class Look:
    """What a shot shows: `draw(k, out)` paints its k-th frame into a yuv420p buffer."""

    def draw(self, k: int, out: np.ndarray) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:
        """Let go of what the look holds (files, decoders); its stages go with it."""


@dataclass
class StillLook(Look):
    """A still image seen through a moving camera: one warp per plane per frame."""

    stage: Stage
    path: CameraPath

    def draw(self, k: int, out: np.ndarray) -> None:
        p = self.path
        k = min(k, len(p) - 1)
        warp_into(self.stage, out, p.zoom[k], p.cx[k], p.cy[k])


@dataclass
class VideoLook(Look):
    """A video file played as the segment's source, through the segment's camera path."""

    source: VideoSource
    path: CameraPath

    def draw(self, k: int, out: np.ndarray) -> None:
        p = self.path
        j = min(k, len(p) - 1)
        warp_into(self.source.stage_at(k), out, p.zoom[j], p.cx[j], p.cy[j])

    def close(self) -> None:
        self.source.close()


@dataclass
class ParallaxLook(Look):
    """2.5D: a background (the subject's hole filled) and the subject as a layer moving more."""

    stage: Stage
    layer: Layer
    bg: CameraPath
    fg: CameraPath
    scratch: list = field(default_factory=list)

    def draw(self, k: int, out: np.ndarray) -> None:
        k = min(k, len(self.bg) - 1)
        warp_into(self.stage, out, self.bg.zoom[k], self.bg.cx[k], self.bg.cy[k])
        f = self.fg
        composite_into(self.layer, out, f.zoom[k], f.cx[k], f.cy[k], self.scratch)


def _plan_shots(segs: list[dict], fps: int, total: int) -> list[_Shot]:
    """Frame spans of the video segments, in order, with their crossfades.

    Where one segment ends and the next begins, the two overlap by the incoming segment's
    transition (`m.transition`: "crossfade", the default, or "cut"; `m.transition_ms`, default
    500), centred on the join. Segments that overlap on the timeline crossfade over the overlap.
    """
    shots = []
    for s in segs:
        st, d = int(s.get("st", 0)), int(s.get("d", 0))
        first, last = round(st * fps / 1000), min(total, round((st + d) * fps / 1000))
        if last > first:
            shots.append(_Shot(first, last, s))
    for prev, cur in itertools.pairwise(shots):
        m = cur.seg.get("m") or {}
        kind = str(m.get("transition", "crossfade"))
        if kind == "cut" or cur.first > prev.last:
            prev.last = min(prev.last, cur.first)
            continue
        if cur.first == prev.last:
            span = round(float(m.get("transition_ms", CROSSFADE_MS)) * fps / 1000)
            span = max(0, min(span, prev.last - prev.first, cur.last - cur.first))
            before = span // 2
            cur.first = max(prev.first + 1, cur.first - before)
            prev.last = min(total, prev.last + (span - before))
        if prev.last > cur.first:
            cur.fade = (cur.first, prev.last)
    return shots


def _seconds(ms: object) -> float | None:
    """Milliseconds (`m.fade` of a text segment) as seconds; None (the default) if unset."""
    try:
        v = float(ms)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return max(0.0, v) / 1000 if v == v else None


class _FrameMaker:
    """Makes frame i of the draft into a yuv420p buffer.

    Each shot's look is prepared (decoded, fitted, converted to YUV once) on a helper thread one
    shot ahead of need, and dropped once its last frame is out, so at most two or three stages are
    alive at once.
    """

    def __init__(
        self,
        draft: Mapping,
        media: Mapping[str, Path],
        canvas: Canvas,
        start: int = 0,
        *,
        fast: bool = False,
    ) -> None:
        self.canvas = canvas
        self.media = media
        self.fast = fast  # a draft preview: cheaper resampling where it barely shows
        self.shots = _plan_shots(_tracks(draft, 0), canvas.fps, canvas.frames)
        self.overlays: list[TextOverlay] = []
        for s in _tracks(draft, 7):
            m = s.get("m") or {}
            text = str(m.get("text", "")).strip()
            if not text:
                continue
            st = int(s.get("st", 0)) / 1000
            role = str(m.get("role", "title"))
            self.overlays.append(
                make_overlay(
                    text,
                    (canvas.width, canvas.height),
                    start=st,
                    end=st + int(s.get("d", 0)) / 1000,
                    position=str(m.get("position", "center")),
                    role=role,
                    scale=text_scale(m.get("size"), role, draft),
                    colour=parse_colour(m.get("color")) or (255, 255, 255),
                    fade=_seconds(m.get("fade")),
                )
            )
        self._ahead = ThreadPoolExecutor(1, thread_name_prefix="i2v-stage")
        self._side = ThreadPoolExecutor(1, thread_name_prefix="i2v-focus")
        self._scratch: np.ndarray | None = None
        # Shots before this one are done with (or, from `start` on, never needed).
        self._current = next((j for j, s in enumerate(self.shots) if s.last > start), 0)
        if self.shots:
            self._request(self._current)

    def close(self) -> None:
        self._ahead.shutdown(wait=True, cancel_futures=True)
        self._side.shutdown(wait=True, cancel_futures=True)
        for shot in self.shots:
            f = shot.future
            if f is not None and f.done() and not f.cancelled() and f.exception() is None:
                f.result().close()
            shot.future = None
            self._drop(shot)

    @staticmethod
    def _drop(shot: _Shot) -> None:
        if shot.look is not None:
            shot.look.close()
            shot.look = None

    def _request(self, j: int) -> None:
        if j < len(self.shots) and self.shots[j].future is None and self.shots[j].look is None:
            self.shots[j].future = self._ahead.submit(self._prepare, self.shots[j])

    def _look(self, j: int) -> Look:
        shot = self.shots[j]
        if shot.look is None:
            self._request(j)
            assert shot.future is not None
            shot.look = shot.future.result()
            shot.future = None
            self._request(j + 1)  # the next one decodes while this one plays
        return shot.look

    def _prepare(self, shot: _Shot) -> Look:
        """The look of a shot. Sources other than still images plug in here."""
        m = shot.seg.get("m") or {}
        src = shot.seg.get("src")
        path = self.media.get(src) if src else None
        if path is None:
            raise RenderError(f"segment {shot.seg.get('id', '?')}: unknown source {src!r}")
        if is_video(Path(path)):
            return self._video(Path(path), m, shot.last - shot.first)
        return self._still(Path(path), m, shot.last - shot.first)

    def _video(self, path: Path, m: Mapping, n: int) -> Look:
        motion = str(m.get("motion", "static"))
        if motion == "parallax":
            motion = "static"
        strength = str(m.get("strength", "medium"))
        how = str(m.get("fit", "cover"))
        if how == "contain":  # the whole video, moving over a blurred copy of itself
            return self._video_contain(path, m, n, motion, strength)
        z = max_zoom_of(motion, strength)
        sw, sh = stage_size(self.canvas.width, self.canvas.height, z)
        source = VideoSource(
            path,
            (sw, sh),
            fps=self.canvas.fps,
            fit=how,
            start=float(m.get("source_start_ms", 0)) / 1000,
        )
        try:
            focus, box = self._video_subject(source, m, how, motion, (sw, sh))
        except BaseException:
            source.close()
            raise
        path_ = camera_path(n, motion, strength, str(m.get("easing", "ease")), focus, box)
        return VideoLook(source, path_)

    def _video_contain(self, path: Path, m: Mapping, n: int, motion: str, strength: str) -> Look:
        w, h = self.canvas.width, self.canvas.height
        fast = self.fast

        def parts(rgb: np.ndarray) -> tuple:
            return contain_parts(rgb, w, h, fast=fast)

        source = VideoSource(
            path,
            (w, h),
            fps=self.canvas.fps,
            fit="contain",
            start=float(m.get("source_start_ms", 0)) / 1000,
            make=parts,
        )
        rect = source.stage_at(0)[2]
        path_ = contain_path(n, motion, strength, str(m.get("easing", "ease")), rect)
        return VideoContainLook(source, path_)  # type: ignore[return-value]

    def _video_subject(
        self, source: VideoSource, m: Mapping, how: str, motion: str, size: tuple[int, int]
    ) -> tuple[tuple[float, float], tuple[float, float, float, float] | None]:
        """A video framed as a still is: by `m.focus`, else by the subject of its first frame
        (faces first); the crop is placed on it (`source.centre`), and the camera's aim and
        the box it keeps in frame are returned, 0..1 of the stage."""
        focus = m.get("focus")
        rgb = source.first_rgb()
        src = (rgb.shape[1], rgb.shape[0])
        sw, sh = size
        whole = how == "contain" or cover_window(src, sw, sh)[2:] == src
        box = None
        if focus is not None:
            centre = point = (float(focus[0]), float(focus[1]))
        elif motion == "static" and whole:
            centre = point = (0.5, 0.5)
        else:
            subject = find_subject(rgb)
            b = subject.box
            centre, point = ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2), subject.point
            box = fitted_box(b, src, sw, sh, how, centre)
        source.centre = centre
        aim = fitted_box((*point, *point), src, sw, sh, how, centre)[:2]
        return (aim[0], aim[1]), box

    def _still(self, path: Path, m: Mapping, n: int) -> Look:
        motion = str(m.get("motion", "zoom_in"))
        strength = str(m.get("strength", "medium"))
        easing = str(m.get("easing", "ease"))
        how = str(m.get("fit", "cover"))
        if motion not in MOTIONS:
            raise RenderError(f"unknown motion {motion!r} (use one of {', '.join(MOTIONS)})")
        if how == "contain":  # the whole picture, moving over a blurred copy of itself
            w, h = self.canvas.width, self.canvas.height
            rgb = self._decoded(path, (w, h))[0]
            return contain_look(rgb, w, h, n, motion, strength, easing, fast=self.fast)
        z = max_zoom_of(motion, strength)
        sw, sh = stage_size(self.canvas.width, self.canvas.height, z)
        key = _prepared_key(path, (sw, sh), m, self.fast)
        if key is not None and (hit := _PREPARED.get(key)) is not None:
            stage, focus, box = hit  # the same image framed the same way: a preview again
            return StillLook(stage, camera_path(n, motion, strength, easing, focus, box))
        rgb, subject_of = self._decoded(path, (sw, sh))
        src = (rgb.shape[1], rgb.shape[0])
        whole = how == "contain" or cover_window(src, sw, sh)[2:] == src  # no crop to place
        focus, box, stage, face = m.get("focus"), None, None, False
        if focus is not None:  # the user's point, 0..1 of the image: framed on it, aimed at it
            centre = point = (float(focus[0]), float(focus[1]))
            fitted = fit_image(rgb, sw, sh, how, fast=self.fast, centre=centre)
        elif motion == "static" and whole:
            centre = point = (0.5, 0.5)
            fitted = fit_image(rgb, sw, sh, how, fast=self.fast)
        else:
            # The subject (faces, else saliency) places the crop and the camera; it is found on
            # the other core while the image is fitted and converted, if the crop does not
            # depend on it.
            found = self._side.submit(subject_of)
            fitted = None
            if whole:
                fitted = fit_image(rgb, sw, sh, how, fast=self.fast)
                if motion != "parallax":
                    stage = stage_of(fitted)
            subject: Subject = found.result()
            b, face = subject.box, subject.face
            centre, point = ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2), subject.point
            if not whole and too_wide(b, src, sw, sh):  # no crop holds it: show it all
                w, h = self.canvas.width, self.canvas.height
                return contain_look(rgb, w, h, n, motion, strength, easing, fast=self.fast)
            if fitted is None:
                fitted = fit_image(rgb, sw, sh, how, fast=self.fast, centre=centre)
            box = fitted_box(b, src, sw, sh, how, centre)
        focus = fitted_box((*point, *point), src, sw, sh, how, centre)[:2]
        del rgb
        if motion == "parallax":
            look = parallax_look(
                fitted,
                n,
                strength,
                easing,
                focus,
                box,
                fast=self.fast,
                canvas=(self.canvas.width, self.canvas.height),
                face=face,
            )
            if look is not None:
                return look
            motion = "ken_burns"  # no foreground stands out: a gentle drift instead
        stage = stage or stage_of(fitted)
        path_ = camera_path(n, motion, strength, easing, focus, box)
        if path_.max_zoom > z + 1e-9:  # (ken_burns fallback) never sample beyond the stage
            path_ = camera_path(n, "zoom_in", strength, easing, focus, box)
        elif key is not None:
            _PREPARED.put(key, (stage, focus, box))
        return StillLook(stage, path_)

    def _decoded(self, path: Path, need: tuple[int, int]) -> tuple[np.ndarray, Callable]:
        """A still's RGB and a call that finds its subject: a draft's kept between previews of
        the same file (kept_stills), another tier's decoded for this render alone."""
        if self.fast:
            still = STILLS.still(path, need)
            return still.rgb, still.subject
        rgb = load_image(path, need=need)
        return rgb, functools.partial(find_subject, rgb)

    def frame(self, i: int, out: np.ndarray) -> None:
        drawn = False
        for j in range(self._current, len(self.shots)):
            shot = self.shots[j]
            if shot.first > i:
                break
            if i >= shot.last:
                continue
            look = self._look(j)
            if not drawn or shot.fade is None:
                look.draw(i - shot.first, out)
            else:
                if self._scratch is None:
                    self._scratch = np.empty_like(out)
                look.draw(i - shot.first, self._scratch)
                a, b = shot.fade
                w = (i - a + 1) / (b - a + 1)
                cv2.addWeighted(out, 1.0 - w, self._scratch, w, 0.0, dst=out)
            drawn = True
        if not drawn:
            h = self.canvas.height
            out[:h] = 16
            out[h:] = 128
        # Free the looks whose last frame is out.
        while self._current < len(self.shots) and self.shots[self._current].last <= i + 1:
            self._drop(self.shots[self._current])
            self._current += 1
        t = i / self.canvas.fps
        for ov in self.overlays:
            ov.blend(out, t)
        g = fade_gain(self.canvas, i)
        if g < 1.0:  # from / to black: luma toward 16, chroma toward 128 (the whole frame)
            h = self.canvas.height
            y, c = out[:h], out[h:]
            cv2.addWeighted(y, g, y, 0.0, 16.0 * (1.0 - g), dst=y)
            cv2.addWeighted(c, g, c, 0.0, 128.0 * (1.0 - g), dst=c)


class _Prepared:
    """The last few draft stages of stills this process prepared, with their framing, so that a
    draft previewed again (a new title, other music, another length) skips decoding, finding the
    subject, fitting and converting: the same file (path, size and mtime), stage size, fit,
    motion, strength and focus. Stages are only read once made, so two renders may share one;
    its per-draw scratch is used by one frame at a time (frames are drawn in order)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: dict[tuple, tuple] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple) -> tuple | None:
        with self._lock:
            item = self._items.pop(key, None)
            if item is not None:
                self._items[key] = item  # the most recent last
            return item

    def put(self, key: tuple, item: tuple) -> None:
        with self._lock:
            self._items.pop(key, None)
            self._items[key] = item
            while len(self._items) > self.size:
                self._items.pop(next(iter(self._items)))


_PREPARED = _Prepared(int(os.environ.get("I2V_ENGINE_STAGE_CACHE", "2")))


def _prepared_key(path: Path, size: tuple[int, int], m: Mapping, fast: bool) -> tuple | None:
    """The cache key of a draft's still stage (see _Prepared); None for other tiers (their
    stages are large, and an export is made once), parallax (two layers) or a file that cannot
    be looked at."""
    if not fast or str(m.get("motion", "zoom_in")) == "parallax" or _PREPARED.size <= 0:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    focus = m.get("focus")
    where = (float(focus[0]), float(focus[1])) if focus is not None else None
    look = (str(m.get("motion", "zoom_in")), str(m.get("strength", "medium")))
    return (
        str(path),
        st.st_size,
        st.st_mtime_ns,
        size,
        str(m.get("fit", "cover")),
        look,
        where,
        fast,
    )


def too_wide(box: tuple[float, float, float, float], src: tuple[int, int], w: int, h: int) -> bool:
    """Whether the subject's box (0..1 of a `src`-sized image) is wider or taller than a crop
    to (w, h)'s aspect can hold inside its margins: such a subject is shown whole instead."""
    _, _, cw, ch = cover_window(src, w, h)
    room = 1.0 - 2 * MARGIN
    return box[2] - box[0] > room * cw / src[0] or box[3] - box[1] > room * ch / src[1]


def parallax_look(
    fitted: np.ndarray,
    n: int,
    strength: str,
    easing: str,
    focus: tuple[float, float] | None,
    box: tuple[float, float, float, float] | None = None,
    *,
    fast: bool = False,
    canvas: tuple[int, int] | None = None,
    face: bool = False,
) -> ParallaxLook | None:
    """The 2.5D look of a fitted image, or None when no foreground can be separated (`fast`:
    a draft's, cut out and filled smaller, its layer blended in 8 bits). With the subject's
    `box` (0..1 of the image) it aims at the layer's centre and keeps the box in frame. On a
    `canvas` (w, h) the layer moves off its hole by at most parallax.uncover_limit pixels.
    `face`: the box is a face's, and the layer that person."""
    from tui.engine.render.parallax import split_layers, uncover_limit

    layers = split_layers(fitted, fast=fast, face=box if face else None)
    if layers is None:
        return None
    background, alpha, centre = layers
    aim = centre if box is not None or focus is None else focus
    bg, fg = parallax_paths(n, strength, easing, aim, box)
    if canvas is not None:
        edge = _layer_box(alpha)
        limit = uncover_limit(*canvas)
        gain = PARALLAX_GAIN
        for _ in range(8):  # the offset grows about as gain - 1 does: a step or two
            off = _uncovered(bg, fg, edge, canvas)
            if off <= limit:
                break
            gain = 1.0 + (gain - 1.0) * min(0.9, limit / off)
            bg, fg = parallax_paths(n, strength, easing, aim, box, gain)
        else:
            bg, fg = parallax_paths(n, strength, easing, aim, box, 1.0)
    return ParallaxLook(stage_of(background), layer_of(fitted, alpha, fast), bg, fg)


def _layer_box(alpha: np.ndarray) -> tuple[float, float, float, float]:
    """The bounds of where the layer shows, 0..1 of it."""
    ys, xs = np.nonzero(alpha > 0.5)
    h, w = alpha.shape
    if not len(xs):
        return 0.5, 0.5, 0.5, 0.5
    return xs.min() / w, ys.min() / h, (xs.max() + 1) / w, (ys.max() + 1) / h


def _uncovered(
    bg: CameraPath, fg: CameraPath, box: tuple[float, float, float, float], canvas: tuple[int, int]
) -> float:
    """The most (canvas pixels) any corner of the layer's bounds is drawn off its place on the
    background, over the whole path: the widest strip of the hole it can uncover."""
    most = 0.0
    for (i, j), size in (((0, 2), canvas[0]), ((1, 3), canvas[1])):
        cb, cf = (bg.cx, fg.cx) if i == 0 else (bg.cy, fg.cy)
        for p in (box[i], box[j]):
            off = ((p - cf) * fg.zoom - (p - cb) * bg.zoom) * size
            most = max(most, float(np.abs(off).max()))
    return most


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
        # A segment running to the clip's end fades with the clip (below); others over 1 s.
        fade_out = 0.0 if start_s + length >= canvas.seconds - 1e-6 else 1.0
        bed += audio_mod.place(
            track, total, round(start_s * audio_mod.RATE), volume, fade_out=fade_out
        )
    _fade_music(bed, canvas)
    np.clip(bed, -1.0, 1.0, out=bed)
    return bed


def _soundtrack(draft: Mapping, media: Mapping[str, Path], canvas: Canvas) -> np.ndarray | None:
    """The clip's audio: the music track, and the video segments' own sound played with their
    pictures (see soundtrack.py); None when there is neither (the MP4 then has no audio)."""
    music = _music(draft, media, canvas)
    shots = _plan_shots(_tracks(draft, 0), canvas.fps, canvas.frames)
    spans = [(s.first, s.last, s.seg, s.fade) for s in shots]
    total = round(canvas.seconds * audio_mod.RATE)
    sound = soundtrack.shots_sound(spans, media, canvas.fps, total)
    return soundtrack.mix(
        music, sound, fade_in_ms=canvas.fade_in_ms, fade_out_ms=canvas.fade_out_ms
    )


def _fade_music(bed: np.ndarray, canvas: Canvas) -> None:
    """The clip's fades on the music, in place: in over `fade_in_ms` (with the picture), out
    over the last second or `fade_out_ms` when longer; raised-cosine ramps, so the ends meet
    true silence without a click."""
    total = bed.shape[1]
    n_in = min(total, round(canvas.fade_in_ms * audio_mod.RATE / 1000))
    n_out = min(total, round(max(1000, canvas.fade_out_ms) * audio_mod.RATE / 1000))
    if n_in > 0:
        bed[:, :n_in] *= (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n_in))).astype(np.float32)
    if n_out > 0:
        bed[:, -n_out:] *= (0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, n_out))).astype(np.float32)


def _check(draft: Mapping, quality: str) -> None:
    if quality not in TIERS:
        raise RenderError(f"unknown quality {quality!r} (use {tier_list()})")
    if not _tracks(draft, 0) and not _tracks(draft, 7):
        raise RenderError("the timeline is empty: add an image first")


def render_draft(
    draft: Mapping,
    media: Mapping[str, Path],
    out: Path,
    *,
    quality: str = DEFAULT_TIER,
    progress: Callable[[float], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> RenderResult:
    """Render `draft` to `out` (written under a temporary name, then renamed into place).

    `progress` gets the fraction done (0..1); `cancel` is polled every few frames and, when it
    returns True, the render stops with RenderCancelled and leaves no file behind.
    """
    started = time.perf_counter()
    _check(draft, quality)
    canvas = canvas_of(draft, quality)
    if quality != DRAFT:
        # An export's own peak is what a worker's memory is sized for (a 24 MP photo: ~510 MB,
        # ~585 MB beside two kept photos): the drafts' photos go, the next draft decodes again.
        STILLS.clear()
    maker = _FrameMaker(draft, media, canvas, fast=quality == DRAFT)
    out = Path(out)
    tmp = writing_path(out)  # (the live stream of a draft reads it as it grows)
    try:
        sound = _soundtrack(draft, media, canvas)  # made while the first stage is being prepared
        _encode(maker, sound, canvas, tmp, quality, progress, cancel)
        os.replace(tmp, out)
    finally:
        maker.close()
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


def render_still(
    draft: Mapping,
    media: Mapping[str, Path],
    t_seconds: float,
    out_png: Path,
    *,
    quality: str = DEFAULT_TIER,
) -> Path:
    """A PNG of the frame shown at `t_seconds` (clamped to the clip), converted with BT.709."""
    _check(draft, quality)
    canvas = canvas_of(draft, quality)
    i = min(canvas.frames - 1, max(0, int(float(t_seconds) * canvas.fps + 1e-6)))
    maker = _FrameMaker(draft, media, canvas, start=i, fast=quality == DRAFT)
    try:
        buf = np.empty((canvas.height * 3 // 2, canvas.width), np.uint8)
        maker.frame(i, buf)
    finally:
        maker.close()
    rgb = av.VideoFrame.from_numpy_buffer(buf, format="yuv420p").to_ndarray(
        format="rgb24", src_colorspace="ITU709", dst_colorspace="ITU709"
    )
    out_png = Path(out_png)
    tmp = writing_path(out_png)
    try:
        Image.fromarray(rgb).save(tmp, format="PNG")
        os.replace(tmp, out_png)
    finally:
        tmp.unlink(missing_ok=True)
    return out_png


def _open_output(path: Path, canvas: Canvas, quality: str, audio: bool):
    q = QUALITY[quality]
    container = av.open(str(path), "w", format="mp4", options=MUXING[quality == DRAFT])
    vs = container.add_stream("libx264", rate=canvas.fps)
    vs.width, vs.height = canvas.width, canvas.height
    vs.pix_fmt = "yuv420p"
    vs.time_base = Fraction(1, canvas.fps)
    cc = vs.codec_context
    cc.thread_type = "FRAME"  # x264 frame threads: ~20 % faster than slices here
    cc.thread_count = 0
    cc.colorspace = av.video.reformatter.Colorspace.ITU709
    cc.color_primaries = 1  # BT.709
    cc.color_trc = 1  # BT.709
    cc.color_range = av.video.reformatter.ColorRange.MPEG
    params = "colorprim=bt709:transfer=bt709:colormatrix=bt709:range=tv"
    asm = x264_asm()  # (not AVX-512: the same frames must give the same file, see x264_cpu)
    vs.options = {
        "preset": q["preset"],
        **({"qp": q["qp"]} if "qp" in q else {"crf": q["crf"]}),  # the tier's rate control
        "profile": "high",
        "x264-params": ":".join(p for p in (params, q.get("x264"), asm and f"asm={asm}") if p),
    }
    astream = None
    if audio:
        astream = container.add_stream("aac", rate=audio_mod.RATE)
        astream.layout = "stereo"
        astream.time_base = Fraction(1, audio_mod.RATE)
    # Open the encoders and write the header now, while the first stage is still being
    # decoded, rather than in the first frame's encode call.
    container.start_encoding()
    return container, vs, astream


def encode_frames(frames, canvas: Canvas, path: Path, quality: str) -> None:
    """Encode ready yuv420p buffers with the render's very settings (the benchmark's floor)."""
    container, vs, _ = _open_output(path, canvas, quality, audio=False)
    try:
        for i, buf in enumerate(frames):
            vf = av.VideoFrame.from_numpy_buffer(buf, format="yuv420p")
            vf.pts = i
            vf.colorspace = vs.codec_context.colorspace
            vf.color_range = vs.codec_context.color_range
            for pkt in vs.encode(vf):
                container.mux(pkt)
        for pkt in vs.encode(None):
            container.mux(pkt)
    finally:
        container.close()


def _encode(
    maker: _FrameMaker,
    audio: np.ndarray | None,
    canvas: Canvas,
    path: Path,
    quality: str,
    progress: Callable[[float], None] | None,
    cancel: Callable[[], bool] | None,
) -> None:
    """Frames are made on a helper thread into a small ring of buffers that the encoder reads
    in place (no per-frame allocation or copy); x264 copies each picture in as it is sent, so
    a buffer goes back to the ring as soon as `encode` returns."""
    w, h, n = canvas.width, canvas.height, canvas.frames
    container, vs, astream = _open_output(path, canvas, quality, audio is not None)
    try:
        cc = vs.codec_context
        audio_pos = 0
        ready: queue.Queue = queue.Queue()
        free: queue.Queue = queue.Queue()
        for _ in range(RING):
            free.put(np.empty((h * 3 // 2, w), dtype=np.uint8))
        stop = threading.Event()

        def produce() -> None:
            try:
                for i in range(n):
                    buf = free.get()
                    if stop.is_set() or buf is None:
                        return
                    maker.frame(i, buf)
                    ready.put(buf)
            except BaseException as exc:  # handed to the encoding thread
                ready.put(exc)

        producer = threading.Thread(target=produce, name="i2v-frames", daemon=True)
        producer.start()
        try:
            for i in range(n):
                if cancel is not None and i % 8 == 0 and cancel():
                    raise RenderCancelled("render cancelled")
                item = ready.get()
                if isinstance(item, BaseException):
                    raise item
                vf = av.VideoFrame.from_numpy_buffer(item, format="yuv420p")
                vf.pts = i
                vf.colorspace = cc.colorspace
                vf.color_range = cc.color_range
                for pkt in vs.encode(vf):
                    container.mux(pkt)
                del vf
                free.put(item)
                if astream is not None and audio is not None:
                    until = min(audio.shape[1], int((i + 1) * audio_mod.RATE / canvas.fps))
                    audio_pos = _feed_audio(container, astream, audio, audio_pos, until)
                if progress is not None and (i % 10 == 0 or i == n - 1):
                    progress((i + 1) / n)
        finally:
            stop.set()
            free.put(None)
            producer.join()
        for pkt in vs.encode(None):
            container.mux(pkt)
        if astream is not None and audio is not None:
            _feed_audio(container, astream, audio, audio_pos, audio.shape[1], final=True)
            for pkt in astream.encode(None):
                container.mux(pkt)
    finally:
        container.close()


def _feed_audio(container, stream, audio: np.ndarray, pos: int, until: int, final=False) -> int:
    """Encode whole AAC frames of `audio` up to `until` (the tail too when `final`)."""
    while until - pos >= AAC_FRAME or (final and pos < until):
        end = min(pos + AAC_FRAME, until)
        chunk = np.ascontiguousarray(audio[:, pos:end])
        af = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
        af.sample_rate = audio_mod.RATE
        af.pts = pos
        for pkt in stream.encode(af):
            container.mux(pkt)
        pos = end
    return pos
