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

# An import each contract forbids, planted in a copy of the tree: (file, line, the contracts it
# breaks, by the start of their names). Every contract is broken by at least one.
ENGINE, PANES, CLIENT, HEADLESS, CORE, PREVIEW, SESSION = (
    "the engine imports",
    "the panes never",
    "the client and the watcher",
    "render and watch",
    "the core imports",
    "the preview's making",
    "the session layer",
)
PLANTED = [
    ("tui/engine/hosts.py", "import textual", {ENGINE}),
    ("tui/engine/jobs.py", "import tui.cli.main", {ENGINE}),
    ("widgets/prompt.py", "import tui.client", {PANES}),
    ("widgets/tracks.py", "from tui.app.messages import StatusLine", {PANES}),
    # The session layer stands on the client: an engine import there reaches it too.
    ("tui/client/wire.py", "import tui.engine.store", {CLIENT, SESSION}),
    ("tui/watch/scan.py", "import textual", {CLIENT, HEADLESS}),  # `watch` runs the watcher
    ("tui/core/gui_words.py", "import tui.client", {CORE}),
    # main() imports the app inside a function: a lazy import counts too.
    ("tui/cli/render.py", "import tui.cli.main", {HEADLESS}),
    ("tui/preview/frames.py", "import widgets.preview", {PREVIEW}),
    ("tui/session/results.py", "import tui.engine.store", {SESSION}),
    # The headless commands and the preview's making (its draft is rendered through a Backend)
    # stand on the session layer: a pane under it reaches them too.
    ("tui/session/backend.py", "import widgets.prompt", {SESSION, HEADLESS, PREVIEW}),
]


def lint(cwd: Path) -> dict[str, str]:
    """Each contract's name -> KEPT or BROKEN, from `lint-imports` run in `cwd`."""
    # cwd's packages before the installed ones; wide lines, one verdict each
    env = {**os.environ, "PYTHONPATH": str(cwd), "COLUMNS": "300"}
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
    assert lint(ROOT) == dict.fromkeys(CONTRACTS, "KEPT")


def test_every_contract_is_planted_against() -> None:
    planted = set().union(*(breaks for _, _, breaks in PLANTED))
    for name in CONTRACTS:
        assert sum(name.startswith(p) for p in planted) == 1, name
    assert len(planted) == len(CONTRACTS)


@pytest.mark.parametrize(("path", "line", "breaks"), PLANTED)
def test_each_contract_catches_the_import_it_forbids(
    tmp_path: Path, path: str, line: str, breaks: set[str]
) -> None:
    for pkg in ("tui", "widgets"):
        shutil.copytree(ROOT / pkg, tmp_path / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    with open(tmp_path / path, "a") as f:
        f.write(f"\n{line}\n")
    verdicts = lint(tmp_path)
    broken = {n for n, v in verdicts.items() if v == "BROKEN"}
    assert {p for p in breaks for n in broken if n.startswith(p)} == breaks, verdicts
    assert len(broken) == len(breaks), verdicts


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
        "tui.preview.frames",  # also the decoder's child process: it starts light
        "tui.session.backend",
    ],
)
def test_light_faces_do_not_load_textual(module: str) -> None:
    code = f"import sys, {module}; print(sorted(m for m in sys.modules if m.startswith('textual')))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
