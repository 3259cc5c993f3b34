"""tui/terminal/graphics.py: when the terminal is asked what it draws, and what its answers mean.

The round trip runs for real over a pseudo-terminal, with a thread playing the terminal.
"""

from __future__ import annotations

import os
import pty
import threading
import time

import pytest

from tui.terminal.graphics import (
    COLORS_QUERY,
    DA1_QUERY,
    KITTY_QUERY,
    VERSION_QUERY,
    Graphics,
    ask_terminal,
    preview_mode,
    probe,
    read_replies,
    usable,
    wants_probe,
)

# As xterm 379 (-ti vt340, and plain) and kitty 0.26.5 answered here; the others as documented.
XTERM_VT340 = b"\x1b[?1;0;1024S\x1bP>|XTerm(379)\x1b\\\x1b[?63;1;2;4;6;9;15;16;22;28c"
XTERM_PLAIN = b"\x1b[?1;3S\x1b[?64;1;2;6;9;15;16;17;18;21;22;28c"
KITTY_OLD = b"\x1b_Gi=31;OK\x1b\\\x1b[6;20;9t\x1bP>|kitty(0.26.5)\x1b\\\x1b[?62;c"
KITTY = b"\x1b_Gi=31;OK\x1b\\\x1b[6;20;10t\x1bP>|kitty(0.35.2)\x1b\\\x1b[?62;c"
GHOSTTY = b"\x1b_Gi=31;OK\x1b\\\x1bP>|ghostty 1.1.3\x1b\\\x1b[?62;22c"
WEZTERM_NO_SIXEL = b"\x1b_Gi=31;OK\x1b\\\x1bP>|WezTerm 20240203\x1b\\\x1b[?65;1;9c"
FOOT = b"\x1b[6;17;8t\x1b[?1;0;256S\x1b[?62;4;22c"


@pytest.mark.parametrize(
    ("env", "tty", "mode", "want"),
    [
        ({"TERM": "xterm-kitty"}, True, "auto", True),
        ({"TERM": "foot"}, True, "auto", True),
        ({"TERM_PROGRAM": "WezTerm"}, True, "auto", True),
        ({"TERM_PROGRAM": "iTerm.app"}, True, "auto", True),
        ({"WT_SESSION": "x"}, True, "auto", True),
        ({"XTERM_VERSION": "XTerm(379)"}, True, "auto", True),
        ({"TERM": "xterm-256color"}, True, "auto", False),  # plain SSH: nothing named
        ({"TERM": "xterm-kitty", "TMUX": "/tmp/tmux"}, True, "auto", False),
        ({"TERM": "screen-256color", "KITTY_WINDOW_ID": "1"}, True, "auto", False),
        ({"TERM": "xterm-kitty"}, False, "auto", False),  # not a terminal
        ({"TERM": "xterm-kitty"}, True, "blocks", False),
        ({"TERM": "dumb"}, True, "pixels", True),
        ({"TERM": "dumb"}, False, "pixels", False),
    ],
)
def test_when_to_ask(env: dict[str, str], tty: bool, mode: str, want: bool) -> None:
    assert wants_probe(env, tty, mode) is want


def test_mode_from_flag_then_env() -> None:
    assert preview_mode({}) == "auto"
    assert preview_mode({"I2V_FLOW_PREVIEW": "Blocks"}) == "blocks"
    assert preview_mode({"I2V_FLOW_PREVIEW": "blocks"}, "pixels") == "pixels"
    assert preview_mode({"I2V_FLOW_PREVIEW": "jpeg"}) == "auto"


@pytest.mark.parametrize(
    ("answers", "want"),
    [
        (XTERM_VT340, Graphics("sixel", colors=256)),
        (XTERM_PLAIN, None),
        (KITTY, Graphics("kitty", 10, 20)),
        (KITTY_OLD, None),  # answers the query, but draws placeholders as boxes (< 0.28)
        (GHOSTTY, Graphics("kitty")),
        (WEZTERM_NO_SIXEL, None),  # Kitty images, but no placeholders
        (FOOT, Graphics("sixel", 8, 17, 256)),
        (b"\x1b[?1;0;16S\x1b[?63;4c", Graphics("sixel", colors=16)),
        (b"", None),  # no answer at all
        (b"\x1b_Gi=31;ENOENT:no\x1b\\\x1b[?62;22c", None),
    ],
)
def test_reading_answers(answers: bytes, want: Graphics | None) -> None:
    assert read_replies(answers) == want


class FakeTerminal:
    """The far side of a pty: reads the queries, answers with `answer` after `delay`."""

    def __init__(self, answer: bytes, delay: float = 0.0) -> None:
        self.master, self.slave = pty.openpty()
        self.answer, self.delay = answer, delay
        self.heard = b""
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while DA1_QUERY not in self.heard:
            try:
                self.heard += os.read(self.master, 1024)
            except OSError:
                return
        time.sleep(self.delay)
        if self.answer:
            os.write(self.master, self.answer)

    def close(self) -> None:
        os.close(self.slave)
        os.close(self.master)


def test_one_round_trip_over_a_pty() -> None:
    term = FakeTerminal(XTERM_VT340 + b"typed")
    try:
        started = time.monotonic()
        answers = ask_terminal(term.slave, term.slave)
        took = time.monotonic() - started
    finally:
        term.thread.join(2)
        term.close()
    assert term.heard.startswith(KITTY_QUERY)
    assert COLORS_QUERY in term.heard and VERSION_QUERY in term.heard
    assert term.heard.endswith(DA1_QUERY)  # DA1 last: its answer ends the wait
    assert read_replies(answers) == Graphics("sixel", colors=256)
    assert took < 0.25  # ended by the answer, not the timeout


def test_a_silent_terminal_costs_the_timeout_and_no_more() -> None:
    term = FakeTerminal(b"")
    try:
        started = time.monotonic()
        answers = ask_terminal(term.slave, term.slave, timeout=0.2)
        took = time.monotonic() - started
    finally:
        term.close()
    assert answers == b"" and read_replies(answers) is None
    assert 0.15 < took < 1.0


def test_the_terminal_mode_is_restored() -> None:
    import termios

    term = FakeTerminal(KITTY)
    try:
        before = termios.tcgetattr(term.slave)
        ask_terminal(term.slave, term.slave)
        assert termios.tcgetattr(term.slave) == before
    finally:
        term.close()


def test_no_terminal_no_question(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under pytest stdin is no terminal: probe answers None without writing anything."""
    monkeypatch.setenv("TERM", "xterm-kitty")
    assert probe(flag="pixels") is None


def test_help_names_the_preview_choice(capsys: pytest.CaptureFixture[str]) -> None:
    from tui.cli.main import main

    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "--preview {auto,pixels,blocks}" in text and "I2V_FLOW_PREVIEW" in text


def test_no_color_leaves_sixel_but_not_kitty_placeholders() -> None:
    kitty, sixel = read_replies(KITTY), read_replies(XTERM_VT340)
    assert usable(kitty, {}) == kitty and usable(sixel, {"NO_COLOR": "1"}) == sixel
    assert usable(kitty, {"NO_COLOR": "1"}) is None  # the placeholders' colour is the image id
    assert usable(None, {}) is None
