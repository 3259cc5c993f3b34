"""2.5D parallax from one image: a foreground layer cut out, and the hole behind it filled.

Classic image processing only: the salient region seeds GrabCut (saliency.foreground_mask), the
mask is feathered into an alpha at the stage size, and the background behind the subject is
filled by inpainting (Telea) on a reduced copy, blended in only where the subject was.
"""

from __future__ import annotations

import cv2
import numpy as np

from tui.engine.render.saliency import foreground_mask

_FILL_SIDE = 384  # the long side the hole is inpainted at
_MASK_SIDE = 256  # and the foreground is cut out at (GrabCut)
# Drafts (half the canvas) work smaller: about half the time (Telea inpainting and GrabCut),
# for a softer cut and fill on a stage half the size; the subject's centre stays put.
_DRAFT_FILL_SIDE, _DRAFT_MASK_SIDE = 256, 192


def split_layers(
    fitted: np.ndarray, fast: bool = False
) -> tuple[np.ndarray, np.ndarray, tuple[float, float]] | None:
    """(background RGB with the subject removed, foreground alpha 0..1, subject centre) or None.

    All at the size of `fitted`; the centre is in 0..1 of it. `fast`: for drafts (see above).
    """
    h, w = fitted.shape[:2]
    small_mask = foreground_mask(fitted, _DRAFT_MASK_SIDE if fast else _MASK_SIDE)
    if small_mask is None:
        return None
    mh, mw = small_mask.shape
    ys, xs = np.nonzero(small_mask)
    centre = ((xs.mean() + 0.5) / mw, (ys.mean() + 0.5) / mh)
    # Alpha: the mask at full size, feathered over a couple of pixels of the small mask.
    alpha = cv2.resize(small_mask, (w, h), interpolation=cv2.INTER_LINEAR)
    alpha = cv2.GaussianBlur(alpha, (0, 0), sigmaX=max(1.0, w / mw))
    alpha = alpha.astype(np.float32) * (1.0 / 255.0)
    # The hole: the subject grown a little (so no halo of it stays behind), inpainted small.
    s = (_DRAFT_FILL_SIDE if fast else _FILL_SIDE) / max(h, w)
    fw, fh = max(8, round(w * s)), max(8, round(h * s))
    small = cv2.resize(fitted, (fw, fh), interpolation=cv2.INTER_AREA)
    hole = cv2.resize(small_mask, (fw, fh), interpolation=cv2.INTER_NEAREST)
    grow = max(3, round(fw / 40)) | 1
    hole = cv2.dilate(hole, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow)))
    filled = cv2.inpaint(small, hole, max(3, grow), cv2.INPAINT_TELEA)
    filled = cv2.GaussianBlur(filled, (0, 0), sigmaX=1.0)
    up = cv2.resize(filled, (w, h), interpolation=cv2.INTER_LINEAR)
    where = cv2.resize(hole, (w, h), interpolation=cv2.INTER_LINEAR)
    where = cv2.GaussianBlur(where, (0, 0), sigmaX=max(1.0, w / fw))
    background = cv2.blendLinear(up, fitted, *_weights(where.astype(np.float32) * (1.0 / 255.0)))
    return background, alpha, (float(centre[0]), float(centre[1]))


def _weights(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return a, 1.0 - a
