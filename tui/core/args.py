"""Command-line pieces shared by `i2v-flow` and `python -m tui.engine`, which cannot import
the CLI."""

from __future__ import annotations

import argparse

from tui import __version__


def version_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--version", action="version", version=f"i2v-flow {__version__}")
