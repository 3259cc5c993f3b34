"""Backend text made safe for a terminal: control sequences and control characters removed.

A hostile or broken backend could set the window title, write the clipboard (OSC 52), clear the
screen or hide text with escape sequences in its words, errors or file names. Every backend
string passes `clean` where it enters the client; only newline and tab are kept.
"""

from __future__ import annotations

import re
from typing import Any

# A whole sequence goes, not just its ESC: its parameters would be shown as garbage otherwise.
# String sequences (OSC, DCS, SOS, PM, APC; 7- or 8-bit) run to BEL or ST, or to the end when
# unterminated (a terminal would swallow the rest too); CSI to its final byte; other ESC
# sequences are ESC, intermediates and one final byte.
_SEQUENCE = re.compile(
    r"(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f]).*?(?:\x07|\x1b\\|\x9c|\Z)"
    r"|(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]?",
    re.S,
)
# C0 but newline and tab, DEL, C1: what is left once the sequences are gone.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: Any) -> str:
    """`text` as a string with no control sequence or control character but newline and tab;
    CRLF becomes a newline."""
    s = text if isinstance(text, str) else str(text)
    if not _CONTROL.search(s):
        return s  # the common case: nothing to do
    s = _SEQUENCE.sub("", s.replace("\r\n", "\n"))
    return _CONTROL.sub("", s)


def clean_obj(value: Any) -> Any:
    """`value` with every string in it cleaned, dict keys included (tool-call arguments)."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean_obj(k): clean_obj(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_obj(v) for v in value]
    return value
