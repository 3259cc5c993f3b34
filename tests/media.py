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


def tone_video(
    path: Path,
    tones: list[tuple[float, float]],
    *,
    rate: int = 48000,
    layout: str = "stereo",
    codec: str = "aac",
    amp: float = 0.5,
    video_seconds: float | None = None,
    fps: int = 12,
    size: tuple[int, int] = (64, 48),
    colour: tuple[int, int, int] = (90, 120, 150),
    broken: tuple[int, ...] = (),
    audio_start: float = 0.0,
) -> Path:
    """A small flat-colour video (libx264, VP9 in WebM; container from the extension) with a
    sound made of sines: `tones` is [(seconds, Hz)] in order, Hz 0 for silence; the same sine in
    every channel of `layout` at peak `amp`. The video lasts `video_seconds` (default: as long
    as the sound). Audio packets whose index is in `broken` are replaced by garbage of the same
    size; the sound's timestamps start `audio_start` seconds after the picture's."""
    import av

    parts = []
    for seconds, hz in tones:
        t = np.arange(round(seconds * rate)) / rate
        phase = 2 * np.pi * hz * t
        parts.append(np.sin(phase) * amp if hz else np.zeros_like(t))
    mono = np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)
    seconds = video_seconds if video_seconds is not None else mono.size / rate
    w, h = size
    rng = np.random.default_rng(5)
    with av.open(str(path), "w") as c:
        webm = Path(path).suffix.lower() == ".webm"
        vs = c.add_stream("libvpx-vp9" if webm else "libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        if not webm:
            vs.options = {"preset": "ultrafast", "crf": "18"}
        a = c.add_stream(codec, rate=rate)
        a.layout = layout
        channels = a.codec_context.channels
        step = a.codec_context.frame_size or 1024
        arr = np.empty((h, w, 3), np.uint8)
        arr[:] = colour
        frames = round(seconds * fps)
        pos = 0
        n_pkt = 0
        first = round(audio_start * rate)

        def mux_audio(pkts) -> None:
            nonlocal n_pkt
            for pkt in pkts:
                if n_pkt in broken:
                    bad = av.Packet(rng.integers(0, 256, pkt.size, dtype=np.uint8).tobytes())
                    bad.pts, bad.dts, bad.time_base = pkt.pts, pkt.dts, pkt.time_base
                    bad.stream = pkt.stream
                    pkt = bad
                n_pkt += 1
                c.mux(pkt)

        for i in range(frames):
            vf = av.VideoFrame.from_ndarray(arr, format="rgb24")
            vf.pts = i
            for pkt in vs.encode(vf):
                c.mux(pkt)
            until = min(mono.size, round((i + 1) * rate / fps))
            while (until - pos >= step) or (i == frames - 1 and pos < mono.size):
                chunk = mono[pos : pos + step]
                data = np.ascontiguousarray(np.repeat(chunk[None], channels, axis=0))
                af = av.AudioFrame.from_ndarray(data, format="fltp", layout=layout)
                af.sample_rate, af.pts = rate, first + pos
                mux_audio(a.encode(af))
                pos += chunk.size
        for pkt in vs.encode(None):
            c.mux(pkt)
        mux_audio(a.encode(None))
    return path
