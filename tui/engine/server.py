"""The embedded engine's HTTP service: the cloud protocol on loopback (Starlette + uvicorn)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import re
import secrets
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tui.engine import agent
from tui.engine.jobs import JobRunner
from tui.engine.media import TooLarge, Unsupported, store_stream
from tui.engine.store import Store, TokenInfo
from tui.protocol import (
    ACCEPTED_TYPES,
    APP_NAME,
    FILE_TOO_LARGE,
    MAX_UPLOAD_BYTES,
    OUT_OF_CREDITS,
    RATE_LIMITED,
    SESSION_NOT_FOUND,
    TOKEN_EXPIRED,
    UNSUPPORTED_TYPE,
    envelope,
)

log = logging.getLogger("i2v.engine")

RATE_PER_SECOND = 20
MAX_ACTIVE_RENDERS = 2
HEARTBEAT_SECONDS = 15.0


class ApiFailure(Exception):
    def __init__(self, http: int, code: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.http, self.code, self.message, self.headers = http, code, message, headers or {}


def ok(data: Any) -> JSONResponse:
    return JSONResponse(envelope(data))


def fail(exc: ApiFailure) -> JSONResponse:
    return JSONResponse(envelope(None, exc.code, exc.message), exc.http, headers=exc.headers)


class Engine:
    """State and handlers; `app` is the Starlette application."""

    def __init__(self, data_dir: Path, workers: int | None = None):
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = Store(self.data_dir / "engine.sqlite3")
        self.media_dir = self.data_dir / "media"
        self.jobs = JobRunner(self.store, self.data_dir / "renders", workers)
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self.app = Starlette(
            routes=[
                Route(
                    "/api/auth/anonymous-token",
                    self.h(self.anonymous_token, auth=False),
                    methods=["POST"],
                ),
                Route(
                    "/api/tasks/me/with-session/nemo_agent",
                    self.h(self.new_session),
                    methods=["POST"],
                ),
                Route("/run_sse", self.h(self.run_sse), methods=["POST"]),
                Route(
                    "/api/upload-video/nemo_agent/me/{sid}", self.h(self.upload), methods=["POST"]
                ),
                Route("/api/credits/balance/simple", self.h(self.credits), methods=["GET"]),
                Route("/api/state/nemo_agent/me/{sid}/latest", self.h(self.state), methods=["GET"]),
                Route("/api/render/proxy/lambda", self.h(self.render), methods=["POST"]),
                Route(
                    "/api/render/proxy/lambda/{rid}", self.h(self.render_status), methods=["GET"]
                ),
                Route(
                    "/api/render/proxy/lambda/{rid}/cancel", self.h(self.cancel), methods=["POST"]
                ),
                Route(
                    "/api/render/proxy/{rid}/download",
                    self.h(self.download),
                    methods=["GET", "HEAD"],
                ),
                Route("/health", self.health, methods=["GET"]),
            ],
            lifespan=self._lifespan,
        )

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self.jobs.warm()
        n = self.jobs.resume()
        if n:
            log.info("resumed %d render job(s)", n)
        try:
            yield
        finally:
            self.jobs.shutdown()
            self.store.close()

    # ---- plumbing --------------------------------------------------------------------------

    def h(self, fn: Callable, auth: bool = True) -> Callable:
        async def handler(request: Request) -> Response:
            try:
                user = self._auth(request) if auth else None
                return await (fn(request, user) if auth else fn(request))
            except ApiFailure as exc:
                return fail(exc)
            except json.JSONDecodeError:
                return fail(ApiFailure(400, 400, "the body is not valid JSON"))
            except Exception:  # never a bare 500 without an envelope
                log.exception("internal error on %s", request.url.path)
                return fail(ApiFailure(500, 500, "internal error in the local engine"))

        return handler

    def _auth(self, request: Request) -> TokenInfo:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        info = self.store.token(token) if token else None
        if info is None or info.expires_at < time.time():
            raise ApiFailure(401, TOKEN_EXPIRED, "token expired or invalid")
        hits = self._hits[info.token]
        now = time.monotonic()
        while hits and now - hits[0] > 1.0:
            hits.popleft()
        if len(hits) >= RATE_PER_SECOND:
            retry = max(1, math.ceil(1.0 - (now - hits[0])))
            raise ApiFailure(429, RATE_LIMITED, "too many requests", {"Retry-After": str(retry)})
        hits.append(now)
        return info

    def _session(self, sid: Any, user: TokenInfo):
        row = self.store.session(sid, user.user_id)
        if row is None:
            raise ApiFailure(404, SESSION_NOT_FOUND, f"session {sid} not found")
        return row

    async def _json(self, request: Request) -> dict:
        body = await request.body()
        if not body:
            return {}
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ApiFailure(400, 400, "the body must be a JSON object")
        return data

    async def health(self, request: Request) -> Response:
        return ok({"status": "ok"})

    # ---- endpoints -------------------------------------------------------------------------

    async def anonymous_token(self, request: Request) -> Response:
        client_id = request.headers.get("x-client-id", "").strip()
        if not client_id or len(client_id) > 100:
            raise ApiFailure(400, 400, "missing X-Client-Id header")
        info, credits = self.store.new_token(client_id)
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(info.expires_at))
        return ok(
            {
                "token": info.token,
                "user_id": info.user_id,
                "expires_at": expires,
                "credits": credits,
            }
        )

    async def new_session(self, request: Request, user: TokenInfo) -> Response:
        body = await self._json(request)
        name = body.get("task_name", "project")
        lang = body.get("language", "en")
        if not isinstance(name, str) or not isinstance(lang, str) or len(name) > 200:
            raise ApiFailure(400, 400, "task_name and language must be short strings")
        row = self.store.new_session(user.user_id, name, lang)
        return ok(
            {
                "task_id": row["task_id"],
                "session_id": str(row["session_id"]),
                "user_id": user.user_id,
            }
        )

    async def credits(self, request: Request, user: TokenInfo) -> Response:
        available, frozen = self.store.credits(user.user_id)
        return ok({"available": available, "frozen": frozen, "total": available + frozen})

    async def state(self, request: Request, user: TokenInfo) -> Response:
        row = self._session(request.path_params["sid"], user)
        sid = row["session_id"]
        media = [self._media_json(m) for m in self.store.session_media(sid)]
        draft = self.store.draft(sid)
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
                        "width": draft["m"]["width"],
                        "height": draft["m"]["height"],
                        "fps": draft["m"]["fps"],
                    },
                },
            }
        )

    @staticmethod
    def _media_json(m) -> dict:
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

    async def upload(self, request: Request, user: TokenInfo) -> Response:
        row = self._session(request.path_params["sid"], user)
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > MAX_UPLOAD_BYTES + 1_000_000:
            raise ApiFailure(413, FILE_TOO_LARGE, "file too large: the limit is 200 MB")
        ctype = request.headers.get("content-type", "")
        if ctype.startswith("application/json"):
            raise ApiFailure(400, 400, "URL imports are not available offline; upload the file")
        if not ctype.startswith("multipart/form-data"):
            raise ApiFailure(400, 400, "send the files as multipart/form-data, field 'files'")
        files = []
        try:
            async with request.form(max_files=20) as form:
                uploads = form.getlist("files")
                if not uploads:
                    raise ApiFailure(400, 400, "no 'files' field in the upload")
                for up in uploads:
                    if isinstance(up, str):
                        raise ApiFailure(400, 400, "'files' must be file parts")
                    name = Path(up.filename or "upload").name[:200]
                    ext = Path(name).suffix.lower().lstrip(".")
                    if ext and ext not in ACCEPTED_TYPES:
                        raise ApiFailure(
                            415, UNSUPPORTED_TYPE, f"{name}: unsupported file type '.{ext}'"
                        )

                    async def chunks(up=up) -> AsyncIterator[bytes]:
                        while chunk := await up.read(1 << 20):
                            yield chunk

                    try:
                        stored = await store_stream(chunks(), self.media_dir)
                    except TooLarge:
                        raise ApiFailure(
                            413, FILE_TOO_LARGE, f"{name}: file too large, the limit is 200 MB"
                        ) from None
                    except Unsupported as exc:
                        why = f" ({exc})" if str(exc) else ""
                        raise ApiFailure(
                            415,
                            UNSUPPORTED_TYPE,
                            f"{name}: not a supported image, video or audio file{why}",
                        ) from None
                    self.store.add_media(row["session_id"], stored.info, stored.path, name)
                    files.append(
                        {
                            "filename": name,
                            "file_type": stored.info["file_type"],
                            "cdn_url": f"local://media/{stored.info['hash']}",
                            "width": stored.info.get("width"),
                            "height": stored.info.get("height"),
                            "duration": stored.info.get("duration"),
                            "fps": stored.info.get("fps"),
                            "hash": stored.info["hash"],
                        }
                    )
        except ApiFailure:
            raise
        except Exception as exc:
            if "multipart" in type(exc).__module__ or "MultiPart" in type(exc).__name__:
                raise ApiFailure(400, 400, f"malformed multipart body: {exc}") from None
            raise
        return ok({"files": files, "session_state_applied": True})

    async def run_sse(self, request: Request, user: TokenInfo) -> Response:
        body = await self._json(request)
        sid = body.get("session_id", body.get("sessionId"))
        msg = body.get("new_message", body.get("newMessage")) or {}
        parts = msg.get("parts") if isinstance(msg, dict) else None
        if not isinstance(parts, list):
            raise ApiFailure(400, 400, "new_message.parts must be a list")
        text = "".join(
            p.get("text", "")
            for p in parts
            if isinstance(p, dict) and isinstance(p.get("text"), str)
        )
        row = self._session(sid, user)
        session_id = row["session_id"]
        lang = "zh" if agent.is_chinese(text) else row["language"] or "en"
        media = [dict(m) for m in self.store.session_media(session_id)]
        draft = self.store.draft(session_id)
        turn = agent.plan_turn(text, draft, media, lang)
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
            return b"data: " + json.dumps(ev, ensure_ascii=False).encode() + b"\n\n"

        async def stream() -> AsyncIterator[bytes]:
            reply = turn.reply
            if turn.step:
                stepped = self.store.step_draft(session_id, turn.step)
                zh = lang.startswith("zh")
                what = "undo" if turn.step < 0 else "redo"
                call_id = "call_" + secrets.token_hex(4)
                yield event([{"functionCall": {"id": call_id, "name": what, "args": {}}}])
                if stepped is None:
                    reply = (
                        ("没有可以撤销的修改。" if turn.step < 0 else "没有可以重做的修改。")
                        if zh
                        else f"There is nothing to {what}."
                    )
                    yield event(
                        [
                            {
                                "functionResponse": {
                                    "id": call_id,
                                    "name": what,
                                    "response": {"ok": False},
                                }
                            }
                        ]
                    )
                else:
                    _, note = stepped
                    reply = (
                        f"已{'撤销' if turn.step < 0 else '重做'}：{note}"
                        if zh
                        else f"{'Undid' if turn.step < 0 else 'Redid'}: {note}."
                    )
                    yield event(
                        [
                            {
                                "functionResponse": {
                                    "id": call_id,
                                    "name": what,
                                    "response": {"ok": True},
                                }
                            }
                        ],
                        delta={"draft_version": "changed"},
                    )
            else:
                if turn.draft is not None:
                    note = "; ".join(c.zh if lang.startswith("zh") else c.en for c in turn.calls)
                    self.store.push_draft(session_id, turn.draft, note)
                for c in turn.calls:
                    call_id = "call_" + secrets.token_hex(4)
                    yield event([{"functionCall": {"id": call_id, "name": c.name, "args": c.args}}])
                    yield event(
                        [
                            {
                                "functionResponse": {
                                    "id": call_id,
                                    "name": c.name,
                                    "response": {"ok": True},
                                }
                            }
                        ]
                    )
            words = re.findall(r"\S+\s*|\s+", reply)
            for i in range(0, len(words), 4):
                yield event([{"text": "".join(words[i : i + 4])}], partial=True)
                await asyncio.sleep(0.01)
            yield event([{"text": reply}])

        return StreamingResponse(
            stream(),
            media_type="text/event-stream; charset=utf-8",
            headers={"Cache-Control": "no-cache"},
        )

    async def render(self, request: Request, user: TokenInfo) -> Response:
        missing = [
            h
            for h in ("x-skill-source", "x-skill-version", "x-skill-platform")
            if not request.headers.get(h)
        ]
        if missing:
            raise ApiFailure(402, 402, "render refused: missing " + ", ".join(missing))
        body = await self._json(request)
        sid = body.get("sessionId", body.get("session_id"))
        row = self._session(sid, user)
        draft = body.get("draft")
        if draft is None:
            draft = self.store.draft(row["session_id"])
        if not isinstance(draft, dict) or not isinstance(draft.get("t"), list):
            raise ApiFailure(400, 400, "draft must be a timeline object with a 't' list")
        if not any(isinstance(t, dict) and t.get("sg") for t in draft["t"]):
            raise ApiFailure(400, 400, "the timeline is empty: upload an image first")
        err = _check_draft(draft, {m["hash"] for m in self.store.session_media(row["session_id"])})
        if err:
            raise ApiFailure(400, 400, err)
        output = body.get("output") or {}
        quality = output.get("quality", "high") if isinstance(output, dict) else "high"
        if quality not in ("high", "standard", "draft"):
            raise ApiFailure(400, 400, "output.quality must be high, standard or draft")
        rid = str(body.get("id") or f"render_{int(time.time() * 1000)}")
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", rid):
            raise ApiFailure(400, 400, "render id may hold only letters, digits, _ and -")
        if self.store.render(rid) is not None:
            rid = f"{rid}_{secrets.token_hex(3)}"
        if self.store.running_renders(user.user_id) >= MAX_ACTIVE_RENDERS:
            raise ApiFailure(
                429,
                RATE_LIMITED,
                "two renders are already running; wait for one",
                {"Retry-After": "5"},
            )
        seconds = math.ceil(int(draft.get("d", 5000)) / 1000)
        short = min(int(draft["m"]["width"]), int(draft["m"]["height"]))
        cost = seconds * (2 if short >= 2160 else 1)
        if not self.store.create_render(rid, user.user_id, row["session_id"], draft, quality, cost):
            available, _ = self.store.credits(user.user_id)
            raise ApiFailure(
                402,
                OUT_OF_CREDITS,
                f"out of credits: this render needs {cost}, you have {available}",
            )
        self.jobs.submit(rid)
        return ok({"id": rid, "status": "pending", "progress": 0})

    def _render_row(self, request: Request, user: TokenInfo):
        rid = request.path_params["rid"]
        row = self.store.render(rid)
        if row is None or row["user_id"] != user.user_id:
            raise ApiFailure(404, 404, f"render {rid} not found")
        return row

    async def render_status(self, request: Request, user: TokenInfo) -> Response:
        row = self._render_row(request, user)
        data = {
            "id": row["id"],
            "status": row["status"],
            "progress": row["progress"],
            "createdAt": _iso(row["created_at"]),
        }
        if row["status"] == "completed":
            data["outputUrl"] = f"{request.base_url}api/render/proxy/{row['id']}/download"
        if row["completed_at"]:
            data["completedAt"] = _iso(row["completed_at"])
        if row["error"]:
            data["error"] = row["error"]
        headers = (
            {} if row["status"] in ("completed", "failed", "cancelled") else {"Retry-After": "1"}
        )
        return JSONResponse(envelope(data), headers=headers)

    async def cancel(self, request: Request, user: TokenInfo) -> Response:
        row = self._render_row(request, user)
        self.store.finish_render(row["id"], "cancelled")
        row = self.store.render(row["id"])
        return ok({"id": row["id"], "status": row["status"]})

    async def download(self, request: Request, user: TokenInfo) -> Response:
        row = self._render_row(request, user)
        if row["status"] != "completed" or not row["output"] or not Path(row["output"]).exists():
            raise ApiFailure(409, 409, f"render {row['id']} is {row['status']}, not ready")
        return FileResponse(row["output"], media_type="video/mp4", filename=f"{row['id']}.mp4")


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _check_draft(draft: dict, known: set[str]) -> str | None:
    """What is wrong with a client-sent draft, in words; None when it can be rendered."""
    m = draft.get("m")
    if not isinstance(m, dict):
        return "draft.m (metadata) is missing"
    try:
        w, h, fps, d = (
            int(m.get("width", 0)),
            int(m.get("height", 0)),
            int(m.get("fps", 30)),
            int(draft.get("d", 0)),
        )
    except (TypeError, ValueError):
        return "draft sizes must be numbers"
    if not (16 <= w <= 3840 and 16 <= h <= 3840):
        return f"canvas {w}x{h} is out of range"
    if fps not in (24, 25, 30, 60):
        return f"fps {fps} is not supported (24, 25, 30 or 60)"
    if not (1000 <= d <= 60000):
        return f"duration {d} ms is out of range (1 to 60 s)"
    for t in draft["t"]:
        if not isinstance(t, dict) or not isinstance(t.get("sg", []), list):
            return "each track must be an object with a 'sg' list"
        for s in t.get("sg", []):
            if not isinstance(s, dict):
                return "each segment must be an object"
            try:
                st, sd = int(s.get("st", 0)), int(s.get("d", 0))
            except (TypeError, ValueError):
                return "segment times must be numbers"
            if st < 0 or sd <= 0 or st + sd > 600_000:
                return f"segment {s.get('id', '?')}: bad timing ({st} ms + {sd} ms)"
            src = s.get("src")
            if t.get("tt") in (0, 1) and not (
                isinstance(src, str) and (src in known or src.startswith("builtin:"))
            ):
                return f"segment {s.get('id', '?')}: unknown source {src!r}"
    return None


def serve(
    host: str = "127.0.0.1",
    port: int = 0,
    data_dir: Path | None = None,
    workers: int | None = None,
    on_ready: Callable[[str], None] | None = None,
    watch_stdin: bool = False,
) -> None:
    """Run the engine until interrupted; `on_ready` gets the URL once the socket listens."""
    import socket
    import sys
    import threading

    import uvicorn

    from tui.paths import engine_dir

    engine = Engine(data_dir or engine_dir(), workers)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(False)
    real_port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{real_port}"
    config = uvicorn.Config(
        engine.app, log_level="warning", access_log=False, lifespan="on", timeout_keep_alive=30
    )
    server = uvicorn.Server(config)

    if watch_stdin:
        # The parent holds our stdin; when it goes away (even by kill -9) we stop too.
        def watch() -> None:
            try:
                while sys.stdin.buffer.read(1):
                    pass
            except (OSError, ValueError):
                pass
            server.should_exit = True

        threading.Thread(target=watch, daemon=True, name="i2v-parent-watch").start()

    async def main() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.005)
        if server.started and on_ready:
            on_ready(url)
        await task

    asyncio.run(main())
