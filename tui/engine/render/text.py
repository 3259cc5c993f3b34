"""Titles and captions: text drawn once with Pillow, blended into YUV frames with fades."""

from __future__ import annotations

import contextlib
import functools
import math
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from tui.core.text_colours import colour_hex
from tui.engine.render.colour import chroma_half, rgb_to_yuv709
from tui.engine.render.errors import RenderError
from tui.engine.render.stage import planes_of

_LATIN_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
    "/System/Library/Fonts/Supplemental/Arial Bold.ttf",
    "C:/Windows/Fonts/arialbd.ttf",
)
_CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
    "C:/Windows/Fonts/msyhbd.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)
INSTALL_HINT = (
    "install a font that has them (Debian/Ubuntu: apt install fonts-noto-cjk; "
    "or pip install manimgx-fonts-cjk)"
)


@dataclass(frozen=True)
class FontChoice:
    path: str
    index: int = 0  # the face in a .ttc collection
    variation: str | None = None  # a named instance of a variable font ("Bold")


_CJK_RANGES = (
    (0x2E80, 0x9FFF),  # radicals, kana, CJK punctuation, ideographs
    (0xAC00, 0xD7AF),  # Hangul
    (0xF900, 0xFAFF),  # compatibility ideographs
    (0xFE30, 0xFE4F),  # vertical forms
    (0xFF00, 0xFFEF),  # full-width forms
    (0x20000, 0x3FFFF),  # ideograph extensions
)


def _needs_cjk(text: str) -> bool:
    return any(lo <= ord(ch) <= hi for ch in text for lo, hi in _CJK_RANGES)


@functools.lru_cache(maxsize=8)
def _fc_match(lang: str) -> str | None:
    try:
        out = subprocess.run(
            ["fc-match", "-f", "%{file}", f":lang={lang}:weight=bold"],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return out or None


def _bundled_cjk() -> FontChoice | None:
    """Noto Sans CJK from `manimgx-fonts-cjk` (a dependency): the Simplified Chinese face."""
    try:
        import manimgx_fonts_cjk
    except ImportError:
        return None
    for f in sorted(Path(manimgx_fonts_cjk.__file__).parent.glob("*.tt[cf]")):
        return FontChoice(str(f), _face_index(str(f), "SC"), "Bold")
    return None


@functools.lru_cache(maxsize=32)
def _face_index(path: str, want: str) -> int:
    """The index of the face of a collection whose family names `want` (e.g. "SC"), else 0."""
    if not path.lower().endswith(".ttc"):
        return 0
    for i in range(16):
        try:
            family = ImageFont.truetype(path, 12, index=i).getname()[0] or ""
        except OSError:
            break
        if family.endswith(f" {want}"):
            return i
    return 0


def _open(choice: FontChoice, size: int) -> ImageFont.FreeTypeFont:
    font = ImageFont.truetype(choice.path, size, index=choice.index)
    if choice.variation:
        # Not variable after all, or FreeType without variation support: the default instance.
        with contextlib.suppress(OSError, ValueError):
            font.set_variation_by_name(choice.variation)
    return font


def _glyph(font: ImageFont.FreeTypeFont, ch: str) -> bytes:
    img = Image.new("L", (48, 48))
    ImageDraw.Draw(img).text((4, 4), ch, font=font, fill=255)
    return img.tobytes()


@functools.lru_cache(maxsize=64)
def _notdef(choice: FontChoice) -> bytes:
    # A code point no font maps (a noncharacter): what the font draws for a missing glyph.
    return _glyph(_open(choice, 32), "\uffff")


def missing_glyphs(choice: FontChoice, text: str) -> list[str]:
    """The characters of `text` the font would draw as .notdef boxes (tofu)."""
    try:
        font = _open(choice, 32)
        tofu = _notdef(choice)
    except OSError:
        return sorted(set(text))
    return sorted(ch for ch in set(text) if not ch.isspace() and _glyph(font, ch) == tofu)


def _candidates(text: str) -> list[FontChoice]:
    found: list[FontChoice] = []
    if _needs_cjk(text):
        paths = [_fc_match("zh-cn"), *_CJK_FONTS]
    else:
        paths = [*_LATIN_FONTS, _fc_match("en")]
    for path in paths:
        if path and Path(path).exists():
            found.append(FontChoice(path, _face_index(path, "SC")))
    bundled = _bundled_cjk()
    if bundled is not None:
        found.append(bundled)
    return found


@functools.lru_cache(maxsize=64)
def find_font(text: str) -> FontChoice | None:
    """A font whose glyphs cover `text` (system fonts first, then the bundled one), or None."""
    for choice in _candidates(text):
        if not missing_glyphs(choice, text):
            return choice
    return None


def load_font(text: str, size: int) -> ImageFont.FreeTypeFont:
    """A font at `size` px that draws every character of `text`, or a RenderError saying why."""
    choice = find_font(text)
    if choice is not None:
        return _open(choice, size)
    default = ImageFont.load_default(size)
    if isinstance(default, ImageFont.FreeTypeFont):
        tofu = _glyph(default, "\uffff")
        if all(_glyph(default, ch) != tofu for ch in set(text) if not ch.isspace()):
            return default
    # Name the characters that the best font available lacks.
    lacking = [missing_glyphs(c, text) for c in _candidates(text)]
    missing = min(lacking, key=len) if lacking else []
    missing = missing or sorted({ch for ch in text if not ch.isspace()})
    sample = "".join(missing)[:12]
    hint = (
        INSTALL_HINT
        if _needs_cjk(sample)
        else "install a font that has them (Debian/Ubuntu: apt install fonts-noto-core)"
    )
    raise RenderError(f"no font on this machine has the glyphs for {sample!r} in the text; {hint}")


def _is_symbol(ch: str) -> bool:
    """Emoji, pictographs and their joiners/modifiers: decoration, not words."""
    return unicodedata.category(ch) in ("So", "Sk", "Cf", "Co", "Cn") or 0xFE00 <= ord(ch) <= 0xFE0F


def printable_text(text: str) -> str:
    """`text` as it will be drawn: emoji and pictographs that no available font draws are left
    out (rather than drawn as empty boxes); letters no font has are kept, so that `load_font`
    fails naming them."""
    if find_font(text) is not None:
        return text
    kept = " ".join("".join(ch for ch in text if not _is_symbol(ch)).split(" ")).strip()
    kept = "\n".join(" ".join(line.split()) for line in kept.splitlines())
    return kept if kept and kept != text else text


def _break_word(word: str, font: ImageFont.FreeTypeFont, max_width: int) -> list[str]:
    """A word wider than the line, cut into pieces that fit."""
    pieces: list[str] = []
    piece = ""
    for ch in word:
        if piece and font.getlength(piece + ch) > max_width:
            pieces.append(piece)
            piece = ch
        else:
            piece += ch
    return [*pieces, piece] if piece else pieces


def wrap(text: str, font: ImageFont.FreeTypeFont, max_width: int) -> list[str]:
    """Greedy wrap by words (by characters for CJK), keeping explicit newlines."""
    lines: list[str] = []
    for para in text.splitlines() or [""]:
        by_char = _needs_cjk(para)
        # CJK breaks anywhere between characters; Latin words stay whole unless too long.
        units = _cjk_units(para) if by_char else para.split(" ")
        joiner = "" if by_char else " "
        line = ""
        for unit in units:
            trial = f"{line}{joiner}{unit}" if line else unit.lstrip()
            if font.getlength(trial) <= max_width:
                line = trial
                continue
            if line:
                lines.append(line.rstrip())
            unit = unit.lstrip() if by_char else unit
            if font.getlength(unit) > max_width:
                *whole, unit = _break_word(unit, font, max_width)
                lines.extend(whole)
            line = unit
        lines.append(line.rstrip())
    return lines


_NO_LINE_START = set("，。、；：？！）」』】》,.;:?!)]}%")


def _cjk_units(para: str) -> list[str]:
    """Break units for CJK text: single characters, Latin words kept whole, and closing
    punctuation kept with the character before it (never at the start of a line)."""
    units: list[str] = []
    word = ""
    for ch in para:
        if ord(ch) < 0x2E80 and not ch.isspace() and ch not in _NO_LINE_START:
            word += ch
            continue
        if word:
            units.append(word)
            word = ""
        if ch in _NO_LINE_START and units:
            units[-1] += ch
        else:
            units.append(ch)
    if word:
        units.append(word)
    return units


def parse_colour(value: object) -> tuple[int, int, int] | None:
    """A text segment's `m.color` ("#RRGGBB", "#RGB" or a name in `text_colours`, as the
    agent writes it) as RGB, or None when it says no colour."""
    hexed = colour_hex(value)
    if hexed is None:
        return None
    return int(hexed[1:3], 16), int(hexed[3:5], 16), int(hexed[5:7], 16)


def relative_luminance(colour: tuple[int, int, int]) -> float:
    """WCAG's relative luminance of an sRGB colour: 0 (black) to 1 (white)."""

    def linear(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


DARK_OUTLINE = (20, 20, 20)
LIGHT_OUTLINE = (235, 235, 235)


def outline_for(colour: tuple[int, int, int]) -> tuple[int, int, int]:
    """The outline that sets `colour` apart from whatever is behind it: of the dark and the
    light one, the one with the higher contrast ratio to it (dark for white, yellow or red,
    light for black, navy or deep purple: fills darker than about 17 % relative luminance)."""
    fill = relative_luminance(colour) + 0.05
    dark, light = (relative_luminance(c) + 0.05 for c in (DARK_OUTLINE, LIGHT_OUTLINE))
    return LIGHT_OUTLINE if light / fill > fill / dark else DARK_OUTLINE


@dataclass
class TextOverlay:
    """A pre-rendered text patch in YUV with alpha, at its place in the frame."""

    x: int
    y: int
    yp: np.ndarray  # float32 (h, w) luma
    up: np.ndarray  # float32 (h/2, w/2)
    vp: np.ndarray
    a: np.ndarray  # float32 (h, w) 0..1
    ac: np.ndarray  # float32 (h/2, w/2)
    start: float  # seconds
    end: float
    fade: float

    def alpha_at(self, t: float) -> float:
        if t < self.start or t >= self.end:
            return 0.0
        f = self.fade
        if f <= 0:
            return 1.0
        return float(min(1.0, (t - self.start) / f, (self.end - t) / f))

    def blend(self, frame: np.ndarray, t: float) -> None:
        """Blend into a (H*3/2, W) yuv420p buffer, in place."""
        k = self.alpha_at(t)
        if k <= 0.0:
            return
        y_plane, u, v = planes_of(frame)
        ph, pw = self.yp.shape
        ys = y_plane[self.y : self.y + ph, self.x : self.x + pw]
        a = self.a * k
        ys[...] = (ys * (1.0 - a) + self.yp * a + 0.5).astype(np.uint8)
        ac = self.ac * k
        cx, cy = self.x // 2, self.y // 2
        ch, cw = self.up.shape
        for plane, src in ((u, self.up), (v, self.vp)):
            region = plane[cy : cy + ch, cx : cx + cw]
            region[...] = (region * (1.0 - ac) + src * ac + 0.5).astype(np.uint8)


def make_overlay(
    text: str,
    canvas: tuple[int, int],
    *,
    start: float,
    end: float,
    position: str = "center",
    role: str = "title",
    colour: tuple[int, int, int] = (255, 255, 255),
    scale: float = 1.0,
    fade: float | None = None,
) -> TextOverlay:
    """Draw `text` once for a canvas of `canvas` (w, h) px, shown from `start` to `end` s.

    The size follows the canvas's short side (titles 8.5 %, captions 5 %, times `scale`); long
    text wraps within 86 % of the width, and shrinks when its lines would not fit the height.
    The text is filled with `colour` and outlined in a tone that contrasts with it
    (`outline_for`: dark around white and bright colours, light around black and dark ones).
    `fade` is the fade in and out in seconds (default: 0.4 s, at most a quarter of the time).
    """
    w, h = canvas
    text = printable_text(text)
    short = min(w, h)
    size = max(12, round(short * (0.085 if role == "title" else 0.05) * max(0.2, scale)))
    dummy = ImageDraw.Draw(Image.new("L", (1, 1)))
    while True:
        font = load_font(text, size)
        stroke = max(2, size // 14)
        lines = wrap(text, font, int(w * 0.86) - 2 * stroke)
        spacing = size // 4
        box = dummy.multiline_textbbox(
            (0, 0),
            "\n".join(lines),
            font=font,
            spacing=spacing,
            stroke_width=stroke,
            align="center",
        )
        if box[3] - box[1] <= h * 0.8 or size <= 12:
            break
        size = max(12, int(size * 0.85))
    shadow = max(2, size // 16)
    pad = stroke + shadow + 4
    pw = math.ceil(box[2] - box[0]) + 2 * pad
    ph = math.ceil(box[3] - box[1]) + 2 * pad
    pw, ph = pw + (pw & 1), ph + (ph & 1)
    img = Image.new("RGBA", (pw, ph), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    origin = (pad - math.floor(box[0]), pad - math.floor(box[1]))
    # A soft drop shadow, then the text with an outline that contrasts with its fill (dark
    # around white): legible on any background.
    shadow_img = Image.new("RGBA", (pw, ph), (0, 0, 0, 0))
    ImageDraw.Draw(shadow_img).multiline_text(
        (origin[0] + shadow, origin[1] + shadow),
        "\n".join(lines),
        font=font,
        fill=(0, 0, 0, 150),
        spacing=spacing,
        align="center",
        stroke_width=stroke,
        stroke_fill=(0, 0, 0, 150),
    )
    rgba = np.asarray(shadow_img, dtype=np.float32)
    rgba[..., 3] = cv2.GaussianBlur(rgba[..., 3], (0, 0), sigmaX=max(1.0, shadow / 1.5))
    img = Image.alpha_composite(Image.fromarray(rgba.astype(np.uint8), "RGBA"), img)
    draw = ImageDraw.Draw(img)
    draw.multiline_text(
        origin,
        "\n".join(lines),
        font=font,
        fill=(*colour, 255),
        spacing=spacing,
        align="center",
        stroke_width=stroke,
        stroke_fill=(*outline_for(colour), 255),
    )
    arr = np.asarray(img, dtype=np.uint8)
    yuv = rgb_to_yuv709(arr[..., :3])
    a = arr[..., 3].astype(np.float32) / 255.0
    # Premultiplied downsampling so chroma at the edges is not pulled toward black, sited as
    # the frame's chroma is (the patch starts on an even column).
    uv = chroma_half(np.ascontiguousarray(yuv[..., 1:] * a[..., None]))
    ac = chroma_half(a)
    safe = np.maximum(ac, 1e-6)
    up, vp = uv[..., 0] / safe, uv[..., 1] / safe
    pw, ph = min(pw, w), min(ph, h)
    x = max(0, (w - pw) // 2) & ~1
    margin = round(h * 0.08)
    if position == "top":
        y = margin
    elif position == "bottom":
        y = h - margin - ph
    else:
        y = (h - ph) // 2
    y = max(0, min(h - ph, y)) & ~1
    return TextOverlay(
        x=x,
        y=y,
        yp=yuv[:ph, :pw, 0],
        up=up[: ph // 2, : pw // 2],
        vp=vp[: ph // 2, : pw // 2],
        a=a[:ph, :pw],
        ac=ac[: ph // 2, : pw // 2],
        start=start,
        end=end,
        fade=min(0.4, (end - start) / 4) if fade is None else max(0.0, float(fade)),
    )
