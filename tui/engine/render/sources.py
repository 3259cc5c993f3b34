"""Loading still images safely: EXIF orientation, odd modes, big files, damaged files.

Pillow reads every header and decides (format, size, decompression bombs, mode, orientation);
the pixels of plain, complete JPEGs and PNGs (8-bit RGB or grey, no transparency, no animation)
are then decoded by OpenCV, straight into a packed RGB array, which saves Pillow's 4-byte
intermediate and its repacking copy: about 40 % of a 12 MP JPEG's time, 10-15 % of a 4K PNG's
(the same pixels: the same libjpeg-turbo / libpng). Anything else, or anything OpenCV refuses,
goes through Pillow, whose errors name the reason.
"""

from __future__ import annotations

import struct
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from tui.engine.render.errors import RenderError

# A 24 MP photo is routine; 100 MP is the most we agree to decode.
MAX_PIXELS = 100_000_000
# EXIF orientations that swap width and height (the 90° turns, mirrored or not).
_TURNED = (5, 6, 7, 8)


def load_image(
    path: Path,
    *,
    need: tuple[int, int] | None = None,
    background: tuple[int, int, int] = (0, 0, 0),
) -> np.ndarray:
    """Decode an image to uint8 RGB (h, w, 3), upright, alpha composited over `background`
    (a read-only array: copy it before writing to it).

    `need` is the smallest upright (width, height) the caller will use; big JPEGs are decoded
    at a reduced size (libjpeg's DCT scaling, 1/2 to 1/8) when that still covers it.
    Raises RenderError naming the file and the reason for anything unreadable.
    """
    path = Path(path)
    name = path.name
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise RenderError(f"{name}: file not found") from None
    except OSError as exc:
        raise RenderError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    if size == 0:
        raise RenderError(f"{name}: the file is empty")
    # Never accept a truncated file silently, whatever another module set (restored after).
    lenient, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(path)
            if img.width * img.height > MAX_PIXELS:
                raise RenderError(
                    f"{name}: {img.width}x{img.height} is too large to decode "
                    f"(over {MAX_PIXELS // 1_000_000} MP); refused as a possible "
                    "decompression bomb"
                )
            if need and img.format == "JPEG":
                w, h = need
                if _orientation(img) in _TURNED:
                    w, h = h, w
                img.draft("RGB", _reduced_for(img.size, (w, h)))
            rgb = _fast_decode(path, img)
            if rgb is None:
                img.seek(0)  # animated GIF/WebP: the first frame
                img.load()
                rgb = to_rgb(img, background)
    except RenderError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise RenderError(
            f"{name}: refused as a decompression bomb (its header claims more than "
            f"{MAX_PIXELS // 1_000_000} MP)"
        ) from None
    except UnidentifiedImageError:
        raise RenderError(
            f"{name}: not an image (its content is not JPEG, PNG, WebP or GIF, "
            "whatever its name says)"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        why = str(exc) or type(exc).__name__
        if "truncated" in why or isinstance(exc, EOFError):
            why = f"the file is truncated or damaged ({why})"
        raise RenderError(f"{name}: damaged image, cannot be decoded: {why}") from None
    except MemoryError:
        raise RenderError(f"{name}: too large to decode in the memory available") from None
    except Exception as exc:  # PIL raises many kinds for damaged data
        raise RenderError(f"{name}: not a readable image ({type(exc).__name__}: {exc})") from None
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = lenient
    if rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise RenderError(f"{name}: the image has no pixels")
    return rgb


def _orientation(img: Image.Image) -> int:
    try:
        return int(img.getexif().get(0x0112, 1))
    except Exception:
        return 1


# Pillow's transposes for EXIF orientations 2..8, done by OpenCV on an array.
_UPRIGHT = {
    2: lambda a: cv2.flip(a, 1),  # FLIP_LEFT_RIGHT
    3: lambda a: cv2.rotate(a, cv2.ROTATE_180),
    4: lambda a: cv2.flip(a, 0),  # FLIP_TOP_BOTTOM
    5: lambda a: cv2.transpose(a),  # TRANSPOSE
    6: lambda a: cv2.rotate(a, cv2.ROTATE_90_CLOCKWISE),  # ROTATE_270
    7: lambda a: cv2.rotate(cv2.transpose(a), cv2.ROTATE_180),  # TRANSVERSE
    8: lambda a: cv2.rotate(a, cv2.ROTATE_90_COUNTERCLOCKWISE),  # ROTATE_90
}
_REDUCED = {1: 0, 2: cv2.IMREAD_REDUCED_GRAYSCALE_2, 4: cv2.IMREAD_REDUCED_GRAYSCALE_4}
_REDUCED[8] = cv2.IMREAD_REDUCED_GRAYSCALE_8
_RGB_FLAG = getattr(cv2, "IMREAD_COLOR_RGB", None)  # OpenCV >= 4.10; else BGR, then swapped
_PNG_SIG = b"\x89PNG\r\n\x1a\n"
# Text chunks that may carry an orientation (Pillow reads EXIF and XMP from them).
_PNG_META = (b"Raw profile type exif", b"XML:com.adobe.xmp")


def _fast_decode(path: Path, img: Image.Image) -> np.ndarray | None:
    """`img`'s upright RGB pixels decoded by OpenCV, or None where Pillow must do it.

    Only for what both decode alike: complete JPEGs (ending with EOI) in RGB or grey, and
    complete PNGs (a well-formed chunk list ending with IEND) of 8-bit RGB or grey without
    transparency, animation or orientation metadata. A JPEG reduced by `img.draft` is decoded
    at the same scale (libjpeg's DCT scaling); the EXIF orientation is applied as Pillow would.
    """
    if img.format not in ("JPEG", "PNG") or img.mode not in ("RGB", "L"):
        return None
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError:
        return None
    raw = memoryview(data)  # type: ignore[arg-type]
    if img.format == "JPEG":
        if raw[-2:] != b"\xff\xd9":  # truncated (or data after the image): Pillow says
            return None
        orientation = _orientation(img)
        config = getattr(img, "decoderconfig", ())  # (scale, 0) once draft() has reduced it
        scale = int(config[0]) if config else 1
    else:
        if not _plain_png(raw):
            return None
        orientation, scale = 1, 1
    if scale not in _REDUCED:
        return None
    flags = _REDUCED[scale] | cv2.IMREAD_IGNORE_ORIENTATION
    flags |= _RGB_FLAG if _RGB_FLAG is not None else cv2.IMREAD_COLOR
    try:
        arr = cv2.imdecode(data, flags)
    except cv2.error:
        return None
    del data, raw
    if arr is None or arr.ndim != 3 or arr.shape[2] != 3 or arr.shape[:2] != img.size[::-1]:
        return None
    if _RGB_FLAG is None:
        arr = cv2.cvtColor(arr, cv2.COLOR_BGR2RGB)
    turn = _UPRIGHT.get(orientation)
    return turn(arr) if turn is not None else arr


def _plain_png(raw: memoryview) -> bool:
    """A complete PNG of 8-bit RGB or grey, not interlaced, that OpenCV decodes as Pillow does:
    no transparency (tRNS), no animation (acTL), no EXIF/XMP that could turn it, nothing after
    IEND."""
    if raw[:8] != _PNG_SIG:
        return False
    pos, n, seen_ihdr = 8, len(raw), False
    while pos + 12 <= n:
        length, kind = struct.unpack_from(">I4s", raw, pos)
        end = pos + 12 + length
        if end > n:
            return False  # truncated
        if kind == b"IHDR":
            if length < 13:
                return False
            depth, colour, interlace = raw[pos + 16], raw[pos + 17], raw[pos + 20]
            if depth != 8 or colour not in (0, 2) or interlace:  # grey or RGB, 8 bits
                return False
            seen_ihdr = True
        elif kind in (b"tRNS", b"acTL", b"eXIf"):
            return False
        elif kind in (b"tEXt", b"zTXt", b"iTXt"):
            keyword = bytes(raw[pos + 8 : min(end - 4, pos + 8 + 80)]).split(b"\0", 1)[0]
            if keyword in _PNG_META:
                return False
        elif kind == b"IEND":
            return seen_ihdr and end == n
        pos = end
    return False


def _reduced_for(size: tuple[int, int], need: tuple[int, int]) -> tuple[int, int]:
    scale = max(need[0] / size[0], need[1] / size[1])
    return (max(1, int(size[0] * scale)), max(1, int(size[1] * scale)))


def to_rgb(img: Image.Image, background: tuple[int, int, int] = (0, 0, 0)) -> np.ndarray:
    """Upright 8-bit RGB from any PIL mode (CMYK, 16-bit, greyscale, palette, alpha); the
    array may be read-only."""
    if _orientation(img) != 1:  # (exif_transpose copies the image even when it is upright)
        img = ImageOps.exif_transpose(img) or img
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        arr = np.asarray(img, dtype=np.float64) / 65535.0 * 255.0
        return _grey3(arr)
    if img.mode == "I":
        arr = np.asarray(img, dtype=np.float64)
        # 16-bit PNG greyscale opens as "I" in some Pillow versions: scale by its bit depth.
        arr = arr / 257.0 if arr.max() > 255 else arr
        return _grey3(arr)
    if img.mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        return _grey3(arr * (255.0 if arr.max() <= 1.0 else 1.0))
    if img.mode in ("P", "PA"):
        has_alpha = img.mode == "PA" or "transparency" in img.info
        img = img.convert("RGBA" if has_alpha else "RGB")
    elif img.mode == "L" and "transparency" in img.info:
        img = img.convert("LA")
    elif img.mode == "RGB" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "La", "RGBa"):
        if img.mode in ("La", "RGBa"):  # premultiplied: undo first
            img = img.convert("RGBA" if img.mode == "RGBa" else "LA")
        rgba = np.asarray(img.convert("RGBA"), dtype=np.float32)
        a = rgba[..., 3:4] / 255.0
        bg = np.asarray(background, dtype=np.float32)
        return np.clip(rgba[..., :3] * a + bg * (1.0 - a) + 0.5, 0, 255).astype(np.uint8)
    if img.mode != "RGB":
        img = img.convert("RGB")  # L, 1, CMYK (Adobe-inverted JPEGs handled by Pillow), YCbCr
    # Read-only (Pillow hands over a copy of its pixels already: a second copy of a 24 MP
    # photo would cost ~70 MB and ~30 ms before the first frame); callers never write to it.
    return np.asarray(img, dtype=np.uint8)


def _grey3(arr: np.ndarray) -> np.ndarray:
    g = np.clip(arr + 0.5, 0, 255).astype(np.uint8)
    return np.repeat(g[..., None], 3, axis=2)
