"""The import boundary: pyproject.toml's import-linter contracts hold, each one catches the import
it forbids, and the faces that must start light never load textual at run time (a contract sees
every import, a lazy one too; these see what importing a module really loads)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = [
    c["name"]
    for c in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
        "contracts"
    ]
]
VERDICT = re.compile(r"^(.+) (KEPT|BROKEN)(?: \(\d+ ignored imports?\))?$", re.M)
LINT = "from importlinter.cli import lint_imports_command; lint_imports_command()"

# One import each contract forbids, planted in a copy of the tree: (file, line, contract).
PLANTED = [
    ("tui/engine/hosts.py", "import textual", "the engine imports no UI"),
    ("tui/engine/jobs.py", "import tui.cli.main", "the engine imports no UI, no CLI"),
    ("widgets/prompt.py", "import tui.client", "the panes never import"),
    ("tui/client/wire.py", "import tui.engine.store", "the client and the watcher stand"),
    ("tui/watch/scan.py", "import textual", "the client and the watcher stand"),
    ("tui/core/gui_words.py", "import tui.client", "the core imports neither"),
]


def lint(cwd: Path) -> dict[str, str]:
    """Each contract's name -> KEPT or BROKEN, from `lint-imports` run in `cwd`."""
    env = {**os.environ, "PYTHONPATH": str(cwd)}  # cwd's packages before the installed ones
    out = subprocess.run(
        [sys.executable, "-c", LINT, "--no-cache", "--no-logo"],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )
    verdicts = {m[1]: m[2] for m in VERDICT.finditer(out.stdout)}
    assert set(verdicts) == set(CONTRACTS), out.stdout + out.stderr
    return verdicts


def test_the_contracts_hold() -> None:
    assert len(CONTRACTS) >= 4
    assert lint(ROOT) == dict.fromkeys(CONTRACTS, "KEPT")


@pytest.mark.parametrize(("path", "line", "contract"), PLANTED)
def test_each_contract_catches_the_import_it_forbids(
    tmp_path: Path, path: str, line: str, contract: str
) -> None:
    for pkg in ("tui", "widgets"):
        shutil.copytree(ROOT / pkg, tmp_path / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    with open(tmp_path / path, "a") as f:
        f.write(f"\n{line}\n")
    verdicts = lint(tmp_path)
    broken = [n for n, v in verdicts.items() if v == "BROKEN"]
    assert len(broken) == 1 and broken[0].startswith(contract), verdicts


@pytest.mark.parametrize(
    "module",
    [
        "tui.core.protocol",
        "tui.client",
        "tui.engine.server",
        "tui.engine.render",
        "tui.cli.render",
        "tui.cli.watch",
        "tui.watch",
    ],
)
def test_light_faces_do_not_load_textual(module: str) -> None:
    code = f"import sys, {module}; print(sorted(m for m in sys.modules if m.startswith('textual')))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
