"""A still's prepared stage is kept between renders of the same image in one process (a draft
previewed again after a new title skips decoding, framing and converting), and never served for
a file that changed."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from tests.decode import frame_rgb
from tui.engine.render import render_draft
from tui.engine.render.pipeline import _PREPARED


def one_shot(**m) -> dict:
    seg = {"id": "s1", "src": "img", "st": 0, "d": 1000, "m": {"name": "x", "motion": "zoom_in"}}
    draft = {
        "d": 1000,
        "m": {"width": 320, "height": 180, "fps": 24},
        "t": [{"tt": 0, "sg": [seg]}],
    }
    if "text" in m:
        text = {"id": "t1", "st": 0, "d": 1000, "m": {"text": m["text"], "position": "top"}}
        draft["t"].append({"tt": 7, "sg": [text]})
    return draft


def flat(path: Path, colour: tuple[int, int, int]) -> Path:
    img = np.zeros((360, 640, 3), np.uint8)
    img[:] = colour
    img[150:210, 300:340] = 255  # something to frame
    Image.fromarray(img).save(path)
    return path


def test_a_second_preview_reuses_the_stage_and_looks_the_same(tmp_path) -> None:
    src = flat(tmp_path / "p.png", (40, 90, 160))
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    render_draft(one_shot(), {"img": src}, a, quality="draft")
    stages = [item[0] for item in _PREPARED._items.values()]
    render_draft(one_shot(text="Hello"), {"img": src}, b, quality="draft")
    # The very stage was used again (no new one prepared for this image).
    assert [item[0] for item in _PREPARED._items.values()][-1] is stages[-1]
    # The picture under the title is the same (the bottom half has no text).
    fa, fb = frame_rgb(a, 12), frame_rgb(b, 12)
    assert np.abs(fa[100:].astype(int) - fb[100:].astype(int)).max() <= 2
    assert np.abs(fa[:40].astype(int) - fb[:40].astype(int)).max() > 50  # the title is there


def test_a_changed_file_is_prepared_again(tmp_path) -> None:
    src = flat(tmp_path / "p.png", (40, 90, 160))
    out = tmp_path / "o.mp4"
    render_draft(one_shot(), {"img": src}, out, quality="draft")
    assert frame_rgb(out, 0)[5, 5][2] > 120  # blue
    flat(src, (170, 60, 30))
    st = src.stat()
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # (a coarse clock)
    render_draft(one_shot(), {"img": src}, out, quality="draft")
    r, _, b = frame_rgb(out, 0)[5, 5]
    assert r > 120 and b < 80  # red: the new picture, not the kept stage


def test_an_export_keeps_no_stage(tmp_path) -> None:
    """Only drafts are kept: an export's stage is large and made once."""
    src = flat(tmp_path / "p.png", (90, 140, 40))
    before = list(_PREPARED._items)
    render_draft(one_shot(), {"img": src}, tmp_path / "o.mp4", quality="high")
    assert list(_PREPARED._items) == before
    render_draft(one_shot(), {"img": src}, tmp_path / "o.mp4", quality="draft")
    assert len(_PREPARED._items) >= 1 and list(_PREPARED._items)[-1][0] == str(src)
