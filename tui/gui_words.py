"""The backend assumes a GUI: its "click the Export button" becomes what to type here."""

from __future__ import annotations

import re
from dataclasses import dataclass

_RULES: list[tuple[re.Pattern[str], str, str]] = [
    (
        re.compile(
            r"(click|press|tap|hit)\s+(on\s+)?(the\s+)?\[?\"?export\"?\]?(\s+button)?"
            r"|export button|点击导出|导出按钮",
            re.I,
        ),
        "export",
        'type /export (or say "export")',
    ),
    (
        re.compile(r"preview\s+(it\s+)?in\s+the\s+timeline|预览", re.I),
        "status",
        "the Tracks pane shows the timeline (/status)",
    ),
    (
        re.compile(r"(drag|drop)(\s+and\s+drop)?\b|拖拽|拖动", re.I),
        "upload",
        "press Enter on a file in the Files pane, or /upload PATH",
    ),
    (
        re.compile(r"(click|open)\s+(on\s+)?(the\s+)?\[?[\w ]+\]?\s+panel|打开.{0,6}面板", re.I),
        "status",
        "everything is in the panes here",
    ),
    (re.compile(r"点击|打开", re.I), "status", "use the slash commands (/help)"),
]


@dataclass(frozen=True)
class Translation:
    actions: list[str]
    note: str


def translate_gui(text: str) -> Translation:
    actions: list[str] = []
    hints: list[str] = []
    for pat, action, hint in _RULES:
        if pat.search(text) and action not in actions:
            actions.append(action)
            hints.append(hint)
    note = ("Here: " + "; ".join(hints) + ".") if hints else ""
    return Translation(actions, note)
