"""Real photographs (tests/photos: a face off centre, a cat, a cup, a rocket in a wide scene):
for every aspect and motion the subject's box (the face, for the astronaut) is inside every frame
of the decoded MP4.

The box is found in each decoded frame by matching the photo's own pixels there, at the scales
the camera can show it at: a box cut by the frame's edge has no position where it fits whole, so
its best match is poor.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from tests.test_render_reframe import frames, one_shot
from tui.engine.render import render_draft
from tui.engine.render.faces import available as faces_available
from tui.engine.render.motion import MOTIONS, max_zoom_of
from tui.engine.render.saliency import find_subject

PHOTOS = Path(__file__).parent / "photos"
NAMES = ("astronaut", "chelsea", "coffee", "rocket")
ASPECTS = {"9:16": (216, 384), "1:1": (288, 288), "4:5": (256, 320), "16:9": (384, 216)}
# The normalised correlation of the subject's pixels found whole in a frame: 0.88-0.99 when
# they are; a cup wider than a 9:16 crop, cut by its edges, matched at most 0.75.
MATCH = 0.85
# In parallax the box holds the layer's edge over a filled background: 0.81 at the least.
MATCH_PARALLAX = 0.8


def photo(name: str) -> np.ndarray:
    return np.asarray(Image.open(PHOTOS / f"{name}.jpg").convert("RGB"))


def best_match(frame: np.ndarray, patch: np.ndarray, scales: np.ndarray) -> float:
    """The best normalised correlation of `patch`, scaled by any of `scales`, placed wholly
    inside `frame` (grey, both)."""
    best = -1.0
    fh, fw = frame.shape
    for s in scales:
        pw, ph = round(patch.shape[1] * s), round(patch.shape[0] * s)
        if pw < 8 or ph < 8 or pw > fw or ph > fh:
            continue
        t = cv2.resize(patch, (pw, ph), interpolation=cv2.INTER_AREA)
        best = max(best, float(cv2.matchTemplate(frame, t, cv2.TM_CCOEFF_NORMED).max()))
    return best


def test_the_photos_are_small_real_and_the_astronaut_is_a_face() -> None:
    for name in NAMES:
        f = PHOTOS / f"{name}.jpg"
        assert f.stat().st_size <= 100_000
        assert Image.open(f).format == "JPEG"
    if faces_available():
        sub = find_subject(photo("astronaut"))
        assert sub.face  # Eileen Collins' face: upper left of the middle
        x0, y0, x1, y1 = sub.box
        assert 0.2 < x0 < 0.4 and 0.45 < x1 < 0.65 and y0 < 0.15 and 0.3 < y1 < 0.5


# Every photo in every motion and every aspect, and every motion in every aspect, in 36 renders
# rather than all 144: the aspect turns by one for each photo.
GRID = [
    (motion, list(ASPECTS)[(i + j) % len(ASPECTS)], name)
    for j, name in enumerate(NAMES)
    for i, motion in enumerate(MOTIONS)
]


@pytest.mark.parametrize("motion,aspect,name", GRID)
def test_the_subject_is_in_every_frame(tmp_path, name, aspect, motion) -> None:
    rgb = photo(name)
    sub = find_subject(rgb)
    h0, w0 = rgb.shape[:2]
    x0, y0, x1, y1 = sub.box
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    patch = grey[round(y0 * h0) : round(y1 * h0), round(x0 * w0) : round(x1 * w0)]
    w, h = ASPECTS[aspect]
    out = tmp_path / "o.mp4"
    render_draft(
        one_shot(w, h, motion=motion, strength="strong"),
        {"img": PHOTOS / f"{name}.jpg"},
        out,
        quality="draft",
    )
    got = frames(out)
    assert len(got) == 24 and got[0].shape[:2] == (h, w)
    # The photo's scale on screen: cropped to fill (cover) at zoom 1 up to the largest zoom,
    # or whole (contain: the subject wider than the crop) down to 1 / 1.3 of that.
    cover, contain = max(w / w0, h / h0), min(w / w0, h / h0)
    top = max_zoom_of(motion, "strong") * 1.1
    scales = np.geomspace(0.95 * contain / 1.3, cover * top, 20)
    for k, frame in enumerate(got):
        score = best_match(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), patch, scales)
        assert score >= (MATCH_PARALLAX if motion == "parallax" else MATCH), (k, score)
