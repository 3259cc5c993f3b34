"""Text colour in the renderer: `make_overlay` fills the glyphs with the colour asked for, and
outlines them in a tone that contrasts with it (dark around white and bright colours, as
always; light around black and dark ones), so that any colour reads on any background."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tui.core.text_colours import TEXT_COLOURS
from tui.engine.render.colour import rgb_to_yuv420, yuv709_to_rgb
from tui.engine.render.text import (
    DARK_OUTLINE,
    LIGHT_OUTLINE,
    make_overlay,
    outline_for,
    parse_colour,
)

CANVAS = (1280, 720)  # titles about 120 px high at scale 2: thick strokes, wide glyphs
WHITE = (255, 255, 255)


def _overlay(colour: tuple[int, int, int] | None = None, text: str = "HELLO"):
    kw = {} if colour is None else {"colour": colour}
    return make_overlay(text, CANVAS, start=0, end=2, scale=2.0, **kw)


def _rgb(o) -> np.ndarray:
    """The overlay's patch as RGB, chroma brought back to full size."""
    up = np.repeat(np.repeat(o.up, 2, axis=0), 2, axis=1)
    vp = np.repeat(np.repeat(o.vp, 2, axis=0), 2, axis=1)
    return yuv709_to_rgb(np.dstack([o.yp, up, vp]))


def _fill_and_ring(o, fill: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inside the glyphs (`fill`, eroded clear of the edges, where chroma mixes) and the
    opaque ring just outside them: the outline."""
    fill = fill & (o.a > 0.99)
    inside = cv2.erode(fill.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    grown = cv2.dilate(fill.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    ring = grown & ~fill & (o.a > 0.99)
    return inside, ring


def test_a_yellow_titles_glyphs_are_yellow_with_a_dark_outline() -> None:
    yellow = parse_colour(TEXT_COLOURS["yellow"])
    assert yellow == (0xFF, 0xD6, 0x00)
    o = _overlay(yellow)
    rgb = _rgb(o)
    inside, ring = _fill_and_ring(o, o.yp > 120)
    assert inside.sum() > 2000  # plenty of glyph pixels
    glyph = np.median(rgb[inside], axis=0)
    assert np.abs(glyph - np.array(yellow)).max() <= 4, glyph
    assert ring.sum() > 1000 and np.median(o.yp[ring]) < 40  # today's dark outline


def test_a_black_title_has_a_light_outline() -> None:
    black = parse_colour("black")
    assert black is not None and max(black) < 40
    o = _overlay(black)
    rgb = _rgb(o)
    inside, ring = _fill_and_ring(o, o.yp < 60)
    assert inside.sum() > 2000
    assert np.abs(np.median(rgb[inside], axis=0) - np.array(black)).max() <= 4
    assert ring.sum() > 1000
    assert np.median(rgb[ring], axis=0).min() > 200  # light all round the glyphs


def test_white_stays_as_it_was() -> None:
    # The default, white, named and hex white: one and the same patch, with a dark outline.
    base = _overlay()
    for same in (_overlay(WHITE), _overlay(parse_colour("#FFF")), _overlay(parse_colour("white"))):
        for name in ("yp", "up", "vp", "a", "ac"):
            assert np.array_equal(getattr(base, name), getattr(same, name)), name
        assert (same.x, same.y) == (base.x, base.y)
    inside, ring = _fill_and_ring(base, base.yp > 200)
    assert inside.sum() > 2000 and np.median(base.yp[inside]) >= 234  # white: Y 235
    assert ring.sum() > 1000 and np.median(base.yp[ring]) < 40
    assert outline_for(WHITE) == DARK_OUTLINE == (20, 20, 20)


@pytest.mark.parametrize("name", sorted(TEXT_COLOURS))
def test_every_colour_reads_on_a_background_of_its_own_colour(name: str) -> None:
    # The worst background for a fill is itself: the outline must still draw the letters.
    colour = parse_colour(TEXT_COLOURS[name])
    assert colour is not None
    o = _overlay(colour)
    w, h = CANVAS
    y, u, v = rgb_to_yuv420(np.full((h, w, 3), colour, np.uint8))
    frame = np.concatenate([y.reshape(-1), u.reshape(-1), v.reshape(-1)]).reshape(h * 3 // 2, w)
    before = frame[:h].copy()
    o.blend(frame, 1.0)
    patch = frame[o.y : o.y + o.yp.shape[0], o.x : o.x + o.yp.shape[1]].astype(int)
    background = int(before[0, 0])
    # A good share of the patch stands well apart from the background, in luma alone.
    apart = np.abs(patch - background) > 60
    assert apart.mean() > 0.08, (name, apart.mean())


@pytest.mark.parametrize(
    "colour,outline",
    [
        ((255, 255, 255), DARK_OUTLINE),
        ((255, 214, 0), DARK_OUTLINE),
        ((244, 67, 54), DARK_OUTLINE),
        ((0x11, 0x11, 0x11), LIGHT_OUTLINE),
        ((0, 0, 0), LIGHT_OUTLINE),
        ((0, 0, 128), LIGHT_OUTLINE),  # navy
        ((90, 20, 120), LIGHT_OUTLINE),  # deep purple
    ],
)
def test_the_outline_goes_by_the_fills_luminance(colour, outline) -> None:
    assert outline_for(colour) == outline


@pytest.mark.parametrize(
    "value,rgb",
    [
        ("#FFCC00", (255, 204, 0)),
        ("#ffcc00", (255, 204, 0)),
        ("#FC0", (255, 204, 0)),
        (" #fc0 ", (255, 204, 0)),
        ("yellow", (0xFF, 0xD6, 0x00)),
        ("Gray", parse_colour(TEXT_COLOURS["grey"])),
        ("黄色", (0xFF, 0xD6, 0x00)),
        ("#000000", (0, 0, 0)),
        ("#12345", None),
        ("ffcc00", None),  # a hex needs its "#"
        ("sunset", None),
        ("", None),
        (None, None),
        (16763904, None),
        (["#fff"], None),
    ],
)
def test_parse_colour(value: object, rgb: tuple[int, int, int] | None) -> None:
    assert parse_colour(value) == rgb
