"""Where app state lives: I2V_FLOW_HOME, else the platform's user data folder.

The one seam tests patch (by setting I2V_FLOW_HOME).
"""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    env = os.environ.get("I2V_FLOW_HOME")
    if env:
        path = Path(env).expanduser()
    else:
        from platformdirs import user_data_path

        path = user_data_path("image-to-video-in-flow", appauthor=False)
    path.mkdir(parents=True, exist_ok=True)
    return path


def engine_dir() -> Path:
    return home() / "engine"


def client_state_file() -> Path:
    return home() / "client.json"
