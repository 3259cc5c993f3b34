"""Running the engine: the listening socket (loopback TCP, or a Unix socket only its owner may
reach), uvicorn with bounded connections, the capped log, and stopping with the parent."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tui.engine.hosts import is_loopback
from tui.engine.server.connections import LISTEN_BACKLOG, REPEAT_WINDOW, Limits
from tui.engine.server.engine import Engine
from tui.engine.server.sse import HEARTBEAT_SECONDS

if TYPE_CHECKING:
    import subprocess

LOG_BYTES = 1 << 20  # engine.log, rotated with 2 backups: 3 MB at most
STDERR_BUDGET = 64 << 10  # bytes of stderr per STDERR_WINDOW; past it, one line says so
STDERR_WINDOW = 600.0  # s


def serve(
    host: str = "127.0.0.1",
    port: int = 0,
    data_dir: Path | None = None,
    workers: int | None = None,
    on_ready: Callable[[str], None] | None = None,
    watch_stdin: bool = False,
    *,
    heartbeat: float = HEARTBEAT_SECONDS,
    turn_delay: float = 0.0,
    socket_path: Path | None = None,
    limits: Limits | None = None,
    allow_files: tuple[Path, ...] = (),
    database: str | None = None,
    warm_now: bool = False,
    first_worker: subprocess.Popen | None = None,
) -> None:
    """Run the engine until interrupted; `on_ready` gets the URL once the socket listens: `http://
    host:port`, or with `socket_path` the `http+unix://` URL of tui.core.paths.socket_url. `limits`
    are taken as they are (default: Limits() fitted to the descriptor limit); `first_worker`: a
    render worker already started for this data folder (see tui/engine/__main__.py)."""
    import threading

    import uvicorn

    from tui.core.paths import engine_dir, socket_url
    from tui.engine.server.connections import AcceptGuard, fd_limit, protocol_for
    from tui.engine.server.prompt_server import PromptServer

    if socket_path is not None:
        sock = _listen_unix(socket_path)
        url = socket_url(socket_path)
        inode = os.stat(socket_path).st_ino
    else:
        sock = _listen_tcp(host, port)
        shown = f"[{host}]" if ":" in host else host
        url = f"http://{shown}:{sock.getsockname()[1]}"
    try:
        engine = Engine(
            data_dir or engine_dir(),
            workers,
            heartbeat=heartbeat,
            turn_delay=turn_delay,
            # Over the socket clients send Host: localhost, so the check holds there too.
            loopback=socket_path is not None or is_loopback(host),
            allow_files=allow_files,
            database=database,
            warm_now=warm_now,
            first_worker=first_worker,
        )
        until_ready = _log_to_file(engine.data_dir / "engine.log")
        limits = limits or Limits().for_fd_limit(fd_limit())
        # Named outright, nothing "auto": no probing for uvloop, httptools or websockets at start.
        config = uvicorn.Config(
            engine.app,
            loop="asyncio",
            http=protocol_for(limits),
            ws="none",
            interface="asgi3",
            lifespan="on",
            log_level="warning",
            log_config=None,  # no dictConfig: _log_to_file routes uvicorn's loggers
            access_log=False,
            # No proxy sits in front of us: a caller's X-Forwarded-For must not pick the
            # address that token minting is counted against.
            proxy_headers=False,
            timeout_keep_alive=limits.keep_alive,  # type: ignore[arg-type]
            # uvicorn answers 503 from this many connections or requests. Our cap (connections.py)
            # decides first; uvicorn's count also holds the ones being closed for a loop turn, so
            # at max_open + 1 it refused requests the cap had made room for. A backstop only.
            limit_concurrency=limits.max_open * 2,
            backlog=LISTEN_BACKLOG,
        )

        server = PromptServer(config, on_stop=engine.render_waits.close)

        if watch_stdin:
            # The parent holds our stdin; when it goes away (even by kill -9) we stop too.
            def watch() -> None:
                try:
                    while sys.stdin.buffer.read(1):
                        pass
                except (OSError, ValueError):
                    pass
                server.stop_now()

            threading.Thread(target=watch, daemon=True, name="i2v-parent-watch").start()

        async def main() -> None:
            guard = AcceptGuard(sock)
            asyncio.get_running_loop().set_exception_handler(guard)
            stderr: StderrCap | None = None
            try:
                task = asyncio.create_task(server.serve(sockets=[sock]))
                while not server.started and not task.done():
                    await asyncio.sleep(0.005)
                if server.started:
                    until_ready()
                    with contextlib.suppress(OSError):  # after the start: a failing one
                        stderr = StderrCap()  # speaks in full
                    if on_ready:
                        on_ready(url)
                await task
            finally:
                if stderr is not None:
                    stderr.close()
                guard.close()

        asyncio.run(main())
    finally:
        sock.close()
        if socket_path is not None:
            _remove_socket(socket_path, inode)


def _listen_tcp(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP so that asyncio sets TCP_NODELAY: else every answer waits ~40 ms on Nagle.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(LISTEN_BACKLOG)
    sock.set_inheritable(False)
    return sock


def _listen_unix(path: Path) -> socket.socket:
    """A Unix socket born 0600 (connecting needs write permission on it): only its owner, in a
    folder that should be 0700 too (tui.core.paths.run_dir). A dead socket left there is replaced;
    a live one or any other file is an error."""
    _clear_dead_socket(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)  # process-wide, but nothing else runs yet
    try:
        sock.bind(os.fspath(path))
    except OSError:
        sock.close()
        raise
    finally:
        os.umask(old)
    sock.listen(LISTEN_BACKLOG)
    sock.set_inheritable(False)
    return sock


def _clear_dead_socket(path: Path) -> None:
    import errno
    import stat

    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise OSError(errno.EEXIST, "exists and is not a socket")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(os.fspath(path))
        except ConnectionRefusedError:  # nobody listens: left by an engine that was killed
            path.unlink(missing_ok=True)
            return
    raise OSError(errno.EADDRINUSE, "another engine listens there")


def _remove_socket(path: Path, inode: int) -> None:
    """Our socket file, unless another engine has replaced it meanwhile."""
    try:
        if os.stat(path).st_ino == inode:
            path.unlink()
    except OSError:
        pass


def _log_to_file(path: Path) -> Callable[[], None]:
    """Everything the engine logs, its own lines and uvicorn's and asyncio's, goes to
    DATA/engine.log (rotated: 3 MB at most), not to stderr: a parent that never reads our stderr
    pipe must not be able to stall us, and a flood (asyncio logs every failed accept()) must not
    fill a disk. Repeats of a uvicorn/asyncio/connection message within a minute are counted,
    not written. (stderr itself is capped by StderrCap once the server is ready.)

    Until the server is ready, errors also reach stderr (the parent shows the last line when the
    start fails); the function returned ends that."""
    from logging.handlers import RotatingFileHandler

    root = logging.getLogger("i2v")
    if root.handlers:
        return lambda: None
    handler = RotatingFileHandler(path, maxBytes=LOG_BYTES, backupCount=2, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_Repeats(("uvicorn", "asyncio", "i2v.engine.connections")))
    early = logging.StreamHandler(sys.stderr)
    early.setLevel(logging.ERROR)
    loggers = [logging.getLogger(name) for name in ("i2v", "uvicorn", "asyncio")]
    for logger in loggers:
        logger.addHandler(handler)
        logger.addHandler(early)
        logger.propagate = False
    root.setLevel(logging.INFO)

    def ready() -> None:
        for logger in loggers:
            logger.removeHandler(early)

    return ready


class _Repeats(logging.Filter):
    """One record per logger and message template per REPEAT_WINDOW for the named loggers; the
    next one written says how many were left out."""

    def __init__(self, names: tuple[str, ...]):
        super().__init__()
        self.names = names
        self.last: dict[tuple[str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(self.names):
            return True
        key = (record.name, str(record.msg))
        now = time.monotonic()
        at, dropped = self.last.get(key, (-REPEAT_WINDOW, 0))
        if now - at < REPEAT_WINDOW:
            self.last[key] = (at, dropped + 1)
            return False
        if len(self.last) > 512:  # bounded, whatever the messages
            self.last.clear()
        self.last[key] = (now, 0)
        if dropped:
            record.msg = f"{record.msg} [{dropped} more like this left out]"
        return True


class StderrCap:
    """fd 2 through a pipe that passes STDERR_BUDGET bytes per STDERR_WINDOW to the real stderr
    and drops the rest, saying so once a window. It takes everything that writes there: Python's
    last-resort logging and warnings, C libraries, and the render workers, which inherit fd 2.
    The reader never blocks a writer for long: past the budget it only reads."""

    def __init__(self) -> None:
        import threading

        read_end, write_end = os.pipe()
        self.real = os.dup(2)
        os.set_inheritable(self.real, False)
        sys.stderr.flush()
        os.dup2(write_end, 2)  # fd 2 stays inheritable: workers started later write here too
        os.close(write_end)
        self.read_end = read_end
        self.thread = threading.Thread(target=self._forward, daemon=True, name="i2v-stderr")
        self.thread.start()

    def _forward(self) -> None:
        start, used, told = time.monotonic(), 0, False
        while True:
            try:
                chunk = os.read(self.read_end, 65536)
            except OSError:
                return
            if not chunk:
                return
            now = time.monotonic()
            if now - start > STDERR_WINDOW:
                start, used, told = now, 0, False
            room = max(0, STDERR_BUDGET - used)
            used += len(chunk)
            out = chunk[:room]
            if len(chunk) > room and not told:
                told = True
                out += b"\ni2v-flow engine: too much on stderr, the rest dropped for a while\n"
            with contextlib.suppress(OSError):
                if out:
                    os.write(self.real, out)

    def close(self, timeout: float = 2.0) -> None:
        """The real stderr back on fd 2, after what is in the pipe has been forwarded (workers
        still holding the pipe are waited for no longer than `timeout`)."""
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
        os.dup2(self.real, 2)  # the pipe's last write end in this process closes here
        self.thread.join(timeout)
        if not self.thread.is_alive():
            os.close(self.read_end)
        os.close(self.real)
