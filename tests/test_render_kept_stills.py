"""A photo decoded for a draft is kept in the worker (render/kept_stills.py): a draft of it framed
another way, or the first draft after the engine decoded it ahead (worker.prepare), decodes
nothing, and draws the very frames a fresh decode gives; a changed file, or a draft needing more
pixels than were kept, is decoded again; an export lets them go."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from tests.decode import frame_rgb, frame_yuv, probe
from tui.engine import worker
from tui.engine.render import render_draft
from tui.engine.render.kept_stills import KEPT_SIDE, MAX_KEPT_PIXELS, STILLS
from tui.engine.render.pipeline import _PREPARED


def draft(size=(1920, 1080), **m) -> dict:
    seg = {"id": "s1", "src": "img", "st": 0, "d": 1000, "m": {"motion": "zoom_in", **m}}
    return {
        "d": 1000,
        "m": {"width": size[0], "height": size[1], "fps": 24},
        "t": [{"tt": 0, "sg": [seg]}],
    }


def scene(path: Path, size=(1600, 900)) -> Path:
    """A smooth photo-like picture with a bright subject off centre, saved as `path`."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    rgb = np.stack([xx / w * 200, yy / h * 180, 90 + 60 * np.sin(xx / 97)], -1)
    rgb[int(h * 0.35) : int(h * 0.6), int(w * 0.68) : int(w * 0.8)] = (250, 240, 60)
    Image.fromarray(rgb.clip(0, 255).astype(np.uint8)).save(path)
    return path


def frames(path: Path) -> list[np.ndarray]:
    return [frame_yuv(path, i).astype(int) for i in (0, 12, 23)]


def test_a_photo_framed_anew_is_not_decoded_again_and_draws_the_same(tmp_path) -> None:
    src = scene(tmp_path / "p.png")
    wide, tall = tmp_path / "wide.mp4", tmp_path / "tall.mp4"
    render_draft(draft(), {"img": src}, wide, quality="draft")
    decoded = STILLS.decoded
    render_draft(draft((1080, 1920)), {"img": src}, tall, quality="draft")  # 9:16: a new stage
    assert STILLS.decoded == decoded
    assert (probe(tall).width, probe(tall).height) == (540, 960)  # the draft tier's size
    # The same as from a fresh decode, frame for frame.
    kept = frames(tall)
    STILLS.clear()
    _PREPARED._items.clear()
    render_draft(draft((1080, 1920)), {"img": src}, tall, quality="draft")
    assert STILLS.decoded == decoded + 1
    for a, b in zip(kept, frames(tall), strict=True):
        assert np.array_equal(a, b)


def test_a_photo_decoded_ahead_makes_its_first_draft_decode_nothing(tmp_path) -> None:
    src = scene(tmp_path / "p.png")
    assert worker.prepare(str(src)) == "decoded"
    assert worker.prepare(str(src)) == "kept"
    decoded = STILLS.decoded
    render_draft(draft(motion="pan_left"), {"img": src}, tmp_path / "o.mp4", quality="draft")
    assert STILLS.decoded == decoded
    assert probe(tmp_path / "o.mp4").frames == 24


def test_decoding_ahead_a_file_that_is_no_image_fails_quietly(tmp_path) -> None:
    bad = tmp_path / "x.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    assert worker.prepare(str(bad)) == "failed"
    assert worker.prepare(str(tmp_path / "gone.png")) == "failed"


def test_a_changed_photo_is_decoded_again(tmp_path) -> None:
    src = scene(tmp_path / "p.png")
    out = tmp_path / "o.mp4"
    render_draft(draft(), {"img": src}, out, quality="draft")
    decoded = STILLS.decoded
    Image.new("RGB", (1600, 900), (200, 30, 30)).save(src)
    st = src.stat()
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # (a coarse clock)
    _PREPARED._items.clear()
    render_draft(draft(fit="contain"), {"img": src}, out, quality="draft")
    assert STILLS.decoded == decoded + 1
    r, _, b = frame_rgb(out, 0)[100, 100]
    assert r > 150 and b < 80  # red: the new picture


def test_a_large_photo_is_kept_reduced_and_a_draft_needing_more_decodes_it(tmp_path) -> None:
    src = tmp_path / "big.png"
    Image.new("RGB", (4000, 3000), (60, 120, 180)).save(src)
    still = STILLS.still(src)
    h, w = still.rgb.shape[:2]
    assert (w, h) == (2000, 1500) and not still.whole  # halved: both sides still >= KEPT_SIDE
    assert min(w, h) >= KEPT_SIDE and w * h <= MAX_KEPT_PIXELS
    assert not still.rgb.flags.writeable
    decoded = STILLS.decoded
    render_draft(draft(), {"img": src}, tmp_path / "o.mp4", quality="draft")  # 960x540: kept
    assert STILLS.decoded == decoded
    # 32:9 at the draft tier is 1920x540: its stage is wider than what was kept.
    render_draft(draft((3840, 1080)), {"img": src}, tmp_path / "w.mp4", quality="draft")
    assert STILLS.decoded == decoded + 1
    assert probe(tmp_path / "w.mp4").width == 1920


def test_an_export_lets_the_kept_photos_go(tmp_path) -> None:
    # An export's own peak is what a worker's memory is sized for: kept photos would add to it.
    src = scene(tmp_path / "p.png")
    render_draft(draft(), {"img": src}, tmp_path / "d.mp4", quality="draft")
    assert STILLS._items
    render_draft(draft((640, 360)), {"img": src}, tmp_path / "e.mp4", quality="standard")
    assert not STILLS._items
