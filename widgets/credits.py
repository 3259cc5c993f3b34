"""Credits: available, frozen and total."""

from __future__ import annotations

from textual.widgets import Static


class Credits(Static):
    DEFAULT_CSS = """
    Credits { border: round $primary-darken-1; padding: 0 1; height: auto; }
    """

    def on_mount(self) -> None:
        self.border_title = "Credits"
        self.update("—")

    def show(self, available: int, frozen: int, total: int) -> None:
        self.update(f"{available} available · {frozen} frozen · {total} total")
