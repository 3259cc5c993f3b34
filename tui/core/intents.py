"""Intent routing for typed text: some words go straight to an endpoint, the rest to the agent.

Only short, unambiguous requests are routed ("export", "导出视频", "how many credits?"); anything
that also describes an edit ("export it as a vertical clip") is an agent turn.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from tui.core.command_table import BY_WORD
from tui.core.protocol import file_kind

_PLEASE = r"(?:please\s+|pls\s+|can\s+you\s+|could\s+you\s+|now\s+|请|帮我|给我|麻烦)?"
_END = r"\s*(?:please|now|for\s+me)?\s*[.!?。！？~]*\s*$"
_OBJ = r"(?:\s+(?:it|this|that|the\s+(?:video|clip|mp4|movie|result|file)|my\s+(?:video|clip)))?"
_ZH_OBJ = r"(?:一下)?(?:视频|影片|短片|成片|文件|mp4)?(?:吧|吗|呢)?"

_EXPORT = re.compile(
    rf"^\s*{_PLEASE}(?:(?:export|download|render|save)(?:\s+and\s+download)?{_OBJ}"
    rf"|(?:send|give)\s+(?:me\s+)?(?:the|my)\s+(?:video|clip|mp4|movie|result)(?:\s+to\s+me)?"
    rf"|(?:导出|下载|渲染|保存){_ZH_OBJ}|把?(?:视频|影片|短片|成片)(?:发|传|给)(?:给)?我(?:吧|吗|呢)?){_END}",
    re.I,
)
_CREDITS = re.compile(
    rf"^\s*{_PLEASE}(?:"
    r"(?:(?:check|show|what\s+are|what's|whats)\s+)?(?:my\s+|the\s+)?"
    r"(?:credits?|balance|credit\s+balance|remaining\s+credits)(?:\s+balance|\s+left|\s+remaining)?"
    r"|how\s+many\s+credits(?:\s+(?:do\s+i\s+have|are\s+left|left|remain))?(?:\s+left)?"
    r"|(?:查询?|查看|看看|我的|剩余|还有多少|还剩多少)?(?:积分|余额|点数)(?:还有多少|多少|还剩多少)?(?:吗|呢)?"
    rf"){_END}",
    re.I,
)
_STATUS = re.compile(
    rf"^\s*{_PLEASE}(?:(?:show|list|see|view)\s+(?:me\s+)?(?:the\s+|my\s+)?"
    r"(?:tracks|timeline|status|draft)|status|tracks|timeline"
    r"|(?:查看|显示|看看)?(?:状态|轨道|时间线))"
    rf"{_END}",
    re.I,
)
_UPLOAD = re.compile(r"^\s*(?:upload|上传)\s*[:：]?\s*(.+)$", re.I)


# Scripts that say the language on their own: kana is Japanese, hangul Korean, other Han
# characters Chinese (Japanese text has Han too, so kana is looked for first).
_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff]")
_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def language_of(text: str = "", env: Mapping[str, str] | None = None) -> str:
    """The session language for the backend: from what the user wrote when its script says
    (CJK: "zh", "ja", "ko"), else the setting I2V_FLOW_LANGUAGE, else the locale's (LC_ALL,
    LC_MESSAGES, LANG: "de_DE.UTF-8" is "de"), else "en"."""
    for pattern, lang in ((_KANA, "ja"), (_HANGUL, "ko"), (_HAN, "zh")):
        if pattern.search(text or ""):
            return lang
    env = os.environ if env is None else env
    for var in ("I2V_FLOW_LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var, "")
        if value:
            lang = re.split(r"[_.@-]", value, maxsplit=1)[0].lower()
            return lang if re.fullmatch(r"[a-z]{2,3}", lang) else "en"  # "C", "POSIX"
    return "en"


@dataclass(frozen=True)
class Intent:
    action: str  # agent, or a command's name (tui/core/command_table.py): export, credits,
    # status, upload, undo, redo, preview… (help: its arg is an unknown command's name)
    arg: str = ""


def _unquote_path(text: str) -> str:
    t = text.strip()
    with contextlib.suppress(ValueError):
        parts = shlex.split(t)
        if len(parts) == 1:
            t = parts[0]
    t = t.strip().strip("'\"")
    if t.startswith("file://"):
        t = unquote(urlparse(t).path)
    return t


def sent_file(text: str, cwd: Path | None = None) -> Path | None:
    """A file dropped into the prompt: terminals paste its path (quoted, escaped or file://)."""
    t = text.strip()
    if not t or "\n" in t or len(t) > 4096:
        return None
    t = _unquote_path(t)
    if file_kind(t) is None:
        return None
    p = Path(t).expanduser()
    if not p.is_absolute() and cwd is not None:
        p = cwd / p
    try:
        return p if p.is_file() else None
    except OSError:
        return None


def route(text: str, cwd: Path | None = None) -> Intent:
    t = text.strip()
    if t.startswith("/"):
        head, _, rest = t[1:].partition(" ")
        head = head.lower()
        command = BY_WORD.get(head)
        if command is not None:
            rest = rest.strip()
            if command.name == "upload" and rest:
                with contextlib.suppress(ValueError):
                    rest = " ".join(shlex.split(rest))
            return Intent(command.name, rest)
        dropped = sent_file(t, cwd)  # an absolute path dropped into the prompt
        if dropped is not None:
            return Intent("upload", str(dropped))
        return Intent("help", head)
    if _EXPORT.match(t):
        return Intent("export")
    if _CREDITS.match(t):
        return Intent("credits")
    if _STATUS.match(t):
        return Intent("status")
    m = _UPLOAD.match(t)
    if m:
        return Intent("upload", _unquote_path(m.group(1)))
    dropped = sent_file(t, cwd)
    if dropped is not None:
        return Intent("upload", str(dropped))
    return Intent("agent", t)
