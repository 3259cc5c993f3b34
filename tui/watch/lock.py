"""One watcher per folder: a second one would do every image twice."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from tui.watch.shapes import WatchError


def take_lock(folder: Path) -> int | None:
    """Lock `folder` for this process (an flock under I2V_FLOW_HOME, let go on exit, even a
    kill -9); the fd to `release_lock`, or None where there is no flock. WatchError if taken."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover (Windows)
        return None
    from tui.core.paths import home

    name = hashlib.sha1(str(folder).encode()).hexdigest()[:16]
    lock = home() / "watch-locks" / f"{name}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise WatchError(f"another watcher is already watching {folder}") from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def release_lock(fd: int) -> None:
    os.close(fd)  # closing drops the flock
