"""`python -m tui.engine`: run the engine alone (what `i2v-flow serve` and the app start).

Two settings for tests, from the environment: `I2V_ENGINE_HEARTBEAT` (seconds of silence before
an agent turn's stream sends a heartbeat; default 15) and `I2V_ENGINE_TURN_DELAY` (seconds every
agent turn works longer; default 0).
"""

from __future__ import annotations

import argparse
import os
import sys

from tui.engine.hosts import is_loopback


def main(argv: list[str] | None = None) -> int:
    from tui.cli import serve_parser

    return run(serve_parser().parse_args(argv))


def _env_seconds(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def run(args: argparse.Namespace) -> int:
    if not is_loopback(args.host):
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
        )
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
