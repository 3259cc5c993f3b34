"""The Watch pane: every image of the watched folder, the step it is at, and the queue's state.

Fed by messages: the app posts `WatchQueue.Update(event)` for each `tui.watch.WatchEvent` the
Watcher reports (its `on_event` callback runs on the app's loop, so `post_message` is enough).
Enter on a finished row posts `WatchQueue.Opened` with the clip's path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

if TYPE_CHECKING:  # the watcher (and the client under it) load with the first /watch
    from tui.watch import WatchEvent

# What each step reads as in the table, and its style.
LABELS: dict[str, tuple[str, str]] = {
    "seen": ("waiting", "dim"),
    "resumed": ("resuming", "yellow"),
    "uploaded": ("uploaded", ""),
    "turned": ("timeline ready", ""),
    "rendering": ("rendering", "cyan"),
    "downloaded": ("downloaded", "cyan"),
    "done": ("done ✓", "green"),
    "failed": ("failed ✗", "bold red"),
    "duplicate": ("already done", "dim green"),
    "gone": ("gone", "dim"),
}
IN_FLIGHT = ("uploaded", "turned", "rendering", "downloaded", "resumed")


class WatchQueue(DataTable):
    """One row per image, keyed by its content hash (a rename keeps the row)."""

    DEFAULT_CSS = """
    WatchQueue { border: round $primary-darken-1; height: 1fr; }
    WatchQueue:focus { border: heavy $primary; }
    """
    BINDINGS = [Binding("enter", "open", "Open clip", show=True)]

    @dataclass
    class Update(Message):
        """A step of one image (or of the watcher: paused, resumed, slowed, stopped)."""

        event: WatchEvent

    @dataclass
    class Opened(Message):
        """Enter on a row whose clip is made."""

        queue: WatchQueue
        file: str
        out: str

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.steps: dict[str, str] = {}  # row key → last step
        self.outs: dict[str, str] = {}
        self.notice = ""

    def on_mount(self) -> None:
        self.border_title = "Watch"
        # Narrow enough for the 32-column side pane at 80x24; the detail scrolls sideways.
        self.add_column("File", key="file", width=14)
        self.add_column("Step", key="step", width=14)
        self.add_column("Detail", key="detail")
        self._subtitle()

    @on(Update)
    def _update(self, message: Update) -> None:
        message.stop()
        ev = message.event
        if not ev.file:  # the watcher itself
            if ev.step in ("paused", "slowed", "warning"):
                self.notice = f"{ev.step}: {ev.detail.split('. ')[0]}"
            elif ev.step in ("resumed", "started"):
                self.notice = ""
            elif ev.step == "stopped":
                self.notice = "stopped"
            self._subtitle()
            return
        row = ev.key or ev.file
        if ev.step == "progress":
            if row in self.steps and ev.progress is not None:
                self.update_cell(row, "step", Text(f"rendering {ev.progress:3.0f}%", "cyan"))
            return
        label, style = LABELS.get(ev.step, (ev.step, ""))
        detail = ev.detail.splitlines()[0] if ev.detail else ""
        if ev.out:
            self.outs[row] = ev.out
        if row not in self.steps:
            self.add_row(ev.file, Text(label, style), detail, key=row)
        else:
            self.update_cell(row, "file", ev.file)
            self.update_cell(row, "step", Text(label, style))
            self.update_cell(row, "detail", detail)
        self.steps[row] = ev.step
        self._subtitle()

    def counts(self) -> dict[str, int]:
        c = {"waiting": 0, "in flight": 0, "done": 0, "failed": 0}
        for step in self.steps.values():
            if step == "seen":
                c["waiting"] += 1
            elif step in IN_FLIGHT:
                c["in flight"] += 1
            elif step in ("done", "duplicate"):
                c["done"] += 1
            elif step == "failed":
                c["failed"] += 1
        return c

    def _subtitle(self) -> None:
        # Only what there is: the subtitle must fit the 32-column side pane at 80x24.
        text = " · ".join(f"{n} {k}" for k, n in self.counts().items() if n) or "no images yet"
        self.border_subtitle = f"{text} · {self.notice}" if self.notice else text

    def action_open(self) -> None:
        if self.row_count == 0:
            return
        row = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        if row is not None and row in self.outs and self.steps.get(row) == "done":
            file = str(self.get_cell(row, "file"))
            self.post_message(self.Opened(self, file, self.outs[row]))
