"""POST /run_sse: one agent turn, streamed as server-sent events.

The turn itself (plan, then apply to the draft) runs in a thread, so heartbeats flow while it
works; the stream then gives each tool call and its result, the reply in partial chunks, and the
whole reply last.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from tui.core.protocol import APP_NAME
from tui.engine.accounts import TokenInfo
from tui.engine.server.envelope import bad, pick, read_json
from tui.engine.server.routes.sessions import owned_session
from tui.engine.server.sse import frame, heartbeats_until_done

if TYPE_CHECKING:
    from tui.engine.server.engine import Engine

log = logging.getLogger("i2v.engine")

# Characters in one agent message: an instruction is a few sentences; the agent reads any
# message up to this in well under a second (tests/bench/bench_agent.py).
MAX_TEXT = 2_000

Calls = list[tuple[str, dict, bool]]  # (tool name, args, applied)


async def run_sse(engine: Engine, request: Request, user: TokenInfo) -> Response:
    body = await read_json(request)
    sid = pick(body, "session_id", "sessionId")
    if sid is None:
        raise bad("session_id is missing")
    msg = pick(body, "new_message", "newMessage")
    parts = msg.get("parts") if isinstance(msg, dict) else None
    if not isinstance(parts, list) or not all(isinstance(p, dict) for p in parts):
        raise bad('new_message.parts must be a list of objects like {"text": ...}')
    if any("text" in p and not isinstance(p["text"], str) for p in parts):
        raise bad("new_message.parts[].text must be a string")
    text = "".join(p.get("text", "") for p in parts)
    if len(text) > MAX_TEXT:
        raise bad(
            f"the message is {len(text):,} characters long; the assistant reads at most"
            f" {MAX_TEXT:,}: say it in fewer words"
        )
    streaming = body.get("streaming", True) is not False  # False: only the full text
    row = owned_session(engine, sid, user)  # 1002 before any stream starts
    session_id = row["session_id"]
    from tui.engine import agent

    lang = "zh" if agent.is_chinese(text) else row["language"] or "en"
    invocation = "e-" + secrets.token_hex(8)

    def event(parts: list[dict], partial: bool = False, delta: dict | None = None) -> bytes:
        ev: dict[str, Any] = {
            "id": secrets.token_urlsafe(6),
            "invocationId": invocation,
            "author": APP_NAME,
            "timestamp": time.time(),
            "content": {"role": "model", "parts": parts},
            "actions": {"stateDelta": delta or {}, "artifactDelta": {}},
        }
        if partial:
            ev["partial"] = True
        return frame(ev)

    async def locked_turn() -> tuple[Calls, str]:
        # Turns on one session run one at a time (each reads the draft the last one left).
        async with engine.turn_lock(session_id):
            return await asyncio.to_thread(_turn, engine, session_id, text, lang)

    async def stream() -> AsyncIterator[bytes]:
        # The turn is its own task: a client that goes away mid-turn does not stop it (the
        # change is kept and the client reads it from the state, never re-sending the turn).
        task = asyncio.create_task(locked_turn())
        engine.turns.add(task)
        task.add_done_callback(engine.turns.discard)
        async for beat in heartbeats_until_done(task, engine.heartbeat):
            yield beat
        try:
            calls, reply = task.result()
        except Exception as exc:
            log.exception("agent turn failed on session %s", session_id)
            err = {
                "id": secrets.token_urlsafe(6),
                "invocationId": invocation,
                "author": APP_NAME,
                "timestamp": time.time(),
                "errorCode": "AGENT_ERROR",
                "errorMessage": f"the assistant failed on this message: {exc}"[:300],
            }
            yield frame(err)
            return
        for name, args, done_ok in calls:
            call_id = "call_" + secrets.token_hex(4)
            yield event([{"functionCall": {"id": call_id, "name": name, "args": args}}])
            yield event(
                [
                    {
                        "functionResponse": {
                            "id": call_id,
                            "name": name,
                            "response": {"ok": done_ok},
                        }
                    }
                ],
                delta={"draft_version": "changed"} if done_ok else None,
            )
        words = re.findall(r"\S+\s*|\s+", reply) if streaming else []
        for i in range(0, len(words), 4):
            yield event([{"text": "".join(words[i : i + 4])}], partial=True)
            await asyncio.sleep(0)  # sent as it comes (no pause: nothing is being waited for)
        yield event([{"text": reply}])

    return StreamingResponse(
        stream(),
        media_type="text/event-stream; charset=utf-8",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _turn(engine: Engine, session_id: int, text: str, lang: str) -> tuple[Calls, str]:
    """In a thread: plan the turn and apply it. Returns (calls as (name, args, ok), reply)."""
    if engine.turn_delay:
        # A slow turn for tests; it ends at shutdown, so the process never waits it out (the
        # thread pool is joined as the engine stops).
        engine.stopping.wait(engine.turn_delay)
    from tui.engine import agent

    store = engine.store
    media = [dict(m) for m in store.session_media(session_id)]
    draft = store.draft(session_id)
    turn = agent.plan_turn(text, draft, media, lang)
    zh = lang.startswith("zh")
    if turn.step:
        what = "undo" if turn.step < 0 else "redo"
        stepped = store.step_draft(session_id, turn.step)
        if stepped is None:
            if zh:
                reply = "没有可以撤销的修改。" if turn.step < 0 else "没有可以重做的修改。"
            else:
                reply = f"There is nothing to {what}."
            return [(what, {}, False)], reply
        restored, note = stepped
        if zh:
            reply = f"已{'撤销' if turn.step < 0 else '重做'}：{note}"
        else:
            reply = f"{'Undid' if turn.step < 0 else 'Redid'}: {note}."
        calls: Calls = [(what, {}, True)]
        if turn.then:  # "undo and make it 5 s": the rest, a turn of its own on the restored draft
            rest = agent.plan_turn(turn.then, restored, media, lang)
            if rest.draft is not None:
                rest_note = "; ".join(c.zh if zh else c.en for c in rest.calls)
                store.push_draft(session_id, rest.draft, rest_note)
                calls += [(c.name, c.args, True) for c in rest.calls]
                reply += ("。" if zh else " ") + rest.reply
        return calls, reply
    if turn.draft is not None:
        note = "; ".join(c.zh if zh else c.en for c in turn.calls)
        store.push_draft(session_id, turn.draft, note)
    return [(c.name, c.args, True) for c in turn.calls], turn.reply
