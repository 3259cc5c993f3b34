"""Test media made on the fly: charts, photos and sounds with known content."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

RED, GREEN, BLUE = (220, 30, 30), (30, 200, 60), (30, 60, 220)


def bars(path: Path, size: tuple[int, int] = (640, 360), fmt: str | None = None) -> Path:
    """Three vertical colour bars: red, green, blue."""
    w, h = size
    arr = np.zeros((h, w, 3), np.uint8)
    arr[:, : w // 3] = RED
    arr[:, w // 3 : 2 * w // 3] = GREEN
    arr[:, 2 * w // 3 :] = BLUE
    Image.fromarray(arr).save(path, format=fmt)
    return path


def photo(path: Path, size: tuple[int, int] = (800, 600), seed: int = 1) -> Path:
    """A smooth, photo-like gradient with a bright subject off centre."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    rng = np.random.default_rng(seed)
    base = np.stack([xx / w * 180 + 40, yy / h * 160 + 50, 120 + 60 * np.sin(xx / 50)], -1)
    cx, cy = w * 0.7, h * 0.35
    blob = np.exp(-(((xx - cx) / (w * 0.08)) ** 2 + ((yy - cy) / (h * 0.08)) ** 2))
    img = base * (1 - blob[..., None]) + 250 * blob[..., None]
    img += rng.normal(0, 3, img.shape)
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path)
    return path
