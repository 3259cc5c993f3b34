"""The thin slice: `i2v-flow render` through client, engine server and renderer to an MP4."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli import i2v
from tests.decode import probe
from tests.media import photo


def test_headless_render_makes_the_clip_it_was_asked_for(tmp_path: Path) -> None:
    img = photo(tmp_path / "photo.jpg", (800, 600))
    out = tmp_path / "clip.mp4"
    proc = i2v(
        tmp_path,
        "render",
        str(img),
        "--quality",
        "draft",
        "-o",
        str(out),
        "--prompt",
        "a 3-second 720p vertical clip, title 'Spring Sale' for 2 s, lo-fi music at 35%",
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert '3. Title: "Spring Sale" (0-2s)' in proc.stdout
    assert "2. BGM: Lo-fi (0-3s, 35%)" in proc.stdout
    assert f"Saved {out}" in proc.stdout
    p = probe(out)
    # draft quality renders 540p: 720x1280 scaled to 540x960.
    assert (p.width, p.height, p.frames) == (540, 960, 90)
    assert abs(p.audio_seconds - 3.0) <= 1024 / 48000
    # A headless run leaves no "current session" behind: the app's saved one stays its own.
    saved = json.loads((tmp_path / "home" / "client.json").read_text())
    assert saved["backends"]["local"]["token"]
    assert not saved["backends"]["local"].get("session_id")


def test_headless_render_refuses_a_bad_file_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    proc = i2v(tmp_path, "render", str(bad))
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "unsupported file type" in proc.stderr
