"""Textual's footer with f1 Help first: the focused pane's keys come before the app's, and would
push it off the end at 80 columns (the preview pane alone has five)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class HelpFooter(Footer):
    def __init__(self, *, first: str = "help") -> None:
        super().__init__()
        self.first = first  # the action of the key said first (the app's command table's)

    def compose(self) -> ComposeResult:
        if self._bindings_ready:
            for _node, binding, enabled, tooltip in self.screen.active_bindings.values():
                if binding.action == self.first and binding.show:
                    yield FooterKey(
                        binding.key,
                        self.app.get_key_display(binding),
                        binding.description,
                        binding.action,
                        disabled=not enabled,
                        tooltip=tooltip,
                    ).data_bind(compact=Footer.compact)
                    break
        for widget in super().compose():
            if not (isinstance(widget, FooterKey) and widget.action == self.first):
                yield widget
