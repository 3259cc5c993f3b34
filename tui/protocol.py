"""The wire protocol (../shared/protocol.md): shapes, envelopes, events and the draft summary.

Shared by the client and the engine; imports nothing from textual or httpx.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui import __version__
from tui.engine.text_colours import WHITE, colour_hex, colour_label

SKILL_SOURCE = "image-to-video-in-flow"
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
IMAGE_TYPES = ("jpg", "jpeg", "png", "gif", "webp")
VIDEO_TYPES = ("mp4", "mov", "avi", "webm", "mkv")
AUDIO_TYPES = ("mp3", "wav", "m4a", "aac")
ACCEPTED_TYPES = IMAGE_TYPES + VIDEO_TYPES + AUDIO_TYPES
APP_NAME = "nemo_agent"

# Error codes of the envelope.
TOKEN_EXPIRED = 1001
SESSION_NOT_FOUND = 1002
OUT_OF_CREDITS = 2001
UNSUPPORTED_TYPE = 4001
FILE_TOO_LARGE = 4002
MISSING_CLIENT_ID = 400
PLAN_BLOCKED = 402
RATE_LIMITED = 429

TRACK_VIDEO, TRACK_AUDIO, TRACK_TEXT = 0, 1, 7


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


def read_envelope(status: int, body: Any) -> Envelope:
    """Both documented envelopes; `code` decides when present, else the HTTP status."""
    if not isinstance(body, dict):
        return Envelope(200 <= status < 300, None if status < 300 else status, "", body)
    if "code" in body:
        try:
            code = int(body["code"])
        except (TypeError, ValueError):
            code = status
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
            code = status if status >= 400 else None
        return Envelope(ok, None if ok else code, msg, body.get("data"))
    ok = 200 <= status < 300
    return Envelope(ok, None if ok else status, str(body.get("message", "")), body)


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

    @property
    def done(self) -> bool:
        return self.status in ("completed", "failed", "cancelled")


def read_render_status(body: Any, fallback_id: str = "") -> RenderStatus:
    """`data.status`/`data.outputUrl`, top-level `status` with `output.url`, `taskId`."""
    d = body if isinstance(body, dict) else {}
    if isinstance(d.get("data"), dict):
        # The inner object wins; a `status`/`output` beside the envelope fills the gaps.
        outer = {k: v for k, v in d.items() if k not in ("data", "code", "message", "msg")}
        d = {**outer, **d["data"]}
    output = d.get("output") if isinstance(d.get("output"), dict) else {}
    url = d.get("outputUrl") or d.get("output_url") or output.get("url")
    rid = str(d.get("id") or d.get("taskId") or d.get("task_id") or fallback_id)
    status = str(d.get("status") or "pending").lower()
    status = {"success": "completed", "succeeded": "completed", "done": "completed"}.get(
        status, status
    )
    try:
        progress = float(d.get("progress") or 0)
    except (TypeError, ValueError):
        progress = 0.0
    if status == "completed":
        progress = 100.0
    err = d.get("error")
    if isinstance(err, dict):
        err = err.get("message") or json.dumps(err)
    return RenderStatus(rid, status, progress, url, str(err) if err else None)


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
        return [TextChunk(data)]  # some servers stream bare text
    return parse_event(obj)


def parse_event(obj: Any) -> list[AgentEvent]:
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


# ---- the draft -----------------------------------------------------------------------------


def _secs(ms: Any) -> str:
    try:
        return f"{float(ms) / 1000:g}"
    except (TypeError, ValueError):
        return "?"


def _pct(volume: Any) -> int | None:
    """A volume (1 = 100 %) as a whole percentage; None when absent or not a number."""
    try:
        v = float(volume)
    except (TypeError, ValueError):
        return None
    return round(v * 100) if v == v and abs(v) != float("inf") else None


def _seg_parts(tt: Any, seg: dict) -> tuple[str, str, str]:
    """(kind, what, span) of one segment: ("BGM", "Lo-fi", "0-5s, 35%"); a video's own sound
    when muted or not at 100 %: ("Video", "clip.mp4", "0-5s, sound 50%" or "0-5s, muted"); a
    text's colour when not white: ("Title", '"Sale"', "0-3s, yellow" or "0-3s, #123456")."""
    m = seg.get("m") or {}
    try:
        st = int(seg.get("st", 0) or 0)
        end = st + int(seg.get("d", 0) or 0)
    except (TypeError, ValueError):
        st, end = 0, 0
    span = f"{_secs(st)}-{_secs(end)}s"
    if tt == TRACK_VIDEO:
        # A video's own sound: muted, or its volume when not 100 % (images have neither).
        mute = m.get("mute")
        if mute is True or str(mute or "").lower() in ("1", "true", "yes"):
            sound = ", muted"
        else:
            pct = _pct(m.get("volume"))
            sound = f", sound {pct}%" if pct is not None and pct != 100 else ""
        return "Video", str(m.get("name") or seg.get("src", "?")), span + sound
    if tt == TRACK_AUDIO:
        pct = _pct(m.get("volume"))
        vol = f", {pct}%" if pct is not None else ""
        return "BGM", str(m.get("name") or seg.get("src", "?")), span + vol
    if tt == TRACK_TEXT:
        # Its colour, when not the white every text has by default: its name, else its hex.
        kind = "Caption" if m.get("role") == "caption" else "Title"
        tint = colour_label(m.get("color")) if colour_hex(m.get("color")) != WHITE else None
        return kind, f'"{m.get("text", "")}"', span + (f", {tint}" if tint else "")
    return f"Track {tt}", str(m.get("name") or seg.get("id", "?")), span


def _segments(draft: Any) -> list[tuple[Any, dict]]:
    if not isinstance(draft, dict):
        return []
    out = []
    for track in draft.get("t") or []:
        if not isinstance(track, dict):
            continue
        for seg in track.get("sg") or []:
            if isinstance(seg, dict):
                out.append((track.get("tt"), seg))
    return out


def summarize_draft(draft: Any) -> list[str]:
    """Numbered lines: `1. Video: photo.png (0-5s)`, `2. BGM: Lo-fi (0-5s, 35%)`, ...; a video
    with its sound muted or turned up or down: `1. Video: clip.mp4 (0-5s, muted)`, `(0-5s,
    sound 50%)`; a coloured text: `3. Title: "Sale" (0-3s, yellow)`."""
    lines: list[str] = []
    for tt, seg in _segments(draft):
        kind, what, span = _seg_parts(tt, seg)
        lines.append(f"{len(lines) + 1}. {kind}: {what} ({span})")
    return lines


def _lower(kind: str) -> str:
    return kind if kind == "BGM" else kind.lower()


def diff_drafts(before: Any, after: Any) -> list[str]:
    """What a turn changed, in plain words: `Added title "X" (0-3s)`, `duration 5s → 8s`."""
    b = before if isinstance(before, dict) else {}
    a = after if isinstance(after, dict) else {}
    changes: list[str] = []

    def keyed(draft: Any) -> dict[Any, tuple[Any, dict]]:
        out: dict[Any, tuple[Any, dict]] = {}
        for i, (tt, seg) in enumerate(_segments(draft)):
            out[seg.get("id") or (tt, i)] = (tt, seg)
        return out

    old, new = keyed(b), keyed(a)
    for key, (tt, seg) in new.items():
        kind, what, span = _seg_parts(tt, seg)
        if key not in old:
            changes.append(f"Added {_lower(kind)} {what} ({span})")
            continue
        ott, oseg = old[key]
        if oseg == seg:
            continue
        okind, owhat, ospan = _seg_parts(ott, oseg)
        if (okind, owhat, ospan) != (kind, what, span):
            was = f"{owhat} ({ospan})"
            now = f"{what} ({span})" if what != owhat else f"({span})"
            changes.append(f"Changed {_lower(kind)} {was} → {now}")
        else:
            om, nm = oseg.get("m") or {}, seg.get("m") or {}
            diffs = [
                f"{k} {om.get(k, '-')} → {nm.get(k, '-')}"
                for k in sorted(set(om) | set(nm), key=str)
                if om.get(k) != nm.get(k)
            ]
            changes.append(
                f"Changed {_lower(kind)} {what}" + (f": {', '.join(diffs)}" if diffs else "")
            )
    for key, (tt, seg) in old.items():
        if key not in new:
            kind, what, span = _seg_parts(tt, seg)
            changes.append(f"Removed {_lower(kind)} {what} ({span})")
    if b.get("d") != a.get("d") and b and a:
        changes.append(f"duration {_secs(b.get('d'))}s → {_secs(a.get('d'))}s")
    bm, am = b.get("m") or {}, a.get("m") or {}
    if b and a and isinstance(bm, dict) and isinstance(am, dict):
        bsize, asize = (bm.get("width"), bm.get("height")), (am.get("width"), am.get("height"))
        if bsize != asize:
            changes.append(f"size {bsize[0]}x{bsize[1]} → {asize[0]}x{asize[1]}")
        if bm.get("fps") != am.get("fps"):
            changes.append(f"fps {bm.get('fps')} → {am.get('fps')}")
    return changes


def draft_ready(draft: Any) -> bool:
    return bool(_segments(draft))
