"""The subject stays in the picture (issue 14): the crop for another aspect is placed by the
subject, faces first, and every motion keeps the subject's box inside every frame.

Real renders from pictures made here with a clear subject off centre, decoded frame by frame:
the subject's pixels must keep clear of every edge of every frame.
"""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from PIL import Image

from tui.engine.render import render_draft
from tui.engine.render.faces import available as faces_available
from tui.engine.render.motion import MARGIN, MOTIONS, camera_path, in_frame, parallax_paths
from tui.engine.render.saliency import find_subject
from tui.engine.render.stage import cover_window, fitted_box

ASPECTS = {"9:16": (216, 384), "1:1": (320, 320), "4:5": (288, 360)}
CLEAR = 0.01  # of the frame: the subject's pixels keep at least this far from every edge


def one_shot(w: int, h: int, d: int = 1000, **m) -> dict:
    seg = {"id": "s1", "src": "img", "st": 0, "d": d, "m": {"name": "x", **m}}
    return {"d": d, "m": {"width": w, "height": h, "fps": 24}, "t": [{"tt": 0, "sg": [seg]}]}


def frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [
            f.to_ndarray(format="rgb24", src_colorspace="ITU709", dst_colorspace="ITU709")
            for f in c.decode(video=0)
        ]


def blob_picture(path: Path, size=(1280, 720), at=(0.7, 0.42), r=0.085) -> Path:
    """A bright, textured yellow disc (radius r of the short side) at `at`, on a plain grey-blue
    field with a little grain: the subject, far off centre."""
    w, h = size
    rng = np.random.default_rng(4)
    img = np.empty((h, w, 3), np.float32)
    img[:] = (60, 80, 100)
    img += rng.normal(0, 3, (h, w, 1))
    yy, xx = np.mgrid[0:h, 0:w]
    rad = r * min(w, h)
    disc = (xx - at[0] * w) ** 2 + (yy - at[1] * h) ** 2 < rad**2
    texture = 0.8 + 0.2 * (((xx // 6) + (yy // 6)) % 2)
    img[disc] = np.array([240, 205, 40], np.float32) * texture[disc][:, None]
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path)
    return path


def yellow(rgb: np.ndarray) -> np.ndarray:
    r, b = rgb[..., 0].astype(int), rgb[..., 2].astype(int)
    return (r > 140) & (b < 100) & (r - b > 90)


def draw_face(img: np.ndarray, at: tuple[float, float], scale: float) -> None:
    """A frontal face, drawn plainly enough for OpenCV's Haar cascade (hair, skin, brows, eyes,
    nose shade, mouth, neck and shoulders), face height `scale` of the picture's height."""
    h, w = img.shape[:2]
    cx, cy = at[0] * w, at[1] * h
    fh = scale * h
    fw = fh * 0.75

    def ell(c, ax, col):
        centre, axes = (round(c[0]), round(c[1])), (max(1, round(ax[0])), max(1, round(ax[1])))
        cv2.ellipse(img, centre, axes, 0, 0, 360, col, -1, cv2.LINE_AA)

    neck = (round(cx - fw * 0.25), round(cy + fh * 0.3)), (round(cx + fw * 0.25), round(cy + fh))
    cv2.rectangle(img, *neck, (190, 150, 125), -1)
    ell((cx, cy + fh * 1.2), (fw * 1.3, fh * 0.5), (40, 60, 140))  # shoulders
    ell((cx, cy - fh * 0.12), (fw * 0.56, fh * 0.5), (45, 30, 20))  # hair
    ell((cx, cy), (fw * 0.5, fh * 0.5), (215, 175, 145))  # skin
    for s in (-1, 1):
        ex, ey = cx + s * fw * 0.2, cy - fh * 0.08
        ell((ex, ey - fh * 0.09), (fw * 0.14, fh * 0.025), (60, 40, 30))  # brow
        ell((ex, ey), (fw * 0.11, fh * 0.045), (240, 240, 240))  # eye
        ell((ex, ey), (fw * 0.05, fh * 0.045), (35, 25, 20))  # iris
        ell((ex, ey + fh * 0.06), (fw * 0.12, fh * 0.03), (185, 145, 120))  # shade under it
    ell((cx, cy + fh * 0.1), (fw * 0.07, fh * 0.09), (190, 150, 125))  # nose
    ell((cx, cy + fh * 0.16), (fw * 0.09, fh * 0.02), (150, 100, 85))  # nostrils
    ell((cx, cy + fh * 0.28), (fw * 0.18, fh * 0.035), (150, 70, 70))  # mouth


def face_picture(path: Path, size=(1280, 720), at=(0.75, 0.45)) -> Path:
    """A face at `at` and, on the other side, a saturated red disc that saliency prefers."""
    w, h = size
    rng = np.random.default_rng(5)
    img = np.empty((h, w, 3), np.float32)
    img[:] = (70, 90, 110)
    img += rng.normal(0, 4, (h, w, 1))
    cv2.circle(img, (round(0.18 * w), round(0.5 * h)), round(0.12 * h), (250, 20, 20), -1)
    draw_face(img, at, 0.24)
    img = cv2.GaussianBlur(img, (0, 0), 1.2)
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path)
    return path


def skin(rgb: np.ndarray) -> np.ndarray:
    """The face's skin (not the darker neck): what must stay in frame."""
    r, g, b = (rgb[..., i].astype(int) for i in range(3))
    return (r > 203) & (g > 160) & (b > 125) & (b < 170) & (r - b > 45)


def assert_inside(rgbs: list[np.ndarray], mask_of, least: int) -> None:
    """In every frame, the subject's pixels are there (at least `least`) and clear of the edges."""
    for k, rgb in enumerate(rgbs):
        h, w = rgb.shape[:2]
        mask = mask_of(rgb)
        ys, xs = np.nonzero(mask)
        assert len(xs) >= least, (k, len(xs))
        mx, my = CLEAR * w, CLEAR * h
        box = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
        assert box[0] >= mx and box[2] <= w - mx, (k, box, (w, h))
        assert box[1] >= my and box[3] <= h - my, (k, box, (w, h))


# -- renders -------------------------------------------------------------------------------------


@pytest.mark.parametrize("aspect", list(ASPECTS))
@pytest.mark.parametrize("motion", MOTIONS)
def test_the_subject_stays_in_every_frame(tmp_path, aspect, motion) -> None:
    # A landscape picture, its subject at 70 % across: a centred 9:16 crop would cut it in half.
    src = blob_picture(tmp_path / "p.png")
    w, h = ASPECTS[aspect]
    out = tmp_path / "o.mp4"
    draft = one_shot(w, h, motion=motion, strength="strong")
    render_draft(draft, {"img": src}, out, quality="draft")
    rgbs = frames(out)
    assert len(rgbs) == 24 and rgbs[0].shape[:2] == (h, w)
    assert_inside(rgbs, yellow, least=round(0.02 * w * h))


@pytest.mark.parametrize("motion", ["zoom_in", "pan_up", "pan_left", "ken_burns", "parallax"])
def test_a_portrait_picture_on_a_landscape_canvas(tmp_path, motion) -> None:
    src = blob_picture(tmp_path / "p.png", size=(540, 960), at=(0.45, 0.8), r=0.14)
    out = tmp_path / "o.mp4"
    render_draft(one_shot(384, 216, motion=motion), {"img": src}, out, quality="draft")
    assert_inside(frames(out), yellow, least=round(0.02 * 384 * 216))


@pytest.mark.parametrize("motion", ["zoom_in", "pan_left", "pan_down", "ken_burns", "parallax"])
def test_a_subject_near_the_edge_on_the_same_aspect(tmp_path, motion) -> None:
    # Nothing to crop: the camera alone must not push a subject near the edge out of frame.
    src = blob_picture(tmp_path / "p.png", at=(0.86, 0.78), r=0.1)
    out = tmp_path / "o.mp4"
    draft = one_shot(384, 216, motion=motion, strength="strong")
    render_draft(draft, {"img": src}, out, quality="draft")
    assert_inside(frames(out), yellow, least=round(0.01 * 384 * 216))


@pytest.mark.parametrize("motion", ["zoom_in", "pan_right", "ken_burns"])
def test_the_whole_picture_fitted_keeps_its_subject_in(tmp_path, motion) -> None:
    # `contain`: the picture whole over a blurred, dimmed copy; the motion moves the picture,
    # at its smallest 1 / 1.3 of its fitted size (strong), so the disc is at least 0.59 of it.
    src = blob_picture(tmp_path / "p.png")
    out = tmp_path / "o.mp4"
    draft = one_shot(216, 384, motion=motion, strength="strong", fit="contain")
    render_draft(draft, {"img": src}, out, quality="draft")
    assert_inside(frames(out), yellow, least=round(0.0018 * 216 * 384))


def test_the_centred_crop_would_have_lost_it(tmp_path) -> None:
    """The check above sees a lost subject: framed on the picture's centre (as before), the
    9:16 clip has the disc cut by its edge."""
    src = blob_picture(tmp_path / "p.png")
    out = tmp_path / "o.mp4"
    draft = one_shot(216, 384, motion="static", focus=[0.5, 0.5])
    render_draft(draft, {"img": src}, out, quality="draft")
    with pytest.raises(AssertionError):
        assert_inside(frames(out)[:1], yellow, least=1)


needs_faces = pytest.mark.skipif(
    not faces_available(), reason="this OpenCV has no Haar cascades (opencv 5 dropped them)"
)


@needs_faces
def test_a_face_outranks_a_brighter_subject(tmp_path) -> None:
    img = np.asarray(Image.open(face_picture(tmp_path / "f.png")))
    sub = find_subject(img)
    assert sub.face
    x0, y0, x1, y1 = sub.box
    # The face (drawn at 0.75, 0.45, 0.24 of the height tall) is inside the box; the red disc
    # at 0.18 across is not.
    assert x0 < 0.75 - 0.065 and x1 > 0.75 + 0.065 and y0 < 0.45 - 0.1 and y1 > 0.45 + 0.1
    assert x0 > 0.35


@needs_faces
@pytest.mark.parametrize("motion", ["zoom_in", "pan_right", "ken_burns", "parallax"])
def test_the_face_stays_in_every_frame(tmp_path, motion) -> None:
    src = face_picture(tmp_path / "f.png")
    out = tmp_path / "o.mp4"
    draft = one_shot(216, 384, motion=motion, strength="strong")
    render_draft(draft, {"img": src}, out, quality="draft")
    assert_inside(frames(out), skin, least=round(0.01 * 216 * 384))


def test_no_face_no_face_box(tmp_path) -> None:
    img = np.asarray(Image.open(blob_picture(tmp_path / "p.png")))
    sub = find_subject(img)
    assert not sub.face
    x0, y0, x1, y1 = sub.box  # the disc: 0.7 +- 0.048 across, 0.42 +- 0.085 down
    assert x0 < 0.66 and x1 > 0.74 and y0 < 0.35 and y1 > 0.49
    assert x1 - x0 < 0.2 and y1 - y0 < 0.35


# -- the geometry --------------------------------------------------------------------------------


def test_the_crop_is_placed_on_the_subject() -> None:
    # 9:16 out of 1280x720: a window 405 px wide, centred on x = 896 (70 %).
    assert cover_window((1280, 720), 216, 384, (0.7, 0.4)) == (694, 0, 405, 720)
    # Near the edge it stops at the edge; centred by default.
    assert cover_window((1280, 720), 216, 384, (0.97, 0.4))[0] == 1280 - 405
    assert cover_window((1280, 720), 216, 384)[0] == round(640 - 202.5)
    box = fitted_box((0.65, 0.3, 0.75, 0.5), (1280, 720), 216, 384, "cover", (0.7, 0.4))
    assert np.allclose(box, ((832 - 694) / 405, 0.3, (960 - 694) / 405, 0.5))
    # `contain`: 1280x720 in 216x384 is 216x122, from y = 131.
    box = fitted_box((0.5, 0.0, 1.0, 1.0), (1280, 720), 216, 384, "contain")
    assert np.allclose(box, (0.5, 131 / 384, 1.0, (131 + 122) / 384))


BOXES = [
    (0.05, 0.1, 0.25, 0.4),
    (0.7, 0.6, 0.95, 0.95),
    (0.4, 0.05, 0.6, 0.3),
    (0.1, 0.3, 0.5, 0.9),
    (0.8, 0.05, 0.95, 0.2),
]


@pytest.mark.parametrize("motion", MOTIONS)
@pytest.mark.parametrize("strength", ["subtle", "medium", "strong"])
def test_paths_keep_the_box_in_and_still_move(motion, strength) -> None:
    for box in BOXES:
        focus = ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
        p = camera_path(60, motion, strength, "ease", focus, box)
        assert in_frame(p, box), (motion, box)
        half = 0.5 / p.zoom
        assert np.all(p.cx - half >= -1e-9) and np.all(p.cx + half <= 1 + 1e-9)
        assert np.all(p.cy - half >= -1e-9) and np.all(p.cy + half <= 1 + 1e-9)
        if motion not in ("static", "parallax"):
            assert np.ptp(p.zoom) + np.ptp(p.cx) + np.ptp(p.cy) > 0.01, (motion, box)
        if motion == "parallax":
            bg, fg = parallax_paths(60, strength, "ease", focus, box)
            assert in_frame(bg, box) and in_frame(fg, box), box


@pytest.mark.parametrize("motion", ["pan_left", "pan_right", "pan_up", "pan_down"])
def test_pans_sweep_across_the_subject(motion) -> None:
    box = (0.75, 0.7, 0.9, 0.9)
    p = camera_path(60, motion, "strong", "ease", (0.82, 0.8), box)
    assert in_frame(p, box)
    # It still pans: the view moves by a good part of what the zoom allows.
    along = p.cx if motion in ("pan_left", "pan_right") else p.cy
    assert np.ptp(along) > 0.05
    # The box sits MARGIN inside the frame at both ends, so it is crossed, not left behind.
    edge = (box[0] - p.cx) * p.zoom + 0.5
    assert edge.min() >= MARGIN - 1e-9


def test_a_subject_wider_than_the_frame_is_kept_centred() -> None:
    box = (0.02, 0.3, 0.98, 0.6)  # wider than the frame can hold with its margins
    for motion in ("zoom_in", "pan_right", "ken_burns"):
        p = camera_path(60, motion, "strong", "ease", (0.5, 0.45), box)
        mid = ((box[0] + box[2]) / 2 - p.cx) * p.zoom + 0.5
        assert np.all(np.abs(mid - 0.5) < 0.02), motion
        assert p.max_zoom < 1.0 + 0.3  # the zoom held back


def blob_video(path: Path, src: Path, n: int = 24, drift: float = 0.02) -> Path:
    """A 1 s 24 fps clip of the picture at `src`, drifting left by `drift` of its width."""
    rgb = np.asarray(Image.open(src).convert("RGB"))
    h, w = rgb.shape[:2]
    with av.open(str(path), "w") as c:
        vs = c.add_stream("libx264", rate=24)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.options = {"preset": "ultrafast", "crf": "18"}
        for k in range(n):
            m = np.float32([[1, 0, -drift * w * k / n], [0, 1, 0]])
            fr = cv2.warpAffine(rgb, m, (w, h), borderMode=cv2.BORDER_REPLICATE)
            for pkt in vs.encode(av.VideoFrame.from_ndarray(fr, format="rgb24")):
                c.mux(pkt)
        for pkt in vs.encode(None):
            c.mux(pkt)
    return path


@pytest.mark.parametrize("aspect", list(ASPECTS))
@pytest.mark.parametrize("motion", ["static", "zoom_in", "pan_left", "ken_burns"])
def test_a_video_is_reframed_on_its_subject(tmp_path, aspect, motion) -> None:
    # A landscape video, its subject at 70 % across: a centred 9:16 crop would cut it in half.
    clip = blob_video(tmp_path / "v.mp4", blob_picture(tmp_path / "p.png"))
    w, h = ASPECTS[aspect]
    out = tmp_path / "o.mp4"
    draft = one_shot(w, h, motion=motion, strength="strong")
    render_draft(draft, {"img": clip}, out, quality="draft")
    rgbs = frames(out)
    assert len(rgbs) == 24 and rgbs[0].shape[:2] == (h, w)
    assert_inside(rgbs, yellow, least=round(0.02 * w * h))


def test_a_video_centred_crop_would_have_lost_it(tmp_path) -> None:
    """The check above sees a lost subject: with the focus on the middle, the crop is too."""
    clip = blob_video(tmp_path / "v.mp4", blob_picture(tmp_path / "p.png"))
    out = tmp_path / "o.mp4"
    render_draft(one_shot(216, 384, motion="static", focus=[0.5, 0.5]), {"img": clip}, out)
    with pytest.raises(AssertionError):
        assert_inside(frames(out)[:1], yellow, least=1)
