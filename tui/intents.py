"""Intent routing for typed text: some words go straight to an endpoint, the rest to the agent."""

from __future__ import annotations

import contextlib
import re
import shlex
from dataclasses import dataclass

_EXPORT = re.compile(
    r"^\s*(export|download|render( it)?|save( it)?|导出|下载|渲染)\s*[.!。！]?\s*$", re.I
)
_CREDITS = re.compile(r"^\s*(credits?|balance|积分|余额)\s*[?？]?\s*$", re.I)
_STATUS = re.compile(
    r"^\s*(status|show( the)? tracks|tracks|timeline|状态|轨道)\s*[?？]?\s*$", re.I
)
_UPLOAD = re.compile(r"^\s*(upload|上传)\s+(.+)$", re.I)


@dataclass(frozen=True)
class Intent:
    action: str  # agent | export | credits | status | upload | undo | new | open | watch | help
    arg: str = ""


SLASH = ("upload", "export", "credits", "status", "undo", "new", "open", "watch", "help")


def route(text: str) -> Intent:
    t = text.strip()
    if t.startswith("/"):
        head, _, rest = t[1:].partition(" ")
        head = head.lower()
        if head in SLASH:
            rest = rest.strip()
            if head == "upload" and rest:
                with contextlib.suppress(ValueError):
                    rest = " ".join(shlex.split(rest))
            return Intent(head, rest)
        return Intent("help", head)
    if _EXPORT.match(t):
        return Intent("export")
    if _CREDITS.match(t):
        return Intent("credits")
    if _STATUS.match(t):
        return Intent("status")
    m = _UPLOAD.match(t)
    if m:
        return Intent("upload", m.group(2).strip().strip("'\""))
    return Intent("agent", t)
