"""Reading back what the renderer wrote: streams, frames and colours, by decoding."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np


@dataclass
class Probe:
    codec: str
    profile: str
    width: int
    height: int
    pix_fmt: str
    frames: int
    fps: float
    colorspace: int
    primaries: int
    trc: int
    color_range: int
    audio_seconds: float | None
    audio_rate: int | None
    audio_channels: int | None
    video_seconds: float


def probe(path: Path) -> Probe:
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        cc = v.codec_context
        frames = sum(1 for _ in c.decode(v))
        # average_rate is sometimes unset before a full scan; the container's rates agree.
        fps = float(v.average_rate or v.guessed_rate or v.base_rate)
    audio_seconds = rate = channels = None
    with av.open(str(path)) as c:
        if c.streams.audio:
            a = c.streams.audio[0]
            n = 0
            for fr in c.decode(a):
                n += fr.samples
            audio_seconds = n / a.rate
            rate, channels = a.rate, a.codec_context.channels
    return Probe(
        cc.name,
        str(cc.profile),
        cc.width,
        cc.height,
        str(cc.pix_fmt),
        frames,
        fps,
        int(cc.colorspace),
        int(cc.color_primaries),
        int(cc.color_trc),
        int(cc.color_range),
        audio_seconds,
        rate,
        channels,
        frames / fps,
    )


def frame_rgb(path: Path, index: int) -> np.ndarray:
    """Frame `index` as RGB, converted with the BT.709 matrix (what the file is tagged as)."""
    with av.open(str(path)) as c:
        for i, fr in enumerate(c.decode(video=0)):
            if i == index:
                return fr.to_ndarray(
                    format="rgb24", src_colorspace="ITU709", dst_colorspace="ITU709"
                )
    raise IndexError(index)


def frame_yuv(path: Path, index: int) -> np.ndarray:
    with av.open(str(path)) as c:
        for i, fr in enumerate(c.decode(video=0)):
            if i == index:
                return fr.to_ndarray()
    raise IndexError(index)


def video_luma(path: Path) -> np.ndarray:
    """Every frame's Y plane, (frames, H, W) uint8, as coded (no conversion)."""
    planes = []
    with av.open(str(path)) as c:
        for fr in c.decode(video=0):
            planes.append(fr.to_ndarray()[: fr.height])
    return np.stack(planes)


def track_markers(
    luma: np.ndarray, start: list[tuple[float, float]], radius: int = 14, level: float = 185.0
) -> np.ndarray:
    """(frames, markers, 2) centroids of dark markers (darker than `level`) on a light chart,
    each followed from its previous position; pixel-centre coordinates, sub-pixel."""
    n = luma.shape[0]
    out = np.zeros((n, len(start), 2))
    pos = [np.array(p, float) for p in start]
    for f in range(n):
        y = luma[f]
        for k, p in enumerate(pos):
            for _ in range(2):  # re-centre the window once
                x0, y0 = round(p[0]) - radius, round(p[1]) - radius
                xa, ya = max(0, x0), max(0, y0)
                win = y[ya : y0 + 2 * radius + 1, xa : x0 + 2 * radius + 1].astype(np.float64)
                wt = np.clip(level - win, 0, None)
                gy, gx = np.mgrid[0 : win.shape[0], 0 : win.shape[1]]
                total = wt.sum()
                if total <= 0:
                    break
                p = np.array(
                    [(wt * gx).sum() / total + xa + 0.5, (wt * gy).sum() / total + ya + 0.5]
                )
            pos[k] = p
            out[f, k] = p
    return out


def smoothness(pts: np.ndarray) -> tuple[float, float]:
    """(RMS of the second difference in px/frame², the largest fall-back in px) of tracks from
    track_markers: a fall-back is how far a marker goes back behind where it had got to, along
    its overall direction."""
    acc = np.diff(pts, n=2, axis=0)
    rms = float(np.sqrt((acc**2).sum(axis=2).mean()))
    net = pts[-1] - pts[0]
    unit = net / np.maximum(np.linalg.norm(net, axis=1, keepdims=True), 1e-9)
    progress = ((pts - pts[0]) * unit[None]).sum(axis=2)
    back = float((np.maximum.accumulate(progress, axis=0) - progress).max())
    return rms, back
