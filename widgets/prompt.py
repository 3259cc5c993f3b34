"""The prompt line: one line at the bottom with history."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


class Prompt(Input):
    PLACEHOLDER = "Say what you want, e.g. a 5-second vertical clip with lo-fi music  (/help)"
    BINDINGS = [
        Binding("up", "history(-1)", "Previous", show=False),
        Binding("down", "history(1)", "Next", show=False),
    ]

    @dataclass
    class Sent(Message):
        text: str

    def on_mount(self) -> None:
        self.placeholder = self.PLACEHOLDER
        # A key typed (or a path pasted) in another pane lands here with the focus: selecting
        # the text on focus would make the next key replace it.
        self.select_on_focus = False
        # Its focus shows by its cursor (no pane's border is heavy then): without colour the
        # background tint is gone, so the cursor stays lit rather than blinking out.
        if self.app.no_color:
            self.cursor_blink = False
        self._history: list[str] = []
        self._pos = 0

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            return
        self._history.append(text)
        self._pos = len(self._history)
        self.value = ""
        self.post_message(self.Sent(text))

    def action_history(self, step: int) -> None:
        if not self._history:
            return
        self._pos = max(0, min(len(self._history), self._pos + step))
        self.value = self._history[self._pos] if self._pos < len(self._history) else ""
        self.cursor_position = len(self.value)
