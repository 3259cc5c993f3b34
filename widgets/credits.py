"""The credit balance, at the top of the Jobs pane (widgets/jobs.py)."""

from __future__ import annotations

from textual.widgets import Static


class Credits(Static):
    DEFAULT_CSS = """
    Credits { height: auto; }
    """

    def on_mount(self) -> None:
        self.available: int | None = None
        self.update("credits: …")

    def show(self, available: int, frozen: int, total: int) -> None:
        self.available = available
        self.update(f"{available} available · {frozen} frozen · {total} total")
