"""The import boundary: the engine, the protocol, the client and the watcher never load textual."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "module",
    [
        "tui.core.protocol",
        "tui.client",
        "tui.engine.server",
        "tui.engine.render",
        "tui.cli.render",
        "tui.watch",
    ],
)
def test_core_modules_do_not_import_textual(module: str) -> None:
    code = f"import sys, {module}; print(sorted(m for m in sys.modules if m.startswith('textual')))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
