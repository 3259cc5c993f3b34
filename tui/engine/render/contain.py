"""Show the whole picture (`m.fit` = "contain"): the whole photo inside the canvas over a
blurred, darkened, enlarged copy of itself (as phone editors do), the motion moving the photo.

The backdrop stays still (a copy per frame). The photo is a layer the size of the canvas, opaque
over its fitted rectangle and clear elsewhere, seen through a path whose zoom is at most 1: the
photo is never drawn larger than it fits, so nothing of it is ever cut. As in motion.py, the zoom
k and q = c * k move linearly in eased time; the photo's rectangle [a, b] (one axis) is on screen
at (p - c) k + 0.5, inside it when b k - 0.5 <= q <= a k + 0.5, linear in (k, q): a path whose
two ends keep the photo whole keeps it whole in every frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tui.engine.render.motion import STRENGTHS, CameraPath, ease
from tui.engine.render.stage import (
    Layer,
    Stage,
    _resize,
    backdrop,
    composite_into,
    contain_rect,
    layer_of,
    stage_of,
    warp_into,
)

# Per motion: (k, ux, uy) at the start and at the end, k the photo's size (1: as large as it
# fits; `small` stands for 1 / (1 + strength)) and u where it sits in the room it has, 0 (left,
# top) .. 1 (right, bottom). A camera panning right slides the picture left, and so on.
_SMALL = -1.0
_ENDS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "zoom_in": ((_SMALL, 0.5, 0.5), (1.0, 0.5, 0.5)),
    "zoom_out": ((1.0, 0.5, 0.5), (_SMALL, 0.5, 0.5)),
    "pan_right": ((_SMALL, 1.0, 0.5), (_SMALL, 0.0, 0.5)),
    "pan_left": ((_SMALL, 0.0, 0.5), (_SMALL, 1.0, 0.5)),
    "pan_down": ((_SMALL, 0.5, 1.0), (_SMALL, 0.5, 0.0)),
    "pan_up": ((_SMALL, 0.5, 0.0), (_SMALL, 0.5, 1.0)),
    "ken_burns": ((_SMALL, 0.2, 0.75), (1.0, 0.5, 0.5)),
    "parallax": ((_SMALL, 0.5, 0.5), (1.0, 0.5, 0.5)),  # nothing to separate: a push in
    "static": ((1.0, 0.5, 0.5), (1.0, 0.5, 0.5)),
}


def contain_path(
    n: int,
    motion: str,
    strength: str,
    easing: str,
    rect: tuple[float, float, float, float],
) -> CameraPath:
    """The photo layer's path over `n` frames; `rect` is the photo's (x0, y0, x1, y1) on the
    layer, 0..1. Every frame shows the whole photo (see the module's notes)."""
    n = max(1, int(n))
    small = 1.0 / (1.0 + STRENGTHS.get(strength, STRENGTHS["medium"]))
    t = np.linspace(0.0, 1.0, n) if n > 1 else np.zeros(1)
    e = ease(t, easing)
    ends = []
    for k, ux, uy in _ENDS.get(motion, _ENDS["static"]):
        k = small if k == _SMALL else k
        qs = []
        for u, a, b in ((ux, rect[0], rect[2]), (uy, rect[1], rect[3])):
            lo, hi = b * k - 0.5, a * k + 0.5
            qs.append(hi - u * (hi - lo))  # a larger q puts the photo further left (up)
        ends.append((k, *qs))
    (k0, qx0, qy0), (k1, qx1, qy1) = ends
    z = k0 + (k1 - k0) * e
    return CameraPath(z, (qx0 + (qx1 - qx0) * e) / z, (qy0 + (qy1 - qy0) * e) / z)


@dataclass
class ContainLook:
    """The still backdrop, and the photo layer moving over it."""

    backdrop: Stage
    photo: Layer
    path: CameraPath
    scratch: list = field(default_factory=list)

    def draw(self, k: int, out: np.ndarray) -> None:
        p = self.path
        k = min(k, len(p) - 1)
        warp_into(self.backdrop, out, 1.0, 0.5, 0.5)  # the canvas's size: a copy
        composite_into(self.photo, out, p.zoom[k], p.cx[k], p.cy[k], self.scratch)

    def close(self) -> None:
        pass


@dataclass
class VideoContainLook:
    """A video shown whole: each source frame's backdrop and picture (`source.make` makes them
    with contain_parts), the picture moving by one path for the whole segment."""

    source: object  # a VideoSource whose stage_at(k) is (backdrop, layer, rect)
    path: CameraPath
    scratch: list = field(default_factory=list)

    def draw(self, k: int, out: np.ndarray) -> None:
        back, layer, _ = self.source.stage_at(k)  # type: ignore[attr-defined]
        p = self.path
        j = min(k, len(p) - 1)
        warp_into(back, out, 1.0, 0.5, 0.5)
        composite_into(layer, out, p.zoom[j], p.cx[j], p.cy[j], self.scratch)

    def close(self) -> None:
        self.source.close()  # type: ignore[attr-defined]


def contain_parts(
    rgb: np.ndarray, w: int, h: int, *, fast: bool = False
) -> tuple[Stage, Layer, tuple[float, float, float, float]]:
    """The backdrop, the photo's layer and the photo's rectangle (0..1) on a (w, h) canvas."""
    x0, y0, fw, fh = contain_rect((rgb.shape[1], rgb.shape[0]), w, h)
    back = backdrop(rgb, w, h)
    layer = back.copy()  # (outside the photo it is clear: premultiplied away)
    layer[y0 : y0 + fh, x0 : x0 + fw] = _resize(rgb, fw, fh, fast)
    alpha = np.zeros((h, w), np.float32)
    alpha[y0 : y0 + fh, x0 : x0 + fw] = 1.0
    rect = (x0 / w, y0 / h, (x0 + fw) / w, (y0 + fh) / h)
    return stage_of(back), layer_of(layer, alpha, fast=True), rect


def contain_look(
    rgb: np.ndarray,
    w: int,
    h: int,
    n: int,
    motion: str,
    strength: str,
    easing: str,
    *,
    fast: bool = False,
) -> ContainLook:
    """The look of an image shown whole on a (w, h) canvas, with the segment's motion (`fast`:
    a draft's resampling)."""
    back, layer, rect = contain_parts(rgb, w, h, fast=fast)
    return ContainLook(back, layer, contain_path(n, motion, strength, easing, rect))
