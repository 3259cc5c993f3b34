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
