"""widgets/media_facts.py and the Files pane's words: what a person learns about each file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.media import colour_video, sine_wav, tone_video
from widgets.files import _describe
from widgets.media_facts import human_seconds, read_facts


def test_an_exif_turned_photo_is_previewed_upright(tmp_path: Path) -> None:
    arr = np.zeros((40, 80, 3), np.uint8)
    arr[:, :40] = (220, 30, 30)  # stored landscape, red on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90° clockwise: red on top
    path = tmp_path / "phone.jpg"
    Image.fromarray(arr).save(path, exif=exif.tobytes(), quality=95)
    found = read_facts(path, (40, 80))
    assert found.words == ["80×40"]  # the file's own size, as stored
    pic = np.asarray(found.picture)
    assert pic.shape[0] > pic.shape[1]  # portrait, as a person sees it
    assert pic[2, pic.shape[1] // 2, 0] > 180 and pic[-3, pic.shape[1] // 2, 0] < 60


def test_transparent_parts_show_the_pane_behind_them(tmp_path: Path) -> None:
    rgba = np.zeros((20, 20, 4), np.uint8)
    rgba[..., :3] = (255, 0, 0)
    rgba[:, 10:, 3] = 255  # left half transparent
    path = tmp_path / "logo.png"
    Image.fromarray(rgba, "RGBA").save(path)
    facts, art = _describe(path, 10, 5, None, (10, 20, 30))
    assert facts.endswith("20×20")
    left = art.spans[0].style.color.triplet  # the first cell: transparent
    right = art.spans[-1].style.color.triplet
    assert (left.red, left.green, left.blue) == (10, 20, 30)
    assert right.red > 200 and right.green < 40


def test_a_phone_video_gets_its_display_size_length_rate_and_first_frame(
    tmp_path: Path,
) -> None:
    path = colour_video(
        tmp_path / "phone.mp4", [(30, 60, 220)] * 24, size=(64, 32), fps=12, rotation=90
    )
    found = read_facts(path, (40, 40))
    assert found.words[:3] == ["32×64", "2.0 s", "12 fps"]  # turned, as the phone shows it
    pic = np.asarray(found.picture)
    assert pic.shape[0] > pic.shape[1]
    assert abs(int(pic[10, 5, 2]) - 220) < 20 and abs(int(pic[10, 5, 0]) - 30) < 20
    assert read_facts(path, None).picture is None  # no preview asked: no frame decoded


def test_a_video_with_sound_says_so(tmp_path: Path) -> None:
    path = tone_video(tmp_path / "talk.mkv", [(1.5, 440)], size=(64, 48), codec="mp3")
    found = read_facts(path, (20, 20))
    assert found.words[0] == "64×48" and "with sound" in found.words
    assert found.picture is not None


def test_audio_gets_its_length_rate_and_layout(tmp_path: Path) -> None:
    path = sine_wav(tmp_path / "song.wav", 2.5, rate=44100)
    assert read_facts(path, (10, 10)).words == ["2.5 s", "44.1 kHz", "stereo"]
    facts, art = _describe(path, 10, 5)
    assert facts.endswith("· 2.5 s · 44.1 kHz · stereo") and art is None


@pytest.mark.parametrize("name", ["fake.mp4", "fake.wav", "fake.png"])
def test_a_broken_file_says_unreadable_and_nothing_breaks(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"not media at all" * 10)
    facts, art = _describe(path, 10, 5)
    assert "unreadable" in facts and art is None


def test_lengths_read_like_a_clock_past_a_minute() -> None:
    assert human_seconds(4.04) == "4.0 s"
    assert human_seconds(59.9) == "59.9 s"
    assert human_seconds(61) == "1:01"
    assert human_seconds(3725) == "62:05"
