"""The `i2v-flow` command run as a person runs it: its own process and its own I2V_FLOW_HOME."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def i2v(tmp_path: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`python -m tui ARGS` from the checkout, state under tmp_path/home."""
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, "I2V_FLOW_HOME": str(tmp_path / "home")},
    )
