"""Camera motion, saliency, parallax, several segments, canvases and the render as a job.

Motion is checked on real renders: markers on a chart are tracked to sub-pixel precision in the
decoded frames, and their paths must be smooth (small second difference), never step backwards,
and sit where the camera path says they should.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.decode import frame_rgb, probe, smoothness, track_markers, video_luma
from tests.media import BLUE, RED, photo
from tui.engine.render import RenderCancelled, RenderError, render_draft, render_still
from tui.engine.render.motion import MOTIONS, STRENGTHS, camera_path, parallax_paths
from tui.engine.render.parallax import uncover_limit
from tui.engine.render.saliency import find_focus

SMOOTH = 0.15  # px/frame², RMS of the markers' second difference


def one_shot(src="img", w=640, h=360, fps=30, d=2000, **m):
    seg = {"id": "s1", "src": src, "st": 0, "d": d, "m": {"name": "x", **m}}
    return {"d": d, "m": {"width": w, "height": h, "fps": fps}, "t": [{"tt": 0, "sg": [seg]}]}


def solid(path: Path, colour, size=(640, 360)) -> Path:
    Image.new("RGB", size, colour).save(path)
    return path


# -- the chart and the tracker -------------------------------------------------------------------

CHART = (1280, 720)
MARKERS = [(x, y) for x in (240, 640, 1040) for y in (180, 540)]


def chart(path: Path) -> Path:
    """Soft dark dots (Gaussian, sigma 7 px) on light grey: centroids are exact to sub-pixel."""
    w, h = CHART
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ink = np.zeros((h, w), np.float32)
    for mx, my in MARKERS:
        ink += np.exp(-((xx + 0.5 - mx) ** 2 + (yy + 0.5 - my) ** 2) / (2 * 7.0**2))
    img = 220.0 - 190.0 * np.clip(ink, 0, 1)
    Image.fromarray(np.repeat(img[..., None], 3, 2).round().astype(np.uint8)).save(path)
    return path


def expected(path, w, h, k):
    """Where the camera path puts each marker (pixel-centre coordinates) at frame k."""
    z, cx, cy = path.zoom[k], path.cx[k], path.cy[k]
    return np.array(
        [
            [((mx / CHART[0]) - cx) * z * w + w / 2, ((my / CHART[1]) - cy) * z * h + h / 2]
            for mx, my in MARKERS
        ]
    )


# -- paths (no rendering) -----------------------------------------------------------------------


@pytest.mark.parametrize("motion", MOTIONS)
@pytest.mark.parametrize("strength", list(STRENGTHS))
@pytest.mark.parametrize("easing", ["ease", "linear"])
def test_paths_stay_inside_the_image_and_move_one_way(motion, strength, easing) -> None:
    p = camera_path(90, motion, strength, easing, focus=(0.8, 0.3))
    half = 0.5 / p.zoom
    assert np.all(p.zoom >= 1.0)
    assert np.all(p.cx - half >= -1e-9) and np.all(p.cx + half <= 1 + 1e-9)
    assert np.all(p.cy - half >= -1e-9) and np.all(p.cy + half <= 1 + 1e-9)
    # Every point of the image moves one way on screen: it never turns back.
    for pt in np.linspace(0.0, 1.0, 11):
        for series in ((pt - p.cx) * p.zoom, (pt - p.cy) * p.zoom):
            v = np.diff(series)
            assert np.all(v >= -1e-12) or np.all(v <= 1e-12), motion
    if motion == "static":
        assert np.all(p.zoom == 1.0) and np.all(p.cx == 0.5)
    else:
        assert np.ptp(p.zoom) + np.ptp(p.cx) + np.ptp(p.cy) > 0.02
    if easing == "ease" and motion != "static":
        v = np.abs(np.diff(p.zoom)) + np.abs(np.diff(p.cx)) + np.abs(np.diff(p.cy))
        assert v[0] < 0.05 * v.max() and v[-1] < 0.05 * v.max()  # eased in and out
    if easing == "linear" and motion in ("zoom_in", "pan_right"):
        series = p.zoom if motion == "zoom_in" else p.cx
        assert np.allclose(np.diff(series), np.diff(series)[0])


def test_strengths_are_ordered() -> None:
    span = [camera_path(30, "zoom_in", s).max_zoom for s in ("subtle", "medium", "strong")]
    assert 1.0 < span[0] < span[1] < span[2]


def test_parallax_foreground_moves_more_than_background() -> None:
    bg, fg = parallax_paths(60, "medium", "ease", (0.4, 0.5))
    # Screen position of the subject point in each layer.
    ub = (0.4 - bg.cx) * bg.zoom
    uf = (0.4 - fg.cx) * fg.zoom
    assert abs(uf[-1] - uf[0]) >= 2.0 * abs(ub[-1] - ub[0]) > 0.01


# -- smooth motion, measured on renders ---------------------------------------------------------


@pytest.mark.parametrize(
    "motion,strength,focus",
    [
        ("zoom_in", "strong", (0.3, 0.6)),
        ("pan_right", "medium", None),
        ("ken_burns", "medium", (0.7, 0.3)),
    ],
)
def test_motion_is_smooth_and_where_the_path_says(tmp_path, motion, strength, focus) -> None:
    src = chart(tmp_path / "chart.png")
    out = tmp_path / "o.mp4"
    w, h, fps, d = 640, 360, 30, 3000
    m = {"motion": motion, "strength": strength}
    if focus:
        m["focus"] = list(focus)
    render_draft(one_shot(w=w, h=h, fps=fps, d=d, **m), {"img": src}, out, quality="high")
    luma = video_luma(out)
    n = luma.shape[0]
    assert n == 90
    path = camera_path(n, motion, strength, "ease", focus or (0.5, 0.5))
    if focus is None:  # aimed by saliency: the chart's markers are symmetric, near the centre
        pass
    start = expected(path, w, h, 0)
    pts = track_markers(luma, [tuple(p) for p in start])
    if focus is not None:
        err = max(np.abs(pts[k] - expected(path, w, h, k)).max() for k in range(0, n, 5))
        assert err < 0.5, err
    rms, back = smoothness(pts)
    assert rms <= SMOOTH, rms
    # No backward steps: along its overall direction, no marker ever falls back behind where it
    # had got to (beyond the tracker's own noise).
    assert back < 0.12, back
    net = pts[-1] - pts[0]
    assert np.linalg.norm(net, axis=1).max() > 10  # it did move


def test_motion_aims_at_the_subject_when_no_focus_is_given(tmp_path) -> None:
    src = photo(tmp_path / "p.png", (1280, 720))  # a bright blob at (0.7, 0.35)
    fx, fy = find_focus(np.asarray(Image.open(src).convert("RGB")))
    assert abs(fx - 0.7) < 0.05 and abs(fy - 0.35) < 0.05
    out = tmp_path / "o.mp4"
    render_draft(one_shot(motion="zoom_in", strength="strong"), {"img": src}, out, quality="draft")

    def blob(i):
        y = frame_rgb(out, i).astype(float).sum(axis=2)
        wt = np.clip(y - np.quantile(y, 0.995), 0, None)
        gy, gx = np.mgrid[0 : y.shape[0], 0 : y.shape[1]]
        return np.array([(wt * gx).sum() / wt.sum(), (wt * gy).sum() / wt.sum()])

    a, b = blob(0), blob(59)
    # Zooming at the subject keeps it in place; a zoom at the centre would push it ~38 px out.
    assert np.linalg.norm(b - a) < 6, (a, b)


def test_parallax_moves_the_subject_over_a_filled_background(tmp_path) -> None:
    w, h = 960, 540
    rng = np.random.default_rng(3)
    bgimg = np.full((h, w, 3), 110, np.uint8)
    bgimg += rng.integers(0, 20, (h, w, 1), dtype=np.uint8)  # texture
    bgimg[100:120, 290:310] = 30  # two dark markers in the background
    bgimg[100:120, 650:670] = 30
    bgimg[200:380, 380:560] = RED
    src = tmp_path / "p.png"
    Image.fromarray(bgimg).save(src)
    out = tmp_path / "o.mp4"
    render_draft(one_shot(motion="parallax", strength="strong"), {"img": src}, out, quality="draft")

    def centres(i):
        rgb = frame_rgb(out, i).astype(int)
        red = (rgb[..., 0] > 150) & (rgb[..., 1] < 90)
        ys, xs = np.nonzero(red)
        dark = rgb.sum(axis=2) < 200
        dys, dxs = np.nonzero(dark)
        return np.array([xs.mean(), ys.mean()]), np.array([dxs.mean(), dys.mean()]), red.sum()

    (f0, b0, a0), (f1, b1, a1) = centres(0), centres(59)
    fg_move, bg_move = abs(f1[0] - f0[0]), abs(b1[0] - b0[0])
    # The layer moves further than the background, by no more than the fill behind it can
    # hide (parallax.uncover_limit: 9.6 px on this 960 px canvas).
    assert bg_move > 2 and 2 < fg_move - bg_move <= uncover_limit(w, h) + 1, (fg_move, bg_move)
    # No ghost of the subject is left where it was: no second red patch (the area stays one
    # subject's worth, a little bigger as it comes closer).
    assert 1.0 * a0 < a1 < 1.5 * a0


# -- several segments ---------------------------------------------------------------------------


def two_shots(d=1000, transition=None, transition_ms=None):
    m2 = {"motion": "static"}
    if transition:
        m2["transition"] = transition
    if transition_ms:
        m2["transition_ms"] = transition_ms
    segs = [
        {"id": "a", "src": "a", "st": 0, "d": d, "m": {"motion": "static"}},
        {"id": "b", "src": "b", "st": d, "d": d, "m": m2},
    ]
    return {"d": 2 * d, "m": {"width": 320, "height": 180, "fps": 24}, "t": [{"tt": 0, "sg": segs}]}


def test_segments_play_in_order_with_a_crossfade(tmp_path) -> None:
    media = {"a": solid(tmp_path / "a.png", RED), "b": solid(tmp_path / "b.png", BLUE)}
    out = tmp_path / "o.mp4"
    render_draft(two_shots(), media, out, quality="standard")
    assert probe(out).frames == 48
    mean = lambda i: frame_rgb(out, i)[60:120, 100:220].reshape(-1, 3).mean(0)  # noqa: E731
    assert np.abs(mean(5) - RED).max() <= 4
    assert np.abs(mean(42) - BLUE).max() <= 4
    # 0.5 s crossfade centred on the join (frames 18..29): the middle is half of each.
    mid = mean(23)
    blend = (np.array(RED) + np.array(BLUE)) / 2
    assert np.abs(mid - blend).max() <= 25, mid
    assert np.abs(mean(17) - RED).max() <= 4 and np.abs(mean(30) - BLUE).max() <= 4
    # The still of that moment shows the same blend.
    png = render_still(two_shots(), media, 23 / 24, tmp_path / "s.png")
    still = np.asarray(Image.open(png))[60:120, 100:220].reshape(-1, 3).mean(0)
    assert np.abs(still - mid).max() <= 4


def test_a_cut_or_a_longer_crossfade_when_asked(tmp_path) -> None:
    media = {"a": solid(tmp_path / "a.png", RED), "b": solid(tmp_path / "b.png", BLUE)}
    out = tmp_path / "o.mp4"
    render_draft(two_shots(transition="cut"), media, out, quality="standard")
    mean = lambda i: frame_rgb(out, i)[60:120, 100:220].reshape(-1, 3).mean(0)  # noqa: E731
    assert np.abs(mean(23) - RED).max() <= 4 and np.abs(mean(24) - BLUE).max() <= 4
    # A 1 s crossfade spans frames 12..35: frame 14 is already mixed, frame 33 not yet all blue.
    render_draft(two_shots(transition_ms=1000), media, out, quality="standard")
    assert np.abs(mean(10) - RED).max() <= 4 and np.abs(mean(38) - BLUE).max() <= 4
    assert 8 < np.abs(mean(14) - RED).max() < 40 and 8 < np.abs(mean(33) - BLUE).max() < 40


# -- canvas, fit, quality -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "w,h,fps,quality,size",
    [
        (1920, 1080, 60, "draft", (960, 540)),
        (1080, 1920, 25, "draft", (540, 960)),
        (1080, 1080, 24, "draft", (540, 540)),
        (1080, 1350, 30, "draft", (540, 676)),
        (3840, 2160, 24, "draft", (960, 540)),
    ],
)
def test_canvas_sizes_and_exact_frame_counts(tmp_path, w, h, fps, quality, size) -> None:
    src = photo(tmp_path / "p.png", (800, 600))
    out = tmp_path / "o.mp4"
    res = render_draft(
        one_shot(w=w, h=h, fps=fps, d=1000, motion="zoom_in"), {"img": src}, out, quality=quality
    )
    p = probe(out)
    assert (p.width, p.height) == size == (res.width, res.height)
    assert p.frames == fps == res.frames
    assert round(p.fps) == fps


def test_odd_duration_gives_exactly_fps_times_duration(tmp_path) -> None:
    src = photo(tmp_path / "p.png", (400, 300))
    out = tmp_path / "o.mp4"
    render_draft(one_shot(w=320, h=180, fps=24, d=1500), {"img": src}, out, quality="draft")
    assert probe(out).frames == 36


@pytest.mark.parametrize(
    "change,match",
    [({"fps": 50}, "fps 50"), ({"d": 61000}, "out of range"), ({"motion": "wobble"}, "wobble")],
)
def test_bad_canvas_or_motion_is_refused(tmp_path, change, match) -> None:
    src = photo(tmp_path / "p.png", (400, 300))
    kw = {"w": 320, "h": 180, "fps": change.get("fps", 24), "d": change.get("d", 1000)}
    with pytest.raises(RenderError, match=match):
        render_draft(
            one_shot(**kw, motion=change.get("motion", "static")), {"img": src}, tmp_path / "o.mp4"
        )
    assert not (tmp_path / "o.mp4").exists()


def test_contain_shows_the_whole_image_over_a_dimmed_copy(tmp_path) -> None:
    img = np.zeros((400, 400, 3), np.uint8)
    img[:] = RED
    img[:20] = BLUE  # the top edge must stay visible (nothing cropped)
    src = tmp_path / "sq.png"
    Image.fromarray(img).save(src)
    out = tmp_path / "o.mp4"
    render_draft(one_shot(w=640, h=360, d=1000, motion="static", fit="contain"), {"img": src}, out)
    rgb = frame_rgb(out, 5).astype(int)
    assert np.abs(rgb[150:250, 280:360].reshape(-1, 3).mean(0) - RED).max() <= 4
    assert rgb[4:12, 280:360, 2].mean() > 150  # the blue top row, inside the frame
    side = rgb[150:250, 20:80].reshape(-1, 3).mean(0)
    assert 80 < side[0] < 160 and side[0] < RED[0] - 50  # a dimmed red, not black, not bright


def test_quality_tiers_use_their_x264_settings(tmp_path) -> None:
    src = photo(tmp_path / "p.png", (400, 300))
    found = {}
    for q in ("high", "standard", "draft"):
        out = tmp_path / f"{q}.mp4"
        render_draft(one_shot(w=320, h=180, fps=24, d=1000), {"img": src}, out, quality=q)
        data = out.read_bytes()
        found[q] = data[data.find(b"x264 - core") :][:2000]
    assert b"crf=20.0" in found["high"] and b"subme=7" in found["high"]  # medium
    assert b"crf=23.0" in found["standard"] and b"subme=2" in found["standard"]  # veryfast
    assert b"subme=0" in found["draft"]  # ultrafast


# -- as a job -----------------------------------------------------------------------------------


def test_progress_and_cancellation(tmp_path) -> None:
    src = photo(tmp_path / "p.png", (400, 300))
    seen: list[float] = []
    render_draft(
        one_shot(w=320, h=180, fps=24, d=1000),
        {"img": src},
        tmp_path / "a.mp4",
        progress=seen.append,
    )
    assert seen == sorted(seen) and seen[-1] == 1.0 and 0 < seen[0] < 0.2
    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 2

    out = tmp_path / "b.mp4"
    with pytest.raises(RenderCancelled):
        render_draft(one_shot(w=320, h=180, fps=24, d=3000), {"img": src}, out, cancel=cancel)
    assert not out.exists() and not list(tmp_path.glob(".*part"))


def test_still_of_a_moment(tmp_path) -> None:
    src = chart(tmp_path / "chart.png")
    d = one_shot(w=320, h=180, fps=24, d=2000, motion="zoom_in", focus=[0.5, 0.5])
    out = tmp_path / "o.mp4"
    render_draft(d, {"img": src}, out, quality="high")
    png = render_still(d, {"img": src}, 1.0, tmp_path / "s.png")
    still = np.asarray(Image.open(png)).astype(int)
    assert still.shape == (180, 320, 3)
    near = np.abs(still - frame_rgb(out, 24).astype(int)).mean()
    assert near < 1.0
    assert np.abs(still - frame_rgb(out, 0).astype(int)).mean() > 2 * near  # it moved meanwhile
