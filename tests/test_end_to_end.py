"""The thin slice: `i2v-flow render` through client, engine server and renderer to an MP4."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.decode import probe
from tests.media import photo

ROOT = Path(__file__).resolve().parents[1]


def test_headless_render_makes_the_clip_it_was_asked_for(tmp_path: Path) -> None:
    img = photo(tmp_path / "photo.jpg", (800, 600))
    out = tmp_path / "clip.mp4"
    env = {**os.environ, "I2V_FLOW_HOME": str(tmp_path / "home")}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tui",
            "render",
            str(img),
            "--quality",
            "draft",
            "-o",
            str(out),
            "--prompt",
            "a 3-second 720p vertical clip, title 'Spring Sale' for 2 s, lo-fi music at 35%",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
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
    proc = subprocess.run(
        [sys.executable, "-m", "tui", "render", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "I2V_FLOW_HOME": str(tmp_path / "home")},
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "unsupported file type" in proc.stderr
