"""A program on a pseudo-terminal of its own, started without fork() in this process.

pty.fork() in a process that runs threads (pytest-xdist's, the engine fixtures') is the
deadlock-prone case that Python 3.12+ warns about. Here the child is spawned (posix_spawn or
fork+exec inside subprocess), makes a session of its own, takes the terminal as its controlling
one and execs the program: what a terminal emulator does.
"""

from __future__ import annotations

import fcntl
import os
import struct
import subprocess
import sys
import termios
from collections.abc import Mapping, Sequence
from pathlib import Path

# Run in the child before the program: the slave on fd 0 becomes its controlling terminal.
_TAKE_TERMINAL = (
    "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "os.execvpe(sys.argv[1], sys.argv[1:], os.environ)"
)


def spawn(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: Path,
    rows: int = 24,
    cols: int = 80,
) -> tuple[subprocess.Popen[bytes], int]:
    """(the process, the terminal's master end). The caller closes the fd and ends the process."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, cols * 8, rows * 16))
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", _TAKE_TERMINAL, *argv],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=cwd,
            env=dict(env),
            start_new_session=True,  # setsid(): a session that the terminal can belong to
        )
    except BaseException:
        os.close(master)
        raise
    finally:
        os.close(slave)
    return proc, master


def end(proc: subprocess.Popen[bytes], fd: int) -> None:
    """Kill the process if it still runs, reap it, close the terminal."""
    if proc.poll() is None:
        proc.kill()
    proc.wait(10)
    os.close(fd)
