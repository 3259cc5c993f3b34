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
) -> CameraPath:
    """The camera over `n` frames; `focus` (0..1 on the stage) is where the motion aims."""
    n = max(1, int(n))
    amount = STRENGTHS.get(strength, STRENGTHS["medium"])
    t = np.linspace(0.0, 1.0, n) if n > 1 else np.zeros(1)
    e = ease(t, easing)
    fx = float(np.clip(focus[0], 0.0, 1.0))
    fy = float(np.clip(focus[1], 0.0, 1.0))
    one = np.ones_like(e)
    if motion in ("zoom_in", "zoom_out"):
        z = 1.0 + amount * (e if motion == "zoom_in" else 1.0 - e)
        cx, cy = _anchored(fx, z), _anchored(fy, z)
    elif motion in ("pan_left", "pan_right", "pan_up", "pan_down"):
        z = (1.0 + amount) * one
        half = 0.5 / (1.0 + amount)
        lo, hi = half, 1.0 - half
        # Across the pan, the view sits as near the subject as the zoom allows.
        ax, ay = _anchored(fx, z), _anchored(fy, z)
        if motion == "pan_left":  # the camera moves left: content slides right
            cx, cy = hi + (lo - hi) * e, ay
        elif motion == "pan_right":
            cx, cy = lo + (hi - lo) * e, ay
        elif motion == "pan_up":
            cx, cy = ax, hi + (lo - hi) * e
        else:
            cx, cy = ax, lo + (hi - lo) * e
    elif motion == "ken_burns":
        z0, z1 = 1.0 + 0.5 * amount, 1.0 + 1.5 * amount
        z = z0 + (z1 - z0) * e
        # Drift from the far side toward the subject; a centred subject gets a gentle diagonal.
        sx = 1.0 - fx if abs(fx - 0.5) > 0.08 else 0.2
        sy = 1.0 - fy if abs(fy - 0.5) > 0.08 else 0.7
        cx, cy = _between(z0, z1, e, (sx, sy), (fx, fy))
    elif motion == "parallax":
        return parallax_paths(n, strength, easing, (fx, fy))[0]
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
) -> tuple[CameraPath, CameraPath]:
    """Background and foreground paths of a 2.5D parallax shot.

    The camera drifts sideways so that the subject moves toward the middle, with a slight push
    in; the foreground layer moves PARALLAX_GAIN times as far
    as the background, and grows a little more, as a near object would.
    """
    n = max(1, int(n))
    amount = STRENGTHS.get(strength, STRENGTHS["medium"])
    t = np.linspace(0.0, 1.0, n) if n > 1 else np.zeros(1)
    e = ease(t, easing)
    z0, z1 = 1.0 + 0.6 * amount, 1.0 + amount
    zb = z0 + (z1 - z0) * e
    fx = float(np.clip(focus[0], 0.0, 1.0))
    fy = float(np.clip(focus[1], 0.0, 1.0))
    # In the background, the subject's point crosses 0.6 x strength of the screen toward the
    # middle. With z and q = c * z linear in time every point moves one way, and the view stays
    # inside the stage if it does at both ends: the subject's screen position u must lie in
    # [1 - (1 - fx) z, fx z] there.
    d = 0.3 * amount * (-1.0 if fx > 0.5 else 1.0)
    u0 = float(np.clip(fx - d, 1.0 - (1.0 - fx) * z0, fx * z0))
    u1 = float(np.clip(fx + d, 1.0 - (1.0 - fx) * z1, fx * z1))
    ub_path = u0 + (u1 - u0) * e
    cbx = fx - (ub_path - 0.5) / zb
    cby = _anchored(fy, zb)
    bg = CameraPath(zb, *_clamp_centre(zb, cbx, cby))
    # Foreground: measured from the subject, it shifts PARALLAX_GAIN times as far on screen.
    zf = zb * (1.0 + PARALLAX_PUSH * amount * e)
    # Screen position of the subject in the background: (f - cb) * zb + 0.5; the foreground
    # subject moves PARALLAX_GAIN times that displacement from its start.
    ub = (fx - bg.cx) * zb + 0.5
    uf = ub[0] + PARALLAX_GAIN * (ub - ub[0])
    cfx = fx - (uf - 0.5) / zf
    vb = (fy - bg.cy) * zb + 0.5
    vf = vb[0] + PARALLAX_GAIN * (vb - vb[0])
    cfy = fy - (vf - 0.5) / zf
    return bg, CameraPath(zf, cfx, cfy)


def _clamp_centre(z: np.ndarray, cx: np.ndarray, cy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    half = 0.5 / z
    return np.clip(cx, half, 1.0 - half), np.clip(cy, half, 1.0 - half)
