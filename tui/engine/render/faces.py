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

_SIDE = 288  # the long side of the grey copy faces are looked for on
# Faces smaller than this (of the copy's short side; and than the cascade's 24 px window) are not
# the subject of the picture; leaving them out, and a coarse scale step, keep the pass to a few
# milliseconds.
_MIN_FACE = 0.08
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
    """Faces in a uint8 grey image (best about _SIDE across), as (x0, y0, x1, y1) in 0..1."""
    c = _cascade()
    if c is None:
        return []
    h, w = grey.shape[:2]
    s = min(1.0, _SIDE / max(h, w))
    if s < 1.0:
        grey = cv2.resize(grey, (max(1, round(w * s)), max(1, round(h * s))), cv2.INTER_AREA)
    gh, gw = grey.shape[:2]
    side = max(24, round(_MIN_FACE * min(gh, gw)))
    grey = cv2.equalizeHist(grey)
    with _lock:
        found = c.detectMultiScale(grey, scaleFactor=1.2, minNeighbors=5, minSize=(side, side))
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
