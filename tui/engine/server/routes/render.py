"""Renders: start one (POST /api/render/proxy/lambda: checked, priced, queued), poll it, cancel
it, and download the MP4 (GET or HEAD /api/render/proxy/{rid}/download; Range via FileResponse).
"""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from tui.core.protocol import OUT_OF_CREDITS, RATE_LIMITED, envelope, render_cost
from tui.core.tiers import DEFAULT_TIER, TIERS, tier_list
from tui.engine.accounts import TokenInfo
from tui.engine.server.drafts import check_draft
from tui.engine.server.envelope import ApiFailure, bad, iso, ok, pick, read_json
from tui.engine.server.routes.sessions import owned_session

if TYPE_CHECKING:
    from tui.engine.server.engine import Engine

# Per user, pending or processing, free drafts too: what bounds them (with their 540p and the
# engine's queue); the preview cancels its own older draft (tui/preview/source.py).
MAX_ACTIVE_RENDERS = 2


async def start(engine: Engine, request: Request, user: TokenInfo) -> Response:
    missing = [
        h
        for h in ("x-skill-source", "x-skill-version", "x-skill-platform")
        if not request.headers.get(h)
    ]
    if missing:
        raise ApiFailure(402, 402, "render refused: missing " + ", ".join(missing))
    body = await read_json(request)
    rid = body.get("id")
    if rid is None:
        rid = f"render_{int(time.time() * 1000)}_{secrets.token_hex(2)}"
    if not isinstance(rid, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", rid):
        raise bad("id must be 1 to 64 letters, digits, _ or -")
    sid = pick(body, "sessionId", "session_id")
    if sid is None:
        raise bad("sessionId is missing")
    row = owned_session(engine, sid, user)
    store = engine.store
    existing = store.render(rid)
    if (
        existing is not None
        and existing["user_id"] == user.user_id
        and existing["session_id"] == row["session_id"]
    ):
        # The same request again (a retry): the same job, charged once.
        return ok({"id": rid, "status": existing["status"], "progress": existing["progress"]})
    if existing is not None:  # someone else's id, or another session's: a job of its own
        rid = f"{rid[:56]}_{secrets.token_hex(3)}"
    draft = body.get("draft")
    if draft is None:
        draft = store.draft(row["session_id"])
    known = {m["hash"] for m in store.session_media(row["session_id"])}
    seconds, short = check_draft(draft, known)
    output = body.get("output")
    if output is None:
        output = {}
    if not isinstance(output, dict):
        raise bad('output must be an object like {"format": "mp4", "quality": "high"}')
    if output.get("format", "mp4") != "mp4":
        raise bad("output.format must be mp4")
    quality = output.get("quality", DEFAULT_TIER)
    if quality not in TIERS:
        raise bad(f"output.quality must be {tier_list()}")
    cost = render_cost(seconds, short, quality)
    if engine.jobs.queue_full():  # all users together: the engine's queue stays bounded
        raise ApiFailure(
            429,
            RATE_LIMITED,
            f"{engine.jobs.max_queued} renders are already waiting; try again shortly",
            {"Retry-After": "10"},
        )
    verdict = store.create_render(
        rid, user.user_id, row["session_id"], draft, quality, cost, MAX_ACTIVE_RENDERS
    )
    if verdict == "busy":
        raise ApiFailure(
            429,
            RATE_LIMITED,
            f"{MAX_ACTIVE_RENDERS} renders are already running; wait for one to finish",
            {"Retry-After": "5"},
        )
    if verdict == "credits":
        available, _ = store.credits(user.user_id)
        raise ApiFailure(
            402,
            OUT_OF_CREDITS,
            f"out of credits: this render needs {cost}, you have {available}",
        )
    engine.jobs.submit(rid)
    return ok({"id": rid, "status": "pending", "progress": 0})


def owned_render(engine: Engine, request: Request, user: TokenInfo):
    rid = request.path_params["rid"]
    row = engine.store.render(rid) if len(rid) <= 80 else None
    if row is None or row["user_id"] != user.user_id:
        raise ApiFailure(404, 404, f"render {rid[:80]} not found")
    return row


def _pruned(row) -> bool:
    return row["status"] == "completed" and not row["output"] and bool(row["error"])


async def status(engine: Engine, request: Request, user: TokenInfo) -> Response:
    row = owned_render(engine, request, user)
    held = False
    if row["status"] in ("pending", "processing"):
        # Answered as it settles, or in a second (tui/engine/server/render_waits.py).
        held = await engine.render_waits.hold(row["id"])
        row = engine.store.render(row["id"]) or row
    data = {
        "id": row["id"],
        "status": row["status"],
        "progress": row["progress"],
        "createdAt": iso(row["created_at"]),
    }
    if _pruned(row):  # its MP4 went to the storage limits (tui/engine/prune.py)
        data["pruned"] = True
    elif row["status"] == "completed":
        data["outputUrl"] = f"{request.base_url}api/render/proxy/{row['id']}/download"
    if row["completed_at"]:
        data["completedAt"] = iso(row["completed_at"])
    if row["error"]:
        data["error"] = row["error"]
    running = row["status"] in ("pending", "processing")
    # Held a second already: ask again at once (and be held again).
    wait = {"Retry-After": "0" if held else "1"} if running else {}
    return JSONResponse(envelope(data), headers=wait)


async def cancel(engine: Engine, request: Request, user: TokenInfo) -> Response:
    row = owned_render(engine, request, user)
    if engine.store.finish_render(row["id"], "cancelled"):
        engine.jobs.cancel(row["id"])  # a queued job leaves the queue; a running one stops
        engine.render_waits.settled(row["id"])
    row = engine.store.render(row["id"])
    return ok({"id": row["id"], "status": row["status"]})


async def download(engine: Engine, request: Request, user: TokenInfo) -> Response:
    row = owned_render(engine, request, user)
    if _pruned(row):
        raise ApiFailure(404, 404, f"render {row['id']}: {row['error']}")
    if row["status"] != "completed" or not row["output"] or not Path(row["output"]).exists():
        raise ApiFailure(409, 409, f"render {row['id']} is {row['status']}, not ready")
    return FileResponse(row["output"], media_type="video/mp4", filename=f"{row['id']}.mp4")
