"""The stage: a source image fitted to the canvas aspect, held as BT.709 YUV planes.

It is built once per segment, at the canvas size times the path's largest zoom, so that every
frame is a single affine warp per plane with no per-frame colour conversion.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from tui.engine.render.colour import rgb_to_yuv709


@dataclass
class Stage:
    y: np.ndarray  # uint8 (Hs, Ws)
    u: np.ndarray  # uint8 (Hs/2, Ws/2)
    v: np.ndarray

    @property
    def size(self) -> tuple[int, int]:
        return self.y.shape[1], self.y.shape[0]


def _resize(rgb: np.ndarray, w: int, h: int) -> np.ndarray:
    sh, sw = rgb.shape[:2]
    interp = cv2.INTER_AREA if (w < sw and h < sh) else cv2.INTER_LANCZOS4
    return cv2.resize(rgb, (w, h), interpolation=interp)


def fit_cover(rgb: np.ndarray, w: int, h: int) -> np.ndarray:
    """Scale to fill (w, h) and crop the overflow, centred."""
    sh, sw = rgb.shape[:2]
    scale = max(w / sw, h / sh)
    cw, ch = min(sw, round(w / scale)), min(sh, round(h / scale))
    x0, y0 = (sw - cw) // 2, (sh - ch) // 2
    return _resize(rgb[y0 : y0 + ch, x0 : x0 + cw], w, h)


def fit_contain(rgb: np.ndarray, w: int, h: int) -> np.ndarray:
    """The whole image over a blurred, dimmed copy of itself filling the frame."""
    small = fit_cover(rgb, max(16, w // 8), max(16, h // 8))
    small = cv2.GaussianBlur(small, (0, 0), sigmaX=max(w, h) / 160)
    bg = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    bg = (bg.astype(np.float32) * 0.55).astype(np.uint8)
    sh, sw = rgb.shape[:2]
    scale = min(w / sw, h / sh)
    fw, fh = max(1, round(sw * scale)), max(1, round(sh * scale))
    fg = _resize(rgb, fw, fh)
    x0, y0 = (w - fw) // 2, (h - fh) // 2
    bg[y0 : y0 + fh, x0 : x0 + fw] = fg
    return bg


def build_stage(rgb: np.ndarray, w: int, h: int, fit: str = "cover") -> Stage:
    """Stage of even size (w, h) from an RGB image."""
    w, h = w + (w & 1), h + (h & 1)
    fitted = fit_contain(rgb, w, h) if fit == "contain" else fit_cover(rgb, w, h)
    yuv = rgb_to_yuv709(fitted)
    y = np.clip(yuv[..., 0] + 0.5, 0, 255).astype(np.uint8)
    # Chroma: average 2x2 blocks (area) so the stage's chroma is sited like yuv420p's.
    uv = cv2.resize(yuv[..., 1:], (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    u = np.clip(uv[..., 0] + 0.5, 0, 255).astype(np.uint8)
    v = np.clip(uv[..., 1] + 0.5, 0, 255).astype(np.uint8)
    return Stage(y, u, v)


def warp_into(stage: Stage, out: np.ndarray, zoom: float, cx: float, cy: float) -> None:
    """Render one view of the stage into `out`, a (H*3/2, W) yuv420p buffer."""
    h = out.shape[0] * 2 // 3
    w = out.shape[1]
    sw, sh = stage.size
    s = sw / (zoom * w)  # stage pixels per output pixel (same both ways: same aspect)
    for plane, dst, div in (
        (stage.y, out[:h], 1),
        (stage.u, out[h : h + h // 4].reshape(h // 2, w // 2), 2),
        (stage.v, out[h + h // 4 :].reshape(h // 2, w // 2), 2),
    ):
        ow, oh = w // div, h // div
        pw, ph = sw / div, sh / div
        tx = cx * pw - 0.5 + s * (0.5 - ow / 2)
        ty = cy * ph - 0.5 + s * (0.5 - oh / 2)
        m = np.array([[s, 0.0, tx], [0.0, s, ty]], dtype=np.float64)
        cv2.warpAffine(
            plane,
            m,
            (ow, oh),
            dst=dst,
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REPLICATE,
        )
