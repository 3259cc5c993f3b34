"""The renderer, checked by decoding what it writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.decode import frame_rgb, probe
from tests.media import BLUE, GREEN, RED, bars
from tui.engine.render import RenderError, render_draft


def draft(w=320, h=180, fps=24, d=2000, motion="static", title=None, music=None, src="img"):
    tracks = [
        {
            "tt": 0,
            "sg": [{"id": "s1", "src": src, "st": 0, "d": d, "m": {"name": "x", "motion": motion}}],
        }
    ]
    if music:
        tracks.append(
            {"tt": 1, "sg": [{"id": "s2", "src": music, "st": 0, "d": d, "m": {"volume": 0.5}}]}
        )
    if title:
        tracks.append(
            {
                "tt": 7,
                "sg": [
                    {
                        "id": "s3",
                        "st": title[1],
                        "d": title[2],
                        "m": {"text": title[0], "position": "center"},
                    }
                ],
            }
        )
    return {"d": d, "m": {"width": w, "height": h, "fps": fps}, "t": tracks}


def test_output_format_and_frame_count(tmp_path: Path) -> None:
    src = bars(tmp_path / "bars.png", (640, 360))
    out = tmp_path / "o.mp4"
    res = render_draft(
        draft(fps=25, d=2000, music="builtin:lofi"), {"img": src}, out, quality="standard"
    )
    p = probe(out)
    assert (p.codec, p.profile, p.pix_fmt) == ("h264", "High", "yuv420p")
    assert (p.width, p.height) == (320, 180)
    assert p.frames == 50 == res.frames
    # BT.709 in all three colour fields, tv (limited) range.
    assert (p.colorspace, p.primaries, p.trc, p.color_range) == (1, 1, 1, 1)
    assert p.audio_rate == 48000 and p.audio_channels == 2
    assert abs(p.audio_seconds - 2.0) <= 1024 / 48000
    # moov before mdat: the file starts playing before it is fully downloaded.
    head = out.read_bytes()[:4096]
    assert head.find(b"moov") != -1 and (
        head.find(b"mdat") == -1 or head.find(b"moov") < head.find(b"mdat")
    )


def test_colours_survive_the_round_trip(tmp_path: Path) -> None:
    src = bars(tmp_path / "bars.png", (640, 360))
    out = tmp_path / "o.mp4"
    render_draft(draft(w=640, h=360), {"img": src}, out, quality="high")
    rgb = frame_rgb(out, 10).astype(int)
    for x, colour in ((107, RED), (320, GREEN), (533, BLUE)):
        patch = rgb[150:210, x - 30 : x + 30].reshape(-1, 3).mean(axis=0)
        assert np.all(np.abs(patch - np.array(colour)) <= 3), (colour, patch)


def test_title_inside_its_window_only(tmp_path: Path) -> None:
    src = tmp_path / "grey.png"
    Image.new("RGB", (640, 360), (40, 40, 40)).save(src)
    out = tmp_path / "o.mp4"
    render_draft(
        draft(w=640, h=360, fps=24, d=3000, title=("HELLO", 1000, 1000)),
        {"img": src},
        out,
        quality="standard",
    )
    centre = lambda i: frame_rgb(out, i)[150:210, 200:440].astype(int)  # noqa: E731
    before, during, after = centre(6), centre(36), centre(66)
    assert before.max() < 70 and after.max() < 70
    assert (during > 200).sum() > 300  # white letters


def test_damaged_image_is_refused_with_its_name(tmp_path: Path) -> None:
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 100)
    with pytest.raises(RenderError, match=r"broken\.jpg"):
        render_draft(draft(), {"img": bad}, tmp_path / "o.mp4", quality="draft")
    assert not (tmp_path / "o.mp4").exists()
    assert not list(tmp_path.glob(".*part"))
