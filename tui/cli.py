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


def _api_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--api", metavar="URL", help="backend URL (default: the embedded engine; env I2V_FLOW_API)"
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
    _api_arg(p)
    p.add_argument("--version", action="version", version=f"i2v-flow {__version__}")
    return p


def render_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="i2v-flow render",
        description="Upload images, run one agent turn with PROMPT, export and download the MP4. "
        "The assistant's words stream to stdout; progress goes to stderr.",
    )
    p.add_argument("images", nargs="+", type=Path, metavar="IMAGE")
    p.add_argument(
        "--prompt",
        "-p",
        default="turn this image into a 5-second animated video clip",
        help="what you want, in plain words (English or Chinese)",
    )
    p.add_argument(
        "-o",
        "--out",
        type=Path,
        help="output MP4 (default: IMAGE's name .mp4 here; never overwrites)",
    )
    p.add_argument("--quality", choices=("high", "standard", "draft"), default="high")
    _api_arg(p)
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
    p.add_argument("--watch-stdin", action="store_true", help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "render":
        from tui.headless import run_render

        return run_render(render_parser().parse_args(argv[1:]))
    if argv and argv[0] == "serve":
        from tui.engine.__main__ import run

        return run(serve_parser().parse_args(argv[1:]))
    if argv and argv[0] == "watch":
        print("error: watch mode is not built yet", file=sys.stderr)
        return 2
    args = tui_parser().parse_args(argv)
    from tui.app import run_app

    return run_app(args)
