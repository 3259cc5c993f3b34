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


def sine_wav(
    path: Path, seconds: float, freq: float = 440.0, amp: float = 0.5, rate: int = 48000
) -> Path:
    """A stereo 16-bit WAV of a sine at `amp` (peak, 0..1)."""
    import wave

    t = np.arange(round(seconds * rate)) / rate
    s = np.round(amp * np.sin(2 * np.pi * freq * t) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.repeat(s[:, None], 2, axis=1).tobytes())
    return path


def colour_video(
    path: Path,
    colours: list[tuple[int, int, int]],
    size: tuple[int, int] = (160, 120),
    fps: int = 12,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    rotation: int = 0,
    left: tuple[int, int, int] | None = None,
    first_pts: int = 0,
) -> Path:
    """A video whose frame i is a flat `colours[i]` (container from the file's extension),
    optionally with its left half in `left`, and a display rotation (degrees, counter-clockwise,
    as phones write)."""
    import av

    w, h = size
    with av.open(str(path), "w") as c:
        s = c.add_stream(codec, rate=fps)
        s.width, s.height, s.pix_fmt = w, h, pix_fmt
        if rotation:
            s.set_display_rotation(rotation)
        if codec == "libx264":
            s.options = {"preset": "ultrafast", "crf": "12"}
        for i, col in enumerate(colours):
            arr = np.empty((h, w, 3), np.uint8)
            arr[:] = col
            if left is not None:
                arr[:, : w // 2] = left
            frame = av.VideoFrame.from_ndarray(arr, format="rgb24")
            frame.pts = first_pts + i
            for pkt in s.encode(frame):
                c.mux(pkt)
        for pkt in s.encode(None):
            c.mux(pkt)
    return path
