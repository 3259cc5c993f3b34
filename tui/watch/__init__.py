"""Watch mode: images dropped into a folder become clips, nothing lost, nothing done twice.

`journal` (SQLite, by content hash), `scan` (naming rules, settling, moves), `steps` (one image
from seen to done), `pacing` (which image next, and when), `runner` (the Watcher: the loop that
joins them through one `emit`), `shapes` (its config and events), `lock` (one per folder). No
textual import anywhere here; the TUI embeds a Watcher and feeds its queue pane from `on_event`.
"""

from tui.watch.runner import STEPS, WatchConfig, Watcher, WatchError, WatchEvent

__all__ = ["STEPS", "WatchConfig", "WatchError", "WatchEvent", "Watcher"]
