"""The clip's own sound: each video segment's audio where its picture plays, mixed with the music.

- A video segment plays its file's first audio stream in step with its picture: from the same
  source in-point (`m.source_start_ms`), over the same frames (crossfades included), on the
  picture's clock (a sound whose timestamps start late starts late), and silent while the last
  frame is held (sound running on past the picture's end is cut there). Any rate and layout is
  resampled to 48 kHz stereo (mono on both sides at full level, 5.1 and the like folded down by
  libswresample).
- `m.volume` on a video segment (0..1, and up to 4 to boost; default 1) scales its sound, and
  `m.mute` (true) silences it, as `m.volume` does the music.
- Where two shots crossfade, their sounds crossfade over the same span (equal power); elsewhere
  each sound starts and stops with a 5 ms ramp, so a cut never clicks.
- The clip's `m.fade_in` / `m.fade_out` fade it with the picture.
- With music: the music ducks under the clip's sound (up to 10 dB, by how loud the sound is, with
  a short look-ahead and a slow release), then the sum goes through a look-ahead peak limiter to
  the music's own ceiling, -1.5 dBFS. Without any video sound the music is left exactly as is.
- A file without an audio stream adds nothing; undecodable audio packets are skipped (the rest
  stays in place); a file whose sound cannot be read at all adds silence, never fails the render.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import av
import numpy as np

from tui.engine.render.audio import PEAK_CEILING, RATE
from tui.engine.render.video_source import is_video

log = logging.getLogger("i2v.engine.render")

DECLICK = 0.005  # s: the ramp at a sound's start and end where no crossfade is
MAX_VOLUME = 4.0
DUCK_FROM_DB = -45.0  # the clip's sound (10 ms RMS, dBFS) above which the music ducks
DUCK_SLOPE = 0.4  # dB of ducking per dB of sound above DUCK_FROM_DB ...
DUCK_MAX_DB = 10.0  # ... up to this
DUCK_ATTACK, DUCK_RELEASE, DUCK_AHEAD = 0.06, 0.5, 0.03  # s
LIMIT_BLOCK = 128  # samples
LIMIT_RELEASE = 0.15  # s
MAX_BAD_PACKETS = 200  # undecodable packets in a row before a source's sound is given up


# ---------------------------------------------------------------------------------------------
# Decoding a video file's sound.


def _seconds_of(stream) -> float | None:
    st = stream.start_time
    tb = stream.time_base
    if st is None or tb is None:
        return None
    return float(st * tb)


def decode_sound(path: Path, start: float, seconds: float) -> np.ndarray | None:
    """The file's first audio stream as float32 (2, m) at RATE, from `start` s on the picture's
    clock (as VideoSource counts it: from where the video stream starts), at most `seconds` long
    (shorter when the sound ends first). None when the file has no audio stream or no sound
    can be decoded from it."""
    n = max(0, round(seconds * RATE))
    start = max(0.0, float(start))
    name = Path(path).name
    if n == 0:
        return None
    try:
        container = av.open(str(path))
    except Exception as exc:
        log.warning("%s: sound not read (%s)", name, _why(exc))
        return None
    out = np.zeros((2, n), dtype=np.float32)
    reach = 0  # samples of `out` written so far (the end of the last piece)
    try:
        with container:
            if not container.streams.audio:
                return None
            a = container.streams.audio[0]
            v = container.streams.video[0] if container.streams.video else None
            origin = _seconds_of(v) if v is not None else None
            if origin is None:
                origin = _seconds_of(a) or 0.0
            if start > 0.5 and a.time_base:
                with contextlib.suppress(Exception):  # unseekable: decode from the top
                    at = max(0.0, origin + start - 0.25)
                    container.seek(int(at / a.time_base), stream=a)
            reach = _decode_into(container, a, v, out, origin + start, name)
    except Exception as exc:
        log.warning("%s: sound not read (%s)", name, _why(exc))
    if reach <= 0:
        return None
    data = out[:, :reach]
    if not np.isfinite(data).all():
        np.nan_to_num(data, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    return data


def _decode_into(container, stream, video, out: np.ndarray, t0: float, name: str) -> int:
    """Decode `stream` into `out` (its sample 0 is at time `t0` of the file), packet by packet;
    returns how far `out` holds sound: where it was written, and not past the end of the
    picture (`video`'s packets are read along, not decoded), where its last frame is held."""
    n = out.shape[1]
    v_end: float | None = None
    v_step = 1 / float((video.average_rate or video.guessed_rate or 25) if video else 25)
    resampler = None
    layout = None
    cursor: int | None = None  # where the next resampled sample goes in `out`
    expect: float | None = None  # when the next decoded frame should start (s)
    reach = 0
    bad = 0

    def put(arrays) -> None:
        nonlocal cursor, reach
        for arr in arrays:
            assert cursor is not None
            m = arr.shape[1]
            lo, hi = max(0, cursor), min(n, cursor + m)
            if hi > lo:
                out[:, lo:hi] = arr[:, lo - cursor : hi - cursor]
                reach = max(reach, hi)
            cursor += m

    def resampled(frame):
        nonlocal resampler, layout
        want = "mono" if frame.layout.nb_channels == 1 else "stereo"
        if resampler is None or want != layout:
            if resampler is not None:
                yield from _arrays(resampler.resample(None))
            resampler, layout = av.AudioResampler(format="fltp", layout=want, rate=RATE), want
        try:
            frames = resampler.resample(frame)
        except ValueError:  # the stream changed format or rate mid-way: start afresh
            yield from _arrays(resampler.resample(None))
            resampler = av.AudioResampler(format="fltp", layout=want, rate=RATE)
            frames = resampler.resample(frame)
        yield from _arrays(frames)

    # The demuxer reads the picture's packets along (their ends say where the picture stops);
    # once `out` is full, only until the picture is known to last as long.
    t_full = t0 + n / RATE
    complete = False
    try:
        for packet in container.demux(*((stream, video) if video is not None else (stream,))):
            if packet.stream.type == "video":
                if packet.pts is not None and packet.time_base is not None:
                    end = float(packet.pts * packet.time_base)
                    end += float(packet.duration * packet.time_base) if packet.duration else v_step
                    v_end = end if v_end is None else max(v_end, end)
                if cursor is not None and cursor >= n and v_end is not None and v_end >= t_full:
                    break
                continue
            if cursor is not None and cursor >= n:
                if video is None:
                    break
                continue
            try:
                frames = packet.decode()
            except av.error.EOFError:
                break
            except (av.error.FFmpegError, ValueError) as exc:
                bad += 1
                if bad == 1 or bad % 50 == 0:
                    log.warning("%s: undecodable sound packet skipped (%s)", name, _why(exc))
                if bad >= MAX_BAD_PACKETS:
                    return reach
                continue
            bad = 0
            for frame in frames:
                t = frame.time if frame.pts is not None else None
                t = float(t) if t is not None else expect if expect is not None else t0
                rate = frame.sample_rate or RATE
                if cursor is None:
                    cursor = round((t - t0) * RATE)
                elif expect is not None and t - expect > 0.02:
                    cursor += round((t - expect) * RATE)  # a gap (lost packets): silence
                expect = (t if expect is None else max(t, expect)) + frame.samples / rate
                put(resampled(frame))
        else:
            complete = True
    except Exception as exc:  # a damaged file: keep what was decoded
        log.warning("%s: sound cut short (%s)", name, _why(exc))
    if resampler is not None and cursor is not None and cursor < n:
        with contextlib.suppress(Exception):
            put(_arrays(resampler.resample(None)))
    if v_end is not None and (complete or v_end >= t_full):
        reach = min(reach, max(0, round((v_end - t0) * RATE)))
    return reach


def _arrays(frames):
    for fr in frames or ():
        arr = fr.to_ndarray()
        if arr.dtype != np.float32:
            arr = arr.astype(np.float32)
        if arr.shape[0] == 1:
            arr = np.repeat(arr, 2, axis=0)  # mono: the same on both sides, at full level
        yield arr[:2]


def _why(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__).split(": '")[0]


# ---------------------------------------------------------------------------------------------
# Placing each shot's sound on the clip's timeline.


def volume_of(m: Mapping) -> float:
    """A video segment's `m.volume` (default 1, 0..MAX_VOLUME), 0 when `m.mute` is set."""
    if m.get("mute") is True or str(m.get("mute", "")).lower() in ("1", "true", "yes"):
        return 0.0
    try:
        v = float(m.get("volume", 1.0))
    except (TypeError, ValueError):
        return 1.0
    if v != v:
        return 1.0
    return min(max(v, 0.0), MAX_VOLUME)


def _ramp(n: int, rising: bool) -> np.ndarray:
    """Equal-power quarter sine (rising) or cosine (falling) over n samples."""
    x = (np.arange(n, dtype=np.float64) + 0.5) / max(1, n)
    r = np.sin(0.5 * np.pi * x) if rising else np.cos(0.5 * np.pi * x)
    return r.astype(np.float32)


def shots_sound(
    shots: Sequence[tuple[int, int, Mapping, tuple[int, int] | None]],
    media: Mapping[str, Path],
    fps: int,
    total: int,
) -> np.ndarray | None:
    """The video segments' own sound as (2, total) float32 at RATE, or None when none has any.

    `shots` are the planned shots (first frame, last frame exclusive, segment, crossfade-in
    frame span or None), in order, as the picture plays them."""
    bed: np.ndarray | None = None
    declick = round(DECLICK * RATE)

    def at(frame: int) -> int:
        return min(total, round(frame * RATE / fps))

    for j, (first, last, seg, fade) in enumerate(shots):
        m = seg.get("m") or {}
        vol = volume_of(m)
        src = seg.get("src")
        path = media.get(src) if src else None
        if vol <= 0 or path is None or not is_video(Path(path)):
            continue
        s0, s1 = at(first), at(last)
        n = s1 - s0
        if n <= 0:
            continue
        try:
            start = max(0.0, float(m.get("source_start_ms", 0)) / 1000)
        except (TypeError, ValueError):
            start = 0.0
        data = decode_sound(Path(path), start, n / RATE)
        if data is None:
            continue
        got = data.shape[1]
        env = np.full(got, vol, dtype=np.float32)
        # In: over the crossfade with the shot before, else a declick ramp.
        k = min(got, at(fade[1]) - s0) if fade is not None else min(got, declick)
        if k > 0:
            env[:k] *= _ramp(at(fade[1]) - s0 if fade is not None else declick, True)[:k]
        # Out: over the next shot's crossfade; and a declick ramp where the sound stops short
        # of it (the file's sound ends) or where no crossfade follows.
        nxt = shots[j + 1] if j + 1 < len(shots) else None
        crossfade_out = nxt is not None and nxt[3] is not None
        if crossfade_out:
            a = max(0, at(nxt[3][0]) - s0)
            if got > a:
                env[a:] *= _ramp(n - a, False)[: got - a]
        if not crossfade_out or got < n:
            k = min(got, declick)
            env[got - k :] *= _ramp(k, False)
        if bed is None:
            bed = np.zeros((2, total), dtype=np.float32)
        bed[:, s0 : s0 + got] += data * env
    return bed


# ---------------------------------------------------------------------------------------------
# Mixing with the music.


def mix(
    music: np.ndarray | None,
    sound: np.ndarray | None,
    *,
    fade_in_ms: int = 0,
    fade_out_ms: int = 0,
) -> np.ndarray | None:
    """The clip's audio: the music alone (untouched) when there is no video sound; else the
    sound (faded with the clip) over the music ducked under it, peak-limited to -1.5 dBFS."""
    if sound is None:
        return music
    total = sound.shape[1]
    n_in = min(total, round(fade_in_ms * RATE / 1000))
    n_out = min(total, round(fade_out_ms * RATE / 1000))
    if n_in > 0:
        sound[:, :n_in] *= (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n_in))).astype(np.float32)
    if n_out > 0:
        sound[:, -n_out:] *= (0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, n_out))).astype(np.float32)
    bed = sound if music is None else music * duck_gain(sound)[None, :] + sound
    return limit(bed)


def duck_gain(sound: np.ndarray) -> np.ndarray:
    """Per-sample gain (float32, 1 = untouched) for the music under `sound`: down by up to
    DUCK_MAX_DB as the sound's 10 ms RMS rises above DUCK_FROM_DB, starting DUCK_AHEAD before
    it, easing down over DUCK_ATTACK and back up over DUCK_RELEASE."""
    total = sound.shape[1]
    block = RATE // 100
    nb = -(-total // block)
    sq = np.zeros(nb * block, dtype=np.float64)
    sq[:total] = np.square(sound, dtype=np.float64).mean(axis=0)
    level = 10 * np.log10(sq.reshape(nb, block).mean(axis=1) + 1e-12)
    want = np.clip((level - DUCK_FROM_DB) * DUCK_SLOPE, 0.0, DUCK_MAX_DB)
    ahead = max(0, round(DUCK_AHEAD * 100))
    if ahead:
        padded = np.concatenate([want, np.zeros(ahead)])
        want = np.lib.stride_tricks.sliding_window_view(padded, ahead + 1).max(axis=1)
    up = 1 - math.exp(-1 / (DUCK_ATTACK * 100))
    down = 1 - math.exp(-1 / (DUCK_RELEASE * 100))
    red = np.empty(nb)
    r = 0.0
    for i, w in enumerate(want.tolist()):
        r += (w - r) * (up if w > r else down)
        red[i] = r
    gain = 10 ** (-red / 20)
    centres = (np.arange(nb) + 0.5) * block
    return np.interp(np.arange(total), centres, gain).astype(np.float32)


def limit(x: np.ndarray, ceiling: float = PEAK_CEILING) -> np.ndarray:
    """`x` with its peaks held at `ceiling`: a look-ahead limiter (the gain is already down when
    a peak arrives, ramps over a few ms, recovers over LIMIT_RELEASE), then a hard clip that,
    by construction, touches nothing. Audio under the ceiling is returned as is."""
    x = np.asarray(x, dtype=np.float32)
    total = x.shape[1]
    peak = np.abs(x).max(axis=0)
    if total == 0 or float(peak.max()) <= ceiling:
        return x
    b = LIMIT_BLOCK
    nb = -(-total // b)
    padded = np.zeros(nb * b, dtype=np.float32)
    padded[:total] = peak
    need = np.minimum(1.0, ceiling / np.maximum(padded.reshape(nb, b).max(axis=1), 1e-9))
    h = 4  # blocks: the attack ramp's half-width
    # The minimum over h+1 blocks either side, then the mean over h either side: every block's
    # gain (and its neighbours', between which samples are interpolated) is at most its need.
    wide = np.concatenate([np.ones(h + 1), need, np.ones(h + 1)])
    low = np.lib.stride_tricks.sliding_window_view(wide, 2 * h + 3).min(axis=1)
    low = np.pad(low, h, mode="edge")
    smooth = np.convolve(low, np.ones(2 * h + 1) / (2 * h + 1), mode="valid")
    rel = 1 - math.exp(-b / (LIMIT_RELEASE * RATE))
    g = np.empty(nb)
    cur = 1.0
    for i, s in enumerate(smooth.tolist()):
        cur = s if s < cur else cur + (s - cur) * rel
        g[i] = cur
    centres = (np.arange(nb) + 0.5) * b
    gain = np.interp(np.arange(total), centres, g).astype(np.float32)
    y = x * gain[None, :]
    np.clip(y, -ceiling, ceiling, out=y)
    return y
