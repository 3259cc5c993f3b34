"""`i2v-flow`: the TUI by default, plus `render`, `watch` and `serve`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tui import __version__

COMMANDS = ("render", "watch", "serve")

EPILOG = """\
commands:
  i2v-flow [FOLDER]            the terminal app, browsing FOLDER (default: here)
  i2v-flow render IMAGE...     one clip, headless: upload, one agent turn, export
  i2v-flow watch DIR           turn every image dropped into DIR into a clip
  i2v-flow serve               run the embedded engine alone

backend: the embedded local engine, unless --api URL (or I2V_FLOW_API) or NEMO_TOKEN
selects the NemoVideo cloud. State lives under I2V_FLOW_HOME.
"""


def api_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--api", metavar="URL", help="backend URL (default: the embedded engine; env I2V_FLOW_API)"
    )


def quality_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--quality",
        choices=("high", "standard", "draft"),
        default="high",
        help="render quality (default: high; draft is 540p and quickest)",
    )


def tui_parser() -> argparse.ArgumentParser:
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
    p.add_argument("--out", type=Path, help="where exports go (default: FOLDER/exports)")
    p.add_argument("--watch", type=Path, metavar="DIR", help="also watch DIR for new images")
    p.add_argument("--prompt", help="instruction for watched images")
    p.add_argument(
        "--preview",
        choices=("auto", "pixels", "blocks"),
        help="image preview: real pixels (Sixel/Kitty) where the terminal is known to draw them, "
        "else half-blocks (default: auto; env I2V_FLOW_PREVIEW)",
    )
    api_arg(p)
    p.add_argument("--version", action="version", version=f"i2v-flow {__version__}")
    return p


RENDER_EPILOG = """\
examples:
  i2v-flow render photo.jpg --prompt "a 5-second vertical clip, title 'Spring Sale' for 3 s"
  i2v-flow render a.png b.png -p "8 seconds, lo-fi music at 35%" -o promo.mp4 --quality draft
  i2v-flow render photo.jpg -p "做一个5秒的竖屏视频，标题「春季促销」" --api https://mega-api-prod.nemovideo.ai

backend: the embedded local engine (no account, no network), unless --api URL or I2V_FLOW_API
names one; NEMO_TOKEN, when set, is the token (and selects the NemoVideo cloud).
output: stdout gets the assistant's words, the track summary, the saved path and the credits left;
stderr gets progress. Exit status 0 on success, 1 with one "error: ..." line on any failure.
"""


def render_parser() -> argparse.ArgumentParser:
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
        default="turn this image into a 5-second animated video clip",
        help="what you want, in plain words, English or Chinese (default: %(default)r)",
    )
    p.add_argument(
        "-o",
        "--out",
        type=Path,
        metavar="OUT.mp4",
        help="output MP4 (default: IMAGE's name .mp4 here; never overwrites: clip-2.mp4 …)",
    )
    quality_arg(p)
    api_arg(p)
    return p


def serve_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="i2v-flow serve", description="Run the embedded engine alone (Ctrl+C stops it)."
    )
    p.add_argument("--host", default="127.0.0.1", help="address (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8765, help="port (default: 8765; 0: any free)")
    p.add_argument("--data", type=Path, help="data folder (default: I2V_FLOW_HOME/engine)")
    p.add_argument("--workers", type=int, help="render worker processes (default: cores / 2)")
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
    return p


def _folder(value: str) -> Path:
    path = Path(value).expanduser()
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{value!r} is not a folder")
    return path


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "render":
        from tui.headless import run_render

        return run_render(render_parser().parse_args(argv[1:]))
    if argv and argv[0] == "serve":
        from tui.engine.__main__ import run

        return run(serve_parser().parse_args(argv[1:]))
    if argv and argv[0] == "watch":
        from tui.watch_cli import main as watch_main

        return watch_main(argv[1:])
    args = tui_parser().parse_args(argv)
    from tui.graphics import probe_early

    # Ask the terminal what it draws before Textual owns stdin (its answers would arrive as
    # keys), overlapping the round trip with importing the app.
    graphics = probe_early(args.preview)
    from tui.app import run_app

    return run_app(args, graphics=graphics())
