"""The renderer's inputs: still images of every kind, video files, text, music; each odd or bad
input made here, rendered or decoded, and checked."""

from __future__ import annotations

import io
import re
import struct
import zlib
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw

from tests.decode import frame_rgb, probe
from tests.media import colour_video, sine_wav
from tui.engine.render import RenderError, render_draft, sources
from tui.engine.render import audio as audio_mod
from tui.engine.render import text as text_mod
from tui.engine.render.sources import load_image
from tui.engine.render.video_source import VideoSource, kind_of

W, H = 320, 180


def draft(d=1000, fps=24, w=W, h=H, src="img", motion="static", titles=(), music=None, vol=0.5):
    tracks = [{"tt": 0, "sg": [{"id": "v", "src": src, "st": 0, "d": d, "m": {"motion": motion}}]}]
    if music:
        tracks.append(
            {"tt": 1, "sg": [{"id": "a", "src": music, "st": 0, "d": d, "m": {"volume": vol}}]}
        )
    if titles:
        sg = [
            {"id": f"t{i}", "st": st, "d": dur, "m": {"text": text, "position": pos}}
            for i, (text, st, dur, pos) in enumerate(titles)
        ]
        tracks.append({"tt": 7, "sg": sg})
    return {"d": d, "m": {"width": w, "height": h, "fps": fps}, "t": tracks}


def flat(path: Path, colour, size=(W, H), mode="RGB", **save) -> Path:
    Image.new(mode, size, colour).save(path, **save)
    return path


def centre(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    return rgb[h // 3 : 2 * h // 3, w // 3 : 2 * w // 3].reshape(-1, 3).mean(axis=0)


# ---------------------------------------------------------------------------------------------
# Still images


def test_exif_orientation_6_comes_out_turned(tmp_path: Path) -> None:
    # Stored landscape: left half red, right half blue; orientation 6 = turn 90° clockwise.
    arr = np.zeros((60, 120, 3), np.uint8)
    arr[:, :60] = (220, 30, 30)
    arr[:, 60:] = (30, 60, 220)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "turned.jpg"
    Image.fromarray(arr).save(path, exif=exif.tobytes(), quality=95)
    rgb = load_image(path)
    assert rgb.shape == (120, 60, 3)  # portrait now
    assert rgb[20, 30, 0] > 180 and rgb[20, 30, 2] < 80  # red on top
    assert rgb[100, 30, 2] > 180 and rgb[100, 30, 0] < 80  # blue below
    # The reduced-size JPEG decode asks for the upright size: still turned, still big enough.
    small = load_image(path, need=(30, 60))
    assert small.shape[0] >= 60 and small.shape[1] >= 30 and small.shape[0] > small.shape[1]


def test_cmyk_red_is_red_after_a_render(tmp_path: Path) -> None:
    path = flat(tmp_path / "cmyk.jpg", (0, 225, 210, 25), mode="CMYK", quality=95)
    want = np.asarray(Image.open(path).convert("RGB"), dtype=float).reshape(-1, 3).mean(axis=0)
    assert want[0] > 200 and want[1] < 50 and want[2] < 70  # Pillow calls it red too
    out = tmp_path / "o.mp4"
    render_draft(draft(), {"img": path}, out, quality="standard")
    got = centre(frame_rgb(out, 12).astype(float))
    assert np.all(np.abs(got - want) <= 4), (got, want)


def test_16_bit_greyscale_is_scaled_not_clipped(tmp_path: Path) -> None:
    ramp = np.tile(np.linspace(0, 65535, 64).astype(np.uint16), (16, 1))
    path = tmp_path / "deep.png"
    Image.fromarray(ramp).save(path)
    rgb = load_image(path)
    assert rgb.shape == (16, 64, 3)
    expect = np.round(ramp[0] / 257.0)
    assert np.all(np.abs(rgb[0, :, 0].astype(float) - expect) <= 1)
    assert np.array_equal(rgb[..., 0], rgb[..., 2])
    # 48-bit colour (Pillow writes no such PNG: made by hand).
    deep = np.random.default_rng(0).integers(0, 65536, (4, 4, 3)).astype(">u2")
    raw = b"".join(b"\x00" + deep[r].tobytes() for r in range(4))
    head = struct.pack(">IIBBBBB", 4, 4, 16, 2, 0, 0, 0)
    (tmp_path / "rgb48.png").write_bytes(_png(head, zlib.compress(raw)))
    rgb48 = load_image(tmp_path / "rgb48.png")
    assert np.all(np.abs(rgb48.astype(int) - deep.astype(int) // 257) <= 1)


def test_greyscale_palette_and_alpha_images(tmp_path: Path) -> None:
    grey = load_image(flat(tmp_path / "g.png", 90, size=(8, 8), mode="L"))
    assert grey.shape == (8, 8, 3) and np.all(grey == 90)

    pal = Image.new("P", (8, 8), 0)
    pal.putpalette([0, 0, 0, 200, 40, 40, 10, 200, 10] + [0] * (256 * 3 - 9))
    ImageDraw.Draw(pal).rectangle((0, 0, 3, 7), fill=1)
    ImageDraw.Draw(pal).rectangle((4, 0, 7, 7), fill=2)
    pal.info["transparency"] = 2  # the green half is see-through
    pal.save(tmp_path / "p.png", transparency=2)
    rgb = load_image(tmp_path / "p.png", background=(0, 0, 255))
    assert tuple(rgb[4, 1]) == (200, 40, 40)
    assert tuple(rgb[4, 6]) == (0, 0, 255)  # background shows through

    # Half-transparent red over black, and over white.
    half = flat(tmp_path / "a.png", (240, 20, 20, 128), size=(8, 8), mode="RGBA")
    over_black = load_image(half)
    assert np.all(np.abs(over_black[0, 0].astype(int) - (120, 10, 10)) <= 1)
    over_white = load_image(half, background=(255, 255, 255))
    assert np.all(np.abs(over_white[0, 0].astype(int) - (248, 137, 137)) <= 1)

    la = load_image(flat(tmp_path / "la.png", (200, 64), size=(8, 8), mode="LA"))
    assert np.all(np.abs(la[0, 0].astype(int) - 50) <= 1)


def test_webp_and_first_frame_of_an_animated_gif(tmp_path: Path) -> None:
    webp = load_image(flat(tmp_path / "x.webp", (30, 200, 60), size=(16, 16), lossless=True))
    assert tuple(webp[8, 8]) == (30, 200, 60)
    frames = [Image.new("RGB", (16, 16), c) for c in ((220, 30, 30), (30, 60, 220))]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=100)
    gif = load_image(tmp_path / "anim.gif")
    assert gif[8, 8, 0] > 180 and gif[8, 8, 2] < 80  # the first (red) frame
    anim = tmp_path / "anim.webp"
    frames[0].save(anim, save_all=True, append_images=frames[1:], duration=100, lossless=True)
    assert load_image(anim)[8, 8, 0] > 180


def test_big_jpeg_is_decoded_at_reduced_size(tmp_path: Path) -> None:
    big = np.zeros((1600, 2400, 3), np.uint8)
    big[:, :, 1] = np.linspace(0, 255, 2400, dtype=np.uint8)
    path = tmp_path / "big.jpg"
    Image.fromarray(big).save(path, quality=85)
    full = load_image(path)
    assert full.shape == (1600, 2400, 3)
    small = load_image(path, need=(W, H))
    # libjpeg scales by 1/2..1/8: 1/8 gives 300x200, which still covers 320x180 by cover fit.
    assert small.shape[1] >= W and small.shape[0] >= H
    assert small.shape[1] <= 2400 // 4


def _pillow_only(path: Path, monkeypatch, **kw) -> np.ndarray:
    """load_image with OpenCV's decode turned off: Pillow's pixels, the reference."""
    with monkeypatch.context() as m:
        m.setattr(sources, "_fast_decode", lambda *a: None)
        return load_image(path, **kw)


def test_opencv_decode_gives_pillows_very_pixels(tmp_path: Path, monkeypatch) -> None:
    # Plain JPEGs and PNGs are decoded by OpenCV (faster); every orientation, reduced sizes,
    # grey, progressive, gamma-tagged PNGs: the very pixels Pillow gives.
    rng = np.random.default_rng(5)
    img = np.zeros((90, 160, 3), np.uint8)
    img[..., 0] = np.linspace(0, 255, 160, dtype=np.uint8)[None]
    img[..., 1] = np.linspace(0, 255, 90, dtype=np.uint8)[:, None]
    img[10:30, 10:50] = (250, 20, 20)  # asymmetric: any wrong turn shows
    img += rng.integers(0, 20, img.shape, dtype=np.uint8)
    big = np.repeat(np.repeat(img, 8, axis=0), 8, axis=1)  # 1280x720
    cases: list[tuple[Path, dict]] = []
    for o in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = o
        path = tmp_path / f"o{o}.jpg"
        Image.fromarray(big).save(path, quality=90, exif=exif.tobytes())
        cases += [(path, {}), (path, {"need": (300, 170)}), (path, {"need": (150, 80)})]
    grey = tmp_path / "grey.jpg"
    Image.fromarray(big[..., 1]).save(grey, quality=90)
    prog = tmp_path / "prog.jpg"
    Image.fromarray(big[:717, :1277]).save(prog, quality=85, progressive=True, subsampling=0)
    png, grey_png = tmp_path / "rgb.png", tmp_path / "grey.png"
    Image.fromarray(img).save(png)
    Image.fromarray(img[..., 0]).save(grey_png)
    rows = b"".join(b"\x00" + img[r].tobytes() for r in range(90))
    gamma = tmp_path / "gamma.png"
    head = struct.pack(">IIBBBBB", 160, 90, 8, 2, 0, 0, 0)
    data = _png(head, zlib.compress(rows))
    gama = struct.pack(">I", 4) + b"gAMA" + struct.pack(">I", 45455)
    gama += struct.pack(">I", zlib.crc32(b"gAMA" + struct.pack(">I", 45455)))
    gamma.write_bytes(data[:33] + gama + data[33:])  # after IHDR
    cases += [(grey, {}), (prog, {"need": (600, 330)}), (png, {}), (grey_png, {}), (gamma, {})]
    used = []
    real = sources._fast_decode
    monkeypatch.setattr(sources, "_fast_decode", lambda *a: used.append(real(*a)) or used[-1])
    for path, kw in cases:
        got = load_image(path, **kw)
        assert used[-1] is not None, path.name  # OpenCV decoded it
        want = _pillow_only(path, monkeypatch, **kw)
        assert got.shape == want.shape and np.array_equal(got, want), (path.name, kw)


def test_what_opencv_would_decode_differently_goes_to_pillow(tmp_path: Path) -> None:
    img = np.full((20, 30, 3), (200, 40, 40), np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(img).save(tmp_path / "turned.png", exif=exif.tobytes())
    Image.fromarray(img).save(tmp_path / "see.png", transparency=(200, 40, 40))
    Image.fromarray(img).convert("P").save(tmp_path / "pal.png")
    Image.fromarray(np.dstack([img, img[..., :1]])).save(tmp_path / "rgba.png")
    Image.fromarray(img).save(tmp_path / "tail.jpg")
    (tmp_path / "tail.jpg").write_bytes((tmp_path / "tail.jpg").read_bytes() + b"more")
    Image.fromarray(img).save(tmp_path / "tail.png")
    (tmp_path / "tail.png").write_bytes((tmp_path / "tail.png").read_bytes() + b"more")
    Image.fromarray(img).convert("CMYK").save(tmp_path / "cmyk.jpg")
    for name in ("turned.png", "see.png", "pal.png", "rgba.png", "tail.jpg", "tail.png"):
        with Image.open(tmp_path / name) as im:
            assert sources._fast_decode(tmp_path / name, im) is None, name
        assert load_image(tmp_path / name).shape[2] == 3  # and Pillow reads it
    assert load_image(tmp_path / "turned.png").shape == (30, 20, 3)
    with Image.open(tmp_path / "cmyk.jpg") as im:
        assert sources._fast_decode(tmp_path / "cmyk.jpg", im) is None


def _png(ihdr: bytes, idat: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    sig = b"\x89PNG\r\n\x1a\n"
    return sig + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _png_header_only(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return _png(ihdr, zlib.compress(b"\x00" * 64))


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("empty.jpg", b"", "empty"),
        ("notes.png", b"these are my holiday notes, not a picture\n" * 20, "not an image"),
        ("bomb.png", _png_header_only(30000, 30000), "decompression bomb"),
    ],
    ids=["empty", "text", "bomb"],
)
def test_bad_files_are_refused_with_name_and_reason(
    tmp_path: Path, name: str, content: bytes, why: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(RenderError, match=re.escape(name) + f": .*{why}"):
        load_image(path)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_image_is_refused(tmp_path: Path, fmt: str) -> None:
    rng = np.random.default_rng(3)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)).save(buf, format=fmt)
    path = tmp_path / f"cut.{fmt.lower()}"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    with pytest.raises(RenderError, match=rf"cut\.{fmt.lower()}: .*(truncated|damaged)"):
        load_image(path)


def test_damaged_image_fails_the_render_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "holiday.webp"
    path.write_bytes(b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 8)
    with pytest.raises(RenderError, match=r"holiday\.webp"):
        render_draft(draft(), {"img": path}, tmp_path / "o.mp4", quality="draft")
    assert not (tmp_path / "o.mp4").exists()


def test_small_image_is_upscaled_smoothly(tmp_path: Path) -> None:
    # A 32x18 grey ramp blown up 10x: smooth (no nearest-neighbour steps), monotonic, in range.
    ramp = np.tile(np.linspace(30, 220, 32), (18, 1)).astype(np.uint8)
    path = tmp_path / "tiny.png"
    Image.fromarray(ramp).convert("RGB").save(path)
    out = tmp_path / "o.mp4"
    render_draft(draft(), {"img": path}, out, quality="standard")
    row = frame_rgb(out, 6)[H // 2, 20 : W - 20, 1].astype(int)
    steps = np.diff(row)
    assert np.abs(steps).max() <= 4  # nearest-neighbour would step by ~6 every 10 px
    assert (steps < -1).sum() == 0  # no ringing dips
    assert row.min() >= 30 and row.max() <= 222


# ---------------------------------------------------------------------------------------------
# Video files as sources


STEPS = [
    (200, 40, 40),
    (40, 200, 40),
    (40, 40, 200),
    (200, 200, 40),
    (200, 40, 200),
    (40, 200, 200),
]


def test_video_segment_is_played_fitted_and_held_on_its_last_frame(tmp_path: Path) -> None:
    # 6 frames at 12 fps (0.5 s), 4:3, into a 1 s 16:9 segment at 24 fps.
    clip = colour_video(tmp_path / "clip.mp4", STEPS, size=(160, 120), fps=12)
    out = tmp_path / "o.mp4"
    render_draft(draft(d=1000, src="vid"), {"vid": clip}, out, quality="standard")
    p = probe(out)
    assert (p.width, p.height, p.frames) == (W, H, 24)
    with av.open(str(out)) as c:
        frames = [
            f.to_ndarray(format="rgb24", src_colorspace="ITU709", dst_colorspace="ITU709")
            for f in c.decode(video=0)
        ]
    for k, rgb in enumerate(frames):
        want = STEPS[min(k // 2, len(STEPS) - 1)]  # frame k is at k/24 s: source frame k//2
        got = centre(rgb.astype(float))
        assert np.all(np.abs(got - want) <= 8), (k, got, want)
    # Filled edge to edge (cover fit), no bars.
    assert np.all(np.abs(frames[0][:, :4].reshape(-1, 3).mean(0) - STEPS[0]) <= 8)


@pytest.mark.parametrize(
    ("name", "codec", "pix_fmt"),
    [
        ("c.mov", "libx264", "yuv420p"),
        ("c.mkv", "libx264", "yuv420p"),
        ("c.webm", "libvpx-vp9", "yuv420p"),
        ("c.avi", "mpeg4", "yuv420p"),
    ],
)
def test_video_containers_decode(tmp_path: Path, name: str, codec: str, pix_fmt: str) -> None:
    clip = colour_video(tmp_path / name, STEPS[:3], size=(64, 48), fps=10, codec=codec)
    assert kind_of(clip) == "video"
    src = VideoSource(clip, (64, 36), fps=10)
    try:
        from tui.engine.render.colour import rgb_to_yuv709

        for k in range(5):  # the last two hold the last frame
            st = src.stage_at(k)
            want = rgb_to_yuv709(np.array([[STEPS[min(k, 2)]]], np.uint8))[0, 0]
            got = (float(st.y.mean()), float(st.u.mean()), float(st.v.mean()))
            assert np.all(np.abs(np.array(got) - want) <= 10), (name, k, got, want)
    finally:
        src.close()


def test_video_source_starts_part_way_in(tmp_path: Path) -> None:
    from tui.engine.render.colour import rgb_to_yuv709

    clip = colour_video(tmp_path / "clip.mp4", STEPS, size=(64, 48), fps=12)
    src = VideoSource(clip, (64, 36), fps=12, start=0.25)  # from source frame 3
    try:
        seen = [float(src.stage_at(k).v.mean()) for k in range(4)]
    finally:
        src.close()
    want = [
        float(rgb_to_yuv709(np.array([[STEPS[min(3 + k, 5)]]], np.uint8))[0, 0, 2])
        for k in range(4)
    ]
    assert np.allclose(seen, want, atol=8), (seen, want)


@pytest.mark.parametrize("name", ["late.mkv", "late.mp4"])
def test_video_whose_timestamps_start_late_plays_from_its_first_frame(
    tmp_path: Path, name: str
) -> None:
    # Timestamps from 2.5 s on, and Matroska's rounded to the millisecond.
    clip = colour_video(tmp_path / name, STEPS[:4], size=(64, 48), fps=12, first_pts=30)
    src = VideoSource(clip, (64, 48), fps=12)
    try:
        seen = [float(src.stage_at(k).y.mean()) for k in range(5)]
    finally:
        src.close()
    from tui.engine.render.colour import rgb_to_yuv709

    want = [
        float(rgb_to_yuv709(np.array([[STEPS[min(k, 3)]]], np.uint8))[0, 0, 0]) for k in range(5)
    ]
    assert np.allclose(seen, want, atol=6), (seen, want)


def test_phone_video_rotation_is_honoured(tmp_path: Path) -> None:
    # Stored landscape, left half red; a 90° counter-clockwise display turn puts red at the bottom.
    clip = colour_video(
        tmp_path / "phone.mp4", [(30, 60, 220)] * 2, size=(64, 32), rotation=90, left=(220, 30, 30)
    )
    src = VideoSource(clip, (32, 64), fps=10)
    try:
        v = src.stage_at(0).v.astype(int)  # V (red-difference) is high for red, low for blue
    finally:
        src.close()
    assert v.shape == (32, 16)
    assert v[20:].mean() > 170 and v[:12].mean() < 130


def test_damaged_video_is_refused_with_its_name(tmp_path: Path) -> None:
    path = tmp_path / "broken.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x13" * 500)
    with pytest.raises(RenderError, match=r"broken\.mp4"):
        render_draft(draft(src="v"), {"v": path}, tmp_path / "o.mp4", quality="draft")


# ---------------------------------------------------------------------------------------------
# Text


def _white(rgb: np.ndarray) -> np.ndarray:
    return (rgb.astype(int) > 200).all(axis=2)


def test_chinese_title_draws_glyphs_not_tofu(tmp_path: Path) -> None:
    words = "春季大促销"
    choice = text_mod.find_font(words)
    assert choice is not None and text_mod.missing_glyphs(choice, words) == []
    # The glyphs differ from what this font draws for a character it lacks (.notdef).
    font = text_mod.load_font(words, 48)
    real, tofu = (Image.new("L", (320, 64)) for _ in range(2))
    ImageDraw.Draw(real).text((2, 2), words, font=font, fill=255)
    ImageDraw.Draw(tofu).text((2, 2), "\uffff" * len(words), font=font, fill=255)
    r, t = np.asarray(real) > 128, np.asarray(tofu) > 128
    assert r.sum() > 500 and (r & t).sum() / (r | t).sum() < 0.5

    grey = flat(tmp_path / "grey.png", (50, 50, 50), size=(640, 360))
    out = tmp_path / "o.mp4"
    render_draft(
        draft(w=640, h=360, titles=[(words, 0, 1000, "center")]),
        {"img": grey},
        out,
        quality="standard",
    )
    seen = _white(frame_rgb(out, 12))
    ov = text_mod.make_overlay(words, (640, 360), start=0, end=1, position="center")
    want = np.zeros((360, 640), bool)
    ph, pw = ov.yp.shape
    want[ov.y : ov.y + ph, ov.x : ov.x + pw] = (ov.a > 0.9) & (ov.yp > 200)
    iou = (seen & want).sum() / max(1, (seen | want).sum())
    assert want.sum() > 800 and iou > 0.6, (want.sum(), iou)


def test_no_font_for_the_text_fails_naming_what_to_install(monkeypatch) -> None:
    monkeypatch.setattr(text_mod, "find_font", lambda text: None)
    with pytest.raises(RenderError, match=r"(fonts-noto-cjk|manimgx-fonts-cjk)"):
        text_mod.make_overlay("你好", (W, H), start=0, end=1)


def test_emoji_no_font_draws_are_left_out_not_boxed() -> None:
    for title, words in (("Spring Sale 🌸✨", "Spring Sale"), ("春季 🌸 大促销", "春季 大促销")):
        shown = text_mod.printable_text(title)
        assert text_mod.find_font(title) is not None or shown == words
        assert text_mod.find_font(shown) is not None
        text_mod.make_overlay(title, (W, H), start=0, end=1)  # draws, no error


def test_long_title_wraps_inside_the_frame(tmp_path: Path) -> None:
    long = "The quick brown fox jumps over the lazy dog near the riverbank at dawn"
    ov = text_mod.make_overlay(long, (W, H), start=0, end=1, position="center")
    line = text_mod.make_overlay("The quick", (W, H), start=0, end=1, position="center")
    ph, pw = ov.yp.shape
    assert ph >= 2.5 * line.yp.shape[0] * 0.8  # several lines
    assert ov.x >= 0 and ov.x + pw <= W and ov.y >= 0 and ov.y + ph <= H
    # Drawn, every letter lands inside the frame with a margin.
    grey = flat(tmp_path / "grey.png", (50, 50, 50))
    out = tmp_path / "o.mp4"
    render_draft(draft(titles=[(long, 0, 1000, "center")]), {"img": grey}, out, quality="standard")
    cols = np.nonzero(_white(frame_rgb(out, 12)).any(axis=0))[0]
    assert cols.min() >= W * 0.04 and cols.max() <= W * 0.96
    # Chinese wraps between characters, never putting a comma at the start of a line.
    zh = "春天来了，全场商品五折起，欢迎大家光临我们的小店，选购喜欢的礼物。"
    zh_font = text_mod.load_font(zh, 40)
    zh_lines = text_mod.wrap(zh, zh_font, 300)
    assert len(zh_lines) > 2 and "".join(zh_lines) == zh
    assert all(zh_font.getlength(x) <= 300 for x in zh_lines)
    assert not any(x[0] in "，。" for x in zh_lines)
    # A word too long for a line is cut rather than overflowing.
    font = text_mod.load_font("x", 40)
    lines = text_mod.wrap("Supercalifragilisticexpialidocious", font, 200)
    assert len(lines) > 1 and all(font.getlength(x) <= 200 for x in lines)


def test_titles_in_their_window_and_place_only(tmp_path: Path) -> None:
    grey = flat(tmp_path / "grey.png", (50, 50, 50))
    out = tmp_path / "o.mp4"
    titles = [("TOP", 0, 700, "top"), ("BOTTOM", 1000, 700, "bottom")]
    render_draft(draft(d=2000, titles=titles), {"img": grey}, out, quality="standard")
    third = H // 3

    def where(i: int) -> tuple[int, int]:
        w = _white(frame_rgb(out, i))
        return int(w[:third].sum()), int(w[2 * third :].sum())

    top0, bottom0 = where(8)  # 0.33 s: TOP on screen
    top1, bottom1 = where(20)  # 0.83 s: between the two
    top2, bottom2 = where(32)  # 1.33 s: BOTTOM on screen
    assert top0 > 60 and bottom0 == 0
    assert top1 == 0 and bottom1 == 0
    assert top2 == 0 and bottom2 > 60
    # Fades: half way into the fade-in the text is partly there.
    ov = text_mod.make_overlay("TOP", (W, H), start=0, end=0.7)
    assert 0 < ov.alpha_at(ov.fade / 2) < 1 and ov.alpha_at(0.35) == 1 and ov.alpha_at(0.7) == 0


# ---------------------------------------------------------------------------------------------
# Audio


def decoded_audio(path: Path) -> np.ndarray:
    with av.open(str(path)) as c:
        chunks = [f.to_ndarray() for f in c.decode(audio=0)]
    data = np.concatenate(chunks, axis=1)
    return data if data.shape[0] == 2 else data.reshape(2, -1)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def test_uploaded_wav_looped_at_volume_with_a_fade_out(tmp_path: Path) -> None:
    wav = sine_wav(tmp_path / "beep.wav", 0.7, freq=440, amp=0.5)
    grey = flat(tmp_path / "grey.png", (50, 50, 50))
    out = tmp_path / "o.mp4"
    render_draft(
        draft(d=2000, music="song", vol=0.4), {"img": grey, "song": wav}, out, quality="draft"
    )
    p = probe(out)
    assert p.audio_rate == 48000 and p.audio_channels == 2
    assert abs(p.audio_seconds - p.video_seconds) <= 1024 / 48000
    a = decoded_audio(out)
    r = 48000
    src_rms = 0.5 / np.sqrt(2)
    mid = rms(a[:, int(0.2 * r) : int(0.9 * r)])
    assert abs(mid / src_rms - 0.4) <= 0.04, mid / src_rms  # the asked volume
    # Looped: no gap anywhere before the fade (0.7 s and 1.4 s are the seams).
    for s in np.arange(0.05, 0.95, 0.05):
        assert rms(a[:, int(s * r) : int((s + 0.05) * r)]) > 0.8 * mid, s
    tail = rms(a[:, -int(0.1 * r) :])
    assert tail < 0.15 * mid  # faded out over the last second


def test_builtin_music_is_deterministic_loud_enough_and_never_clips(tmp_path: Path) -> None:
    grey = flat(tmp_path / "grey.png", (50, 50, 50))
    runs = []
    for i in range(2):
        if i:
            audio_mod._cycle.cache_clear()  # really synthesise it again
        out = tmp_path / f"o{len(runs)}.mp4"
        render_draft(draft(music="builtin:lofi", vol=1.0), {"img": grey}, out, quality="draft")
        runs.append(decoded_audio(out))
    assert np.array_equal(runs[0], runs[1])
    assert 20 * np.log10(np.abs(runs[0]).max()) <= -1.0
    for style in audio_mod.BUILTIN_STYLES:
        x = audio_mod.synth(style, 6.0)
        assert np.array_equal(x, audio_mod.synth(style, 6.0))
        lufs = audio_mod.loudness(x[:, : 48000 * 6].astype(np.float64))
        assert -18.5 <= lufs <= -13.5, (style, lufs)
        assert 20 * np.log10(np.abs(x).max()) <= -1.0, style
        # No clicks: nothing jumps between neighbouring samples the way a cut waveform does.
        assert np.abs(np.diff(x, axis=1)).max() < 0.2, style
        # Voiced, not a drone: energy across the bass, the chords and the top.
        spec = np.abs(np.fft.rfft(x[0])) ** 2
        f = np.fft.rfftfreq(x.shape[1], 1 / 48000)
        bands = [
            spec[(f >= lo) & (f < hi)].sum() for lo, hi in ((40, 200), (200, 1000), (1e3, 8e3))
        ]
        assert min(bands) / sum(bands) > 0.002, (style, bands)


def test_uploaded_mp3_and_m4a_decode_and_trim(tmp_path: Path) -> None:
    t = np.arange(48000 * 3) / 48000
    tone = (0.3 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)
    for name, codec in (("s.mp3", "libmp3lame"), ("s.m4a", "aac"), ("s.aac", "aac")):
        path = tmp_path / name
        with av.open(str(path), "w") as c:
            s = c.add_stream(codec, rate=48000)
            s.layout = "mono"
            for i in range(0, tone.size, 1152):
                fr = av.AudioFrame.from_ndarray(
                    tone[None, i : i + 1152], format="fltp", layout="mono"
                )
                fr.sample_rate, fr.pts = 48000, i
                for pkt in s.encode(fr):
                    c.mux(pkt)
            for pkt in s.encode(None):
                c.mux(pkt)
        x = audio_mod.load_audio(path, 1.5)
        assert x.shape == (2, 72000), name
        assert abs(rms(x[:, 12000:60000]) - 0.3 / np.sqrt(2)) < 0.03, name


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("song.mp3", b"ID3\x03\x00\x00\x00\x00\x00\x10" + bytes(range(256)) * 8),
        ("voice.wav", b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 16),
        ("empty.m4a", b""),
    ],
)
def test_damaged_audio_is_refused_with_its_name(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    grey = flat(tmp_path / "grey.png", (50, 50, 50))
    with pytest.raises(RenderError, match=re.escape(name)):
        render_draft(
            draft(music="m"), {"img": grey, "m": path}, tmp_path / "o.mp4", quality="draft"
        )
