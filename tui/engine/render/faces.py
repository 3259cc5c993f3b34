"""Faces, found with the Haar cascades OpenCV ships (cv2.data.haarcascades: no weights to fetch).

People are the most common subject, so a face outranks saliency when picking what to keep in
frame. Detection runs on a small grey copy (long side _SIDE), a few milliseconds. OpenCV builds
without the cascades (opencv 5 dropped CascadeClassifier and its data) find no faces.
"""

from __future__ import annotations

import functools
import os
import threading

import cv2
import numpy as np

_SIDE = 320  # the grey copy faces are looked for on is at most this long
# Faces under 15 % of the copy's short side (and 28 px) are not the picture's subject; leaving
# them out and a coarse scale step keep the pass to a few milliseconds (measured on a 295x166
# copy: about 8 ms, against 30 ms with 24 px faces and a step of 1.2). At that step fewer
# windows overlap a face: 3 neighbours find the drawn faces of the tests at every size tried, 5
# missed some; neither found one in the benchmark's photo-like pictures.
_MIN_FACE, _MIN_PX, _STEP = 0.15, 28, 1.25
_CASCADE = "haarcascade_frontalface_default.xml"
_lock = threading.Lock()  # a CascadeClassifier is not safe to share between threads


@functools.cache
def _cascade():
    make = getattr(cv2, "CascadeClassifier", None)
    folder = getattr(getattr(cv2, "data", None), "haarcascades", None)
    if make is None or not folder or not os.path.exists(os.path.join(folder, _CASCADE)):
        return None
    c = make(os.path.join(folder, _CASCADE))
    return None if c.empty() else c


def available() -> bool:
    """Whether this OpenCV can look for faces at all."""
    return _cascade() is not None


def find_faces(grey: np.ndarray) -> list[tuple[float, float, float, float]]:
    """Faces in a uint8 grey image (best 160 to _SIDE across), as (x0, y0, x1, y1) in 0..1."""
    c = _cascade()
    if c is None:
        return []
    h, w = grey.shape[:2]
    s = min(1.0, _SIDE / max(h, w))
    if s < 1.0:
        grey = cv2.resize(grey, (max(1, round(w * s)), max(1, round(h * s))), cv2.INTER_AREA)
    gh, gw = grey.shape[:2]
    side = max(_MIN_PX, round(_MIN_FACE * min(gh, gw)))
    grey = cv2.equalizeHist(grey)
    with _lock:
        found = c.detectMultiScale(grey, scaleFactor=_STEP, minNeighbors=3, minSize=(side, side))
    return [(x / gw, y / gh, (x + fw) / gw, (y + fh) / gh) for x, y, fw, fh in np.asarray(found)]


def faces_box(grey: np.ndarray) -> tuple[float, float, float, float] | None:
    """The union of the faces' boxes, padded to take in hair and chin (0..1), or None."""
    faces = find_faces(grey)
    if not faces:
        return None
    x0, y0 = min(f[0] for f in faces), min(f[1] for f in faces)
    x1, y1 = max(f[2] for f in faces), max(f[3] for f in faces)
    fw, fh = max(f[2] - f[0] for f in faces), max(f[3] - f[1] for f in faces)
    # A Haar box is brow to mouth: the head is a little wider and reaches higher and lower.
    return (
        max(0.0, x0 - 0.15 * fw),
        max(0.0, y0 - 0.3 * fh),
        min(1.0, x1 + 0.15 * fw),
        min(1.0, y1 + 0.25 * fh),
    )
