"""Can this terminal draw real pixels (Sixel or the Kitty graphics protocol)? Asked once, early.

A terminal says what it can draw only in answer to queries written to it, and the answers arrive
on stdin. Once Textual runs, its input thread takes them and they land in the prompt as keys, so
the question is asked before the app starts. It is asked only where the environment names a
terminal known to draw pixels (or I2V_FLOW_PREVIEW=pixels says so): elsewhere (plain SSH, tmux,
CI) the preview is half-blocks and startup pays nothing.

One round trip: a Kitty graphics query, a cell-size query, the number of Sixel colour registers
(XTSMGRAPHICS), the terminal's name and version (XTVERSION) and Primary Device Attributes (DA1).
Every terminal answers DA1, in order, so its answer ends the wait; a Kitty reply before it means
the Kitty protocol, a 4 among DA1's attributes means Sixel.
"""

from __future__ import annotations

import os
import re
import select
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

Kind = Literal["sixel", "kitty"]
MODES = ("auto", "pixels", "blocks")

# Terminals that draw Sixel or Kitty images, by what they put in the environment.
GRAPHIC_TERMS = (
    "xterm-kitty", "xterm-ghostty", "foot", "foot-extra", "mlterm", "wezterm", "contour",
)  # fmt: skip
GRAPHIC_PROGRAMS = ("WezTerm", "iTerm.app", "vscode", "ghostty", "mintty", "rio")
GRAPHIC_VARS = (
    "KITTY_WINDOW_ID", "WEZTERM_EXECUTABLE", "KONSOLE_VERSION", "WT_SESSION", "XTERM_VERSION",
)  # fmt: skip
# Multiplexers answer for themselves and keep images from reaching the real terminal.
MULTIPLEXER_VARS = ("TMUX", "STY", "ZELLIJ")

KITTY_QUERY = b"\x1b_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\x1b\\"
CELL_QUERY = b"\x1b[16t"
COLORS_QUERY = b"\x1b[?1;1;0S"
VERSION_QUERY = b"\x1b[>0q"
DA1_QUERY = b"\x1b[c"

_DA1 = re.compile(rb"\x1b\[\?([0-9;]*)c")
_KITTY_OK = re.compile(rb"\x1b_Gi=31;OK\x1b\\")
_CELL = re.compile(rb"\x1b\[6;(\d+);(\d+)t")
_COLORS = re.compile(rb"\x1b\[\?1;0;(\d+)S")
_VERSION = re.compile(rb"\x1bP>\|([^\x1b]*)\x1b\\")
_PLACEHOLDER_TERMS = re.compile(rb"^(?:kitty\((\d+)\.(\d+)[^)]*\)|ghostty\b)", re.IGNORECASE)


@dataclass(frozen=True)
class Graphics:
    """What the preview can use: the protocol and a cell's size in pixels."""

    kind: Kind
    cell_width: int = 10
    cell_height: int = 20
    colors: int = 256  # Sixel colour registers


def preview_mode(env: Mapping[str, str], flag: str | None = None) -> str:
    mode = (flag or env.get("I2V_FLOW_PREVIEW") or "auto").strip().lower()
    return mode if mode in MODES else "auto"


def wants_probe(env: Mapping[str, str], tty: bool, mode: str = "auto") -> bool:
    """Whether asking the terminal is worth it: a terminal, and one that likely draws pixels."""
    if not tty or mode == "blocks":
        return False
    if mode == "pixels":
        return True
    if any(env.get(v) for v in MULTIPLEXER_VARS):
        return False
    term = env.get("TERM", "")
    if term.startswith(("screen", "tmux")):
        return False
    return (
        term in GRAPHIC_TERMS
        or env.get("TERM_PROGRAM", "") in GRAPHIC_PROGRAMS
        or any(env.get(v) for v in GRAPHIC_VARS)
    )


def read_replies(data: bytes) -> Graphics | None:
    """The protocol and cell size from the terminal's answers (None: half-blocks)."""
    da1 = _DA1.search(data)
    cell = _CELL.search(data)
    height, width = (int(cell.group(1)), int(cell.group(2))) if cell else (0, 0)
    width = width if width and height else 0
    found: dict[str, int] = {"cell_width": width, "cell_height": height} if width else {}
    colors = _COLORS.search(data)
    if colors and int(colors.group(1)) >= 2:
        found["colors"] = min(256, int(colors.group(1)))
    # Sixel first, as textual-image does: Kitty, the one terminal with Kitty image placeholders,
    # has no Sixel, while WezTerm and Konsole answer the Kitty query but draw placeholders wrong.
    if da1 and b"4" in da1.group(1).split(b";"):
        return Graphics("sixel", **found)
    if _KITTY_OK.search(data) and _has_placeholders(data):
        return Graphics("kitty", **found)
    return None


def usable(found: Graphics | None, env: Mapping[str, str]) -> Graphics | None:
    """What the app can use of what the terminal draws. Kitty's placeholders name their image by
    their text colour, which NO_COLOR takes away: no preview beats an empty box there."""
    if found is not None and found.kind == "kitty" and env.get("NO_COLOR"):
        return None
    return found


def _has_placeholders(data: bytes) -> bool:
    """Kitty images by Unicode placeholders: kitty 0.28 and later (Debian 12 ships 0.26.5, which
    answers the graphics query but draws the placeholders as boxes) and Ghostty."""
    version = _VERSION.search(data)
    name = _PLACEHOLDER_TERMS.match(version.group(1)) if version else None
    if name is None:
        return False
    if name.group(1) is None:  # Ghostty
        return True
    return (int(name.group(1)), int(name.group(2))) >= (0, 28)


def ask_terminal(fd_in: int, fd_out: int, timeout: float = 1.0) -> bytes:
    """Write the queries and read answers until DA1's arrives or the timeout passes.

    The timeout is generous: an answer arriving after we stop reading would reach the app as
    keys, and only a terminal that never answers DA1 (none known) ever waits it out."""
    import termios

    old = termios.tcgetattr(fd_in)
    new = termios.tcgetattr(fd_in)
    new[3] &= ~(termios.ICANON | termios.ECHO)  # answers are read, never echoed
    termios.tcsetattr(fd_in, termios.TCSANOW, new)
    data = b""
    try:
        os.write(fd_out, KITTY_QUERY + CELL_QUERY + COLORS_QUERY + VERSION_QUERY + DA1_QUERY)
        deadline = time.monotonic() + timeout
        while not _DA1.search(data):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd_in], [], [], left)[0]:
                break
            chunk = os.read(fd_in, 4096)
            if not chunk:
                break
            data += chunk
    finally:
        termios.tcsetattr(fd_in, termios.TCSANOW, old)
    return data


def window_cell_size(fd: int) -> tuple[int, int]:
    """A cell's pixel size from the kernel's window size; (0, 0) where the terminal omits it."""
    try:
        import fcntl
        import struct
        import termios

        rows, cols, xpix, ypix = struct.unpack(
            "HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8)
        )
    except (OSError, ImportError):
        return 0, 0
    if not (rows and cols and xpix and ypix):
        return 0, 0
    return xpix // cols, ypix // rows


def probe(env: Mapping[str, str] | None = None, flag: str | None = None) -> Graphics | None:
    """Ask the terminal on stdin/stdout, if worth it; None means half-blocks."""
    env = os.environ if env is None else env
    if sys.platform == "win32" or sys.stdin is None or sys.stdout is None:
        return None
    try:
        fd_in, fd_out = sys.stdin.fileno(), sys.stdout.fileno()
        tty = os.isatty(fd_in) and os.isatty(fd_out)
    except (OSError, ValueError):
        return None
    if not wants_probe(env, tty, preview_mode(env, flag)):
        return None
    try:
        found = read_replies(ask_terminal(fd_in, fd_out))
    except OSError:
        return None
    if usable(found, env) is None:
        return None
    width, height = window_cell_size(fd_out)
    if width and height:  # the kernel's figure beats an answer some terminals round
        return replace(found, cell_width=width, cell_height=height)
    return found


def probe_early(flag: str | None = None) -> Callable[[], Graphics | None]:
    """Start the probe in a thread (over SSH the answer takes a round trip) while the app's
    modules import; the returned call waits for it. Must be called before Textual starts."""
    result: list[Graphics | None] = [None]

    def run() -> None:
        result[0] = probe(flag=flag)

    thread = threading.Thread(target=run, name="i2v-graphics-probe", daemon=True)
    thread.start()

    def wait() -> Graphics | None:
        thread.join()
        return result[0]

    return wait
