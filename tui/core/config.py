"""The settings file: `config.toml` in the platform's user config folder, or I2V_FLOW_CONFIG.

Each setting comes from the first of: a command-line flag, the environment variable that meant it
before the file existed (I2V_FLOW_API or NEMO_TOKEN for the backend, I2V_FLOW_PREVIEW), the file,
the built-in default. This module does the last three; the CLI makes the result its parsers'
defaults, so a flag still wins. A bad file is a `ConfigError` naming its line, never a traceback.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from tui.core.tiers import DEFAULT_TIER, TIERS, tier_list

APP_NAME = "image-to-video-in-flow"
CONFIG_ENV = "I2V_FLOW_CONFIG"
PREVIEWS = ("auto", "pixels", "blocks")

EXAMPLE = f"""\
# ~/.config/image-to-video-in-flow/config.toml (or the file I2V_FLOW_CONFIG names)
prompt = "a 5-second vertical clip, lo-fi music at 35%"  # the default instruction
quality = "standard"          # {tier_list(" | ", " | ")}
out = "~/Videos/i2v"          # where clips go (render, watch, the app's exports)
api = "http://127.0.0.1:8765" # a backend to use instead of the embedded engine
preview = "blocks"            # auto | pixels | blocks
notifications = true          # the app tells when an export or watch job ends unseen
preview_auto = true           # the app's preview (f2) plays each new timeline by itself
keep_days = 14                # the engine keeps finished renders this long
keep_upload_days = 30         # and uploads of sessions touched in this many days
keep_gb = 5                   # and at most this much of both (oldest go first)
ask_above = 0.5               # the app asks before an export or batch costs more than this
                              # share of the credits left (0: always; 1: only past them all)
"""


@dataclass(frozen=True)
class Settings:
    prompt: str | None = None  # None: each command's own default instruction
    quality: str = DEFAULT_TIER
    out: Path | None = None  # None: each command's own default place
    api: str | None = None  # None: the embedded engine
    preview: str = "auto"
    # The app tells (a toast and the terminal's notification) when a job ends unseen.
    notifications: bool = True
    # Storage limits of the embedded engine (tui/engine/prune.py; `i2v-flow gc`).
    keep_days: float = 14
    keep_upload_days: float = 30
    keep_gb: float = 5
    # The app asks (y/n) before an export or a batch that costs more than this share of the
    # credits available; it always says the cost first (tui/app/spending.py).
    ask_above: float = 0.5
    preview_auto: bool = True  # the app's preview renders each new timeline's draft by itself


@dataclass(frozen=True)
class Loaded:
    settings: Settings
    sources: dict[str, str]  # setting -> "env NAME", "file" or "default"
    path: Path
    found: bool  # the file exists (a missing default file means built-in defaults)


class ConfigError(Exception):
    def __init__(self, path: Path, message: str, line: int | None = None):
        self.path, self.message, self.line = path, message, line
        where = f"{path} line {line}" if line else str(path)
        super().__init__(f"{where}: {message}")


def config_path(env: Mapping[str, str] = os.environ) -> tuple[Path, bool]:
    """The file to read, and whether it was named (a named file must exist)."""
    named = env.get(CONFIG_ENV, "")
    if named:
        return Path(named).expanduser(), True
    from platformdirs import user_config_path

    return user_config_path(APP_NAME, appauthor=False) / "config.toml", False


def load(env: Mapping[str, str] = os.environ) -> Loaded:
    path, named = config_path(env)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if named:
            raise ConfigError(path, f"no such file (named by {CONFIG_ENV})") from None
        raw = None
    except OSError as exc:
        raise ConfigError(path, exc.strerror or str(exc)) from None
    values: dict[str, Any] = _read(path, raw) if raw is not None else {}
    sources = {f.name: "file" if f.name in values else "default" for f in fields(Settings)}
    for name, (var, value) in _from_env(env).items():
        values[name], sources[name] = value, f"env {var}"
    return Loaded(Settings(**values), sources, path, raw is not None)


def _from_env(env: Mapping[str, str]) -> dict[str, tuple[str, Any]]:
    """The variables that keep their meaning over the file."""
    found: dict[str, tuple[str, Any]] = {}
    if api := env.get("I2V_FLOW_API"):
        found["api"] = ("I2V_FLOW_API", api)
    elif env.get("NEMO_TOKEN"):
        from tui.core.backend import CLOUD_URL

        found["api"] = ("NEMO_TOKEN", CLOUD_URL)
    preview = env.get("I2V_FLOW_PREVIEW", "").strip().lower()
    if preview in PREVIEWS:
        found["preview"] = ("I2V_FLOW_PREVIEW", preview)
    return found


def _read(path: Path, raw: bytes) -> dict[str, Any]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(path, "not UTF-8 text", line) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _syntax(path, text, exc) from None
    values: dict[str, Any] = {}
    for key, value in data.items():
        line = _line_of(text, key)
        if key not in _CHECKS:
            known = ", ".join(_CHECKS)
            raise ConfigError(path, f"unknown key {key!r} (known: {known})", line)
        try:
            values[key] = _CHECKS[key](value)
        except ValueError as exc:
            raise ConfigError(path, f"{key}: {exc}", line) from None
    return values


def _syntax(path: Path, text: str, exc: tomllib.TOMLDecodeError) -> ConfigError:
    """tomllib says where as '(at line N, column M)' or '(at end of document)' until 3.14."""
    message = str(exc)
    line: int | None = getattr(exc, "lineno", None)
    if m := re.search(r"\s*\(at line (\d+), column (\d+)\)$", message):
        line = line or int(m[1])
        message = message[: m.start()] + f" (column {m[2]})"
    elif m := re.search(r"\s*\(at end of document\)$", message):
        line = line or max(1, len(text.splitlines()))
        message = message[: m.start()] + " (at the end of the file)"
    return ConfigError(path, f"TOML syntax: {message[:1].lower()}{message[1:]}", line)


def _line_of(text: str, key: str) -> int | None:
    """The line that sets `key` at the top level (or opens a table of that name)."""
    k = re.escape(key)
    pattern = re.compile(rf"^\s*(?:(?:{k}|\"{k}\"|'{k}')\s*[.=]|\[+\s*(?:{k}|\"{k}\")\s*[.\]])")
    for n, line in enumerate(text.splitlines(), 1):
        if pattern.match(line):
            return n
    return None


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a string in quotes, not {_shown(value)}")
    return value


def _choice(options: tuple[str, ...]):
    def check(value: Any) -> str:
        if not isinstance(value, str) or value not in options:
            raise ValueError(f"must be one of {', '.join(options)}, not {_shown(value)}")
        return value

    return check


def _folder(value: Any) -> Path:
    return Path(_text(value)).expanduser()


def _url(value: Any) -> str:
    url = _text(value).strip()
    if url != "cloud" and not re.match(r"^(https?|http\+unix)://\S", url):
        raise ValueError(f'must be an http:// or https:// URL or "cloud", not {value!r}')
    return url


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, not {_shown(value)}")
    return value


def _amount(value: Any) -> float:
    """A number of days or GB: 0 or more (0 keeps nothing)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ValueError(f"must be a number, 0 or more, not {_shown(value)}")
    return float(value)


def _share(value: Any) -> float:
    """A share of the balance: 0 to 1."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"must be a number from 0 to 1, not {_shown(value)}")
    return float(value)


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return repr(value) if isinstance(value, str) else str(value).lower()


_CHECKS = {
    "prompt": _text,
    "quality": _choice(TIERS),
    "out": _folder,
    "api": _url,
    "preview": _choice(PREVIEWS),
    "notifications": _flag,
    "keep_days": _amount,
    "keep_upload_days": _amount,
    "keep_gb": _amount,
    "ask_above": _share,
    "preview_auto": _flag,
}
