"""Telling the person a long job ended while they looked elsewhere: an export or a watched
image done (or failed) while the terminal is not focused (Textual's AppBlur/AppFocus) gets the
terminal's own notification and a toast. The config file's `notify = false` turns it off.

The terminal's notification is OSC 9 where the terminal is known to show it (iTerm2, WezTerm,
Ghostty), OSC 777 (foot, urxvt), OSC 99 (kitty), else the bell: inside tmux or screen too, which
would swallow the others and marks the window instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from tui.app.base import AppPart

OSC9_PROGRAMS = ("iTerm.app", "WezTerm", "ghostty")
OSC777_TERMS = ("foot", "rxvt-unicode")
TITLE = "i2v-flow"
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f;]")  # would end or split the sequence


def terminal_notification(body: str, env: Mapping[str, str] = os.environ) -> str:
    """The bytes that make this terminal show `body` as a notification (else ring its bell)."""
    term, program = env.get("TERM", ""), env.get("TERM_PROGRAM", "")
    text = _UNSAFE.sub(" ", body)[:200]
    if env.get("TMUX") or term.startswith(("screen", "tmux")):
        return "\a"
    if program in OSC9_PROGRAMS or term == "xterm-ghostty":
        return f"\x1b]9;{text}\x07"
    if term.startswith(OSC777_TERMS):
        return f"\x1b]777;notify;{TITLE};{text}\x07"
    if env.get("KITTY_WINDOW_ID") or term == "xterm-kitty":
        return f"\x1b]99;;{text}\x1b\\"
    return "\a"


class Notify(AppPart):
    notify_done: bool  # the config file's `notify`

    def tell_done(self, text: str, error: bool = False) -> None:
        """`text` as a toast and the terminal's notification, when the app is not looked at."""
        if not self.notify_done or self.app_focus:
            return
        self.notify(
            text,
            title="Failed" if error else "Done",
            severity="error" if error else "information",
        )
        driver = self._driver
        if driver is not None:
            driver.write(terminal_notification(text))
