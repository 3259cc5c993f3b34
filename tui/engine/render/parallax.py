"""2.5D parallax from one image: a foreground layer cut out, and the hole behind it filled.

Classic image processing only: the salient region seeds GrabCut (saliency.foreground_mask) on a
small copy; that rough mask is refined against the image's own edges by a guided filter (He et
al.) on a larger copy, so the layer's edge follows the subject's outline, then steepened to a
transition of a pixel or two at the stage size: an edge, not a blob (a blurred blob carried a
halo of the background with it). Behind it, the subject (grown by a pixel or two) is filled from
its surroundings, not stretched: the band nearest the outline, the part a move can uncover, with
the background mirrored across the outline (its own texture and brightness), the rest by
inpainting (Telea). How far the layer may move off its hole is limited (`uncover_limit`): past
that the smooth fill would show as a band.
"""

from __future__ import annotations

import cv2
import numpy as np

from tui.engine.render.saliency import foreground_mask

_MASK_SIDE = 256  # the long side the foreground is cut out at (GrabCut)
_EDGE_SIDE = 768  # and its edge refined and the hole inpainted at
# Drafts (half the canvas) work smaller: the cut and the fill take about half the time.
_DRAFT_MASK_SIDE, _DRAFT_EDGE_SIDE = 192, 448
_EPS = 1e-3  # the guided filter's regularisation (intensities 0..1): edges of 3 % contrast count
_STEEP = 5.0  # how steeply the refined alpha rises across the edge (see refine)


def uncover_limit(w: int, h: int) -> float:
    """How far (canvas pixels) the layer may move off the hole behind it: what the fill can
    hide (a smooth band wider than this shows beside a textured edge)."""
    return max(3.0, 0.01 * max(w, h))


def _box(img: np.ndarray, r: int) -> np.ndarray:
    return cv2.boxFilter(img, -1, (2 * r + 1, 2 * r + 1), borderType=cv2.BORDER_REFLECT)


def guided(guide: np.ndarray, p: np.ndarray, r: int, eps: float = _EPS) -> np.ndarray:
    """The guided filter of `p` by the grey `guide` (float32 0..1, same size), radius r: `p`
    smoothed, except across the guide's edges, which its result follows."""
    mi, mp = _box(guide, r), _box(p, r)
    cov = _box(guide * p, r) - mi * mp
    var = _box(guide * guide, r) - mi * mi
    a = cov / (var + eps)
    b = mp - a * mi
    return _box(a, r) * guide + _box(b, r)


def refine(rgb: np.ndarray, rough: np.ndarray) -> np.ndarray:
    """An alpha (float32 0..1, the size of `rgb`) from a rough mask (uint8 0/255, any size):
    snapped to the image's edges and steepened to a short transition."""
    h, w = rgb.shape[:2]
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) * (1.0 / 255.0)
    p = cv2.resize(rough, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255.0
    r = max(2, round(max(w, h) / rough.shape[1] * 1.5))  # the rough mask's own uncertainty
    a = guided(grey, p, r)
    # Steepened about 0.35, not 0.5: the rim (a highlight, a few hairs) goes with the layer
    # rather than staying behind on the background as a line. By 5, not 3: where the guide's
    # edge is soft the ramp was ~10 px wide and the hole's fill showed through it (chelsea's
    # 9:16 eye rim 27.6 levels darker; now 17.9, and 3-15 elsewhere, 2-18 before).
    return np.clip((a - 0.35) * _STEEP + 0.5, 0.0, 1.0)


def mirror_fill(img: np.ndarray, hole: np.ndarray, smooth: np.ndarray) -> np.ndarray:
    """`img` with its `hole` (uint8, 255 inside) filled by the background mirrored across the
    hole's border: the pixel d inside it takes the one d outside, so the band next to the
    outline, the part a move uncovers, has the background's own texture and brightness (an
    inpainted fill is smooth: it shows as a soft band beside a textured edge). Where the mirror
    lands in the hole too (deep inside, narrow necks), `smooth` (an inpainting) is used."""
    known = hole == 0
    if known.all() or not known.any():
        return smooth
    _, labels = cv2.distanceTransformWithLabels(
        (~known).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
    )
    ys, xs = np.nonzero(known)  # label k is the k-th known pixel, row by row
    h, w = hole.shape
    yy, xx = np.mgrid[0:h, 0:w]
    my = np.clip(2 * ys[labels - 1] - yy, 0, h - 1)
    mx = np.clip(2 * xs[labels - 1] - xx, 0, w - 1)
    use = ~known & known[my, mx]
    out = smooth.copy()
    out[use] = img[my[use], mx[use]]
    return out


def split_layers(
    fitted: np.ndarray, fast: bool = False, face: tuple[float, float, float, float] | None = None
) -> tuple[np.ndarray, np.ndarray, tuple[float, float]] | None:
    """(background RGB with the subject removed, foreground alpha 0..1, subject centre) or None.

    All at the size of `fitted`; the centre is in 0..1 of it. `fast`: for drafts (see above).
    `face` (0..1 of `fitted`): the layer is that person, not the most salient region.
    """
    h, w = fitted.shape[:2]
    small_mask = foreground_mask(fitted, _DRAFT_MASK_SIDE if fast else _MASK_SIDE, face)
    if small_mask is None:
        return None
    mh, mw = small_mask.shape
    ys, xs = np.nonzero(small_mask)
    centre = ((xs.mean() + 0.5) / mw, (ys.mean() + 0.5) / mh)
    # The edge, refined on a mid-sized copy (the stage itself when smaller).
    s = min(1.0, (_DRAFT_EDGE_SIDE if fast else _EDGE_SIDE) / max(h, w))
    ew, eh = max(8, round(w * s)), max(8, round(h * s))
    mid = cv2.resize(fitted, (ew, eh), interpolation=cv2.INTER_AREA) if s < 1 else fitted
    a_mid = refine(mid, small_mask)
    # Up to the stage: linear, then a feather of about one stage pixel per step up.
    alpha = cv2.resize(a_mid, (w, h), interpolation=cv2.INTER_LINEAR) if s < 1 else a_mid
    if s < 1:
        alpha = cv2.GaussianBlur(alpha, (0, 0), sigmaX=0.5 / s)
    # The hole: wherever the layer shows at all, and a pixel more (the layer, steepened
    # outward, carries the subject's rim: none of it stays behind); filled from outside in.
    # Anywhere else the background is the photo itself, so at rest the frame is the photo.
    hole = (a_mid > 0.02).astype(np.uint8) * 255
    hole = cv2.dilate(hole, np.ones((3, 3), np.uint8))
    filled = mirror_fill(mid, hole, cv2.inpaint(mid, hole, 3, cv2.INPAINT_TELEA))
    if s < 1:
        filled = cv2.resize(filled, (w, h), interpolation=cv2.INTER_LINEAR)
        where = cv2.resize(hole, (w, h), interpolation=cv2.INTER_LINEAR)
    else:
        where = hole
    weight = where.astype(np.float32) * (1.0 / 255.0)
    background = cv2.blendLinear(filled, fitted, weight, 1.0 - weight)
    return background, alpha.astype(np.float32), (float(centre[0]), float(centre[1]))
