"""The command palette: every action of the app, as `command_*` methods of the App (defined in
tui/app/commands.py)."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

# (title, App method, help)
COMMANDS: list[tuple[str, str, str]] = [
    ("Export the timeline to MP4", "command_export", "render and download to the exports folder"),
    ("Upload the highlighted file", "command_upload", "the file under the cursor in Files"),
    ("Upload the marked files", "command_upload_marked", "every file marked with space"),
    ("Clear the marks", "command_clear_marks", "unmark every file in Files"),
    ("Refresh credits", "command_credits", "available, frozen and total"),
    ("Show the timeline", "command_status", "the tracks, read from the backend"),
    ("Undo the last change", "command_undo", "step the timeline back"),
    ("New session", "command_new_session", "start an empty timeline"),
    ("Preview the clip", "command_preview", "play the timeline here (f2 shows or hides it)"),
    ("Open the last export", "command_open", "with the desktop's opener, else show its path"),
    ("Stop watching", "command_watch_off", "stop the watch folder (/watch DIR starts one)"),
    ("Reconnect", "command_reconnect", "restart the local engine or reconnect to the backend"),
    ("Help", "command_help", "commands, keys and examples"),
]


class I2VCommands(Provider):
    """Yields the app's actions; each callback is a `command_*` method of the App."""

    def _callback(self, method: str):
        return partial(getattr(self.app, method))

    async def discover(self) -> Hits:
        for title, method, help_text in COMMANDS:
            yield DiscoveryHit(title, self._callback(method), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, method, help_text in COMMANDS:
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), self._callback(method), help=help_text)
