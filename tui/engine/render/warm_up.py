"""A render worker's first frame, drawn once before its first job.

The first still a process prepares costs ~160 ms more than the next ones (OpenCV's first calls,
the face cascade's XML, PIL's JPEG plugin): 245 ms against 80-88 ms for the 2208x1242 stage of
a 3840x2160 JPEG. A worker draws one tiny frame through the same code right after its imports,
while the engine is still busy with the upload and the agent's turn, so a job never pays it.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from tui.core.tiers import HIGH
from tui.engine.render.pipeline import _FrameMaker, canvas_of

log = logging.getLogger("i2v.engine.render")

# A zoom with no focus: decoding, the subject search (faces, saliency), fitting, converting
# and warping all run once.
_SEGMENT = {"id": "w", "src": "w", "st": 0, "d": 1000, "m": {"motion": "zoom_in"}}
_CANVAS = {"width": 160, "height": 90, "fps": 24}
_DRAFT = {"d": 1000, "m": _CANVAS, "t": [{"tt": 0, "sg": [_SEGMENT]}]}


def warm_up() -> None:
    """Draw one small frame of a small JPEG (about 90 ms); a failure here is only logged."""
    try:
        with tempfile.TemporaryDirectory(prefix="i2v-warm-") as folder:
            path = Path(folder) / "warm.jpg"
            noise = np.random.default_rng(0).integers(0, 256, (90, 160, 3), dtype=np.uint8)
            Image.fromarray(noise).save(path, quality=80)
            canvas = canvas_of(_DRAFT, HIGH)
            maker = _FrameMaker(_DRAFT, {"w": path}, canvas)
            try:
                maker.frame(0, np.empty((canvas.height * 3 // 2, canvas.width), np.uint8))
            finally:
                maker.close()
    except Exception:  # the first job pays the first calls then, nothing worse
        log.exception("render warm-up")
