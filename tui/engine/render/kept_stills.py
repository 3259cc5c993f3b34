"""Stills decoded for draft previews, kept in the render worker between them.

A draft of a photo already previewed but framed another way (another aspect, motion, focus or
fit) skips decoding it and searching it for its subject; and the engine has an idle worker decode
a photo as soon as it is uploaded (`prepare`, worker.py), so the first preview after the turn that
follows finds it decoded too. (A draft framed the very same way again skips more: its whole stage
is kept, see pipeline._Prepared.)

What is kept is the image reduced by a whole factor (libjpeg's DCT scaling, else k x k means) as
far as its sides stay at least KEPT_SIDE: any draft's stage (540 px on its short side, times its
path's zoom, its crop to another aspect included) is drawn from it without enlarging it. A draft
that needs more, or an image kept at over MAX_KEPT_PIXELS, decodes the file itself as before.
An export lets them all go (pipeline.render_draft): its own peak is what a worker is sized for.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import cv2
import numpy as np

from tui.engine.render.saliency import Subject, find_subject
from tui.engine.render.sources import load_image

KEPT_SIDE = 1440  # px: at least this on both sides, unless the image itself is smaller
MAX_KEPT_PIXELS = 9_000_000  # 27 MB of RGB (a 3840x2160 photo whole): larger is not kept
KEPT = 2  # stills kept per worker (I2V_ENGINE_STILL_CACHE)


class Still:
    """A decoded still (upright RGB, read-only) and, once asked for, its subject."""

    def __init__(self, rgb: np.ndarray, whole: bool) -> None:
        self.rgb = rgb
        self.whole = whole  # at the image's own size: covers any need
        self._subject: Subject | None = None
        self._lock = threading.Lock()

    def covers(self, need: tuple[int, int]) -> bool:
        h, w = self.rgb.shape[:2]
        return self.whole or (w >= need[0] and h >= need[1])

    def subject(self) -> Subject:
        """find_subject(rgb), found once (a second caller waits for the first's answer)."""
        with self._lock:
            if self._subject is None:
                self._subject = find_subject(self.rgb)
            return self._subject


class KeptStills:
    """The last few stills decoded for drafts, by file (path, size and modification time)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.decoded = 0  # files decoded here (a kept one's reuse does not count)
        self._items: dict[tuple, Still] = {}
        self._lock = threading.Lock()

    def still(self, path: Path, need: tuple[int, int] = (0, 0)) -> Still:
        """`path` decoded, covering `need` (the smallest upright size the caller will use): the
        kept one when it covers it, else decoded now (and kept, if small enough)."""
        key = _key(path)
        with self._lock:
            kept = self._items.pop(key, None) if key is not None else None
            if kept is not None:
                self._items[key] = kept  # the most recent last
        if kept is not None and kept.covers(need):
            return kept
        want = (max(need[0], KEPT_SIDE), max(need[1], KEPT_SIDE))
        rgb = _reduced(load_image(path, need=want), want)
        h, w = rgb.shape[:2]
        still = Still(rgb, whole=_is_whole(path, (w, h)))
        with self._lock:
            self.decoded += 1
            if key is not None and self.size > 0 and w * h <= MAX_KEPT_PIXELS:
                self._items.pop(key, None)
                self._items[key] = still
                while len(self._items) > self.size:
                    self._items.pop(next(iter(self._items)))
        return still

    def prepare(self, path: Path) -> bool:
        """Decode `path` and find its subject now, for the drafts to come; False if it was
        kept already."""
        before = self.decoded
        self.still(path).subject()
        return self.decoded != before

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def _key(path: Path) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return str(path), st.st_size, st.st_mtime_ns


def _reduced(rgb: np.ndarray, want: tuple[int, int]) -> np.ndarray:
    """`rgb` reduced by the largest whole factor that keeps it at least `want`."""
    h, w = rgb.shape[:2]
    k = min(w // max(1, want[0]), h // max(1, want[1]))
    if k < 2:
        return rgb
    cropped = rgb[: h - h % k, : w - w % k]  # (k x k means: INTER_AREA's fast path)
    small = cv2.resize(cropped, (w // k, h // k), interpolation=cv2.INTER_AREA)
    small.flags.writeable = False
    return small


def _is_whole(path: Path, size: tuple[int, int]) -> bool:
    """Whether `size` (upright) is the image's own: nothing was reduced."""
    from PIL import Image

    try:
        with Image.open(path) as img:  # (the header only)
            w, h = img.size
    except Exception:
        return False
    return size in ((w, h), (h, w))


def _kept() -> int:
    try:
        return max(0, int(os.environ.get("I2V_ENGINE_STILL_CACHE", KEPT)))
    except ValueError:
        return KEPT


STILLS = KeptStills(_kept())
