"""`i2v-flow`: the TUI by default, plus `render`, `watch` and `serve`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tui import __version__
from tui.core.args import api_arg, quality_arg, quiet_arg, version_arg
from tui.core.config import PREVIEWS, ConfigError, Loaded, Settings, load
from tui.core.tiers import tier_list

COMMANDS = ("render", "watch", "serve", "worker", "config", "gc", "completion", "man")
RENDER_PROMPT = "turn this image into a 5-second animated video clip"

EPILOG = """\
commands:
  i2v-flow [FOLDER]            the terminal app, browsing FOLDER (default: here)
  i2v-flow render IMAGE...     one clip, headless: upload, one agent turn, export
  i2v-flow watch DIR           turn every image dropped into DIR into a clip
  i2v-flow serve               run the embedded engine alone
  i2v-flow worker --storage D  run render jobs from a PostgreSQL queue (scaling out)
  i2v-flow config              the settings in effect, and where each comes from
  i2v-flow gc [--dry-run]      free the engine's old renders and unused uploads
  i2v-flow completion SHELL    a bash, zsh or fish completion script
  i2v-flow man                 the manual page (roff): i2v-flow man > i2v-flow.1

examples:
  i2v-flow ~/Pictures --out ~/Videos
  i2v-flow --watch ~/Drop --prompt "a 5-second vertical clip, lo-fi music at 35%"
  i2v-flow --preview blocks --api http://127.0.0.1:8765

backend: the embedded local engine, unless --api URL (or I2V_FLOW_API) or NEMO_TOKEN
selects the NemoVideo cloud. State lives under I2V_FLOW_HOME.
settings: flags, then I2V_FLOW_API / NEMO_TOKEN / I2V_FLOW_PREVIEW, then the config file
(~/.config/image-to-video-in-flow/config.toml, or the file I2V_FLOW_CONFIG names).
"""


def tui_parser(settings: Settings | None = None) -> argparse.ArgumentParser:
    s = settings or Settings()
    p = argparse.ArgumentParser(
        prog="i2v-flow",
        description="Turn still images into short H.264 video clips.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "folder",
        nargs="?",
        type=Path,
        default=Path("."),
        help="folder to browse (default: the current one)",
    )
    p.add_argument(
        "--out", type=Path, metavar="DIR", help="where exports go (default: FOLDER/exports)"
    )
    p.add_argument("--watch", type=Path, metavar="DIR", help="also watch DIR for new images")
    p.add_argument("--prompt", help="instruction for watched images")
    p.add_argument(
        "--preview",
        choices=PREVIEWS,
        help="image preview: real pixels (Sixel/Kitty) where the terminal is known to draw them, "
        "else half-blocks (default: auto; env I2V_FLOW_PREVIEW)",
    )
    api_arg(p)
    version_arg(p)
    if settings is not None:  # `quality` and `notifications` have no flag here
        p.set_defaults(
            out=s.out,
            prompt=s.prompt,
            preview=s.preview,
            api=s.api,
            quality=s.quality,
            ask_above=s.ask_above,
            preview_auto=s.preview_auto,
            notify=s.notifications,
        )
    return p


RENDER_EPILOG = """\
examples:
  i2v-flow render photo.jpg --prompt "a 5-second vertical clip, title 'Spring Sale' for 3 s"
  i2v-flow render a.png b.png -p "8 seconds, lo-fi music at 35%" -o promo.mp4 --quality draft
  i2v-flow render photo.jpg -p "做一个5秒的竖屏视频，标题「春季促销」" --api https://mega-api-prod.nemovideo.ai
  i2v-flow render photo.jpg --json -q | jq -r .path      # for scripts: one JSON object
  i2v-flow render a.jpg b.jpg c.jpg --each -p "a 5-second clip" -o clips/   # a clip each

backend: the embedded local engine (no account, no network), unless --api URL or I2V_FLOW_API
names one; NEMO_TOKEN, when set, is the token (and selects the NemoVideo cloud).
output: stdout gets the assistant's words, the track summary, the saved path and the credits left;
stderr gets progress (a bar on a terminal, a line every 5 % elsewhere; none with -q). With --json,
stdout gets one JSON object: path, duration, size, width, height, quality, render_id, credits,
tracks, words, note, made (what the cloud's own tools made: name, url, kind; path with
--save-made), seconds; or
{"error": ..., "code": ...}. With --each: {"clips": [one object each, with its image and
session_id], "failed": [{"image", "error"}], "credits"}. Exit status 0 on success, 1 with one
"error: ..." line on any failure (2: a usage or config file error).
"""


def render_parser(settings: Settings | None = None) -> argparse.ArgumentParser:
    s = settings or Settings()
    p = argparse.ArgumentParser(
        prog="i2v-flow render",
        description="Upload images, run one agent turn with PROMPT, export and download the MP4. "
        "The assistant's words stream to stdout; progress goes to stderr.",
        epilog=RENDER_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "images",
        nargs="+",
        type=Path,
        metavar="IMAGE",
        help="images (or videos, audio) to use: jpg png gif webp mp4 mov … up to 200 MB each",
    )
    p.add_argument(
        "--prompt",
        "-p",
        default=s.prompt or RENDER_PROMPT,
        help="what you want, in plain words, English or Chinese (default: %(default)r)",
    )
    p.add_argument(
        "-o",
        "--out",
        type=Path,
        metavar="OUT.mp4",
        help="output MP4 (default: IMAGE's name .mp4 in the config file's `out` folder, else "
        "here; never overwrites: clip-2.mp4 …)",
    )
    p.add_argument(
        "--each",
        action="store_true",
        help="one clip per image, all in one session: each image's instruction is its part of "
        "PROMPT ('a.jpg: zoom in; b.jpg: pan left'), else its sidecar NAME.txt, else PROMPT's "
        "other words; -o then names a folder",
    )
    p.add_argument(
        "--save-made",
        action="store_true",
        help="also save what the cloud's own tools made (a generated clip) beside the output",
    )
    quality_arg(p, s.quality)
    api_arg(p)
    p.add_argument("--json", action="store_true", help="stdout: one JSON object (see below)")
    quiet_arg(p)
    version_arg(p)
    p.set_defaults(api=s.api, out_dir=s.out)
    return p


CONFIG_EPILOG = f"""\
examples:
  i2v-flow config                          what the settings are, and where each comes from
  i2v-flow config --quality draft          what they would be with this flag
  I2V_FLOW_CONFIG=./team.toml i2v-flow config

The file is TOML, every key optional:
  prompt = "a 5-second vertical clip, lo-fi music at 35%"
  quality = "standard"         # {tier_list(" | ", " | ")}
  out = "~/Videos/i2v"         # where clips go
  api = "http://127.0.0.1:8765"
  preview = "blocks"           # auto | pixels | blocks
  notifications = true
  preview_auto = false         # the app's preview (f2) waits to be asked again
  keep_days = 14               # the engine's storage limits: see i2v-flow gc --help
Exit status 0, or 2 with one "error: FILE line N: ..." line when the file is wrong.
"""


def config_parser() -> argparse.ArgumentParser:
    """Each flag defaults to None: one given shows as coming from the flag."""
    p = argparse.ArgumentParser(
        prog="i2v-flow config",
        description="Print the settings in effect (flag, env, file or default) and the file's "
        "path.",
        epilog=CONFIG_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--prompt", "-p", help="the default instruction")
    quality_arg(p, None)
    p.add_argument("--out", type=Path, metavar="DIR", help="where clips go")
    api_arg(p)
    p.add_argument("--preview", choices=PREVIEWS, help="image preview in the app")
    p.add_argument("--notifications", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--json", action="store_true", help="one JSON object")
    version_arg(p)
    return p


def show_config(args: argparse.Namespace, loaded: Loaded) -> int:
    rows: list[tuple[str, object, str]] = []
    for name, source in loaded.sources.items():
        value = getattr(args, name, None)
        if value is not None:
            source = "flag"
        else:
            value = getattr(loaded.settings, name)
        rows.append((name, value, source))
    state = "found" if loaded.found else "not found: built-in defaults"
    if args.json:
        settings = {n: str(v) if isinstance(v, Path) else v for n, v, _ in rows}
        print(
            json.dumps(
                {
                    "file": str(loaded.path),
                    "found": loaded.found,
                    "settings": settings,
                    "sources": {n: src for n, _, src in rows},
                },
                ensure_ascii=False,
            )
        )
        return 0
    print(f"config file: {loaded.path} ({state})")
    for name, value, source in rows:
        print(f"  {name:<18}{_shown(name, value):<40} {source}")
    return 0


_NOT_SET = {
    "prompt": "(each command's own)",
    "out": "(here, DIR/out, FOLDER/exports)",
    "api": "(the embedded engine)",
}


def _shown(name: str, value: object) -> str:
    if value is None:
        return _NOT_SET.get(name, "(not set)")
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return f"{value:g}"
    return json.dumps(str(value), ensure_ascii=False)


GC_EPILOG = """\
examples:
  i2v-flow gc --dry-run          what would go, removing nothing
  i2v-flow gc                    prune now: "freed 1.2 GB: 14 renders, 30 uploads"
  i2v-flow gc --keep-gb 1 --json one JSON object: freed_bytes, kept_bytes, renders, uploads

What goes: finished renders older than keep_days (default 14), uploads used by no session
touched in keep_upload_days (default 30), then the oldest of either while both together are over
keep_gb (default 5). Never what a render in progress needs, nor an upload in the current draft
of a session touched since. The limits come from the config file (keep_days, keep_upload_days,
keep_gb), or these flags. The engine does the same by itself at start and every 6 hours; this
is safe while it runs. A pruned render's download then says so ("render it again").
Exit status 0, 1 on an error (a database from a newer i2v-flow), 2 on a usage error.
"""


def gc_parser(settings: Settings | None = None) -> argparse.ArgumentParser:
    s = settings or Settings()
    p = argparse.ArgumentParser(
        prog="i2v-flow gc",
        description="Prune the engine's storage now: old renders and unused uploads.",
        epilog=GC_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--data", type=Path, metavar="DIR", help="data folder (default: I2V_FLOW_HOME/engine)"
    )
    p.add_argument(
        "--database",
        metavar="URL",
        help="the nodes' PostgreSQL (default: I2V_FLOW_DATABASE); --data is then their shared "
        "folder",
    )
    p.add_argument("--dry-run", "-n", action="store_true", help="say what would go; remove none")
    p.add_argument(
        "--keep-days",
        type=float,
        default=s.keep_days,
        metavar="DAYS",
        help="keep finished renders this long (default: %(default)g)",
    )
    p.add_argument(
        "--keep-upload-days",
        type=float,
        default=s.keep_upload_days,
        metavar="DAYS",
        help="keep uploads of sessions touched since (default: %(default)g)",
    )
    p.add_argument(
        "--keep-gb",
        type=float,
        default=s.keep_gb,
        metavar="GB",
        help="keep at most this much, oldest out first (default: %(default)g)",
    )
    p.add_argument("--json", action="store_true", help="one JSON object")
    version_arg(p)
    return p


def run_gc(args: argparse.Namespace) -> int:
    import sqlite3

    from tui.core.sqlite_schema import SchemaTooNew
    from tui.engine.prune import GB, Freed, Limits, prune
    from tui.engine.store import Store
    from tui.engine.stores import database_from_env, is_postgres, open_store, redact

    if min(args.keep_days, args.keep_upload_days, args.keep_gb) < 0:
        print(
            "error: --keep-days, --keep-upload-days and --keep-gb must be 0 or more",
            file=sys.stderr,
        )
        return 2
    if args.data is None:
        from tui.core.paths import engine_dir

        args.data = engine_dir()
    db = args.data / "engine.sqlite3"
    limits = Limits(args.keep_days, args.keep_upload_days, int(args.keep_gb * GB))
    url = database_from_env(args.database)
    if url is not None:  # the shared state of `serve --database` nodes
        if not is_postgres(url):
            print(f"error: not a postgresql:// URL: {redact(url)!r}", file=sys.stderr)
            return 2
        try:
            store = open_store(url, args.data)
        except Exception as exc:  # unreachable, refused, too new: one line
            first = next((ln for ln in str(exc).splitlines() if ln.strip()), repr(exc))
            print(f"error: {redact(url)}: {first}", file=sys.stderr)
            return 1
        try:
            freed = prune(store, limits, dry_run=args.dry_run)
        finally:
            store.close()
    elif not db.is_file():  # nothing stored yet: made by no engine, so none is made here
        freed = Freed(dry_run=args.dry_run)
    else:
        try:
            store = Store(db)
        except (SchemaTooNew, OSError, sqlite3.Error) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        try:
            freed = prune(store, limits, dry_run=args.dry_run)
        finally:
            store.close()
    print(json.dumps(freed.as_json()) if args.json else freed.summary())
    return 0


COMPLETION_EPILOG = """\
examples:
  i2v-flow completion bash > ~/.local/share/bash-completion/completions/i2v-flow
  echo 'eval "$(i2v-flow completion bash)"' >> ~/.bashrc
  echo 'eval "$(i2v-flow completion zsh)"' >> ~/.zshrc      (after compinit)
  i2v-flow completion zsh > ~/.zfunc/_i2v-flow              (a folder in $fpath)
  i2v-flow completion fish > ~/.config/fish/completions/i2v-flow.fish
"""


def completion_parser() -> argparse.ArgumentParser:
    from tui.cli.completion import SHELLS

    p = argparse.ArgumentParser(
        prog="i2v-flow completion",
        description="Print a bash, zsh or fish script that completes i2v-flow's commands, "
        "flags, their choices, folders and files as you press Tab.",
        epilog=COMPLETION_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("shell", nargs="?", choices=SHELLS, default="bash", help="default: bash")
    version_arg(p)
    return p


def man_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="i2v-flow man",
        description="Print the manual page (roff), made from every command's --help.",
        epilog="examples:\n  i2v-flow man > i2v-flow.1 && man -l i2v-flow.1\n"
        "  i2v-flow man | gzip > ~/.local/share/man/man1/i2v-flow.1.gz\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    version_arg(p)
    return p


def parsers() -> dict[str, argparse.ArgumentParser]:
    """Every command's parser ("": the app itself), as the completion script reads them."""
    from tui.cli.watch import watch_parser
    from tui.engine.args import serve_parser, worker_parser

    return {
        "": tui_parser(),
        "render": render_parser(),
        "watch": watch_parser(),
        "serve": serve_parser(),
        "worker": worker_parser(),
        "config": config_parser(),
        "gc": gc_parser(),
        "completion": completion_parser(),
        "man": man_parser(),
    }


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "completion":  # made from the parsers alone: no settings needed
        from tui.cli.completion import script

        args = completion_parser().parse_args(argv[1:])
        sys.stdout.write(script(parsers(), args.shell))
        return 0
    if argv and argv[0] == "man":
        from tui.cli.manpage import page

        man_parser().parse_args(argv[1:])
        sys.stdout.write(page(parsers(), __version__))
        return 0
    if argv and argv[0] == "serve":  # the engine alone: no user settings apply
        from tui.engine.__main__ import run
        from tui.engine.args import serve_parser

        return run(serve_parser().parse_args(argv[1:]))
    if argv and argv[0] == "worker":  # render jobs from a PostgreSQL queue: no user settings
        from tui.engine.queue_worker import main as worker_main

        return worker_main(argv[1:])
    try:
        loaded = load()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings = loaded.settings
    if argv and argv[0] == "gc":
        return run_gc(gc_parser(settings).parse_args(argv[1:]))
    if argv and argv[0] == "config":
        return show_config(config_parser().parse_args(argv[1:]), loaded)
    if argv and argv[0] == "render":
        from tui.cli.render import run_render

        return run_render(render_parser(settings).parse_args(argv[1:]))
    if argv and argv[0] == "watch":
        from tui.cli.watch import main as watch_main

        return watch_main(argv[1:], settings)
    args = tui_parser(settings).parse_args(argv)
    from tui.terminal.graphics import probe_early

    # Ask the terminal what it draws before Textual owns stdin (its answers would arrive as
    # keys), overlapping the round trip with importing the app.
    graphics = probe_early(args.preview)
    from tui.app.app import run_app

    return run_app(args, graphics=graphics())
