"""The terminal app, driven with a Pilot against the real engine."""

from __future__ import annotations

from pathlib import Path

from tests.media import photo
from tui.app import I2VApp
from widgets.tracks import Tracks


async def _until(pilot, cond, timeout: float = 30.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if cond():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not met in time")


async def test_upload_and_turn_fill_the_tracks(tmp_path: Path) -> None:
    folder = tmp_path / "pics"
    folder.mkdir()
    photo(folder / "beach.jpg", (400, 300))
    app = I2VApp(folder)
    async with app.run_test(size=(120, 40)) as pilot:
        await _until(pilot, lambda: app.client is not None and app.client.session.session_id)
        prompt = app.query_one("#prompt")
        prompt.value = f"/upload {folder / 'beach.jpg'}"
        await pilot.press("enter")
        prompt.value = "a 4 second vertical clip, title 'Hello' for 2 s"
        await pilot.press("enter")
        tracks = app.query_one(Tracks)
        await _until(pilot, lambda: "Title" in str(tracks.render()))
        text = str(tracks.render())
        assert "1. Video: beach.jpg (0-4s)" in text
        assert '2. Title: "Hello" (0-2s)' in text
