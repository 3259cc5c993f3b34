"""A video segment's own sound: placed, trimmed, held silent, crossfaded, resampled and mixed with
the music, checked by decoding the MP4s the renderer writes."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from tests.decode import probe
from tests.media import colour_video, sine_wav, tone_video
from tui.engine.render import render_draft
from tui.engine.render import soundtrack as sound_mod
from tui.engine.render.audio import PEAK_CEILING

W, H, FPS, R = 160, 90, 24, 48000
LIMIT = 10 ** (-1.0 / 20)  # -1.5 dBFS before AAC; AAC may add a little on top


def clip(segs, d, music=None, vol=0.5, **meta):
    """A draft of video segments [(src, st, d, m)] and an optional music segment."""
    sg = [
        {"id": f"v{i}", "src": src, "st": st, "d": dd, "m": dict(m)}
        for i, (src, st, dd, m) in enumerate(segs)
    ]
    tracks = [{"tt": 0, "sg": sg}]
    if music:
        tracks.append(
            {"tt": 1, "sg": [{"id": "a", "src": music, "st": 0, "d": d, "m": {"volume": vol}}]}
        )
    return {"d": d, "m": {"width": W, "height": H, "fps": FPS, **meta}, "t": tracks}


def render(tmp: Path, draft: dict, media: dict, name: str = "o.mp4") -> Path:
    out = tmp / name
    render_draft(draft, media, out, quality="draft")
    return out


def audio_of(path: Path) -> np.ndarray:
    with av.open(str(path)) as c:
        data = np.concatenate([f.to_ndarray() for f in c.decode(audio=0)], axis=1)
    assert data.shape[0] == 2
    return data


def amp(x: np.ndarray, hz: float, t0: float, t1: float, ch: int = 0) -> float:
    """The amplitude of the `hz` sine in x[ch] between t0 and t1 s (a window holding whole
    periods of every tone used here: a multiple of 50 ms)."""
    seg = x[ch, round(t0 * R) : round(t1 * R)].astype(np.float64)
    t = np.arange(seg.size) / R
    return float(2 * np.abs((seg * np.exp(-2j * np.pi * hz * t)).sum()) / seg.size)


def rms(x: np.ndarray, t0: float, t1: float) -> float:
    seg = x[:, round(t0 * R) : round(t1 * R)].astype(np.float64)
    return float(np.sqrt(np.mean(seg**2)))


def peak_hz(x: np.ndarray, t0: float, t1: float) -> float:
    seg = x[0, round(t0 * R) : round(t1 * R)]
    spec = np.abs(np.fft.rfft(seg * np.hanning(seg.size)))
    return float(np.fft.rfftfreq(seg.size, 1 / R)[spec.argmax()])


# ---------------------------------------------------------------------------------------------


def test_sound_is_trimmed_in_step_with_the_picture_and_silent_on_the_held_frame(
    tmp_path: Path,
) -> None:
    # 440 Hz for 2 s, then 880 Hz for 1 s; the clip starts 1 s in and lasts 3 s: 1 s of 440,
    # 1 s of 880, then the last frame held for 1 s in silence.
    v = tone_video(tmp_path / "v.mp4", [(2, 440), (1, 880)])
    out = render(tmp_path, clip([("v", 0, 3000, {"source_start_ms": 1000})], 3000), {"v": v})
    p = probe(out)
    assert p.audio_rate == 48000 and p.audio_channels == 2
    assert abs(p.audio_seconds - p.video_seconds) <= 1024 / R
    a = audio_of(out)
    assert peak_hz(a, 0.1, 0.9) == pytest.approx(440, abs=3)
    assert peak_hz(a, 1.1, 1.9) == pytest.approx(880, abs=3)
    # In step: the change of tone lands at 1 s (within 10 ms), at the source's own level.
    assert amp(a, 440, 0.9, 0.99) == pytest.approx(0.5, rel=0.05)
    assert amp(a, 880, 1.01, 1.1) == pytest.approx(0.5, rel=0.05)
    assert amp(a, 880, 0.9, 0.99) < 0.02 and amp(a, 440, 1.01, 1.1) < 0.02
    # The held last frame: silence, right from the picture's end.
    assert rms(a, 2.01, 3.0) < 1e-3
    assert np.abs(a).max() <= LIMIT
    # No clicks where the sound starts and stops.
    assert np.abs(np.diff(a[:, : R // 100], axis=1)).max() < 0.1
    assert np.abs(np.diff(a[:, round(1.99 * R) : round(2.02 * R)], axis=1)).max() < 0.1


def test_sound_keeps_to_the_pictures_clock_and_stops_with_the_picture(tmp_path: Path) -> None:
    # The sound's timestamps start 0.25 s after the picture's, and run 0.5 s past its end.
    v = tone_video(
        tmp_path / "v.mkv", [(1.75, 440)], audio_start=0.25, video_seconds=1.5, codec="pcm_s16le"
    )
    a = audio_of(render(tmp_path, clip([("v", 0, 2000, {})], 2000), {"v": v}))
    assert rms(a, 0.0, 0.24) < 1e-3
    assert amp(a, 440, 0.3, 1.45) == pytest.approx(0.5, rel=0.05)
    assert rms(a, 1.51, 2.0) < 1e-3  # the held last frame is silent


@pytest.mark.parametrize(
    ("name", "rate", "layout", "codec"),
    [
        ("mono22k.mp4", 22050, "mono", "aac"),
        ("stereo48k.webm", 48000, "stereo", "libopus"),
        ("surround.mkv", 44100, "5.1", "pcm_s16le"),
        ("mono48k.mov", 48000, "mono", "pcm_s16le"),
        ("stereo.avi", 44100, "stereo", "mp2"),
    ],
)
def test_any_rate_and_layout_comes_out_48k_stereo_in_step(
    tmp_path: Path, name: str, rate: int, layout: str, codec: str
) -> None:
    v = tone_video(tmp_path / name, [(0.5, 440), (0.5, 880)], rate=rate, layout=layout, codec=codec)
    out = render(tmp_path, clip([("v", 0, 1500, {})], 1500), {"v": v})
    p = probe(out)
    assert (p.audio_rate, p.audio_channels) == (48000, 2)
    assert abs(p.audio_seconds - 1.5) <= 1024 / R
    a = audio_of(out)
    for ch in (0, 1):
        assert amp(a, 440, 0.05, 0.45, ch) > 0.4, ch  # both sides (mono at full level)
        assert amp(a, 880, 0.55, 0.95, ch) > 0.4, ch
        assert amp(a, 440, 0.55, 0.95, ch) < 0.03, ch
    if layout == "mono":
        assert amp(a, 440, 0.05, 0.45) == pytest.approx(0.5, rel=0.05)
    assert rms(a, 1.02, 1.5) < 1e-3  # the held frame
    assert np.abs(a).max() <= LIMIT  # 5.1 folds down to 1.2 and is limited


def test_no_audio_stream_without_music_or_video_sound(tmp_path: Path) -> None:
    silent = colour_video(tmp_path / "silent.mp4", [(90, 120, 150)] * 12, size=(64, 48))
    img = tmp_path / "grey.png"
    Image.new("RGB", (64, 48), (60, 60, 60)).save(img)
    for src in ("s", "i"):
        out = render(tmp_path, clip([(src, 0, 1000, {})], 1000), {"s": silent, "i": img}, src)
        assert probe(out).audio_seconds is None, src
    # Muted: the same as no sound at all.
    v = tone_video(tmp_path / "v.mp4", [(1, 440)])
    out = render(tmp_path, clip([("v", 0, 1000, {"mute": True})], 1000), {"v": v})
    assert probe(out).audio_seconds is None
    # A silent video beside one with sound: silence where it plays.
    draft = clip(
        [("s", 0, 1000, {"transition": "cut"}), ("v", 1000, 1000, {"transition": "cut"})], 2000
    )
    a = audio_of(render(tmp_path, draft, {"s": silent, "v": v}, "mixed.mp4"))
    assert rms(a, 0.0, 0.99) < 1e-3
    assert amp(a, 440, 1.05, 1.95) == pytest.approx(0.5, rel=0.05)


def test_volume_and_the_clips_fades_apply_to_the_sound(tmp_path: Path) -> None:
    v = tone_video(tmp_path / "v.mp4", [(2, 440)])
    draft = clip([("v", 0, 2000, {"volume": 0.3})], 2000, fade_in=500, fade_out=500)
    a = audio_of(render(tmp_path, draft, {"v": v}))
    assert amp(a, 440, 0.6, 1.4) == pytest.approx(0.15, rel=0.05)
    assert rms(a, 0.0, 0.05) < 0.02 * 0.15 and rms(a, 1.95, 2.0) < 0.02 * 0.15


def test_sounds_crossfade_with_their_pictures(tmp_path: Path) -> None:
    # A has sound to spare past the join (it plays on into the crossfade); B has 2 s of it.
    media = {
        "a": tone_video(tmp_path / "a.mp4", [(3, 440)]),
        "b": tone_video(tmp_path / "b.mp4", [(2, 880)]),
    }
    # The default 0.5 s crossfade, centred on the join at 2 s: 1.75 .. 2.25 s.
    a = audio_of(render(tmp_path, clip([("a", 0, 2000, {}), ("b", 2000, 2000, {})], 4000), media))
    assert amp(a, 440, 1.5, 1.7) == pytest.approx(0.5, rel=0.05)
    assert amp(a, 880, 1.5, 1.7) < 0.01
    # Equal power at the middle: each at about 0.5 * sin(45°).
    assert amp(a, 440, 1.95, 2.05) == pytest.approx(0.354, rel=0.1)
    assert amp(a, 880, 1.95, 2.05) == pytest.approx(0.354, rel=0.1)
    assert amp(a, 440, 2.3, 2.5) < 0.01
    assert amp(a, 880, 2.3, 2.5) == pytest.approx(0.5, rel=0.05)
    # The incoming clip plays from its own start where its picture starts (1.75 s), so its
    # 2 s of sound end at 3.75 s; then its last frame is held, silent.
    assert amp(a, 880, 3.6, 3.7) == pytest.approx(0.5, rel=0.05)
    assert rms(a, 3.8, 4.0) < 1e-3
    # A cut: one stops and the other starts at the join.
    cut = clip([("a", 0, 2000, {}), ("b", 2000, 2000, {"transition": "cut"})], 4000)
    c = audio_of(render(tmp_path, cut, media, "cut.mp4"))
    assert amp(c, 440, 1.9, 1.99) == pytest.approx(0.5, rel=0.05) and amp(c, 880, 1.9, 1.99) < 0.01
    assert amp(c, 880, 2.01, 2.1) == pytest.approx(0.5, rel=0.05) and amp(c, 440, 2.01, 2.1) < 0.01


def test_music_ducks_under_the_sound_and_comes_back(tmp_path: Path) -> None:
    # Music: a 300 Hz sine at 0.5, played at volume 0.5 (0.25). The video: 1 s of 440 Hz, then
    # its last frame held to 4 s.
    song = sine_wav(tmp_path / "song.wav", 4, freq=300, amp=0.5)
    v = tone_video(tmp_path / "v.mp4", [(1, 440)])
    media = {"v": v, "song": song}
    a = audio_of(render(tmp_path, clip([("v", 0, 4000, {})], 4000, music="song"), media))
    assert amp(a, 440, 0.2, 0.9) == pytest.approx(0.5, rel=0.05)
    ducked = amp(a, 300, 0.2, 0.9)
    assert 8.5 <= 20 * np.log10(0.25 / ducked) <= 11, ducked  # about 10 dB down
    assert amp(a, 300, 2.6, 2.9) == pytest.approx(0.25, rel=0.06)  # back up once it is quiet
    assert np.abs(a).max() <= LIMIT
    # The same clip muted: the music alone, untouched.
    muted = clip([("v", 0, 4000, {"mute": True})], 4000, music="song")
    m = audio_of(render(tmp_path, muted, media, "muted.mp4"))
    assert amp(m, 300, 0.2, 0.9) == pytest.approx(0.25, rel=0.05)


def test_loud_sound_over_loud_music_is_limited_not_clipped(tmp_path: Path) -> None:
    song = sine_wav(tmp_path / "song.wav", 2, freq=300, amp=0.95)
    v = tone_video(tmp_path / "v.mp4", [(2, 440)], amp=0.98)
    a = audio_of(
        render(
            tmp_path,
            clip([("v", 0, 2000, {})], 2000, music="song", vol=1.0),
            {"v": v, "song": song},
        )
    )
    assert np.isfinite(a).all()
    assert np.abs(a).max() <= LIMIT
    # Held down by the limiter, not squashed: the tone keeps most of its level, nothing else
    # (no distortion products) grows.
    assert amp(a, 440, 0.5, 1.5) > 0.6
    assert amp(a, 1320, 0.5, 1.5) < 0.02


def test_broken_sound_packets_and_a_cut_file_do_not_fail_the_render(tmp_path: Path) -> None:
    v = tone_video(tmp_path / "v.mp4", [(2, 440)], broken=(5, 6, 7, 60))
    a = audio_of(render(tmp_path, clip([("v", 0, 2000, {})], 2000), {"v": v}))
    assert a.shape[1] == pytest.approx(2 * R, abs=1024)
    # Sound either side of the lost packets, in its place.
    assert amp(a, 440, 0.3, 1.2) == pytest.approx(0.5, rel=0.1)
    assert amp(a, 440, 1.5, 1.95) == pytest.approx(0.5, rel=0.05)
    assert np.abs(a).max() <= LIMIT
    # A Matroska file cut short: what is there plays.
    whole = tone_video(tmp_path / "w.mkv", [(2, 440)], codec="pcm_s16le")
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 6 // 10])
    a = audio_of(render(tmp_path, clip([("c", 0, 2000, {})], 2000), {"c": cut}, "c.mp4"))
    assert amp(a, 440, 0.1, 0.6) == pytest.approx(0.5, rel=0.05)


def test_decode_sound_without_an_audio_stream_or_unreadable_is_none(tmp_path: Path) -> None:
    silent = colour_video(tmp_path / "silent.mkv", [(90, 120, 150)] * 6, size=(64, 48))
    assert sound_mod.decode_sound(silent, 0, 1) is None
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x13" * 300)
    assert sound_mod.decode_sound(junk, 0, 1) is None
    # A start past the sound's end: nothing to play.
    v = tone_video(tmp_path / "v.mp4", [(1, 440)])
    assert sound_mod.decode_sound(v, 5, 1) is None


def test_limiter_holds_the_ceiling_and_leaves_quiet_audio_alone() -> None:
    rng = np.random.default_rng(1)
    quiet = (rng.standard_normal((2, R)) * 0.1).astype(np.float32)
    quiet = np.clip(quiet, -0.8, 0.8)
    assert sound_mod.limit(quiet) is quiet or np.array_equal(sound_mod.limit(quiet), quiet)
    loud = quiet.copy()
    loud[:, R // 2 : R // 2 + 2000] *= 8  # a burst to 3x the ceiling and more
    y = sound_mod.limit(loud)
    assert np.abs(y).max() <= PEAK_CEILING + 1e-6
    assert np.array_equal(y[:, : R // 4], loud[:, : R // 4])  # far from it: untouched
    # Music alone passes through the mix untouched.
    music = quiet * 1.2
    assert sound_mod.mix(music, None) is music
