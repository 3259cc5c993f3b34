"""Progress on stderr that suits where stderr goes.

On a terminal: one bar redrawn in place with `\\r`. To a file or a pipe (a log, CI, `2>&1 |
tee`): plain lines, no `\\r` and no escape codes, one each time the percentage has gone up by
`step` or more (and the last). Quiet: nothing at all, and no status lines either; errors still
go through `error()`.
"""

from __future__ import annotations

import shutil
import sys
from typing import TextIO


class Progress:
    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False, step: int = 5):
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet
        self.step = step
        self.tty = _isatty(self.stream)
        self._open = False  # a bar is on the line: the next line starts on a new one
        self._last: int | None = None  # the last percentage shown

    def say(self, msg: str) -> None:
        """A status line ("Uploading…"); nothing when quiet."""
        if not self.quiet:
            self._line(msg)

    def error(self, msg: str) -> None:
        """Always shown, on its own line."""
        self._line(msg)

    def update(self, label: str, pct: float) -> None:
        if self.quiet:
            return
        p = max(0, min(100, int(pct)))
        if self._last is not None and p == self._last:
            return
        if self.tty:
            self._last = p
            self.stream.write("\r" + self._bar(label, p))
            self._open = True
        elif self._last is None or p >= self._last + self.step or (p == 100 != self._last):
            self._last = p
            self.stream.write(f"{label} {p}%\n")
        self.stream.flush()

    def end(self) -> None:
        """The bar is done: later lines start below it; the next bar starts afresh."""
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False
        self._last = None

    def _line(self, msg: str) -> None:
        self.end()
        self.stream.write(msg + "\n")
        self.stream.flush()

    def _bar(self, label: str, pct: int) -> str:
        cols = shutil.get_terminal_size((80, 24)).columns
        width = max(10, min(40, cols - len(label) - 9))
        done = width * pct // 100
        return f"{label} [{'#' * done}{'.' * (width - done)}] {pct:3d}%"


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or bare stream
        return False
