"""Loading still images safely: EXIF orientation, odd modes, big files, damaged files."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from tui.engine.render.errors import RenderError

# A 24 MP photo is routine; 100 MP is the most we agree to decode.
MAX_PIXELS = 100_000_000


def load_image(path: Path, *, need: tuple[int, int] | None = None) -> np.ndarray:
    """Decode an image to uint8 RGB, upright, alpha composited over black.

    `need` is the smallest (width, height) the caller will use; big JPEGs are decoded at a
    reduced size (libjpeg's DCT scaling) when that still covers it.
    """
    name = Path(path).name
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(path)
            if img.width * img.height > MAX_PIXELS:
                raise RenderError(
                    f"{name}: {img.width}x{img.height} is too large to decode "
                    f"(over {MAX_PIXELS // 1_000_000} MP)"
                )
            if need and img.format == "JPEG":
                img.draft("RGB", _reduced_for(img.size, need))
            img.seek(0)  # animated GIF/WebP: the first frame
            img.load()
    except RenderError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise RenderError(f"{name}: refused as a decompression bomb ({exc})") from None
    except FileNotFoundError:
        raise RenderError(f"{name}: file not found") from None
    except Exception as exc:  # PIL raises many kinds for damaged data
        raise RenderError(f"{name}: not a readable image ({type(exc).__name__}: {exc})") from None
    return to_rgb(img)


def _reduced_for(size: tuple[int, int], need: tuple[int, int]) -> tuple[int, int]:
    scale = max(need[0] / size[0], need[1] / size[1])
    return (max(1, int(size[0] * scale)), max(1, int(size[1] * scale)))


def to_rgb(img: Image.Image) -> np.ndarray:
    """Upright 8-bit RGB from any PIL mode (CMYK, 16-bit, greyscale, palette, alpha)."""
    img = ImageOps.exif_transpose(img) or img
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        peak = 65535.0 if arr.max() > 255 else 255.0
        arr = np.clip(arr / peak * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(arr[..., None], 3, axis=2)
    if img.mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        arr = np.clip(arr * (255.0 if arr.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
        return np.repeat(arr[..., None], 3, axis=2)
    if img.mode == "P" or img.mode == "PA":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "La", "RGBa"):
        img = img.convert("RGBA")
        rgba = np.asarray(img, dtype=np.float32)
        a = rgba[..., 3:4] / 255.0
        return np.clip(rgba[..., :3] * a + 0.5, 0, 255).astype(np.uint8)
    if img.mode != "RGB":
        img = img.convert("RGB")
    return np.asarray(img, dtype=np.uint8).copy()
