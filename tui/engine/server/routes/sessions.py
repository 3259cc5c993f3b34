"""Sessions: opening one (POST /api/tasks/me/with-session/nemo_agent), reading its state (GET
/api/state/nemo_agent/me/{sid}/latest), and the lookup every session-scoped endpoint uses."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from tui.core.draft import Draft
from tui.core.protocol import SESSION_NOT_FOUND
from tui.engine.accounts import TokenInfo
from tui.engine.server.envelope import ApiFailure, bad, ok, read_json

if TYPE_CHECKING:
    from tui.engine.server.engine import Engine

MAX_NAME = 200  # characters in a task name


def owned_session(engine: Engine, sid: Any, user: TokenInfo):
    """The session row `sid` of this user; 1002 when there is none (or it is someone else's)."""
    row = engine.store.session(_session_id(sid), user.user_id)
    if row is None:
        raise ApiFailure(404, SESSION_NOT_FOUND, f"session {str(sid)[:40]} not found")
    return row


def _utf8(text: str) -> bool:
    """Whether `text` can be stored and sent back (JSON's \\ud800 escapes make lone surrogates,
    which UTF-8 cannot carry)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _session_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value < 1 << 62 else None
    if isinstance(value, str) and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


async def new_session(engine: Engine, request: Request, user: TokenInfo) -> Response:
    body = await read_json(request)
    name = body.get("task_name", "project")
    lang = body.get("language", "en")
    if not isinstance(name, str) or len(name) > MAX_NAME or not _utf8(name):
        raise bad(f"task_name must be text of at most {MAX_NAME} characters")
    if not isinstance(lang, str) or not re.fullmatch(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})?", lang):
        raise bad("language must be a language tag such as 'en' or 'zh'")
    row = engine.store.new_session(user.user_id, name, lang)
    return ok(
        {
            "task_id": row["task_id"],
            "session_id": str(row["session_id"]),
            "user_id": user.user_id,
        }
    )


async def state(engine: Engine, request: Request, user: TokenInfo) -> Response:
    row = owned_session(engine, request.path_params["sid"], user)
    sid = row["session_id"]
    media = [_media_json(m) for m in engine.store.session_media(sid)]
    draft = engine.store.draft(sid)
    canvas = Draft.from_wire(draft).meta
    return ok(
        {
            "session_id": str(sid),
            "task_id": row["task_id"],
            "task_name": row["task_name"],
            "state": {
                "draft": draft,
                "video_infos": media,
                "generated_media": [],
                "canvas_config": {
                    "width": canvas.width,
                    "height": canvas.height,
                    "fps": canvas.fps,
                },
            },
        }
    )


def _media_json(m: Any) -> dict:
    return {
        "filename": m["filename"],
        "file_type": m["file_type"],
        "cdn_url": f"local://media/{m['hash']}",
        "width": m["width"],
        "height": m["height"],
        "duration": m["duration"],
        "fps": m["fps"],
        "hash": m["hash"],
    }
