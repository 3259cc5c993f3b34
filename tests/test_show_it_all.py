""" "Show the whole picture" (issue 14): the agent reads it in English and Chinese, the draft
carries `m.fit` = "contain" (checked by the engine's bounds), and the render shows the whole photo
in every frame over a blurred, darkened copy of itself, the motion moving the photo.

Renders are real (a real photograph with coloured patches painted in its corners), decoded frame
by frame: every corner patch must be whole in every frame, and the room around the photo must be
the blurred copy, not black.
"""

from __future__ import annotations

import copy
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from PIL import Image

from tests.test_render_reframe import frames, one_shot
from tui.engine import agent
from tui.engine.render import render_draft
from tui.engine.render.contain import contain_path
from tui.engine.render.motion import MOTIONS, STRENGTHS
from tui.engine.server.drafts import check_draft
from tui.engine.server.envelope import ApiFailure

PHOTOS = Path(__file__).parent / "photos"
IMG = [
    {
        "hash": "h1",
        "file_type": "image",
        "filename": "p.jpg",
        "width": 800,
        "height": 600,
        "duration": None,
    }
]
ONE = {
    "d": 5000,
    "m": {"title": "p", "width": 1920, "height": 1080, "fps": 30},
    "t": [
        {
            "tt": 0,
            "sg": [{"id": "v", "src": "h1", "st": 0, "d": 5000, "m": {"name": "p.jpg"}}],
        }
    ],
}

# -- the agent ----------------------------------------------------------------------------------

ASKS = [
    "show it all",
    "show everything",
    "keep everything in",
    "keep everything in the frame",
    "fit",
    "make it fit",
    "fit the photo",
    "don't crop",
    "no cropping please",
    "show the whole picture",
    "make it 9:16 and show it all",
    "不要裁剪",
    "完整显示",
    "全部显示",
    "不要裁掉",
    "保留完整画面",
    "竖屏，完整显示图片，不要裁剪",
]


@pytest.mark.parametrize("message", ASKS)
def test_the_agent_reads_show_it_all(message: str) -> None:
    turn = agent.plan_turn(message, copy.deepcopy(ONE), IMG, "en")
    assert turn.draft is not None, turn.reply
    assert turn.draft["t"][0]["sg"][0]["m"]["fit"] == "contain"
    zh = agent.is_chinese(message)
    said = "完整显示图片（不裁剪）" if zh else "showed the whole image (fit, no cropping)"
    assert said in turn.reply
    assert "understand" not in turn.reply and "没有看懂" not in turn.reply, turn.reply
    check_draft(turn.draft, {"h1"})  # within the engine's bounds


@pytest.mark.parametrize("message", ["fit it in 10 seconds", "make it fit in 8 s"])
def test_fitting_it_into_a_length_is_not_a_fit(message: str) -> None:
    turn = agent.plan_turn(message, copy.deepcopy(ONE), IMG, "en")
    assert turn.draft is not None
    assert "fit" not in turn.draft["t"][0]["sg"][0]["m"], turn.reply
    assert turn.draft["d"] in (8000, 10000)


def test_fill_after_fit_crops_again() -> None:
    turn = agent.plan_turn("show it all", copy.deepcopy(ONE), IMG, "en")
    assert turn.draft is not None
    again = agent.plan_turn("fill the frame", turn.draft, IMG, "en")
    assert again.draft is not None and again.draft["t"][0]["sg"][0]["m"]["fit"] == "cover"


@pytest.mark.parametrize("fit", ["stretch", 1, None, ["contain"]])
def test_the_engine_refuses_another_fit(fit) -> None:
    draft = copy.deepcopy(ONE)
    draft["t"][0]["sg"][0]["m"]["fit"] = fit
    with pytest.raises(ApiFailure) as exc:
        check_draft(draft, {"h1"})
    assert "fit" in exc.value.message


# -- the paths ----------------------------------------------------------------------------------


@pytest.mark.parametrize("motion", MOTIONS)
@pytest.mark.parametrize("strength", list(STRENGTHS))
def test_every_path_keeps_the_photo_whole(motion: str, strength: str) -> None:
    for rect in ((0.0, 0.3, 1.0, 0.7), (0.2, 0.0, 0.8, 1.0), (0.0, 0.0, 1.0, 1.0)):
        p = contain_path(48, motion, strength, "ease", rect)
        assert np.all(p.zoom <= 1.0 + 1e-9)
        for a, b, c in ((rect[0], rect[2], p.cx), (rect[1], rect[3], p.cy)):
            assert np.all((a - c) * p.zoom + 0.5 >= -1e-9), (motion, rect)
            assert np.all((b - c) * p.zoom + 0.5 <= 1.0 + 1e-9), (motion, rect)
        if motion != "static":
            assert np.ptp(p.zoom) + np.ptp(p.cx) + np.ptp(p.cy) > 0.02, motion


# -- renders ------------------------------------------------------------------------------------

PATCHES = {  # corner -> colour painted there, and how to see it in a decoded frame
    (0, 0): (255, 0, 255),
    (1, 0): (0, 255, 0),
    (0, 1): (0, 255, 255),
    (1, 1): (255, 255, 0),
}
SIDE = 0.12  # of the photo's width and height: each corner patch


def patched_photo(path: Path) -> tuple[Path, tuple[int, int]]:
    rgb = np.asarray(Image.open(PHOTOS / "coffee.jpg").convert("RGB")).copy()
    h, w = rgb.shape[:2]
    pw, ph = round(SIDE * w), round(SIDE * h)
    for (cx, cy), col in PATCHES.items():
        x0, y0 = (w - pw) * cx, (h - ph) * cy
        rgb[y0 : y0 + ph, x0 : x0 + pw] = col
    Image.fromarray(rgb).save(path)
    return path, (w, h)


def colour_mask(rgb: np.ndarray, col: tuple[int, int, int]) -> np.ndarray:
    diff = np.abs(rgb.astype(int) - np.array(col)).max(axis=2)
    return diff < 60


@pytest.mark.parametrize("motion", ["zoom_in", "zoom_out", "pan_right", "pan_up", "ken_burns"])
@pytest.mark.parametrize("size", [(216, 384), (384, 216)])
def test_the_whole_photo_is_in_every_frame(tmp_path, motion, size) -> None:
    src, (pw, ph) = patched_photo(tmp_path / "p.png")
    w, h = size
    out = tmp_path / "o.mp4"
    draft = one_shot(w, h, motion=motion, strength="strong", fit="contain")
    render_draft(draft, {"img": src}, out, quality="draft")
    rgbs = frames(out)
    assert len(rgbs) == 24
    fit = min(w / pw, h / ph)
    least = 1.0 / (1.0 + STRENGTHS["strong"])  # the photo is never smaller than this
    full = (SIDE * pw * fit * least) * (SIDE * ph * fit * least)
    sizes = []
    for k, rgb in enumerate(rgbs):
        for corner, col in PATCHES.items():
            ys, xs = np.nonzero(colour_mask(rgb, col))
            assert len(xs) >= 0.7 * full, (k, corner, len(xs), full)
            # Each patch in its own corner of the photo, never cut by the frame's edge: its
            # pixels form a whole rectangle (its bounds hold little else).
            box = (xs.max() - xs.min() + 1) * (ys.max() - ys.min() + 1)
            assert len(xs) >= 0.8 * box, (k, corner)
        sizes.append(len(np.nonzero(colour_mask(rgb, PATCHES[(0, 0)]))[0]))
    if motion in ("zoom_in", "zoom_out", "ken_burns"):  # the photo itself grows or shrinks
        assert max(sizes) > 1.3 * min(sizes)


def test_the_room_around_the_photo_is_its_blurred_copy(tmp_path) -> None:
    src = PHOTOS / "coffee.jpg"
    out = tmp_path / "o.mp4"
    render_draft(
        one_shot(216, 384, motion="static", fit="contain"), {"img": src}, out, quality="draft"
    )
    rgb = frames(out)[0]
    photo = np.asarray(Image.open(src).convert("RGB"))
    fh = round(photo.shape[0] * 216 / photo.shape[1])  # 144 rows in the middle
    top, bottom = (384 - fh) // 2, (384 + fh) // 2
    band, middle = rgb[: top - 4], rgb[top + 4 : bottom - 4]
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    # Not black, and darker than the photo.
    assert band.mean() > 25 and band.mean() < middle.mean()
    # Blurred: a small fraction of the photo's fine detail.
    lap = np.abs(cv2.Laplacian(grey, cv2.CV_32F))
    assert lap[: top - 4].mean() < 0.25 * lap[top + 4 : bottom - 4].mean()
    # A copy of the photo: the band's colours are the photo's (its reds and browns, dimmed),
    # not a flat fill.
    assert band[..., 0].mean() > band[..., 2].mean() + 10
    assert band.reshape(-1, 3).std(axis=0).max() > 4
    # And the photo is there, whole and sharp, in the middle.
    small = cv2.resize(photo, (216, fh), interpolation=cv2.INTER_AREA).astype(np.float32)
    got = rgb[top : top + fh].astype(np.float32)
    assert np.abs(got - small).mean() < 12


def clip_of(path: Path, src: Path, n: int = 24) -> Path:
    """A 1 s 24 fps clip of the picture at `src`, held still (H.264, near lossless)."""
    rgb = np.asarray(Image.open(src).convert("RGB"))
    h, w = rgb.shape[:2]
    with av.open(str(path), "w") as c:
        vs = c.add_stream("libx264", rate=24)
        vs.width, vs.height, vs.pix_fmt = w - w % 2, h - h % 2, "yuv420p"
        vs.options = {"preset": "ultrafast", "crf": "12"}
        for _ in range(n):
            fr = av.VideoFrame.from_ndarray(rgb[: h - h % 2, : w - w % 2].copy(), format="rgb24")
            for pkt in vs.encode(fr):
                c.mux(pkt)
        for pkt in vs.encode(None):
            c.mux(pkt)
    return path


@pytest.mark.parametrize("motion", ["zoom_in", "pan_left"])
def test_a_video_shown_whole_moves_and_is_never_cut(tmp_path, motion) -> None:
    src, (pw, ph) = patched_photo(tmp_path / "p.png")
    clip = clip_of(tmp_path / "v.mp4", src)
    out = tmp_path / "o.mp4"
    draft = one_shot(216, 384, motion=motion, strength="strong", fit="contain")
    render_draft(draft, {"img": clip}, out, quality="draft")
    rgbs = frames(out)
    assert len(rgbs) == 24
    fit = 216 / pw
    least = 1.0 / (1.0 + STRENGTHS["strong"])
    full = (SIDE * pw * fit * least) * (SIDE * ph * fit * least)
    where = []
    for k, rgb in enumerate(rgbs):
        for corner, col in PATCHES.items():
            ys, xs = np.nonzero(colour_mask(rgb, col))
            assert len(xs) >= 0.7 * full, (k, corner, len(xs), full)
            box = (xs.max() - xs.min() + 1) * (ys.max() - ys.min() + 1)
            assert len(xs) >= 0.8 * box, (k, corner)
        ys, xs = np.nonzero(colour_mask(rgb, PATCHES[(0, 0)]))
        where.append((xs.min(), len(xs)))
    # It moves: the picture grows (zoom) or slides (pan).
    assert max(w for w, _ in where) - min(w for w, _ in where) >= 3 or (
        max(n for _, n in where) > 1.3 * min(n for _, n in where)
    )
    # The room around the picture is its blurred copy, not black.
    assert rgbs[12][:40].mean() > 25
