"""Background music: the built-in synthesiser and uploaded files, mixed to 48 kHz stereo."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from tui.engine.render.errors import RenderError

RATE = 48_000
BUILTIN_STYLES = ("lofi", "ambient", "upbeat")

# Chord progressions as MIDI note numbers (deterministic, royalty-free by construction).
_PROGRESSIONS = {
    "lofi": ([57, 60, 64, 67], [53, 57, 60, 64], [48, 52, 55, 59], [52, 55, 59, 62]),
    "ambient": ([50, 57, 62, 66], [47, 54, 59, 62], [43, 50, 55, 59], [45, 52, 57, 61]),
    "upbeat": ([60, 64, 67, 72], [55, 59, 62, 67], [57, 60, 64, 69], [53, 57, 60, 65]),
}
_TEMPO = {"lofi": 78, "ambient": 60, "upbeat": 118}


def synth(style: str, seconds: float) -> np.ndarray:
    """A loopable, deterministic piece in `style`, as float32 (2, n) in -1..1."""
    if style not in _PROGRESSIONS:
        raise RenderError(f"unknown built-in music '{style}' (have: {', '.join(BUILTIN_STYLES)})")
    n = round(seconds * RATE)
    t = np.arange(n, dtype=np.float64) / RATE
    beat = 60.0 / _TEMPO[style]
    bar = beat * 4
    prog = _PROGRESSIONS[style]
    out = np.zeros((2, n), dtype=np.float64)
    chord_idx = (t // bar).astype(int) % len(prog)
    pos_in_bar = t % bar
    for voice in range(4):
        notes = np.array([c[voice] for c in prog], dtype=np.float64)[chord_idx]
        freq = 440.0 * 2 ** ((notes - 69) / 12)
        # Phase accumulates so chord changes are click-free.
        phase = 2 * np.pi * np.cumsum(freq) / RATE
        if style == "upbeat":
            tone = np.sin(phase) + 0.3 * np.sin(2 * phase)
            env = np.exp(-3.0 * (t % (beat / 2)))
        elif style == "ambient":
            tone = np.sin(phase) + 0.15 * np.sin(3 * phase + 0.3 * np.sin(0.5 * t))
            env = 0.6 + 0.4 * np.sin(np.pi * pos_in_bar / bar) ** 2
        else:
            tone = np.sin(phase) + 0.2 * np.sin(2 * phase) * np.exp(-2 * pos_in_bar)
            env = 0.35 + 0.65 * np.exp(-1.5 * (t % (beat * 2)))
        pan = (voice - 1.5) / 3.0
        out[0] += tone * env * (0.5 - 0.3 * pan)
        out[1] += tone * env * (0.5 + 0.3 * pan)
    if style in ("lofi", "upbeat"):
        # A soft kick on every beat and a hushed hat on the off-beats.
        tb = t % beat
        kick = np.sin(2 * np.pi * 55 * tb * (1 + 2 * np.exp(-30 * tb))) * np.exp(-9 * tb)
        rng = np.random.default_rng(7)
        noise = rng.standard_normal(n)
        th = (t + beat / 2) % beat
        hat = noise * np.exp(-60 * th) * (0.06 if style == "lofi" else 0.1)
        out += (0.9 if style == "upbeat" else 0.6) * kick + hat
    out /= max(1e-9, np.abs(out).max()) / 0.8
    return out.astype(np.float32)


def load_audio(path: Path, seconds: float) -> np.ndarray:
    """Decode an audio file to float32 (2, n) at 48 kHz, looped or trimmed to `seconds`."""
    n = round(seconds * RATE)
    chunks: list[np.ndarray] = []
    got = 0
    try:
        with av.open(str(path)) as container:
            stream = next(s for s in container.streams if s.type == "audio")
            resampler = av.AudioResampler(format="fltp", layout="stereo", rate=RATE)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    arr = out.to_ndarray()
                    chunks.append(arr)
                    got += arr.shape[1]
                if got >= n:
                    break
    except StopIteration:
        raise RenderError(f"{Path(path).name}: has no audio stream") from None
    except Exception as exc:
        raise RenderError(f"{Path(path).name}: not readable audio ({exc})") from None
    if not chunks:
        raise RenderError(f"{Path(path).name}: has no audio samples")
    data = np.concatenate(chunks, axis=1).astype(np.float32)
    if data.shape[1] < n:
        data = np.tile(data, (1, n // data.shape[1] + 1))
    return data[:, :n]


def place(track: np.ndarray, total: int, start: int, volume: float, fade_out: float) -> np.ndarray:
    """Put `track` at sample `start` of a `total`-sample bed, with volume and a fade-out."""
    bed = np.zeros((2, total), dtype=np.float32)
    end = min(total, start + track.shape[1])
    if end <= start:
        return bed
    seg = track[:, : end - start] * float(volume)
    nf = min(seg.shape[1], int(fade_out * RATE))
    if nf > 0:
        seg[:, -nf:] *= np.linspace(1.0, 0.0, nf, dtype=np.float32)
    fade_in = min(seg.shape[1], int(0.02 * RATE))  # 20 ms, against a click at the start
    if fade_in > 0:
        seg[:, :fade_in] *= np.linspace(0.0, 1.0, fade_in, dtype=np.float32)
    bed[:, start:end] += seg
    return bed
