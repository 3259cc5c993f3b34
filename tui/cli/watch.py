"""`i2v-flow watch DIR`: every image dropped into DIR becomes a clip, headless.

One log line per step of each file on stdout (`--json`: one JSON object a line); problems that
stop the watcher go to stderr in one line. SIGINT and SIGTERM stop it cleanly: jobs in flight
keep their step in the journal and resume on the next start. SIGHUP re-reads the config file
(what no flag pinned) and says what instruction is in force; nothing queued or running stops.
`--once` is for cron, `--print-systemd-unit` for a service (tui/watch/service.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path

from tui.core.args import api_arg, quality_arg, version_arg
from tui.core.config import Settings
from tui.watch import WatchConfig, Watcher, WatchError, WatchEvent
from tui.watch.service import given_options, reloaded_settings, systemd_unit

WATCH_EPILOG = """\
examples:
  i2v-flow watch ~/Drop -p "a 5-second vertical clip, lo-fi music at 35%"
  i2v-flow watch ~/Drop --out ~/Videos --jobs 1 --quality draft
  i2v-flow watch /mnt/share --poll --recursive      network folders: poll, with subfolders
  i2v-flow watch ~/Drop --json | jq -c 'select(.step == "done")'
  i2v-flow watch ~/Drop -q > watch.log              outcomes only: done, failed, warnings

output: stdout gets one line per step of each file (--json: one JSON object a line);
--progress adds render progress, -q keeps only outcomes. Exit status 0 when stopped (Ctrl+C,
SIGTERM), 1 with one "error: ..." line if it cannot watch, 2 on a usage or config file error.
"""

# The steps --quiet leaves out: a file on its way, not where it ended up.
_ON_THE_WAY = frozenset(
    {"seen", "uploaded", "turned", "rendering", "progress", "downloaded", "resumed"}
)


def watch_parser(settings: Settings | None = None) -> argparse.ArgumentParser:
    s = settings or Settings()
    p = argparse.ArgumentParser(
        prog="i2v-flow watch",
        description="Turn every image dropped into DIR into a clip: OUT/<name>.mp4, then the "
        "image moves to DIR/done/ (or DIR/failed/ with NAME.error.txt saying why). The "
        "instruction for IMAGE is IMAGE's sidecar NAME.txt, else DIR/prompt.txt, else --prompt. "
        "A journal under I2V_FLOW_HOME makes sure nothing is done twice, even after a crash.",
        epilog=WATCH_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("folder", type=Path, metavar="DIR")
    p.add_argument("--prompt", "-p", help="instruction for images without a sidecar .txt")
    p.add_argument("--out", type=Path, metavar="DIR", help="where clips go (default: DIR/out)")
    api_arg(p)
    p.add_argument("--jobs", "-j", type=int, default=2, help="images in flight (default: 2)")
    p.add_argument("--recursive", "-r", action="store_true", help="also watch subfolders")
    p.add_argument(
        "--poll", action="store_true", help="poll the folder instead of waiting for file events"
    )
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument(
        "--settle",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="a file must hold still this long before it is taken (default: 2)",
    )
    quality_arg(p, s.quality)
    p.add_argument(
        "--rescan",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="look at the whole folder at least this often (default: 10)",
    )
    p.add_argument("--credit-check", type=float, default=30.0, help=argparse.SUPPRESS)
    service = p.add_mutually_exclusive_group()
    service.add_argument(
        "--once",
        action="store_true",
        help="take the images in DIR now, then exit (for cron): 0 when every one made its clip, "
        "1 when any failed, with a one-line summary on stderr",
    )
    service.add_argument(
        "--print-systemd-unit",
        action="store_true",
        help="print a systemd user unit that runs this command as a service, and exit",
    )
    shown = p.add_mutually_exclusive_group()
    shown.add_argument("--progress", action="store_true", help="also log render progress")
    shown.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="log only outcomes (done, failed, duplicate…), no steps on the way",
    )
    version_arg(p)
    p.set_defaults(prompt=s.prompt, out=s.out, api=s.api)
    return p


def run_watch(args: argparse.Namespace) -> int:
    if args.jobs < 1:
        print("error: --jobs must be at least 1", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_watch(args))
    except KeyboardInterrupt:  # a second Ctrl+C while stopping
        return 130
    except Exception as exc:
        from tui.client import ClientError
        from tui.core.backend import EngineStartError

        if isinstance(exc, WatchError | ClientError | EngineStartError):
            print(f"error: {exc}", file=sys.stderr)
            return 1
        raise


def _printer(as_json: bool, progress: bool, quiet: bool = False):
    def show(ev: WatchEvent) -> None:
        if ev.step == "progress" and not progress:
            return
        if quiet and ev.step in _ON_THE_WAY:
            return
        line = json.dumps(ev.to_json(), ensure_ascii=False) if as_json else ev.line()
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    return show


async def _watch(args: argparse.Namespace) -> int:
    from tui.session.backend import Backend

    folder = args.folder.expanduser()
    if not folder.is_dir():
        raise WatchError(f"{folder}: no such folder")
    config = WatchConfig(
        folder=folder,
        out=args.out.expanduser() if args.out else None,
        prompt=args.prompt,
        jobs=args.jobs,
        once=getattr(args, "once", False),
        recursive=args.recursive,
        poll=args.poll,
        settle=args.settle,
        quality=args.quality,
        rescan=args.rescan,
        credit_check=args.credit_check,
    )
    show = _printer(args.json, args.progress, getattr(args, "quiet", False))
    # ONE connection pool for every job (each its own session): a turn stream and a poll
    # each, and one for the watcher's own calls.
    backend = Backend(args.api, connections=2 * config.jobs + 1)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    watcher: Watcher | None = None

    def reload() -> None:  # SIGHUP (systemctl reload): settings again, jobs carry on
        if watcher is None:
            return  # still starting: it is reading them now
        changes, problem = reloaded_settings(getattr(args, "given", set()))
        if problem:
            show(WatchEvent("warning", detail=f"reload: {problem}"))
        watcher.reload(**changes)

    hup = getattr(signal, "SIGHUP", None)  # not on Windows
    if hup is not None:
        loop.add_signal_handler(hup, reload)
    try:
        async with backend:
            await backend.open()
            watcher = Watcher(config, backend.sibling, show)
            task = asyncio.create_task(watcher.run())
            stopper = asyncio.create_task(stop.wait())
            await asyncio.wait([task, stopper], return_when=asyncio.FIRST_COMPLETED)
            watcher.stop()
            stopper.cancel()
            await task
        return _once_summary(watcher) if config.once else 0
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, hup):
            if sig is not None:
                loop.remove_signal_handler(sig)


def _once_summary(w: Watcher) -> int:
    """--once: one line on stderr; 1 when any image failed or is left for the next run."""
    t = w.tally
    parts = [f"{t['done']} done", f"{t['failed']} failed"]
    parts += [f"{t[k]} {k}" for k in ("duplicate", "gone") if t[k]]
    if w.left:
        parts.append(f"{w.left} left for the next run")
    where = f" (see {w.failed_dir}/)" if t["failed"] else ""
    print(f"watch --once: {', '.join(parts)}{where}", file=sys.stderr)
    return 1 if t["failed"] or w.left else 0


def main(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = watch_parser(settings)
    args = parser.parse_args(argv)
    args.given = given_options(parser, argv)
    if args.print_systemd_unit:
        if not args.folder.expanduser().is_dir():
            print(f"error: {args.folder}: no such folder", file=sys.stderr)
            return 1
        sys.stdout.write(systemd_unit(parser, args, args.given))
        return 0
    return run_watch(args)


if __name__ == "__main__":
    sys.exit(main())
