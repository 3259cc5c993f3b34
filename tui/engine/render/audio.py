"""Background music: the built-in synthesiser and uploaded files, mixed to 48 kHz stereo.

The built-in pieces are made here, note by note, from sine partials, filtered noise and
envelopes (nothing downloaded, nothing third-party): chord progressions voiced for keys, pad and
bass, a light drum kit, then a master stage in the frequency domain (low-pass for lo-fi, a
reverb-like tail from a synthetic impulse response), loudness set to about -16 LUFS
(BS.1770 K-weighting, ungated) and peaks held under -1 dBFS by a soft knee. Deterministic: the
same style and length give the same samples.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from tui.engine.render.errors import RenderError

RATE = 48_000
BUILTIN_STYLES = ("lofi", "ambient", "upbeat")
TARGET_LUFS = -16.0
PEAK_CEILING = 10 ** (-1.5 / 20)  # -1.5 dBFS sample peak: AAC adds a little on top

# ---------------------------------------------------------------------------------------------
# Styles: tempo, swing, chords (bass note, voicing as MIDI numbers), bars per chord.


@dataclass(frozen=True)
class _Style:
    tempo: float
    swing: float  # delay of the off-beat eighth, as a fraction of a beat
    chords: tuple[tuple[int, tuple[int, ...]], ...]
    bars_per_chord: int
    lowpass: float | None  # Hz
    reverb_seconds: float
    reverb_wet: float


_STYLES = {
    # ii-V-I-vi in F, ninth chords in close, rootless voicings: Gm9, C13, Fmaj9, Dm9.
    "lofi": _Style(
        tempo=76,
        swing=0.12,
        chords=(
            (43, (58, 62, 65, 69)),
            (48, (58, 64, 69, 74)),
            (41, (57, 64, 67, 72)),
            (50, (57, 60, 65, 69)),
        ),
        bars_per_chord=1,
        lowpass=6000.0,
        reverb_seconds=1.2,
        reverb_wet=0.14,
    ),
    # Slow, open voicings in D: Dmaj9, Bm11, Gmaj7#11, Asus2, two bars each.
    "ambient": _Style(
        tempo=64,
        swing=0.0,
        chords=(
            (50, (57, 61, 64, 66)),
            (47, (57, 62, 64, 66)),
            (43, (54, 59, 61, 66)),
            (45, (57, 59, 64, 69)),
        ),
        bars_per_chord=2,
        lowpass=6500.0,
        reverb_seconds=3.2,
        reverb_wet=0.38,
    ),
    # I-V-vi-IV in C, triads with smooth voice leading.
    "upbeat": _Style(
        tempo=118,
        swing=0.0,
        chords=(
            (36, (64, 67, 72)),
            (43, (62, 67, 71)),
            (45, (64, 69, 72)),
            (41, (65, 69, 72)),
        ),
        bars_per_chord=1,
        lowpass=None,
        reverb_seconds=0.9,
        reverb_wet=0.10,
    ),
}


def _hz(midi: float) -> float:
    return 440.0 * 2.0 ** ((midi - 69.0) / 12.0)


# ---------------------------------------------------------------------------------------------
# Instruments: each returns a mono note of `n` samples that starts and ends at zero (no clicks).


def _env(n: int, attack: float, release: float, decay: float = 0.0) -> np.ndarray:
    """Raised-cosine attack, optional exponential decay, raised-cosine release to zero."""
    t = np.arange(n) / RATE
    env = np.exp(-decay * t) if decay > 0 else np.ones(n)
    na = max(1, min(n // 2, int(attack * RATE)))
    env[:na] *= 0.5 - 0.5 * np.cos(np.pi * np.arange(na) / na)
    nr = max(1, min(n - na, int(release * RATE)))
    env[n - nr :] *= 0.5 + 0.5 * np.cos(np.pi * np.arange(1, nr + 1) / nr)
    return env


@functools.lru_cache(maxsize=256)
def _keys(f: float, n: int, *, wobble: float = 0.0) -> np.ndarray:
    """A soft electric-piano tone: a few partials that fade faster the higher they are."""
    t = np.arange(n) / RATE
    # Tape-like slow pitch drift (a few cents), the same for every note: lo-fi's character.
    cents = wobble * np.sin(2 * np.pi * 0.45 * t + f)
    phase = 2 * np.pi * np.cumsum(f * 2 ** (cents / 1200)) / RATE
    tone = np.sin(phase)
    tone += 0.5 * np.sin(2 * phase) * np.exp(-3.0 * t)
    tone += 0.25 * np.sin(3 * phase) * np.exp(-5.0 * t)
    tone += 0.12 * np.sin(4 * phase) * np.exp(-8.0 * t)
    tone += 0.08 * np.sin(7 * phase) * np.exp(-30.0 * t)  # the tine's brief bark
    return tone * _env(n, 0.006, 0.12, decay=1.1)


def _pad(f: float, n: int) -> np.ndarray:
    """A slow, warm pad: two detuned voices of softly weighted harmonics."""
    out = np.zeros(n, dtype=np.float32)
    for detune, ph in ((-5.0, 0.0), (5.0, 1.3)):
        w = 2 * np.pi * f * 2 ** (detune / 1200) / RATE
        # Phase in float64 (exact over long notes), reduced to one turn, then float32 maths.
        base = (np.mod(w * np.arange(n) + ph, 2 * np.pi)).astype(np.float32)
        # Harmonics by the Chebyshev recurrence sin((k+1)x) = 2cos(x)sin(kx) - sin((k-1)x):
        # one sin and one cos per voice instead of one sin per harmonic.
        s1, c2 = np.sin(base), 2 * np.cos(base)
        prev, cur = np.zeros(n, dtype=np.float32), s1
        for amp in (1.0, 0.45, 0.25, 0.12, 0.06):
            out += amp * cur
            prev, cur = cur, c2 * cur - prev
    return out * 0.5 * _env(n, min(1.6, n / RATE / 3), min(1.8, n / RATE / 3))


@functools.lru_cache(maxsize=256)
def _bass(f: float, n: int) -> np.ndarray:
    t = np.arange(n) / RATE
    phase = 2 * np.pi * f * t
    tone = np.sin(phase) + 0.25 * np.sin(2 * phase) * np.exp(-6 * t)
    return tone * _env(n, 0.008, 0.08, decay=0.8)


@functools.lru_cache(maxsize=256)
def _pluck(f: float, n: int) -> np.ndarray:
    t = np.arange(n) / RATE
    phase = 2 * np.pi * f * t
    tone = np.sin(phase) + 0.4 * np.sin(2 * phase) * np.exp(-8 * t)
    tone += 0.2 * np.sin(3 * phase) * np.exp(-12 * t) + 0.1 * np.sin(4 * phase) * np.exp(-16 * t)
    return tone * _env(n, 0.004, 0.05, decay=7.0)


@functools.lru_cache(maxsize=256)
def _bell(f: float, n: int) -> np.ndarray:
    t = np.arange(n) / RATE
    phase = 2 * np.pi * f * t
    tone = np.sin(phase) + 0.25 * np.sin(2.76 * phase) * np.exp(-3 * t)
    return tone * _env(n, 0.01, 0.4, decay=1.4)


@functools.lru_cache(maxsize=256)
def _kick(n: int) -> np.ndarray:
    t = np.arange(n) / RATE
    freq = 52 + 80 * np.exp(-t * 30)
    phase = 2 * np.pi * np.cumsum(freq) / RATE
    return np.sin(phase) * _env(n, 0.002, 0.05, decay=14.0)


@functools.lru_cache(maxsize=4)
def _noise_band(lo: float, hi: float, seed: int) -> np.ndarray:
    """Half a second of noise limited to lo..hi Hz (a smooth band), peak-normalised."""
    n = RATE // 2
    spec = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / RATE)
    band = 1 / np.sqrt(1 + (lo / np.maximum(f, 1)) ** 4) / np.sqrt(1 + (f / hi) ** 4)
    out = np.fft.irfft(spec * band, n)
    return out / np.abs(out).max()


@functools.lru_cache(maxsize=256)
def _snare(n: int) -> np.ndarray:
    t = np.arange(n) / RATE
    noise = _noise_band(900, 7000, 11)[:n]
    body = np.sin(2 * np.pi * 185 * t) * np.exp(-25 * t)
    return (0.7 * noise * np.exp(-16 * t) + 0.5 * body) * _env(n, 0.002, 0.04)


@functools.lru_cache(maxsize=256)
def _hat(n: int) -> np.ndarray:
    return _noise_band(6000, 16000, 12)[:n] * _env(n, 0.001, 0.02, decay=55.0)


# ---------------------------------------------------------------------------------------------
# The score: note events per style.


@dataclass
class _Mix:
    buf: np.ndarray  # (2, n) float64

    def add(self, start: float, dur: float, make: Callable[[int], np.ndarray], gain, pan=0.0):
        i0 = round(start * RATE)
        n = self.buf.shape[1]
        if i0 >= n or dur <= 0:
            return
        m = min(round(dur * RATE), n - i0)
        if m <= 8:
            return
        note = make(round(dur * RATE))[:m] * gain
        # Equal-power pan, -1 (left) .. 1 (right).
        angle = (pan + 1) * np.pi / 4
        self.buf[0, i0 : i0 + m] += note * np.cos(angle)
        self.buf[1, i0 : i0 + m] += note * np.sin(angle)


CYCLE_BARS = 8  # the piece repeats every 8 bars (lo-fi 25 s, ambient 30 s, upbeat 16 s)
_TAIL = 4.0  # seconds of note release and reverb that wrap round to the cycle's start


def _cycle_samples(style: str) -> int:
    """The cycle's length, nudged (by under 0.1 %) to a 5-smooth number for a fast FFT."""
    n = round(CYCLE_BARS * 4 * 60.0 / _STYLES[style].tempo * RATE)
    while True:
        m = n
        for p in (2, 3, 5):
            while m % p == 0:
                m //= p
        if m == 1:
            return n
        n += 1


def _score(style: str) -> np.ndarray:
    """One cycle of the piece, with the notes ringing past its end folded back onto its start
    (as they would sound when it loops)."""
    spec = _STYLES[style]
    cycle = _cycle_samples(style)
    bar = cycle / RATE / CYCLE_BARS
    beat = bar / 4
    mix = _Mix(np.zeros((2, cycle + round(_TAIL * RATE))))
    rng = np.random.default_rng(sum(map(ord, style)))  # deterministic per style
    nbars = CYCLE_BARS

    def swung(b: float) -> float:  # position in beats -> seconds, with swung off-beats
        frac = b % 1.0
        return (b + (spec.swing if abs(frac - 0.5) < 1e-9 else 0.0)) * beat

    for bi in range(nbars):
        t0 = bi * bar
        bass_note, voicing = spec.chords[(bi // spec.bars_per_chord) % len(spec.chords)]
        first_of_chord = bi % spec.bars_per_chord == 0
        if style == "lofi":
            for v, note in enumerate(voicing):
                pan = (v - 1.5) * 0.25
                f = _hz(note)
                mix.add(t0, 2.7 * beat, lambda k, f=f: _keys(f, k, wobble=6), 0.16, pan)
                mix.add(
                    t0 + swung(2.5), 1.6 * beat, lambda k, f=f: _keys(f, k, wobble=6), 0.09, pan
                )
            fb = _hz(bass_note)
            mix.add(t0, 1.8 * beat, lambda k, f=fb: _bass(f, k), 0.30)
            mix.add(t0 + swung(2.5), 1.2 * beat, lambda k, f=fb: _bass(f, k), 0.22)
            # A sparse top line from the chord's upper notes, an octave up.
            for b in (1.5, 3.0):
                if rng.random() < 0.6:
                    f = _hz(voicing[int(rng.integers(1, len(voicing)))] + 12)
                    mix.add(t0 + swung(b), beat, lambda k, f=f: _keys(f, k, wobble=6), 0.07, 0.3)
            for b in (0.0, 2.5):
                mix.add(t0 + swung(b), 0.45, _kick, 0.5)
            for b in (1.0, 3.0):
                mix.add(t0 + swung(b), 0.25, _snare, 0.20, 0.05)
            for e in range(8):
                mix.add(t0 + swung(e / 2), 0.12, _hat, 0.075 + 0.03 * (e % 2 == 0), -0.25)
        elif style == "ambient":
            if first_of_chord:
                span = spec.bars_per_chord * bar
                for v, note in enumerate(voicing):
                    f = _hz(note)
                    pan = (v - 1.5) * 0.4
                    mix.add(t0, span + 1.5, lambda k, f=f: _pad(f, k), 0.11, pan)
                fb = _hz(bass_note)
                mix.add(
                    t0,
                    span + 1.0,
                    lambda k, f=fb: np.sin(2 * np.pi * f * np.arange(k) / RATE) * _env(k, 1.0, 1.5),
                    0.22,
                )
            for b in range(0, 8):
                if b % 2 == 0 and rng.random() < 0.45:
                    f = _hz(voicing[int(rng.integers(0, len(voicing)))] + 12)
                    pan = float(rng.uniform(-0.6, 0.6))
                    mix.add(t0 + b * beat / 2, 2.5, lambda k, f=f: _bell(f, k), 0.09, pan)
        else:  # upbeat
            fb = _hz(bass_note)
            for e in range(8):
                gain = 0.15 if e % 2 == 0 else 0.11
                mix.add(t0 + e * beat / 2, 0.45 * beat, lambda k, f=fb: _bass(f, k), gain)
            for b in (0.5, 1.5, 2.5, 3.5):  # off-beat chord stabs
                for v, note in enumerate(voicing):
                    f = _hz(note)
                    mix.add(
                        t0 + b * beat, 0.4 * beat, lambda k, f=f: _pluck(f, k), 0.12, (v - 1) * 0.3
                    )
            arp = (*voicing, voicing[1] + 12 if len(voicing) > 1 else voicing[0] + 12)
            for s in range(8):  # an eighth-note arpeggio, an octave up
                f = _hz(arp[s % len(arp)] + 12)
                mix.add(t0 + s * beat / 2, 0.5 * beat, lambda k, f=f: _pluck(f, k), 0.05, 0.35)
            for b in range(4):
                mix.add(t0 + b * beat, 0.4, _kick, 0.55)
            for b in (1, 3):
                mix.add(t0 + b * beat, 0.3, _snare, 0.28, -0.05)
            for e in range(8):
                mix.add(t0 + e * beat / 2, 0.1, _hat, 0.09 if e % 2 else 0.05, 0.3)
    buf = mix.buf
    tail = buf[:, cycle:]
    buf[:, : tail.shape[1]] += tail
    return buf[:, :cycle]


# ---------------------------------------------------------------------------------------------
# Master: filter, reverb, loudness, soft limiting.


def _k_weight_power(freqs: np.ndarray) -> np.ndarray:
    """|H|^2 of the BS.1770 K-weighting (shelf then high-pass) at 48 kHz."""
    z = np.exp(-1j * 2 * np.pi * freqs / RATE)

    def biquad(b, a):
        return (b[0] + b[1] * z + b[2] * z * z) / (a[0] + a[1] * z + a[2] * z * z)

    shelf = biquad(
        (1.53512485958697, -2.69169618940638, 1.19839281085285),
        (1.0, -1.69065929318241, 0.73248077421585),
    )
    hp = biquad((1.0, -2.0, 1.0), (1.0, -1.99004745483398, 0.99007225036621))
    return np.abs(shelf * hp) ** 2


def loudness(x: np.ndarray) -> float:
    """Integrated loudness of (2, n) audio in LUFS, ungated (fine for continuous music)."""
    n = x.shape[1]
    spec = np.fft.rfft(x, axis=1)
    w = _k_weight_power(np.fft.rfftfreq(n, 1 / RATE))
    p = np.abs(spec) ** 2 * w
    p[:, 1:] *= 2
    if n % 2 == 0:
        p[:, -1] /= 2
    ms = p.sum(axis=1) / (n * n)
    return float(-0.691 + 10 * np.log10(max(1e-12, ms.sum())))


def _reverb_ir(seconds: float, seed: int) -> np.ndarray:
    """A stereo impulse response: decaying, slightly darkening noise after a short pre-delay."""
    n = int(seconds * RATE)
    rng = np.random.default_rng(seed)
    t = np.arange(n) / RATE
    decay = np.exp(-6.9 * t / seconds)  # -60 dB at `seconds`
    ir = rng.standard_normal((2, n)) * decay
    pre = int(0.018 * RATE)
    ir[:, :pre] = 0
    ir /= np.sqrt((ir**2).sum(axis=1, keepdims=True))
    return ir


def _master(x: np.ndarray, spec: _Style) -> np.ndarray:
    """Filter and reverberate one cycle, circularly: the reverb of its end rings into its
    start, so the cycle loops seamlessly."""
    size = x.shape[1]
    ir = _reverb_ir(min(spec.reverb_seconds, size / RATE / 2), 5)
    f = np.fft.rfftfreq(size, 1 / RATE)
    X = np.fft.rfft(x, size, axis=1)
    wet = np.fft.rfft(ir, size, axis=1) * spec.reverb_wet
    # Keep the reverb out of the lows (no mud), then the style's low-pass over everything.
    wet *= 1 / np.sqrt(1 + (250 / np.maximum(f, 1)) ** 4)
    H = 1 + wet
    if spec.lowpass:
        H = H * (1 / np.sqrt(1 + (f / spec.lowpass) ** 4))
    H = H * (1 / np.sqrt(1 + (30 / np.maximum(f, 1)) ** 4))  # no sub-sonic rumble
    return np.fft.irfft(X * H, size, axis=1)


def _soft_limit(x: np.ndarray, ceiling: float = PEAK_CEILING, knee: float = 0.6) -> np.ndarray:
    """Leave samples under `knee`; bend the rest smoothly toward `ceiling` (never past it)."""
    a = np.abs(x)
    over = a > knee
    if not over.any():
        return x
    room = ceiling - knee
    y = x.copy()
    y[over] = np.sign(x[over]) * (knee + room * np.tanh((a[over] - knee) / room))
    return y


def synth(style: str, seconds: float) -> np.ndarray:
    """A deterministic piece in `style`, `seconds` long, as float32 (2, n) at about -16 LUFS."""
    if style not in _STYLES:
        raise RenderError(f"unknown built-in music '{style}' (have: {', '.join(BUILTIN_STYLES)})")
    n = max(0, round(seconds * RATE))
    cycle = _cycle(style)
    reps = -(-n // cycle.shape[1])
    return np.ascontiguousarray(np.tile(cycle, (1, max(1, reps)))[:, :n])


@functools.lru_cache(maxsize=len(_STYLES))
def _cycle(style: str) -> np.ndarray:
    """One seamless cycle of `style`, mastered: about -16 LUFS, peaks under -1 dBFS."""
    try:
        x = _master(_score(style), _STYLES[style])
    finally:
        for cached in (_keys, _bass, _pluck, _bell, _kick, _snare, _hat):
            cached.cache_clear()  # notes are reused within a cycle only: free them
    x *= 10 ** ((TARGET_LUFS - loudness(x)) / 20)
    out = _soft_limit(x).astype(np.float32)
    out.setflags(write=False)  # shared by every render in this process
    return out


# ---------------------------------------------------------------------------------------------
# Uploaded music.


def load_audio(path: Path, seconds: float) -> np.ndarray:
    """Decode an audio file to float32 (2, n) at 48 kHz, looped or trimmed to `seconds`.

    Decoding stops once `seconds` are in hand (a long file is never read whole); a short one
    is looped with a 30 ms crossfade at each seam, so the loop does not click.
    """
    path = Path(path)
    name = path.name
    n = round(seconds * RATE)
    chunks: list[np.ndarray] = []
    got = 0
    try:
        if path.stat().st_size == 0:
            raise RenderError(f"{name}: the audio file is empty")
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise RenderError(f"{name}: has no audio stream")
            stream = container.streams.audio[0]
            # Mono is played at full level on both sides (not upmixed 3 dB down).
            mono = stream.codec_context.channels == 1
            layout = "mono" if mono else "stereo"
            resampler = av.AudioResampler(format="fltp", layout=layout, rate=RATE)
            frames = container.decode(stream)
            for frame in frames:
                for out in resampler.resample(frame):
                    arr = out.to_ndarray()
                    chunks.append(arr)
                    got += arr.shape[1]
                if got >= n:
                    break
            else:
                for out in resampler.resample(None):
                    arr = out.to_ndarray()
                    chunks.append(arr)
                    got += arr.shape[1]
    except RenderError:
        raise
    except FileNotFoundError:
        raise RenderError(f"{name}: file not found") from None
    except Exception as exc:
        why = (str(exc) or type(exc).__name__).split(": '")[0]
        raise RenderError(f"{name}: damaged or not an audio file ({why})") from None
    data = np.concatenate(chunks, axis=1).astype(np.float32) if chunks else None
    if data is not None and data.shape[0] == 1:
        data = np.repeat(data, 2, axis=0)
    if data is None or data.shape[1] < RATE // 100 or not np.isfinite(data).all():
        raise RenderError(f"{name}: has no audio samples to play")
    if data.shape[1] >= n:
        return np.ascontiguousarray(data[:, :n])
    return _loop(data, n)


def _loop(data: np.ndarray, n: int) -> np.ndarray:
    length = data.shape[1]
    xf = min(int(0.03 * RATE), length // 4)
    out = np.zeros((2, n), dtype=np.float32)
    ramp = np.sin(np.linspace(0, np.pi / 2, xf, dtype=np.float32)) if xf else None
    pos = 0
    first = True
    while pos < n:
        piece = data.copy()
        if ramp is not None:
            if not first:
                piece[:, :xf] *= ramp
            piece[:, -xf:] *= ramp[::-1]
        end = min(n, pos + length)
        out[:, pos:end] += piece[:, : end - pos]
        pos += length - xf
        first = False
    return out


def place(track: np.ndarray, total: int, start: int, volume: float, fade_out: float) -> np.ndarray:
    """Put `track` at sample `start` of a `total`-sample bed, with volume and a fade-out."""
    bed = np.zeros((2, total), dtype=np.float32)
    end = min(total, start + track.shape[1])
    if end <= start:
        return bed
    seg = track[:, : end - start] * float(volume)
    nf = min(seg.shape[1], int(fade_out * RATE))
    if nf > 0:
        # A cosine fade: ends at true silence without the abrupt end a linear ramp sounds like.
        seg[:, -nf:] *= (0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, nf))).astype(np.float32)
    fade_in = min(seg.shape[1], int(0.02 * RATE))  # 20 ms, against a click at the start
    if fade_in > 0:
        seg[:, :fade_in] *= np.linspace(0.0, 1.0, fade_in, dtype=np.float32)
    bed[:, start:end] += seg
    return bed
