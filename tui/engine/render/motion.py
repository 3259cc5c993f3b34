"""Camera paths: per frame, a zoom and a view centre over the stage (the fitted image).

Coordinates are normalised: the stage spans 0..1 both ways, a zoom of z shows 1/z of it.
Paths are continuous functions of time sampled per frame, so motion is sub-pixel and smooth.
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


@dataclass(frozen=True)
class CameraPath:
    zoom: np.ndarray  # (n,) >= 1
    cx: np.ndarray  # (n,) view centre, 0..1
    cy: np.ndarray

    @property
    def max_zoom(self) -> float:
        return float(self.zoom.max()) if len(self.zoom) else 1.0


def ease(t: np.ndarray, easing: str) -> np.ndarray:
    if easing == "linear":
        return t
    return 0.5 - 0.5 * np.cos(np.pi * t)  # ease in-out: zero velocity at both ends


def camera_path(
    n: int,
    motion: str = "zoom_in",
    strength: str = "medium",
    easing: str = "ease",
    focus: tuple[float, float] = (0.5, 0.5),
) -> CameraPath:
    amount = STRENGTHS.get(strength, STRENGTHS["medium"])
    t = np.linspace(0.0, 1.0, n) if n > 1 else np.zeros(max(n, 1))
    e = ease(t, easing)
    fx, fy = focus
    one = np.ones_like(e)
    if motion == "zoom_in":
        z = 1.0 + amount * e
        cx, cy = 0.5 + (fx - 0.5) * e, 0.5 + (fy - 0.5) * e
    elif motion == "zoom_out":
        z = 1.0 + amount * (1.0 - e)
        cx, cy = 0.5 + (fx - 0.5) * (1 - e), 0.5 + (fy - 0.5) * (1 - e)
    elif motion in ("pan_left", "pan_right", "pan_up", "pan_down"):
        z = (1.0 + amount) * one
        half = 0.5 / (1.0 + amount)
        lo, hi = half, 1.0 - half
        if motion == "pan_left":  # the camera moves left: content slides right
            cx, cy = hi + (lo - hi) * e, fy * one
        elif motion == "pan_right":
            cx, cy = lo + (hi - lo) * e, fy * one
        elif motion == "pan_up":
            cx, cy = fx * one, hi + (lo - hi) * e
        else:
            cx, cy = fx * one, lo + (hi - lo) * e
    elif motion == "ken_burns":
        z = 1.0 + amount * e
        sx, sy = 1.0 - fx, 1.0 - fy  # drift from the far side toward the subject
        cx = 0.5 + (sx - 0.5) * 0.3 * (1 - e) + (fx - 0.5) * 0.3 * e
        cy = 0.5 + (sy - 0.5) * 0.3 * (1 - e) + (fy - 0.5) * 0.3 * e
    else:  # static (parallax falls back here until its layers exist)
        z, cx, cy = one.copy(), 0.5 * one, 0.5 * one
    cx, cy = _clamp_centre(z, np.asarray(cx, dtype=np.float64), np.asarray(cy, dtype=np.float64))
    return CameraPath(np.asarray(z, dtype=np.float64)[:n], cx[:n], cy[:n])


def _clamp_centre(z: np.ndarray, cx: np.ndarray, cy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    half = 0.5 / z
    return np.clip(cx, half, 1.0 - half), np.clip(cy, half, 1.0 - half)
