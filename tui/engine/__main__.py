"""`python -m tui.engine`: run the engine alone (what `i2v-flow serve` and the app start)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="i2v-flow serve", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--data", type=Path, default=None)
    p.add_argument("--workers", type=int, default=None)
    p.add_argument("--watch-stdin", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--allow-remote", action="store_true")
    args = p.parse_args(argv)
    return run(args)


def run(args: argparse.Namespace) -> int:
    from tui.engine.server import serve

    if args.host not in ("127.0.0.1", "localhost", "::1") and not args.allow_remote:
        print(
            f"error: refusing to listen on {args.host} without --allow-remote "
            "(the engine has no TLS and is meant for this machine)",
            file=sys.stderr,
        )
        return 2
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"warning: listening on {args.host}: anyone who can reach it can use it",
            file=sys.stderr,
        )

    def ready(url: str) -> None:
        print(f"i2v-flow engine listening on {url}", flush=True)

    try:
        serve(args.host, args.port, args.data, args.workers, ready, args.watch_stdin)
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
