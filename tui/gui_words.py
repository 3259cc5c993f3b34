"""The backend assumes a GUI: its "click the Export button" becomes what to type here."""

from __future__ import annotations

import re
from dataclasses import dataclass

_RULES: list[tuple[re.Pattern[str], str, str]] = [
    (
        re.compile(
            r"(click|press|tap|hit)\s+(on\s+)?(the\s+)?\[?\"?export\"?\]?(\s+button)?"
            r"|export button|导出",
            re.I,
        ),
        "export",
        'type /export (or say "export")',
    ),
    (
        re.compile(r"preview\s+(it\s+|the\s+\w+\s+)?in\s+(the\s+)?timeline|预览", re.I),
        "status",
        "the Tracks pane shows the timeline (/status)",
    ),
    (
        re.compile(
            r"\bdrag(ging)?\b|\bdrop\s+(it|them|the\s+files?|your|a\s+file)\b|拖拽|拖动", re.I
        ),
        "upload",
        "press Enter on a file in the Files pane, or /upload PATH",
    ),
    (
        re.compile(r"(click|open)\s+(on\s+)?(the\s+)?\[?[\w ]+\]?\s+panel|打开.{0,6}面板", re.I),
        "status",
        "every panel is a pane on screen (/status shows the timeline)",
    ),
]
# Only when nothing more specific matched: any other "click …" or "open …".
_FALLBACK = (
    re.compile(r"\bclick(ing)?\b|点击|打开", re.I),
    "status",
    "use the slash commands (/help)",
)


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
    pat, action, hint = _FALLBACK
    if not actions and pat.search(text):
        actions.append(action)
        hints.append(hint)
    note = ("Here: " + "; ".join(hints) + ".") if hints else ""
    return Translation(actions, note)
