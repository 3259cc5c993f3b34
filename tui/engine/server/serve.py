"""Running the engine: the listening socket, uvicorn, the log file, and stopping with the parent."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from tui.engine.hosts import is_loopback
from tui.engine.server.engine import Engine
from tui.engine.server.sse import HEARTBEAT_SECONDS


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
    allow_files: tuple[Path, ...] = (),
) -> None:
    """Run the engine until interrupted; `on_ready` gets the URL once the socket listens."""
    import socket
    import sys
    import threading

    import uvicorn

    from tui.paths import engine_dir

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP so that asyncio sets TCP_NODELAY: else every answer waits ~40 ms on Nagle.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(False)
    real_port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{real_port}"
    engine = Engine(
        data_dir or engine_dir(),
        workers,
        heartbeat=heartbeat,
        turn_delay=turn_delay,
        loopback=is_loopback(host),
        allow_files=allow_files,
    )
    _log_to_file(engine.data_dir / "engine.log")
    # Named outright, nothing "auto": no probing for uvloop, httptools or websockets at start.
    config = uvicorn.Config(
        engine.app,
        loop="asyncio",
        http="h11",
        ws="none",
        interface="asgi3",
        lifespan="on",
        log_level="warning",
        log_config=None,  # no dictConfig; uvicorn's errors still reach stderr (last resort)
        access_log=False,
        timeout_keep_alive=30,
    )
    server = uvicorn.Server(config)

    if watch_stdin:
        # The parent holds our stdin; when it goes away (even by kill -9) we stop too.
        def watch() -> None:
            try:
                while sys.stdin.buffer.read(1):
                    pass
            except (OSError, ValueError):
                pass
            server.should_exit = True

        threading.Thread(target=watch, daemon=True, name="i2v-parent-watch").start()

    async def main() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.005)
        if server.started and on_ready:
            on_ready(url)
        await task

    asyncio.run(main())


def _log_to_file(path: Path) -> None:
    """The engine's own log goes to DATA/engine.log (rotated), not to stderr: a parent that
    never reads our stderr pipe must not be able to stall us."""
    from logging.handlers import RotatingFileHandler

    root = logging.getLogger("i2v")
    if root.handlers:
        return
    handler = RotatingFileHandler(path, maxBytes=1 << 20, backupCount=2, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    root.propagate = False
