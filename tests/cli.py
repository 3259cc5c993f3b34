"""The `i2v-flow` command run as a person runs it: its own process and its own I2V_FLOW_HOME.

Its settings file is an empty one (os.devnull) unless `env` names another, so a developer's own
~/.config/image-to-video-in-flow/config.toml never changes what a test sees.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def i2v_env(tmp_path: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment the command runs in: ours, its own home and settings, then `env`."""
    base = {"I2V_FLOW_HOME": str(tmp_path / "home"), "I2V_FLOW_CONFIG": os.devnull}
    return {**os.environ, **base, **(env or {})}


def i2v(
    tmp_path: Path, *args: str, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m tui ARGS` from the checkout, state under tmp_path/home."""
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=i2v_env(tmp_path, env),
    )
