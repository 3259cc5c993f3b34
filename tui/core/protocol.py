"""The wire protocol (../shared/protocol.md): shapes, envelopes, events and the draft's price.

The draft itself is read in tui/core/draft.py and said in words in draft_words.py; their track
types and summaries are named here too, with the wire's other shapes.

Shared by the client and the engine; imports nothing from textual or httpx.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui import __version__
from tui.core.clean_text import clean, clean_obj
from tui.core.draft import TRACK_AUDIO as TRACK_AUDIO
from tui.core.draft import TRACK_TEXT as TRACK_TEXT
from tui.core.draft import TRACK_VIDEO as TRACK_VIDEO
from tui.core.draft import Draft
from tui.core.draft_words import diff_drafts as diff_drafts
from tui.core.draft_words import draft_ready as draft_ready
from tui.core.draft_words import summarize_draft as summarize_draft
from tui.core.tiers import DRAFT

SKILL_SOURCE = "image-to-video-in-flow"
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
IMAGE_TYPES = ("jpg", "jpeg", "png", "gif", "webp")
VIDEO_TYPES = ("mp4", "mov", "avi", "webm", "mkv")
AUDIO_TYPES = ("mp3", "wav", "m4a", "aac")
ACCEPTED_TYPES = IMAGE_TYPES + VIDEO_TYPES + AUDIO_TYPES
APP_NAME = "nemo_agent"
# What our own engine's GET /health names it (`data.engine`): how a client tells it from the
# cloud, which has no such answer, wherever it runs (a loopback port, a socket, another host).
ENGINE_NAME = "i2v-flow"

# Error codes of the envelope.
TOKEN_EXPIRED = 1001
SESSION_NOT_FOUND = 1002
OUT_OF_CREDITS = 2001
UNSUPPORTED_TYPE = 4001
FILE_TOO_LARGE = 4002
MISSING_CLIENT_ID = 400
PLAN_BLOCKED = 402
RATE_LIMITED = 429

# The local engine's price of a render, in credits: one a started second, two at 4K (a short
# side of 2160 px or more); the draft tier is free (the preview renders one after each change),
# bounded instead: a draft is DRAFT_SHORT_SIDE px at most, and counts in a user's renders in
# flight (tui/engine/server/routes/render.py). The engine charges by `render_cost`; the app says
# it up front.
UHD_SHORT_SIDE = 2160
DRAFT_SHORT_SIDE = 540


def render_cost(seconds: int, short_side: int, quality: str) -> int:
    if quality == DRAFT:
        return 0
    return seconds * (2 if short_side >= UHD_SHORT_SIDE else 1)


def draft_cost(draft: Any, quality: str) -> int | None:
    """What rendering `draft` at `quality` costs on the local engine; None for a draft it could
    not price."""
    view = Draft.from_wire(draft)
    d, w, h = view.duration, view.meta.width, view.meta.height
    if d is None or w is None or h is None:
        return None
    seconds = math.ceil(d / 1000 - 1e-9)
    return render_cost(seconds, int(min(w, h)), quality) if seconds > 0 else None


# An HTTP status that says what the table's code would, for an answer without a usable code (a
# proxy's page, an empty body, a code that is itself a status): the cloud sends bare ones.
_STATUS_CODES = {
    401: TOKEN_EXPIRED,
    404: SESSION_NOT_FOUND,
    413: FILE_TOO_LARGE,
    415: UNSUPPORTED_TYPE,
}


def skill_platform(home: Path | None = None, here: Path | None = None) -> str:
    """`clawhub` or `cursor` when installed under their skill folders, else `unknown`."""
    here = (here or Path(__file__)).resolve()
    home = (home or Path.home()).resolve()
    for marker, name in ((home / ".clawhub", "clawhub"), (home / ".cursor" / "skills", "cursor")):
        if marker in here.parents:
            return name
    return "unknown"


def skill_headers() -> dict[str, str]:
    return {
        "X-Skill-Source": SKILL_SOURCE,
        "X-Skill-Version": __version__,
        "X-Skill-Platform": skill_platform(),
    }


def file_kind(name: str) -> str | None:
    ext = Path(name).suffix.lower().lstrip(".")
    if ext in IMAGE_TYPES:
        return "image"
    if ext in VIDEO_TYPES:
        return "video"
    if ext in AUDIO_TYPES:
        return "audio"
    return None


# ---- envelopes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Envelope:
    ok: bool
    code: int | None
    message: str
    data: Any


def _by_status(status: int) -> int | None:
    return None if status < 300 else _STATUS_CODES.get(status, status)


def read_envelope(status: int, body: Any) -> Envelope:
    """Both documented envelopes; `code` decides when present, else the HTTP status (401 is
    1001, 404 1002, 413 4002, 415 4001). The message is cleaned of terminal controls."""
    env = _read_envelope(status, body)
    if env.ok or env.code not in (401, 413, 415):
        return env if not env.message else Envelope(env.ok, env.code, clean(env.message), env.data)
    # A code that is the HTTP status itself (`{"code": 401}`) means the table's code too; not
    # 404, which the engine also says of a render or an endpoint it does not know.
    return Envelope(env.ok, _STATUS_CODES[env.code], clean(env.message), env.data)


def _read_envelope(status: int, body: Any) -> Envelope:
    if not isinstance(body, dict):
        return Envelope(200 <= status < 300, _by_status(status), "", body)
    if "code" in body:
        try:
            code = int(body["code"])
        except (TypeError, ValueError, OverflowError):
            code = _by_status(status) if status >= 300 else status
        msg = body.get("message") or body.get("msg") or ""
        return Envelope(code == 0, None if code == 0 else code, str(msg), body.get("data"))
    if "success" in body:
        ok = bool(body["success"])
        err = body.get("error")
        msg = err.get("message", "") if isinstance(err, dict) else str(err or "")
        code = None
        if isinstance(err, dict) and "code" in err:
            try:
                code = int(err["code"])
            except (TypeError, ValueError):
                code = None
        if not ok and code is None:
            code = _by_status(status) if status >= 400 else None
        return Envelope(ok, None if ok else code, msg, body.get("data"))
    ok = 200 <= status < 300
    msg = body.get("message") or body.get("msg") or body.get("detail") or body.get("error") or ""
    return Envelope(ok, _by_status(status), str(msg), body)


def envelope(data: Any = None, code: int = 0, message: str = "ok") -> dict:
    return {"code": code, "message": message, "data": data}


# ---- render status -------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderStatus:
    id: str
    status: str  # pending | processing | completed | failed | cancelled
    progress: float  # 0..100
    output_url: str | None = None
    error: str | None = None
    retryable: bool | None = None  # the backend's own word (`error.retryable`), when it gave one

    @property
    def done(self) -> bool:
        return self.status in ("completed", "failed", "cancelled")

    @property
    def may_retry(self) -> bool:
        """A failure worth one more render: the backend says so, else its words name a passing
        cause (a timeout, a busy or unavailable service), not the draft or the account."""
        if self.status != "failed":
            return False
        if self.retryable is not None:
            return self.retryable
        return bool(self.error and _PASSING.search(self.error))


# Failures a second render may not meet; "ran out of memory" (the draft's own weight) is not one.
_PASSING = re.compile(
    r"time(?:d)?[\s_-]?out|out of time|temporar|try again|retry|unavailable|busy|overload"
    r"|throttl|rate[\s_-]?limit|too many requests|internal (?:server )?error|\b50[234]\b",
    re.I,
)


def read_render_status(body: Any, fallback_id: str = "") -> RenderStatus:
    """`data.status`/`data.outputUrl`, top-level `status` with `output.url`, `taskId`."""
    d = body if isinstance(body, dict) else {}
    if isinstance(d.get("data"), dict):
        # The inner object wins; a `status`/`output` beside the envelope fills the gaps.
        outer = {k: v for k, v in d.items() if k not in ("data", "code", "message", "msg")}
        d = {**outer, **d["data"]}
    output = d.get("output") if isinstance(d.get("output"), dict) else {}
    url = d.get("outputUrl") or d.get("output_url") or output.get("url")
    rid = clean(d.get("id") or d.get("taskId") or d.get("task_id") or fallback_id)
    status = clean(d.get("status") or "pending").lower()
    status = {"success": "completed", "succeeded": "completed", "done": "completed"}.get(
        status, status
    )
    try:
        progress = float(d.get("progress") or 0)
    except (TypeError, ValueError, OverflowError):
        progress = 0.0
    if status == "completed":
        progress = 100.0
    err = d.get("error")
    retryable = d.get("retryable")
    if isinstance(err, dict):
        retryable = err.get("retryable", err.get("retriable", retryable))
        err = err.get("message") or json.dumps(err)
    url = url if isinstance(url, str) else None
    retryable = retryable if isinstance(retryable, bool) else None
    return RenderStatus(rid, status, progress, url, clean(err) if err else None, retryable)


# ---- agent events --------------------------------------------------------------------------


@dataclass(frozen=True)
class TextChunk:
    text: str


@dataclass(frozen=True)
class FinalText:
    text: str


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    args: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ToolResult:
    id: str
    name: str
    response: Any = None


@dataclass(frozen=True)
class Heartbeat:
    pass


@dataclass(frozen=True)
class TurnError:
    message: str
    code: str | None = None


AgentEvent = TextChunk | FinalText | ToolCall | ToolResult | Heartbeat | TurnError


def parse_sse_data(data: str) -> list[AgentEvent]:
    """One `data:` payload to typed events. Empty data is a heartbeat."""
    data = data.strip()
    if not data:
        return [Heartbeat()]
    try:
        obj = json.loads(data)
    except json.JSONDecodeError:
        return [TextChunk(clean(data))]  # some servers stream bare text
    return parse_event(obj)


def parse_event(obj: Any) -> list[AgentEvent]:
    """An event's typed meaning, every string in it cleaned of terminal controls."""
    return [_cleaned(ev) for ev in _parse_event(obj)]


def _cleaned(ev: AgentEvent) -> AgentEvent:
    if isinstance(ev, TextChunk | FinalText):
        return type(ev)(clean(ev.text))
    if isinstance(ev, ToolCall):
        args = clean_obj(ev.args) if isinstance(ev.args, dict) else {}
        return ToolCall(clean(ev.id), clean(ev.name), args)
    if isinstance(ev, ToolResult):
        return ToolResult(clean(ev.id), clean(ev.name), clean_obj(ev.response))
    if isinstance(ev, TurnError):
        return TurnError(clean(ev.message), None if ev.code is None else clean(ev.code))
    return ev


def _parse_event(obj: Any) -> list[AgentEvent]:
    if not isinstance(obj, dict):
        return []
    if obj.get("errorCode") or obj.get("errorMessage"):
        return [TurnError(str(obj.get("errorMessage") or obj["errorCode"]), obj.get("errorCode"))]
    if obj.get("error"):
        err = obj["error"]
        return [TurnError(err.get("message", str(err)) if isinstance(err, dict) else str(err))]
    kind = obj.get("type")
    if kind == "heartbeat":
        return [Heartbeat()]
    if kind == "error":
        return [TurnError(str(obj.get("message") or obj.get("content") or "agent error"))]
    if kind == "text":
        text = str(obj.get("content") or obj.get("text") or "")
        return [TextChunk(text) if obj.get("partial") else FinalText(text)]
    if kind == "tool_call":
        return [ToolCall(str(obj.get("id", "")), str(obj.get("name", "")), obj.get("args") or {})]
    if kind == "tool_result":
        return [ToolResult(str(obj.get("id", "")), str(obj.get("name", "")), obj.get("result"))]
    content = obj.get("content") or {}
    parts = content.get("parts") if isinstance(content, dict) else None
    if not parts:
        return [Heartbeat()] if not kind else []
    out: list[AgentEvent] = []
    partial = bool(obj.get("partial"))
    texts = []
    for part in parts:
        if not isinstance(part, dict):
            continue
        if part.get("functionCall"):
            fc = part["functionCall"]
            out.append(
                ToolCall(str(fc.get("id", "")), str(fc.get("name", "")), fc.get("args") or {})
            )
        elif part.get("functionResponse"):
            fr = part["functionResponse"]
            out.append(
                ToolResult(str(fr.get("id", "")), str(fr.get("name", "")), fr.get("response"))
            )
        elif isinstance(part.get("text"), str) and not part.get("thought"):
            texts.append(part["text"])
    if texts:
        text = "".join(texts)
        out.append(TextChunk(text) if partial else FinalText(text))
    return out
