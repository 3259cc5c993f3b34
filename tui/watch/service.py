"""`i2v-flow watch` as a service: its systemd user unit, and what a reload (SIGHUP) re-reads.

No textual, no network: the unit is text made from the command line as given, and a reload
reads the config file again for the settings no flag pinned.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Any

# Options that shape this run only, never the service's command line.
_NOT_IN_UNIT = {"help", "version", "print_systemd_unit", "once"}


def given_options(parser: argparse.ArgumentParser, argv: list[str]) -> set[str]:
    """The dests set on the command line itself (not by a default or the config file)."""
    saved = [(a, a.default) for a in parser._actions]
    defaults = parser._defaults  # set_defaults() values would look given too
    try:
        parser._defaults = {}
        for a in parser._actions:
            a.default = argparse.SUPPRESS
        ns, _ = parser.parse_known_args(argv)
    finally:
        parser._defaults = defaults
        for a, d in saved:
            a.default = d
    return set(vars(ns))


def self_command() -> list[str]:
    """How to start this same i2v-flow again: its script by absolute path, else -m tui."""
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if script is not None and script.name.startswith("i2v-flow") and script.is_file():
        return [os.path.abspath(script)]
    return [os.path.abspath(sys.executable), "-m", "tui"]


def exec_quote(arg: str, dollars: bool = True) -> str:
    """One argument of an ExecStart= line (Environment=: dollars=False, $ is not special
    there): systemd's quoting, % and $ taken literally."""
    arg = arg.replace("%", "%%")
    if dollars:
        arg = arg.replace("$", "$$")
    if arg and not re.search(r"[\s\"'\\;]", arg):
        return arg
    escaped = (
        arg.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    )
    return f'"{escaped}"'


def _absolute(value: Any) -> str:
    if isinstance(value, Path):
        return os.path.abspath(value.expanduser())
    return str(value)


def unit_command(
    parser: argparse.ArgumentParser, args: argparse.Namespace, given: set[str]
) -> list[str]:
    """`watch DIR` with the options given on this command line, paths made absolute."""
    cmd = [*self_command(), "watch", _absolute(args.folder)]
    for a in parser._actions:
        if not a.option_strings or a.dest in _NOT_IN_UNIT or a.dest not in given:
            continue
        flag = max(a.option_strings, key=len)  # --jobs, not -j: the unit reads better
        value = getattr(args, a.dest)
        if a.nargs == 0:  # store_true and the like
            if value != a.default:
                cmd.append(flag)
        elif value is not None:
            cmd += [flag, _absolute(value)]
    return cmd


def unit_name(folder: Path) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(os.path.abspath(folder)).name).strip("-")
    return f"i2v-flow-watch-{stem or 'root'}.service"


def systemd_unit(parser: argparse.ArgumentParser, args: argparse.Namespace, given: set[str]) -> str:
    """A user unit that runs this watcher; SIGHUP (systemctl reload) re-reads its settings."""
    folder = os.path.abspath(args.folder.expanduser())
    name = unit_name(args.folder.expanduser())
    exec_start = " ".join(exec_quote(a) for a in unit_command(parser, args, given))
    env = [
        f"Environment={exec_quote(f'{var}={os.path.abspath(os.path.expanduser(val))}', False)}"
        for var in ("I2V_FLOW_HOME", "I2V_FLOW_CONFIG")
        if (val := os.environ.get(var))
    ]
    lines = [
        f"# {name}: `i2v-flow watch` on {folder} as a systemd user service.",
        "#   mkdir -p ~/.config/systemd/user",
        f"#   (this output) > ~/.config/systemd/user/{name}",
        f"#   systemctl --user daemon-reload && systemctl --user enable --now {name}",
        f"# Log: journalctl --user -u {name} -f. After editing prompt.txt or config.toml:",
        f"#   systemctl --user reload {name}",
        "",
        "[Unit]",
        f"Description=i2v-flow watch: images dropped into {folder.replace('%', '%%')} become clips",
        "",
        "[Service]",
        "Type=simple",
        f"ExecStart={exec_start}",
        "ExecReload=/bin/kill -HUP $MAINPID",
        *env,
        "KillSignal=SIGTERM",
        "TimeoutStopSec=30",
        "Restart=on-failure",
        "RestartSec=10",
        "",
        "[Install]",
        "WantedBy=default.target",
    ]
    return "\n".join(lines) + "\n"


def reloaded_settings(given: set[str]) -> tuple[dict[str, Any], str]:
    """What a reload changes: the config file's prompt and quality, where no flag pinned them.

    Returns (changes for Watcher.reload, a warning); a bad file changes nothing and says why.
    """
    from tui.core.config import ConfigError, load

    try:
        s = load().settings
    except ConfigError as exc:
        return {}, f"{exc}; keeping the settings in use"
    changes: dict[str, Any] = {}
    if "prompt" not in given:
        changes["prompt"] = s.prompt
    if "quality" not in given:
        changes["quality"] = s.quality
    return changes, ""
