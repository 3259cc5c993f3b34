"""The tracks pane: the timeline from the state, one line per segment."""

from __future__ import annotations

from textual.widgets import Static


class Tracks(Static):
    DEFAULT_CSS = """
    Tracks { border: round $primary-darken-1; padding: 0 1; height: auto; min-height: 5; }
    """

    def on_mount(self) -> None:
        self.border_title = "Tracks"
        self.show([])

    def show(self, summary: list[str]) -> None:
        self.update("\n".join(summary) if summary else "(empty: upload an image)")
