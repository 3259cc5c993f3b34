"""The Watch pane, fed by messages in a tiny App."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tui.watch import WatchEvent
from widgets.queue import WatchQueue


class QueueApp(App):
    def compose(self) -> ComposeResult:
        yield WatchQueue(id="q")


async def test_rows_follow_the_steps_and_the_subtitle_counts() -> None:
    app = QueueApp()
    messages: list = []
    async with app.run_test(message_hook=messages.append) as pilot:
        q = app.query_one(WatchQueue)
        feed = [
            WatchEvent("started", detail="watching /in"),
            WatchEvent("seen", "a.png", "aaaa", "instruction: 'x'"),
            WatchEvent("seen", "b.png", "bbbb", "instruction: 'x'"),
            WatchEvent("uploaded", "a.png", "aaaa", "session 3"),
            WatchEvent("rendering", "a.png", "aaaa", "render_1"),
            WatchEvent("progress", "a.png", "aaaa", progress=42.0),
        ]
        for ev in feed:
            q.post_message(WatchQueue.Update(ev))
        await pilot.pause()
        assert q.row_count == 2
        assert str(q.get_cell("aaaa", "step")) == "rendering  42%"
        assert str(q.get_cell("bbbb", "step")) == "waiting"
        assert q.border_subtitle == "1 waiting · 1 in flight"

        q.post_message(WatchQueue.Update(WatchEvent("done", "a.png", "aaaa", out="/o/a.mp4")))
        q.post_message(WatchQueue.Update(WatchEvent("failed", "b.png", "bbbb", "not an image")))
        q.post_message(
            WatchQueue.Update(WatchEvent("paused", detail="out of credits. The queue waits"))
        )
        await pilot.pause()
        assert str(q.get_cell("aaaa", "step")) == "done ✓"
        assert str(q.get_cell("bbbb", "detail")) == "not an image"
        assert q.border_subtitle == "1 done · 1 failed · paused: out of credits"

        q.focus()
        q.move_cursor(row=0)
        await pilot.press("enter")
        await pilot.pause()
    # A bubbling message meets the hook once per node it reaches: count it once.
    opened = list({id(m): m for m in messages if isinstance(m, WatchQueue.Opened)}.values())
    assert [(m.file, m.out) for m in opened] == [("a.png", "/o/a.mp4")]


def test_the_watcher_core_does_not_import_textual() -> None:
    import subprocess
    import sys

    code = "import sys, tui.watch, tui.cli.watch; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
