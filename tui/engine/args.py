"""The engine's command line, one parser for `python -m tui.engine` and `i2v-flow serve`."""

from __future__ import annotations

import argparse
from pathlib import Path

from tui.core.args import version_arg

SERVE_EPILOG = """\
examples:
  i2v-flow serve                          the engine on http://127.0.0.1:8765
  i2v-flow serve --port 0 --workers 1     any free port (printed), one render worker
  i2v-flow serve --socket /tmp/i2v.sock   a Unix socket only you can connect to
  i2v-flow serve --allow-files ~/Pictures file:// imports from ~/Pictures only
  i2v-flow render photo.jpg --api http://127.0.0.1:8765   (from another shell)
  i2v-flow serve --database postgresql://i2v@db/i2v --data /shared/i2v
                                          state in PostgreSQL, files in a shared folder

The first line on stdout is "i2v-flow engine listening on URL". Exit status 0 when stopped,
1 if it cannot listen, 2 on a usage error (or a non-loopback --host without --allow-remote).
"""


def serve_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="i2v-flow serve",
        description="Run the embedded engine alone (Ctrl+C stops it).",
        epilog=SERVE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--host", default="127.0.0.1", help="address (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port (default: 8765; 0: any free)")
    p.add_argument("--data", type=Path, help="data folder (default: I2V_FLOW_HOME/engine)")
    p.add_argument("--workers", type=int, help="render worker processes (default: cores / 2)")
    p.add_argument(
        "--database",
        type=_database,
        metavar="URL",
        help="keep the state in PostgreSQL (postgresql://…; default: I2V_FLOW_DATABASE, else "
        "SQLite in the data folder); needs the `scale` extra",
    )
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --host (no TLS: only on a trusted network)",
    )
    p.add_argument(
        "--allow-files",
        action="append",
        type=_folder,
        metavar="DIR",
        help="let file:// URL imports read files under DIR (repeatable; default: none, imports "
        "are off: any local user can get a token)",
    )
    p.add_argument(
        "--socket",
        type=Path,
        metavar="PATH",
        help="listen on this Unix socket instead (made 0600: only you can connect)",
    )
    p.add_argument("--watch-stdin", action="store_true", help=argparse.SUPPRESS)
    # Start a render worker at once (a one-shot `render` or `watch`: no first screen to spare).
    p.add_argument("--warm-now", action="store_true", help=argparse.SUPPRESS)
    version_arg(p)
    return p


def _database(value: str) -> str:
    from tui.engine.stores import is_postgres

    if not is_postgres(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a postgresql:// URL")
    return value


def _folder(value: str) -> Path:
    path = Path(value).expanduser()
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{value!r} is not a folder")
    return path


WORKER_EPILOG = """\
examples:
  i2v-flow worker --database postgresql://i2v@db/i2v --storage /shared/i2v
  i2v-flow worker --storage /shared/i2v --jobs 2     (I2V_FLOW_DATABASE names the database)

Runs render jobs that any `serve --database` node queued, until stopped (Ctrl+C or SIGTERM
finish the renders under way first). --storage is the folder the nodes' --data names (shared,
e.g. NFS): uploads are read from it and clips written to it.
"""


def worker_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="i2v-flow worker",
        description="Run render jobs from a PostgreSQL queue (the `scale` extra).",
        epilog=WORKER_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--database",
        type=_database,
        metavar="URL",
        help="the PostgreSQL the serve nodes use (default: I2V_FLOW_DATABASE)",
    )
    p.add_argument(
        "--storage",
        type=Path,
        required=True,
        metavar="DIR",
        help="the shared folder of uploads and clips (the nodes' --data)",
    )
    p.add_argument("--jobs", type=int, default=1, help="renders at once (default: 1)")
    version_arg(p)
    return p
