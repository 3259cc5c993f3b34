"""What the app remembers between runs about the person, not the backend: the theme picked in the
palette, and that the first-launch how-to was shown. HOME/app.json, written atomically; a missing
or broken file is a first launch with the default theme."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from tui.core.paths import home

# Off in tests/conftest.py for every test but those of the how-to itself.
HOW_TO_ON_FIRST_LAUNCH = True


@dataclass
class AppState:
    theme: str = ""  # "" : Textual's default
    welcomed: bool = False  # the three-line how-to has been shown


def state_file() -> Path:
    return home() / "app.json"


def load_state(path: Path | None = None) -> AppState:
    try:
        data = json.loads((path or state_file()).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return AppState()
    if not isinstance(data, dict):
        return AppState()
    theme, welcomed = data.get("theme"), data.get("welcomed")
    return AppState(
        theme=theme if isinstance(theme, str) else "",
        welcomed=welcomed if isinstance(welcomed, bool) else False,
    )


def save_state(state: AppState, path: Path | None = None) -> None:
    path = path or state_file()
    fd, tmp = tempfile.mkstemp(prefix=".app-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(asdict(state), f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
