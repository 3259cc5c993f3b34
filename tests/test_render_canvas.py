"""Canvas sizes whose chroma planes do not start on a row boundary (H/2 odd, like 1080x1350)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.decode import frame_rgb, probe
from tests.media import BLUE, GREEN, RED, bars
from tui.engine.render import render_draft


def test_four_by_five_canvas_keeps_its_colours(tmp_path: Path) -> None:
    # 216x270 is 1080x1350 (4:5) at a fifth: H/2 = 135 is odd.
    src = bars(tmp_path / "bars.png", (648, 810))
    draft = {
        "d": 1000,
        "m": {"width": 216, "height": 270, "fps": 24},
        "t": [
            {
                "tt": 0,
                "sg": [{"id": "s1", "src": "img", "st": 0, "d": 1000, "m": {"motion": "static"}}],
            },
            {
                "tt": 7,
                "sg": [{"id": "t", "st": 0, "d": 1000, "m": {"text": "Hi", "position": "bottom"}}],
            },
        ],
    }
    out = tmp_path / "o.mp4"
    render_draft(draft, {"img": src}, out, quality="high")
    p = probe(out)
    assert (p.width, p.height, p.frames) == (216, 270, 24)
    rgb = frame_rgb(out, 12).astype(int)
    for x, colour in ((36, RED), (108, GREEN), (180, BLUE)):
        patch = rgb[60:120, x - 15 : x + 15].reshape(-1, 3).mean(axis=0)
        assert np.all(np.abs(patch - np.array(colour)) <= 4), (colour, patch)
