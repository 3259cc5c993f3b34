"""Titles and captions: text drawn once with Pillow, blended into YUV frames with fades."""

from __future__ import annotations

import functools
import subprocess
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from tui.engine.render.colour import rgb_to_yuv709
from tui.engine.render.errors import RenderError

_LATIN_FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
    "/System/Library/Fonts/Supplemental/Arial Bold.ttf",
    "C:/Windows/Fonts/arialbd.ttf",
)
_CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)


def _needs_cjk(text: str) -> bool:
    return any(ord(ch) > 0x2E7F for ch in text)


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


def _covers(path: str, text: str) -> bool:
    try:
        font = ImageFont.truetype(path, 32)
    except OSError:
        return False
    # A glyph-less font draws .notdef boxes that all look alike; compare against U+FFFF's.
    missing = _glyph(font, "\uffff")
    return all(_glyph(font, ch) != missing for ch in set(text) if not ch.isspace())


def _glyph(font: ImageFont.FreeTypeFont, ch: str) -> bytes:
    img = Image.new("L", (48, 48))
    ImageDraw.Draw(img).text((4, 4), ch, font=font, fill=255)
    return img.tobytes()


def find_font(text: str) -> str | None:
    """A font file whose glyphs cover `text`, or None when only Pillow's default would do."""
    if _needs_cjk(text):
        candidates = [_fc_match("zh-cn"), *_CJK_FONTS]
    else:
        candidates = [*_LATIN_FONTS, _fc_match("en")]
    for path in candidates:
        if path and Path(path).exists() and _covers(path, text):
            return path
    return None


def load_font(text: str, size: int) -> ImageFont.FreeTypeFont:
    path = find_font(text)
    if path:
        return ImageFont.truetype(path, size)
    if _needs_cjk(text):
        raise RenderError(
            "no installed font has the glyphs for this text; install a CJK font "
            "(Debian/Ubuntu: apt install fonts-noto-cjk)"
        )
    return ImageFont.load_default(size)


def wrap(text: str, font: ImageFont.FreeTypeFont, max_width: int) -> list[str]:
    """Greedy wrap by words (by characters for CJK), keeping explicit newlines."""
    lines: list[str] = []
    for para in text.splitlines() or [""]:
        units = list(para) if _needs_cjk(para) and " " not in para else para.split(" ")
        joiner = "" if _needs_cjk(para) and " " not in para else " "
        line = ""
        for unit in units:
            trial = f"{line}{joiner}{unit}" if line else unit
            if font.getlength(trial) <= max_width or not line:
                line = trial
            else:
                lines.append(line)
                line = unit
        lines.append(line)
    return lines


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
        h = frame.shape[0] * 2 // 3
        w = frame.shape[1]
        ph, pw = self.yp.shape
        ys = frame[:h][self.y : self.y + ph, self.x : self.x + pw]
        a = self.a * k
        ys[...] = (ys * (1.0 - a) + self.yp * a + 0.5).astype(np.uint8)
        ac = self.ac * k
        cx, cy = self.x // 2, self.y // 2
        ch, cw = self.up.shape
        for plane, src in (
            (frame[h : h + h // 4].reshape(h // 2, w // 2), self.up),
            (frame[h + h // 4 :].reshape(h // 2, w // 2), self.vp),
        ):
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
) -> TextOverlay:
    w, h = canvas
    short = min(w, h)
    size = max(12, round(short * (0.085 if role == "title" else 0.05)))
    font = load_font(text, size)
    stroke = max(2, size // 14)
    lines = wrap(text, font, int(w * 0.86))
    spacing = size // 4
    dummy = ImageDraw.Draw(Image.new("L", (1, 1)))
    box = dummy.multiline_textbbox(
        (0, 0), "\n".join(lines), font=font, spacing=spacing, stroke_width=stroke, align="center"
    )
    shadow = max(2, size // 16)
    pad = stroke + shadow + 4
    pw = (box[2] - box[0]) + 2 * pad
    ph = (box[3] - box[1]) + 2 * pad
    pw, ph = pw + (pw & 1), ph + (ph & 1)
    img = Image.new("RGBA", (pw, ph), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    origin = (pad - box[0], pad - box[1])
    # A soft drop shadow, then the text with a dark outline: legible on any background.
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
        stroke_fill=(20, 20, 20, 255),
    )
    arr = np.asarray(img, dtype=np.uint8)
    yuv = rgb_to_yuv709(arr[..., :3])
    a = arr[..., 3].astype(np.float32) / 255.0
    # Premultiplied downsampling so chroma at the edges is not pulled toward black.
    uv = cv2.resize(yuv[..., 1:] * a[..., None], (pw // 2, ph // 2), interpolation=cv2.INTER_AREA)
    ac = cv2.resize(a, (pw // 2, ph // 2), interpolation=cv2.INTER_AREA)
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
        fade=min(0.4, (end - start) / 4),
    )
