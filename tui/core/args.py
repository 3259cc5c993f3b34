"""The flags several commands share: `i2v-flow`'s and `python -m tui.engine`'s (which cannot
import the CLI), declared once so that each says the same everywhere."""

from __future__ import annotations

import argparse

from tui import __version__
from tui.core.tiers import DEFAULT_TIER, TIERS


def version_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--version", action="version", version=f"i2v-flow {__version__}")


def api_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--api",
        metavar="URL",
        help="backend URL, or 'cloud' for the NemoVideo service (default: the embedded engine;"
        " env I2V_FLOW_API)",
    )


def quality_arg(p: argparse.ArgumentParser, default: str | None = DEFAULT_TIER) -> None:
    p.add_argument(
        "--quality",
        choices=TIERS,
        default=default,
        help="render quality (default: %(default)s; draft is 540p and quickest)",
    )


def quiet_arg(p: argparse.ArgumentParser, what: str = "no progress") -> None:
    p.add_argument("--quiet", "-q", action="store_true", help=f"{what}; errors only on stderr")
