"""Camera paths: per frame, a zoom and a view centre over the stage (the fitted image).

Coordinates are normalised: the stage spans 0..1 both ways, a zoom of z shows 1/z of it, centred
on (cx, cy). Paths are continuous functions of time sampled per frame (never rounded), so motion
is sub-pixel and smooth.

Every path is built so that it never needs clamping (a clamp would put a kink in the motion):
- zooms keep an anchor point fixed on screen (c = a - (a - 0.5) / z), which stays inside the
  stage for any anchor in 0..1 and any z >= 1;
- pans and Ken Burns interpolate z and q = c * z linearly in the eased time between two views
  inside the stage. A stage point p is on screen at (p - c) * z = p * z - q, linear in z and q,
  so every point moves one way only (no point ever turns back); and "inside the stage"
  (q >= 0.5 and q + 0.5 <= z) is linear in (z, q), so every view in between is inside too.

The subject's box (when known) stays on screen, MARGIN from every edge, by the same argument:
its edges' screen positions are linear in (z, q), so a path whose two ends keep it in keeps it in
all along. Anchors and pan ends are chosen for that; a box too big for the zoom lowers the zoom,
and one too big for the frame is kept centred.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MOTIONS = (
    "zoom_in",
    "zoom_out",
    "pan_left",
    "pan_right",
    "pan_up",
    "pan_down",
    "ken_burns",
    "static",
    "parallax",
)
STRENGTHS = {"subtle": 0.08, "medium": 0.15, "strong": 0.3}
EASINGS = ("ease", "linear")
# In a parallax shot the foreground moves this many times as far as the background.
PARALLAX_GAIN = 2.2
PARALLAX_PUSH = 0.25  # and grows this much more (times the strength), as a near object would
MARGIN = 0.04  # of the frame: how far the subject's box keeps from every edge
Box = tuple[float, float, float, float]  # (x0, y0, x1, y1), 0..1 of the stage


@dataclass(frozen=True)
class CameraPath:
    zoom: np.ndarray  # (n,) >= 1
    cx: np.ndarray  # (n,) view centre, 0..1
    cy: np.ndarray

    @property
    def max_zoom(self) -> float:
        return float(self.zoom.max()) if len(self.zoom) else 1.0

    def __len__(self) -> int:
        return len(self.zoom)


def ease(t: np.ndarray, easing: str) -> np.ndarray:
    if easing == "linear":
        return t
    return 0.5 - 0.5 * np.cos(np.pi * t)  # ease in-out: zero velocity at both ends


def _between(
    z0: float, z1: float, e: np.ndarray, a0: tuple[float, float], a1: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Centres from the view anchored at a0 (zoom z0) to the one anchored at a1 (zoom z1),
    with z and q = c * z linear in `e`: every stage point moves one way on screen."""
    z = z0 + (z1 - z0) * e
    out = []
    for k in range(2):
        q0 = _anchored(a0[k], np.float64(z0)) * z0
        q1 = _anchored(a1[k], np.float64(z1)) * z1
        out.append((q0 + (q1 - q0) * e) / z)
    return out[0], out[1]


def _anchored(a: float, z: np.ndarray) -> np.ndarray:
    """View centre that keeps stage point `a` where it is on screen at zoom 1."""
    return a - (a - 0.5) / z


def _anchor_in(a: float, lo: float, hi: float, z: float) -> float:
    """The anchor nearest `a` that keeps the box's span [lo, hi] (one axis) MARGIN inside the
    screen at zoom z (stage point p is on screen at a + (p - a) z); if none does, the one that
    centres the span. Always in 0..1, so the view stays inside the stage."""
    if z <= 1.0 + 1e-9:
        return float(np.clip(a, 0.0, 1.0))
    least = (hi * z - (1.0 - MARGIN)) / (z - 1.0)
    most = (lo * z - MARGIN) / (z - 1.0)
    if least <= most:
        return float(np.clip(a, max(0.0, least), min(1.0, most)))
    return float(np.clip(((lo + hi) / 2 * z - 0.5) / (z - 1.0), 0.0, 1.0))


def _room(box: Box | None, amount: float, scale: float = 1.0) -> float:
    """The zoom amount, lowered (to no less than a third of it) so that at a zoom of
    1 + scale * amount the box still fits inside the margins."""
    if box is None:
        return amount
    span = max(box[2] - box[0], box[3] - box[1], 1e-6)
    fits = ((1.0 - 2 * MARGIN) / span - 1.0) / scale
    return max(amount / 3, min(amount, fits))


def _pan_span(z: float, box: tuple[float, float] | None) -> tuple[float, float]:
    """Where a pan's view centre may go, one axis, at zoom z: inside the stage and, with a box
    span, where the box stays MARGIN inside the screen; a box too wide pins it on its middle."""
    half = 0.5 / z
    a, b = half, 1.0 - half
    if box is None:
        return a, b
    reach = (0.5 - MARGIN) / z
    a2, b2 = max(a, box[1] - reach), min(b, box[0] + reach)
    if a2 > b2:
        mid = float(np.clip((box[0] + box[1]) / 2, a, b))
        return mid, mid
    return a2, b2


def in_frame(path: CameraPath, box: Box, slack: float = 1e-6) -> bool:
    """Whether the box stays MARGIN inside the screen in every frame of the path."""
    ok = True
    for lo, hi, c in ((box[0], box[2], path.cx), (box[1], box[3], path.cy)):
        ok &= bool(np.all((lo - c) * path.zoom + 0.5 >= MARGIN - slack))
        ok &= bool(np.all((hi - c) * path.zoom + 0.5 <= 1.0 - MARGIN + slack))
    return ok


def max_zoom_of(motion: str, strength: str = "medium") -> float:
    """The largest zoom a path uses (the stage is built this much larger than the canvas)."""
    amount = STRENGTHS.get(strength, STRENGTHS["medium"])
    if motion == "static":
        return 1.0
    if motion == "ken_burns":
        return 1.0 + 1.5 * amount
    if motion == "parallax":  # the foreground's zoom; ken_burns is its fallback
        return max((1.0 + amount) * (1.0 + PARALLAX_PUSH * amount), 1.0 + 1.5 * amount)
    return 1.0 + amount


def camera_path(
    n: int,
    motion: str = "zoom_in",
    strength: str = "medium",
    easing: str = "ease",
    focus: tuple[float, float] = (0.5, 0.5),
    box: Box | None = None,
) -> CameraPath:
    """The camera over `n` frames; `focus` (0..1 on the stage) is where the motion aims, and
    `box` (0..1 on the stage), the subject's, stays in frame (see the module's notes)."""
    n = max(1, int(n))
    amount = STRENGTHS.get(strength, STRENGTHS["medium"])
    t = np.linspace(0.0, 1.0, n) if n > 1 else np.zeros(1)
    e = ease(t, easing)
    fx = float(np.clip(focus[0], 0.0, 1.0))
    fy = float(np.clip(focus[1], 0.0, 1.0))
    one = np.ones_like(e)
    bx = (box[0], box[2]) if box is not None else None
    by = (box[1], box[3]) if box is not None else None

    def anchor(a: float, span: tuple[float, float] | None, zoom: float) -> float:
        return a if span is None else _anchor_in(a, span[0], span[1], zoom)

    if motion in ("zoom_in", "zoom_out"):
        amount = _room(box, amount)
        z = 1.0 + amount * (e if motion == "zoom_in" else 1.0 - e)
        # The anchor stays put on screen and the box's edges move linearly in z: kept in at
        # the largest zoom, the box is kept in all along.
        ax, ay = anchor(fx, bx, 1.0 + amount), anchor(fy, by, 1.0 + amount)
        cx, cy = _anchored(ax, z), _anchored(ay, z)
    elif motion in ("pan_left", "pan_right", "pan_up", "pan_down"):
        zp = 1.0 + _room(box, amount)
        z = zp * one
        # The pan sweeps the stretch where the subject is on screen (all of the stage without
        # one); across it, the view sits as near the subject as the zoom allows.
        along, across = (bx, by) if motion in ("pan_left", "pan_right") else (by, bx)
        lo, hi = _pan_span(zp, along)
        c = fy if motion in ("pan_left", "pan_right") else fx
        a0, a1 = _pan_span(zp, across)
        side = float(np.clip(_anchored(c, np.float64(zp)), a0, a1)) * one
        if motion == "pan_left":  # the camera moves left: content slides right
            cx, cy = hi + (lo - hi) * e, side
        elif motion == "pan_right":
            cx, cy = lo + (hi - lo) * e, side
        elif motion == "pan_up":
            cx, cy = side, hi + (lo - hi) * e
        else:
            cx, cy = side, lo + (hi - lo) * e
    elif motion == "ken_burns":
        amount = _room(box, amount, 1.5)
        z0, z1 = 1.0 + 0.5 * amount, 1.0 + 1.5 * amount
        z = z0 + (z1 - z0) * e
        # Drift from the far side toward the subject; a centred subject gets a gentle diagonal.
        sx = 1.0 - fx if abs(fx - 0.5) > 0.08 else 0.2
        sy = 1.0 - fy if abs(fy - 0.5) > 0.08 else 0.7
        start = (anchor(sx, bx, z0), anchor(sy, by, z0))
        cx, cy = _between(z0, z1, e, start, (anchor(fx, bx, z1), anchor(fy, by, z1)))
    elif motion == "parallax":
        return parallax_paths(n, strength, easing, (fx, fy), box)[0]
    else:  # static
        z, cx, cy = one.copy(), 0.5 * one, 0.5 * one
    z = np.asarray(z, dtype=np.float64)
    cx, cy = _clamp_centre(z, np.asarray(cx, np.float64) * one, np.asarray(cy, np.float64) * one)
    return CameraPath(z, cx, cy)


def parallax_paths(
    n: int,
    strength: str = "medium",
    easing: str = "ease",
    focus: tuple[float, float] = (0.5, 0.5),
    box: Box | None = None,
    gain: float = PARALLAX_GAIN,
) -> tuple[CameraPath, CameraPath]:
    """Background and foreground paths of a 2.5D parallax shot.

    The camera drifts sideways so that the subject moves toward the middle, with a slight push
    in; the foreground layer moves PARALLAX_GAIN times as far as the background, and grows a
    little more, as a near object would. With a box, the drift and then the push are cut back
    until the box stays in frame in both layers, and then the whole move (its zoom too: a box
    nearly as wide as the crop fits no zoomed view), down to none. A lower `gain` (down to 1:
    no parallax) moves the layer less off the background, and pushes it in less in proportion.
    """
    tries = ((1.0, 1.0, 1.0), (0.5, 1.0, 1.0), (0.25, 1.0, 1.0), (0.0, 1.0, 1.0))
    tries += ((0.0, 0.5, 1.0), (0.0, 0.0, 1.0), (0.0, 0.0, 0.5), (0.0, 0.0, 0.25), (0, 0, 0))
    for drift, push, calm in tries if box is not None else tries[:1]:
        bg, fg = _parallax(n, strength, easing, focus, box, drift, push, gain, calm)
        if box is None or (in_frame(bg, box) and in_frame(fg, box)):
            break
    return bg, fg


def _parallax(
    n: int,
    strength: str,
    easing: str,
    focus: tuple[float, float],
    box: Box | None,
    drift: float,
    push: float,
    gain: float = PARALLAX_GAIN,
    calm: float = 1.0,
) -> tuple[CameraPath, CameraPath]:
    n = max(1, int(n))
    push *= (gain - 1.0) / (PARALLAX_GAIN - 1.0)
    amount = STRENGTHS.get(strength, STRENGTHS["medium"]) * calm
    t = np.linspace(0.0, 1.0, n) if n > 1 else np.zeros(1)
    e = ease(t, easing)
    z0, z1 = 1.0 + 0.6 * amount, 1.0 + amount
    zb = z0 + (z1 - z0) * e
    fx = float(np.clip(focus[0], 0.0, 1.0))
    fy = float(np.clip(focus[1], 0.0, 1.0))
    if box is not None:  # points held still (before the drift) that keep the box in at the end
        most = z1 * (1.0 + PARALLAX_PUSH * amount * push)
        fx, fy = _anchor_in(fx, box[0], box[2], most), _anchor_in(fy, box[1], box[3], most)
    # In the background, the subject's point crosses 0.6 x strength of the screen toward the
    # middle. With z and q = c * z linear in time every point moves one way, and the view stays
    # inside the stage if it does at both ends: the subject's screen position u must lie in
    # [1 - (1 - fx) z, fx z] there.
    d = 0.3 * amount * drift * (-1.0 if fx > 0.5 else 1.0)
    u0 = float(np.clip(fx - d, 1.0 - (1.0 - fx) * z0, fx * z0))
    u1 = float(np.clip(fx + d, 1.0 - (1.0 - fx) * z1, fx * z1))
    ub_path = u0 + (u1 - u0) * e
    cbx = fx - (ub_path - 0.5) / zb
    cby = _anchored(fy, zb)
    bg = CameraPath(zb, *_clamp_centre(zb, cbx, cby))
    # Foreground: measured from the subject, it shifts PARALLAX_GAIN times as far on screen.
    zf = zb * (1.0 + PARALLAX_PUSH * amount * push * e)
    # Screen position of the subject in the background: (f - cb) * zb + 0.5; the foreground
    # subject moves PARALLAX_GAIN times that displacement from its start.
    ub = (fx - bg.cx) * zb + 0.5
    uf = ub[0] + gain * (ub - ub[0])
    cfx = fx - (uf - 0.5) / zf
    vb = (fy - bg.cy) * zb + 0.5
    vf = vb[0] + gain * (vb - vb[0])
    cfy = fy - (vf - 0.5) / zf
    return bg, CameraPath(zf, cfx, cfy)


def _clamp_centre(z: np.ndarray, cx: np.ndarray, cy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    half = 0.5 / z
    return np.clip(cx, half, 1.0 - half), np.clip(cy, half, 1.0 - half)
