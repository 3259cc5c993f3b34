"""The command palette: every action of the app, as `command_*` methods of the App (defined in
tui/app/commands.py), from the one command table (tui/core/command_table.py)."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.core.command_table import COMMANDS as TABLE

# (title, App method, help): the table's commands that have a palette entry
COMMANDS: list[tuple[str, str, str]] = [(c.title, c.run, c.about) for c in TABLE if c.title]


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
