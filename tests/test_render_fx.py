"""Fades from/to black, text options, chroma siting and the parallax fallback, checked by
decoding what the renderer writes."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
from PIL import Image

from tests.decode import frame_rgb, frame_yuv, probe
from tests.media import colour_video, photo
from tui.engine.render import render_draft
from tui.engine.render import text as text_mod
from tui.engine.render.parallax import split_layers

W, H = 320, 180


def clip(d=2000, fps=24, w=W, h=H, motion="static", music=None, titles=(), **meta):
    m = {"width": w, "height": h, "fps": fps, **meta}
    tracks = [
        {"tt": 0, "sg": [{"id": "v", "src": "img", "st": 0, "d": d, "m": {"motion": motion}}]}
    ]
    if music:
        tracks.append({"tt": 1, "sg": [{"id": "a", "src": music, "st": 0, "d": d, "m": {}}]})
    if titles:
        tracks.append({"tt": 7, "sg": list(titles)})
    return {"d": d, "m": m, "t": tracks}


def audio_of(path: Path) -> np.ndarray:
    with av.open(str(path)) as c:
        data = np.concatenate([f.to_ndarray() for f in c.decode(audio=0)], axis=1)
    return data if data.shape[0] == 2 else data.reshape(2, -1)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


# -- fades from and to black ----------------------------------------------------------------------


def test_fade_in_and_out_from_and_to_black_picture_and_music(tmp_path: Path) -> None:
    src = photo(tmp_path / "p.png", (640, 360))
    plain, faded = tmp_path / "plain.mp4", tmp_path / "faded.mp4"
    media = {"img": src}
    render_draft(clip(d=3000, music="builtin:ambient"), media, plain, quality="draft")
    render_draft(
        clip(d=3000, music="builtin:ambient", fade_in=1000, fade_out=1500),
        media,
        faded,
        quality="draft",
    )
    assert probe(faded).frames == 72
    first, mid, last = (frame_yuv(faded, i).astype(int) for i in (0, 30, 71))
    # Black is Y 16 and chroma 128 (tv range): the first and last frames are (near) black.
    for f in (first, last):
        assert abs(f[:H].mean() - 16) < 2 and np.abs(f[H:] - 128).mean() < 2
    ref = frame_yuv(plain, 30).astype(int)
    assert np.abs(mid - ref).mean() < 1.5 and mid[:H].mean() > 60  # untouched in between
    # Half way into the fade-in (frame 12 of 24), luma stands half way to black.
    half, ref12 = frame_yuv(faded, 12)[:H].mean(), frame_yuv(plain, 12)[:H].mean()
    assert abs((half - 16) / (ref12 - 16) - 0.5) < 0.06
    # The music fades too: far quieter in the first 100 ms, untouched after the fade-in.
    r = 48000
    a_plain, a_faded = audio_of(plain), audio_of(faded)
    assert rms(a_faded[:, : r // 10]) < 0.05 * rms(a_plain[:, : r // 10])
    at = slice(int(1.1 * r), int(1.3 * r))
    assert abs(rms(a_faded[:, at]) / rms(a_plain[:, at]) - 1) < 0.05
    # Out over 1.5 s: 1 s before the end it is well into its fade; the usual 1 s one is not.
    at = slice(int(2.0 * r), int(2.1 * r))
    assert rms(a_faded[:, at]) < 0.85 * rms(a_plain[:, at])
    assert rms(a_faded[:, -r // 10 :]) < 0.05 * rms(a_plain[:, at])


# -- text options ---------------------------------------------------------------------------------


def _white(rgb: np.ndarray) -> int:
    return int((rgb.astype(int).min(axis=2) > 200).sum())


def test_title_size_and_fade_come_from_the_segment(tmp_path: Path) -> None:
    grey = tmp_path / "g.png"
    Image.new("RGB", (2 * W, 2 * H), (50, 50, 50)).save(grey)
    canvas = {"d": 1000, "w": 2 * W, "h": 2 * H}  # big enough that "small" is not the 12 px floor

    def title(i, size=None, fade=None):
        m = {"text": "Hi", "position": "center"}
        if size is not None:
            m["size"] = size
        if fade is not None:
            m["fade"] = fade
        return {"id": f"t{i}", "st": 0, "d": 2000, "m": m}

    counts = {}
    for size in ("small", None, "large"):
        out = tmp_path / f"{size}.mp4"
        d = clip(titles=[title(0, size=size, fade=0)], **canvas)
        render_draft(d, {"img": grey}, out, quality="standard")
        counts[size] = _white(frame_rgb(out, 12))
        # With `fade` 0 the title is fully there from its first frame.
        assert _white(frame_rgb(out, 0)) > 0.9 * counts[size]
    # Areas go with the square of the size: 0.7² and 1.4² of the default's.
    assert counts["small"] < 0.75 * counts[None] and counts["large"] > 1.4 * counts[None], counts
    # The default fade (0.4 s here) starts the title at zero; a number is a factor.
    out = tmp_path / "default.mp4"
    render_draft(clip(titles=[title(0)], **canvas), {"img": grey}, out, quality="standard")
    assert _white(frame_rgb(out, 0)) == 0
    big = text_mod.make_overlay("Hi", (W, H), start=0, end=2, scale=1.4).a.shape
    from tui.core.text_sizes import text_scale

    assert text_scale("large", "title", clip()) == 1.4 and text_scale(2, "title", clip()) == 2.0
    assert abs(text_scale(0.085 * H * 1.4, "title", clip()) - 1.4) < 1e-9
    assert big[0] > text_mod.make_overlay("Hi", (W, H), start=0, end=2).a.shape[0]


# -- chroma siting --------------------------------------------------------------------------------


def _edge(profile: np.ndarray, step: int) -> float:
    """Where a step lies (pixel-centre coordinates of luma, x = 0 the first column's centre), for
    samples `step` luma pixels apart starting at x = 0: the area under the normalised step,
    robust to blur and ringing."""
    n = len(profile) // 5
    lo, hi = profile[:n].mean(), profile[-n:].mean()
    q = (profile - lo) / (hi - lo)
    return -step / 2 + step * float((1.0 - q).sum())


def test_chroma_edge_lands_on_the_luma_edge(tmp_path: Path) -> None:
    """yuv420p chroma is left-sited (on the even luma columns): after a round trip, a sharp
    colour edge's chroma (read as a decoder does) lies where its luma does, within 0.25 px.
    Two bands: the edge after an odd and after an even column, so either offset shows."""
    img = np.empty((H, W, 3), np.uint8)
    blue, yellow = (20, 60, 200), (240, 200, 30)
    for rows, edge in ((slice(0, H // 2), 101), (slice(H // 2, H), 102)):
        img[rows, :edge], img[rows, edge:] = blue, yellow
    src = tmp_path / "edge.png"
    Image.fromarray(img).save(src)
    cases = [("static", 0), ("zoom_in", 20), ("zoom_in", 47)]  # the stage, then the warp
    for motion in ("static", "zoom_in"):
        out = tmp_path / f"{motion}.mp4"
        d = clip(motion=motion)
        d["t"][0]["sg"][0]["m"]["focus"] = [0.3, 0.5]
        render_draft(d, {"img": src}, out, quality="high")
        for _, k in (c for c in cases if c[0] == motion):
            yuv = frame_yuv(out, k).astype(float)
            u = yuv.reshape(-1)[H * W : H * W + H * W // 4].reshape(H // 2, W // 2)
            for band in (slice(10, H // 2 - 30), slice(H // 2 + 30, H - 10)):
                cband = slice(band.start // 2, band.stop // 2)
                ly = _edge(yuv[:H][band].mean(axis=0), 1)
                lu = _edge(u[cband].mean(axis=0), 2)
                assert abs(lu - ly) <= 0.25, (motion, k, band, ly, lu)


def test_video_source_chroma_lands_on_its_luma(tmp_path: Path) -> None:
    """A video's frames are staged by swscale (chroma averaged centred): the warp re-sites it."""
    src = colour_video(
        tmp_path / "v.mp4", [(240, 200, 30)] * 12, (640, 360), pix_fmt="yuv444p", left=(20, 60, 200)
    )
    for motion in ("static", "zoom_in"):
        d = clip(d=1000, motion=motion)
        d["t"][0]["sg"][0]["src"] = "vid"
        out = tmp_path / f"{motion}.mp4"
        render_draft(d, {"vid": src}, out, quality="high")
        for k in (0, 20):
            yuv = frame_yuv(out, k).astype(float)
            u = yuv.reshape(-1)[H * W : H * W + H * W // 4].reshape(H // 2, W // 2)
            ly, lu = _edge(yuv[20:160].mean(axis=0), 1), _edge(u[10:80].mean(axis=0), 2)
            assert abs(lu - ly) <= 0.25, (motion, k, ly, lu)


def test_chroma_and_luma_views_agree_at_any_zoom() -> None:
    """The per-frame warp maps a chroma sample (at luma x = 2j, y = 2i + 0.5) to the very stage
    point its luma neighbourhood comes from: exact, whatever the zoom and the centre."""
    from tui.engine.render.colour import CHROMA_X0
    from tui.engine.render.stage import _view_matrix

    rng = np.random.default_rng(5)
    for _ in range(20):
        z, cx, cy = 1 + rng.random(), 0.3 + 0.4 * rng.random(), 0.3 + 0.4 * rng.random()
        (pw, ph), (ow, oh) = (736, 414), (640, 360)
        my = _view_matrix((pw, ph), (ow, oh), z, cx, cy)
        mc = _view_matrix((pw // 2, ph // 2), (ow // 2, oh // 2), z, cx, cy, CHROMA_X0)
        for j, i in ((0, 0), (17, 40), (319, 179)):
            lx, ly = my @ np.array([2 * j, 2 * i + 0.5, 1.0])
            qx, qy = mc @ np.array([j, i, 1.0])
            assert abs(2 * qx - lx) < 1e-9 and abs(2 * qy + 0.5 - ly) < 1e-9


def test_packed_chroma_warp_is_the_plane_by_plane_warp() -> None:
    # Stills warp U and V as one 4-channel image: exactly what two plane warps give, on an odd
    # canvas (H/2 odd: the chroma planes do not start on a row) and at a still view (a copy).
    from tui.engine.render.stage import Stage, stage_of, warp_into

    rng = np.random.default_rng(2)
    rgb = rng.integers(0, 256, (414, 736, 3), dtype=np.uint8)
    packed = stage_of(rgb)
    assert packed.uv is not None
    plain = Stage(packed.y, packed.u, packed.v)
    for (w, h), (z, cx, cy) in (
        ((640, 360), (1.37, 0.42, 0.61)),
        ((216, 270), (1.05, 0.5, 0.5)),
        ((736, 414), (1.0, 0.5, 0.5)),
    ):
        a = np.zeros((h * 3 // 2, w), np.uint8)
        b = np.ones_like(a)
        warp_into(packed, a, z, cx, cy)
        warp_into(plain, b, z, cx, cy)
        assert np.array_equal(a, b), (w, h)


def test_a_drafts_packed_parallax_layer_blends_as_the_float_one() -> None:
    # Drafts blend the parallax layer premultiplied in 8 bits: within 3 levels of the float
    # blend (on noise, at the soft edge), with the same edges (the layer's border see-through).
    from tui.engine.render.stage import composite_into, layer_of

    rng = np.random.default_rng(4)
    fitted = rng.integers(0, 256, (420, 740, 3), dtype=np.uint8)
    alpha = np.zeros((420, 740), np.float32)
    alpha[100:300, 200:500] = 1.0
    alpha = cv2.GaussianBlur(alpha, (0, 0), 6)
    for z, cx, cy in ((1.0, 0.5, 0.5), (1.2, 0.4, 0.6), (0.9, 0.5, 0.5)):  # 0.9: past the edge
        base = rng.integers(0, 256, (540, 640), dtype=np.uint8)
        a, b = base.copy(), base.copy()
        composite_into(layer_of(fitted, alpha), a, z, cx, cy, [])
        composite_into(layer_of(fitted, alpha, fast=True), b, z, cx, cy, [])
        d = np.abs(a.astype(int) - b)
        assert d.max() <= 3 and d.mean() < 0.1, (z, cx, cy)


# -- parallax falls back to Ken Burns -------------------------------------------------------------


def test_parallax_on_a_busy_texture_falls_back_to_ken_burns(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (H * 2, W * 2, 3), dtype=np.uint8)  # nothing stands out
    assert split_layers(noise) is None
    src = tmp_path / "noise.png"
    Image.fromarray(noise).save(src)
    par, kb = tmp_path / "par.mp4", tmp_path / "kb.mp4"
    render_draft(clip(motion="parallax"), {"img": src}, par, quality="draft")
    render_draft(clip(motion="ken_burns"), {"img": src}, kb, quality="draft")
    assert probe(par).frames == 48
    for k in (0, 47):
        a, b = frame_yuv(par, k).astype(int), frame_yuv(kb, k).astype(int)
        assert np.abs(a - b).mean() < 0.5, k  # the very Ken Burns shot
    # And it moves: the first and last frames differ.
    assert np.abs(frame_yuv(par, 0).astype(int) - frame_yuv(par, 47).astype(int)).mean() > 10


def test_a_coloured_title_comes_out_in_its_colour(tmp_path: Path) -> None:
    grey = tmp_path / "g.png"
    Image.new("RGB", (2 * W, 2 * H), (50, 50, 50)).save(grey)
    title = {"id": "t", "st": 0, "d": 1000, "m": {"text": "HELLO", "fade": 0, "color": "#FFD600"}}
    out = tmp_path / "yellow.mp4"
    d = clip(d=1000, w=2 * W, h=2 * H, titles=[title])
    render_draft(d, {"img": grey}, out, quality="standard")
    rgb = frame_rgb(out, 6).astype(int)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    yellow = (r > 200) & (g > 170) & (b < 90)
    assert yellow.sum() > 400  # the glyphs' insides, after 4:2:0 and the round trip
    assert _white(frame_rgb(out, 6)) < yellow.sum() // 10  # not white text
