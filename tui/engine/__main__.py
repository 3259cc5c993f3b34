"""`python -m tui.engine`: run the engine alone (what `i2v-flow serve` and the app start).

Settings for tests, from the environment: `I2V_ENGINE_HEARTBEAT` (seconds of silence before
an agent turn's stream sends a heartbeat; default 15), `I2V_ENGINE_TURN_DELAY` (seconds every
agent turn works longer; default 0), and a connection's deadlines in seconds:
`I2V_ENGINE_IDLE_TIMEOUT` (saying nothing, before a request or between two; default 5 and 6),
`I2V_ENGINE_HEAD_TIMEOUT` (sending a request head; default 15), `I2V_ENGINE_BODY_WINDOW` (each
window in which a body must bring 1 KB/s; default 10), `I2V_ENGINE_WRITE_STALL` (a client
reading none of its response; default 60); `I2V_ENGINE_MAX_OPEN` sets the cap on
open connections outright, even past what the descriptor limit fits (it shows what happens when
accept() runs out). Render workers: `I2V_ENGINE_WORKER_MEMORY` (MB of address space each; 0: no
limit), `I2V_ENGINE_MAX_QUEUED` (renders waiting, all users; default 50),
`I2V_ENGINE_CANCEL_GRACE` (seconds before a cancelled render's worker is killed; default 0.5),
`I2V_ENGINE_STAGE_CACHE` (still images kept prepared per worker for the next preview; default 2),
`I2V_ENGINE_STILL_CACHE` (photos kept decoded per worker for drafts framed anew; default 2),
`I2V_ENGINE_PREPARE_AFTER` (seconds with no render after an upload before an idle worker decodes
the photo ahead of its drafts; default 0.3).
Accounts: `I2V_ENGINE_MINT_RATE` (tokens a minute per address), `I2V_ENGINE_ACCOUNT_RATE` (new
accounts an hour per address). Storage: `I2V_ENGINE_PRUNE_EVERY` (seconds between prunes).
State: `I2V_FLOW_DATABASE` (a postgresql:// URL, as --database: renders then go to the queue
that `i2v-flow worker`s run, tui/engine/queue.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tui.engine.hosts import is_loopback

if TYPE_CHECKING:
    import subprocess

    from tui.engine.server.connections import Limits


def main(argv: list[str] | None = None) -> int:
    from tui.engine.args import serve_parser

    return run(serve_parser().parse_args(argv))


def _env_seconds(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def _limits() -> Limits:
    from tui.engine.server.connections import Limits, fd_limit

    idle = _env_seconds("I2V_ENGINE_IDLE_TIMEOUT", 0.0)
    limits = Limits(
        idle=idle or Limits.idle,
        keep_alive=idle or Limits.keep_alive,
        head=_env_seconds("I2V_ENGINE_HEAD_TIMEOUT", Limits.head),
        body_window=_env_seconds("I2V_ENGINE_BODY_WINDOW", Limits.body_window),
        write_stall=_env_seconds("I2V_ENGINE_WRITE_STALL", Limits.write_stall),
    ).for_fd_limit(fd_limit())
    cap = os.environ.get("I2V_ENGINE_MAX_OPEN", "")
    return dataclasses.replace(limits, max_open=int(cap)) if cap.isdigit() else limits


def run(args: argparse.Namespace) -> int:
    sock = getattr(args, "socket", None)
    if sock is None and not is_loopback(args.host):
        if not getattr(args, "allow_remote", False):
            print(
                f"error: refusing to listen on {args.host} without --allow-remote "
                "(the engine has no TLS and is meant for this machine)",
                file=sys.stderr,
            )
            return 2
        print(
            f"warning: listening on {args.host}: anyone who can reach it can use it "
            "(no TLS; tokens are the only guard)",
            file=sys.stderr,
        )

    from tui.engine.stores import database_from_env, is_postgres, redact

    database = database_from_env(getattr(args, "database", None))
    if database is not None and not is_postgres(database):
        what = f"I2V_FLOW_DATABASE is not a postgresql:// URL: {redact(database)!r}"
        print(f"error: {what}", file=sys.stderr)
        return 2
    if database is not None and not _have_scale():
        print(
            "error: --database needs psycopg and procrastinate: "
            "pip install 'image-to-video-in-flow[scale]'",
            file=sys.stderr,
        )
        return 2

    # A one-shot command (--warm-now) renders within a second of starting: its worker (which
    # imports av, cv2 and numpy, then draws a frame) starts before the server's own imports.
    first = _first_worker(args.data) if args.warm_now and database is None else None

    from tui.core.sqlite_schema import SchemaTooNew
    from tui.engine.server import HEARTBEAT_SECONDS, serve

    def ready(url: str) -> None:
        print(f"i2v-flow engine listening on {url}", flush=True)

    try:
        serve(
            args.host,
            args.port,
            args.data,
            args.workers,
            ready,
            args.watch_stdin,
            heartbeat=_env_seconds("I2V_ENGINE_HEARTBEAT", HEARTBEAT_SECONDS),
            turn_delay=_env_seconds("I2V_ENGINE_TURN_DELAY", 0.0),
            allow_files=tuple(getattr(args, "allow_files", None) or ()),
            socket_path=sock,
            limits=_limits(),
            database=database,
            warm_now=args.warm_now,
            first_worker=first,
        )
    except SchemaTooNew as exc:  # a newer release's database: said once, left untouched
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except _db_errors() as exc:  # the database cannot be reached or refused us
        first = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), "unreachable")
        print(f"error: {redact(database or '')}: {first}", file=sys.stderr)
        return 1
    except OSError as exc:
        where = sock if sock is not None else f"{args.host}:{args.port}"
        print(f"error: cannot listen on {where}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


def _first_worker(data: Path | None) -> subprocess.Popen:
    """A render worker for the engine about to start on `data` (the same store and folder that
    its JobRunner, which adopts it, would give one)."""
    from tui.core.paths import engine_dir
    from tui.engine.jobs import local_layout, spawn_worker, worker_memory_mb

    # The folders are the engine's to make (Engine, JobRunner): the worker writes nothing and
    # opens the store only at its first job.
    sqlite_file, renders = local_layout(Path(data or engine_dir()))
    return spawn_worker(str(sqlite_file), renders.resolve(), worker_memory_mb())


def _have_scale() -> bool:
    """The `scale` extra is installed (PostgreSQL and its queue)."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("psycopg", "procrastinate"))


def _db_errors() -> tuple[type[BaseException], ...]:
    if not _have_scale():
        return ()
    import psycopg

    return (psycopg.OperationalError,)


def _leave(code: int) -> None:
    """Exit without the interpreter's teardown. Once `run` returns, the engine has closed what
    it holds (workers, store, socket); freeing every module then took 25-40 ms of the 45-65 ms
    that its parent (the app or a command) waits for it to stop: 20 ms now."""
    import logging

    logging.shutdown()  # engine.log flushed and closed
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":  # as the app and commands start it (`i2v-flow serve` exits as usual)
    _leave(main())
