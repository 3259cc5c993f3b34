"""The file browser: folders and accepted media only."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from textual.widgets import DirectoryTree

from tui.protocol import file_kind


class FileBrowser(DirectoryTree):
    DEFAULT_CSS = """
    FileBrowser { border: round $primary-darken-1; }
    """

    def on_mount(self) -> None:
        self.border_title = "Files"

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [
            p
            for p in paths
            if not p.name.startswith(".") and (p.is_dir() or file_kind(p.name) is not None)
        ]
