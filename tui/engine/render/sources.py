"""Loading still images safely: EXIF orientation, odd modes, big files, damaged files."""

from __future__ import annotations

import warnings
from pathlib import Path

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


def _reduced_for(size: tuple[int, int], need: tuple[int, int]) -> tuple[int, int]:
    scale = max(need[0] / size[0], need[1] / size[1])
    return (max(1, int(size[0] * scale)), max(1, int(size[1] * scale)))


def to_rgb(img: Image.Image, background: tuple[int, int, int] = (0, 0, 0)) -> np.ndarray:
    """Upright 8-bit RGB from any PIL mode (CMYK, 16-bit, greyscale, palette, alpha); the
    array may be read-only."""
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
