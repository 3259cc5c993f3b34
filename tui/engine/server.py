"""The embedded engine's HTTP service: the cloud protocol on loopback (Starlette + uvicorn).

Every answer but the event stream and the MP4 is the engine envelope `{"code", "message", "data"}`
with a fitting HTTP status; a request the engine cannot use gets a 4xx that says what is wrong,
never a bare 500. Uploads are parsed as they arrive (python-multipart's streaming parser) and
written straight to disk. Agent turns run in a thread, so heartbeats flow while they work.

URL imports (`{"urls": [...], "source_type": "url"}`): the engine works offline, so it fetches
nothing from the network; it accepts `file://` URLs of files on this machine, and only while it
listens on loopback (where the client is on this machine too). Anything else gets a 400 that says
to upload the file itself.
"""

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
from urllib.parse import unquote, urlsplit

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tui.engine.hosts import is_loopback
from tui.engine.jobs import JobRunner
from tui.engine.media import (
    Stored,
    TooLarge,
    Unsupported,
    UploadSink,
    clean_partial,
    sniff,
    store_file,
)
from tui.engine.store import Store, TokenInfo
from tui.protocol import (
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
WARM_AFTER = 3.0  # seconds after start: start a render worker, load the agent (see _lifespan)
JSON_LIMIT = 1 << 20  # a JSON body (a draft is a few kB)
MAX_FILES = 20  # files in one upload request
MAX_TEXT = 20_000  # characters in one agent message
MAX_SECONDS = 60  # longest clip the engine renders
BAD = 400  # the envelope code of a request the engine cannot use


class ApiFailure(Exception):
    def __init__(self, http: int, code: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.http, self.code, self.message, self.headers = http, code, message, headers or {}


def bad(message: str, http: int = 400) -> ApiFailure:
    return ApiFailure(http, BAD, message)


def ok(data: Any) -> JSONResponse:
    return JSONResponse(envelope(data))


def fail(exc: ApiFailure) -> JSONResponse:
    return JSONResponse(envelope(None, exc.code, exc.message), exc.http, headers=exc.headers)


class Engine:
    """State and handlers; `app` is the Starlette application.

    `heartbeat` is the longest silence in an agent turn's stream (seconds); `turn_delay` makes
    every turn work that much longer (a testing knob: it shows the heartbeats); `loopback` says
    the server listens on loopback only (Host header check, `file://` imports).
    """

    def __init__(
        self,
        data_dir: Path,
        workers: int | None = None,
        *,
        heartbeat: float = HEARTBEAT_SECONDS,
        turn_delay: float = 0.0,
        loopback: bool = True,
    ):
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = Store(self.data_dir / "engine.sqlite3")
        self.media_dir = self.data_dir / "media"
        self.jobs = JobRunner(self.store, self.data_dir / "renders", workers)
        self.heartbeat = max(0.01, float(heartbeat))
        self.turn_delay = max(0.0, float(turn_delay))
        self.loopback = loopback
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._turn_locks: dict[int, asyncio.Lock] = {}
        self._turns: set[asyncio.Task] = set()
        routes = [
            ("/api/auth/anonymous-token", self.anonymous_token, ["POST"], False),
            ("/api/tasks/me/with-session/nemo_agent", self.new_session, ["POST"], True),
            ("/run_sse", self.run_sse, ["POST"], True),
            ("/api/upload-video/nemo_agent/me/{sid}", self.upload, ["POST"], True),
            ("/api/credits/balance/simple", self.credits, ["GET"], True),
            ("/api/state/nemo_agent/me/{sid}/latest", self.state, ["GET"], True),
            ("/api/render/proxy/lambda", self.render, ["POST"], True),
            ("/api/render/proxy/lambda/{rid}", self.render_status, ["GET"], True),
            ("/api/render/proxy/lambda/{rid}/cancel", self.cancel, ["POST"], True),
            ("/api/render/proxy/{rid}/download", self.download, ["GET", "HEAD"], True),
            ("/health", self.health, ["GET"], False),
        ]
        self.app = Starlette(
            routes=[Route(path, self.h(fn, auth), methods=m) for path, fn, m, auth in routes],
            exception_handlers={HTTPException: self._http_error},
            lifespan=self._lifespan,
        )

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        clean_partial(self.media_dir)
        n = self.jobs.resume()
        if n:
            log.info("resumed %d render job(s)", n)
        # Start-up answers the app's first requests (token, session, state) on its own: the
        # render worker (a process importing av, cv2 and numpy) and the agent's tables load a
        # little later, or at the first upload, so they never compete with the app's start.
        warm = asyncio.get_running_loop().call_later(WARM_AFTER, self._warm_up)
        try:
            yield
        finally:
            warm.cancel()
            self.jobs.shutdown()
            self.store.close()

    def _warm_up(self) -> None:
        from tui.engine import agent  # noqa: F401  (its tables, before the first turn)

        self.jobs.warm()

    # ---- plumbing --------------------------------------------------------------------------

    def h(self, fn: Callable, auth: bool = True) -> Callable:
        async def handler(request: Request) -> Response:
            try:
                self._check_host(request)
                user = self._auth(request) if auth else None
                return await (fn(request, user) if auth else fn(request))
            except ApiFailure as exc:
                return fail(exc)
            except ClientDisconnect:
                return Response(status_code=400)  # nobody is listening
            except Exception:  # never a bare 500 without an envelope
                log.exception("internal error on %s", request.url.path)
                return fail(ApiFailure(500, 500, "internal error in the local engine"))

        return handler

    async def _http_error(self, request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        words = {404: "no such endpoint", 405: "method not allowed on this endpoint"}
        return fail(ApiFailure(status, status, words.get(status, str(exc))))

    def _check_host(self, request: Request) -> None:
        # On loopback, a page in a browser that rebinds its DNS name to 127.0.0.1 must not reach
        # us: only loopback names are accepted in Host.
        if not self.loopback:
            return
        host = request.headers.get("host", "")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if host and not is_loopback(name):
            raise bad(f"Host {host!r} is not this machine's loopback address")

    def _auth(self, request: Request) -> TokenInfo:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        info = self.store.token(token) if token and len(token) < 200 else None
        if info is None or info.expires_at < time.time():
            raise ApiFailure(401, TOKEN_EXPIRED, "token expired or invalid")
        self._rate(info.token)
        return info

    def _rate(self, key: str) -> None:
        """At most RATE_PER_SECOND requests in any second per key (a token, or a client id)."""
        now = time.monotonic()
        if len(self._hits) > 10_000:  # forget idle keys
            for k in [k for k, v in self._hits.items() if not v or now - v[-1] > 1.0]:
                del self._hits[k]
        hits = self._hits[key]
        while hits and now - hits[0] > 1.0:
            hits.popleft()
        if len(hits) >= RATE_PER_SECOND:
            retry = max(1, math.ceil(1.0 - (now - hits[0])))
            raise ApiFailure(
                429,
                RATE_LIMITED,
                f"too many requests: at most {RATE_PER_SECOND} a second",
                {"Retry-After": str(retry)},
            )
        hits.append(now)

    def _session(self, sid: Any, user: TokenInfo):
        row = self.store.session(_session_id(sid), user.user_id)
        if row is None:
            raise ApiFailure(404, SESSION_NOT_FOUND, f"session {str(sid)[:40]} not found")
        return row

    async def _json(self, request: Request) -> dict:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > JSON_LIMIT:
                raise bad("the JSON body is over 1 MB", 413)
        if not body.strip():
            return {}
        try:
            data = json.loads(bytes(body), parse_constant=_no_constant)
        except (ValueError, RecursionError) as exc:
            raise bad(f"the body is not valid JSON: {exc}"[:300]) from None
        if not isinstance(data, dict):
            raise bad("the body must be a JSON object")
        return data

    async def health(self, request: Request) -> Response:
        return ok({"status": "ok"})

    # ---- tokens, sessions, credits, state --------------------------------------------------

    async def anonymous_token(self, request: Request) -> Response:
        client_id = request.headers.get("x-client-id", "").strip()
        if not client_id or len(client_id) > 100:
            raise ApiFailure(400, 400, "missing X-Client-Id header")
        self._rate("client:" + client_id)
        info, credits = self.store.new_token(client_id)
        return ok(
            {
                "token": info.token,
                "user_id": info.user_id,
                "expires_at": _iso(info.expires_at),
                "credits": credits,
            }
        )

    async def new_session(self, request: Request, user: TokenInfo) -> Response:
        body = await self._json(request)
        name = body.get("task_name", "project")
        lang = body.get("language", "en")
        if not isinstance(name, str) or len(name) > 200:
            raise bad("task_name must be a string of at most 200 characters")
        if not isinstance(lang, str) or not re.fullmatch(
            r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})?", lang
        ):
            raise bad("language must be a language tag such as 'en' or 'zh'")
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
        m = draft.get("m") if isinstance(draft.get("m"), dict) else {}
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
                        "width": m.get("width"),
                        "height": m.get("height"),
                        "fps": m.get("fps"),
                    },
                },
            }
        )

    @staticmethod
    def _media_json(m: Any, filename: str | None = None) -> dict:
        return {
            "filename": filename if filename is not None else m["filename"],
            "file_type": m["file_type"],
            "cdn_url": f"local://media/{m['hash']}",
            "width": m["width"],
            "height": m["height"],
            "duration": m["duration"],
            "fps": m["fps"],
            "hash": m["hash"],
        }

    # ---- uploads ---------------------------------------------------------------------------

    async def upload(self, request: Request, user: TokenInfo) -> Response:
        row = self._session(request.path_params["sid"], user)
        self.jobs.warm()  # a render is likely to follow: have a worker ready by then
        ctype = request.headers.get("content-type", "")
        mtype, params = parse_options_header(ctype)
        if mtype == b"application/json":
            stored = await self._import_urls(request)
        elif mtype == b"multipart/form-data" and params.get(b"boundary"):
            stored = await self._receive_files(request, params[b"boundary"])
        else:
            raise bad(
                "send the files as multipart/form-data (field 'files'), or JSON"
                ' {"urls": [...], "source_type": "url"}'
            )
        files = []
        for name, st in stored:
            info = st.info
            self.store.add_media(row["session_id"], info, st.path, name)
            files.append(
                {
                    "filename": name,
                    "file_type": info["file_type"],
                    "cdn_url": f"local://media/{info['hash']}",
                    "width": info.get("width"),
                    "height": info.get("height"),
                    "duration": info.get("duration"),
                    "fps": info.get("fps"),
                    "hash": info["hash"],
                }
            )
        return ok({"files": files, "session_state_applied": True})

    async def _receive_files(self, request: Request, boundary: bytes) -> list[tuple[str, Stored]]:
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_FILES * (MAX_UPLOAD_BYTES + (1 << 20)):
            raise ApiFailure(413, FILE_TOO_LARGE, "file too large: the limit is 200 MB a file")
        parts = _Parts(self.media_dir)
        parser = MultipartParser(boundary, parts.callbacks())
        try:
            async for chunk in request.stream():
                parser.write(chunk)  # parts raise as soon as a file is too large or not media
            parser.finalize()
            if not parts.ended:
                raise bad("the multipart body ended early (no closing boundary)")
            if not parts.done:
                raise bad("no 'files' part in the upload")
            out = []
            for name, sink in parts.done:
                try:
                    out.append((name, await asyncio.to_thread(sink.finish)))
                except Unsupported as exc:
                    raise _unsupported(name, exc) from None
            return out
        except TooLarge:
            raise ApiFailure(
                413, FILE_TOO_LARGE, f"{parts.name}: file too large, the limit is 200 MB"
            ) from None
        except Unsupported as exc:
            raise _unsupported(parts.name, exc) from None
        except ApiFailure:
            raise
        except Exception as exc:
            if isinstance(exc, ClientDisconnect):
                raise
            if "multipart" in type(exc).__module__:
                raise bad(f"malformed multipart body: {exc}"[:300]) from None
            raise
        finally:
            parts.abort()

    async def _import_urls(self, request: Request) -> list[tuple[str, Stored]]:
        body = await self._json(request)
        urls = body.get("urls")
        source = body.get("source_type", "url")
        if source != "url":
            raise bad("source_type must be 'url'")
        if not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls):
            raise bad("urls must be a non-empty list of URL strings")
        if len(urls) > MAX_FILES:
            raise bad(f"at most {MAX_FILES} URLs in one request")
        out = []
        for url in urls:
            try:
                parts = urlsplit(url)
            except ValueError:
                raise bad(f"not a URL: {url[:100]!r}") from None
            if parts.scheme in ("http", "https"):
                raise bad(
                    "the local engine works offline and fetches nothing from the network: upload"
                    " the file itself, or give a file:// URL of a file on this machine"
                )
            if parts.scheme != "file":
                raise bad(f"unsupported URL {url[:100]!r}: only file:// URLs are imported")
            if not self.loopback:
                raise bad("file:// URLs are imported only when the engine listens on loopback")
            if parts.netloc not in ("", "localhost"):
                raise bad(f"{url[:100]!r}: a file:// URL must name a file on this machine")
            path = Path(unquote(parts.path))
            if not path.is_absolute() or not path.is_file():
                raise bad(f"{url[:100]!r}: no such file on this machine")
            name = _safe_name(path.name)
            try:
                out.append((name, await asyncio.to_thread(store_file, path, self.media_dir)))
            except TooLarge:
                raise ApiFailure(
                    413, FILE_TOO_LARGE, f"{name}: file too large, the limit is 200 MB"
                ) from None
            except Unsupported as exc:
                raise _unsupported(name, exc) from None
            except OSError as exc:
                raise bad(f"{name}: cannot read it ({exc.strerror})") from None
        return out

    # ---- the agent turn --------------------------------------------------------------------

    async def run_sse(self, request: Request, user: TokenInfo) -> Response:
        body = await self._json(request)
        sid = _pick(body, "session_id", "sessionId")
        if sid is None:
            raise bad("session_id is missing")
        msg = _pick(body, "new_message", "newMessage")
        parts = msg.get("parts") if isinstance(msg, dict) else None
        if not isinstance(parts, list) or not all(isinstance(p, dict) for p in parts):
            raise bad('new_message.parts must be a list of objects like {"text": ...}')
        if any("text" in p and not isinstance(p["text"], str) for p in parts):
            raise bad("new_message.parts[].text must be a string")
        text = "".join(p.get("text", "") for p in parts)
        if len(text) > MAX_TEXT:
            raise bad(f"the message is over {MAX_TEXT} characters")
        streaming = body.get("streaming", True) is not False  # False: only the full text
        row = self._session(sid, user)  # 1002 before any stream starts
        session_id = row["session_id"]
        from tui.engine import agent

        lang = "zh" if agent.is_chinese(text) else row["language"] or "en"
        invocation = "e-" + secrets.token_hex(8)
        lock = self._turn_locks.setdefault(session_id, asyncio.Lock())

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

        async def locked_turn() -> tuple[list[tuple[str, dict, bool]], str]:
            # Turns on one session run one at a time (each reads the draft the last one left).
            async with lock:
                return await asyncio.to_thread(self._turn, session_id, text, lang)

        async def stream() -> AsyncIterator[bytes]:
            # The turn is its own task: a client that goes away mid-turn does not stop it (the
            # change is kept and the client reads it from the state, never re-sending the turn).
            task = asyncio.create_task(locked_turn())
            self._turns.add(task)
            task.add_done_callback(self._turns.discard)
            while not task.done():
                done, _ = await asyncio.wait({task}, timeout=self.heartbeat)
                if not done:
                    yield b'data: {"type": "heartbeat"}\n\n'
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
                yield b"data: " + json.dumps(err, ensure_ascii=False).encode() + b"\n\n"
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
                await asyncio.sleep(0.01)
            yield event([{"text": reply}])

        return StreamingResponse(
            stream(),
            media_type="text/event-stream; charset=utf-8",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    def _turn(self, session_id: int, text: str, lang: str) -> tuple[list, str]:
        """In a thread: plan the turn and apply it. Returns (calls as (name, args, ok), reply)."""
        if self.turn_delay:
            time.sleep(self.turn_delay)
        from tui.engine import agent

        media = [dict(m) for m in self.store.session_media(session_id)]
        draft = self.store.draft(session_id)
        turn = agent.plan_turn(text, draft, media, lang)
        zh = lang.startswith("zh")
        if turn.step:
            what = "undo" if turn.step < 0 else "redo"
            stepped = self.store.step_draft(session_id, turn.step)
            if stepped is None:
                if zh:
                    reply = "没有可以撤销的修改。" if turn.step < 0 else "没有可以重做的修改。"
                else:
                    reply = f"There is nothing to {what}."
                return [(what, {}, False)], reply
            _, note = stepped
            if zh:
                reply = f"已{'撤销' if turn.step < 0 else '重做'}：{note}"
            else:
                reply = f"{'Undid' if turn.step < 0 else 'Redid'}: {note}."
            return [(what, {}, True)], reply
        if turn.draft is not None:
            note = "; ".join(c.zh if zh else c.en for c in turn.calls)
            self.store.push_draft(session_id, turn.draft, note)
        return [(c.name, c.args, True) for c in turn.calls], turn.reply

    # ---- renders ---------------------------------------------------------------------------

    async def render(self, request: Request, user: TokenInfo) -> Response:
        missing = [
            h
            for h in ("x-skill-source", "x-skill-version", "x-skill-platform")
            if not request.headers.get(h)
        ]
        if missing:
            raise ApiFailure(402, 402, "render refused: missing " + ", ".join(missing))
        body = await self._json(request)
        rid = body.get("id")
        if rid is None:
            rid = f"render_{int(time.time() * 1000)}_{secrets.token_hex(2)}"
        if not isinstance(rid, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", rid):
            raise bad("id must be 1 to 64 letters, digits, _ or -")
        sid = _pick(body, "sessionId", "session_id")
        if sid is None:
            raise bad("sessionId is missing")
        row = self._session(sid, user)
        existing = self.store.render(rid)
        if existing is not None and existing["user_id"] == user.user_id:
            # The same request again (a retry): the same job, charged once.
            return ok({"id": rid, "status": existing["status"], "progress": existing["progress"]})
        if existing is not None:
            rid = f"{rid[:56]}_{secrets.token_hex(3)}"
        draft = body.get("draft")
        if draft is None:
            draft = self.store.draft(row["session_id"])
        known = {m["hash"] for m in self.store.session_media(row["session_id"])}
        seconds, short = _check_draft(draft, known)
        output = body.get("output")
        if output is None:
            output = {}
        if not isinstance(output, dict):
            raise bad('output must be an object like {"format": "mp4", "quality": "high"}')
        if output.get("format", "mp4") != "mp4":
            raise bad("output.format must be mp4")
        quality = output.get("quality", "high")
        if quality not in ("high", "standard", "draft"):
            raise bad("output.quality must be high, standard or draft")
        cost = seconds * (2 if short >= 2160 else 1)
        verdict = self.store.create_render(
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
        row = self.store.render(rid) if len(rid) <= 80 else None
        if row is None or row["user_id"] != user.user_id:
            raise ApiFailure(404, 404, f"render {rid[:80]} not found")
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
        running = row["status"] in ("pending", "processing")
        return JSONResponse(envelope(data), headers={"Retry-After": "1"} if running else {})

    async def cancel(self, request: Request, user: TokenInfo) -> Response:
        row = self._render_row(request, user)
        if self.store.finish_render(row["id"], "cancelled"):
            self.jobs.cancel(row["id"])  # a queued job leaves the queue; a running one stops
        row = self.store.render(row["id"])
        return ok({"id": row["id"], "status": row["status"]})

    async def download(self, request: Request, user: TokenInfo) -> Response:
        row = self._render_row(request, user)
        if row["status"] != "completed" or not row["output"] or not Path(row["output"]).exists():
            raise ApiFailure(409, 409, f"render {row['id']} is {row['status']}, not ready")
        return FileResponse(row["output"], media_type="video/mp4", filename=f"{row['id']}.mp4")


class _Parts:
    """python-multipart callbacks: each `files` part goes to an UploadSink as it arrives; other
    fields are skipped. Raises TooLarge or Unsupported from inside `parser.write`, so reading
    stops at once."""

    def __init__(self, media_dir: Path):
        self.media_dir = media_dir
        self.done: list[tuple[str, UploadSink]] = []
        self.sink: UploadSink | None = None
        self.name = "upload"
        self.sniffed = False
        self.ended = False
        self.headers: dict[bytes, bytes] = {}
        self._field = b""
        self._value = b""

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_end": self.on_end,
        }

    def on_part_begin(self) -> None:
        self.headers, self._field, self._value = {}, b"", b""

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        self.headers[self._field.strip().lower()] = self._value.strip()
        self._field, self._value = b"", b""

    def on_headers_finished(self) -> None:
        _, params = parse_options_header(self.headers.get(b"content-disposition", b""))
        if params.get(b"name") != b"files":
            self.sink = None
            return
        if len(self.done) >= MAX_FILES:
            raise bad(f"at most {MAX_FILES} files in one upload")
        raw = params.get(b"filename", b"upload")
        self.name = _safe_name(raw.decode("utf-8", "replace"))
        self.sink = UploadSink(self.media_dir)
        self.sniffed = False

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.sink is None:
            return
        self.sink.write(memoryview(data)[start:end])
        if not self.sniffed and len(self.sink.head) >= 64:
            self._sniff()

    def _sniff(self) -> None:
        self.sniffed = True
        if sniff(self.sink.head) is None:  # type: ignore[union-attr]
            raise Unsupported()

    def on_part_end(self) -> None:
        if self.sink is None:
            return
        if not self.sniffed:
            self._sniff()
        self.done.append((self.name, self.sink))
        self.sink = None

    def on_end(self) -> None:
        self.ended = True

    def abort(self) -> None:
        """Throw away what was received but not kept (after `finish`, a sink's file is gone)."""
        if self.sink is not None:
            self.sink.abort()
        for _, sink in self.done:
            sink.abort()


def _unsupported(name: str, exc: Exception) -> ApiFailure:
    why = f" ({exc})" if str(exc) else ""
    return ApiFailure(
        415,
        UNSUPPORTED_TYPE,
        f"{name}: not a supported image, video or audio file{why}; accepted: jpg, png, gif, webp,"
        " mp4, mov, avi, webm, mkv, mp3, wav, m4a, aac",
    )


def _safe_name(name: str) -> str:
    """A file name for display only (never a path): its last component, printable, short."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:200] or "upload"


def _pick(body: dict, *keys: str) -> Any:
    for k in keys:
        if body.get(k) is not None:
            return body[k]
    return None


def _session_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value < 1 << 62 else None
    if isinstance(value, str) and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad(f"{what} must be a number, not {type(value).__name__}")
    if not math.isfinite(value):
        raise bad(f"{what} must be a finite number")
    return float(value)


def _check_draft(draft: Any, known: set[str]) -> tuple[int, int]:
    """(seconds to charge, the canvas' short side) of a draft the engine can render; a 400 that
    says what is wrong otherwise."""
    if not isinstance(draft, dict):
        raise bad("draft must be a timeline object")
    tracks = draft.get("t")
    if not isinstance(tracks, list):
        raise bad("draft.t (the tracks) must be a list")
    m = draft.get("m")
    if not isinstance(m, dict):
        raise bad("draft.m (metadata) must be an object")
    w = _number(m.get("width"), "draft.m.width")
    h = _number(m.get("height"), "draft.m.height")
    fps = _number(m.get("fps", 30), "draft.m.fps")
    d = _number(draft.get("d"), "draft.d (duration, ms)")
    if not (16 <= w <= 3840 and 16 <= h <= 3840):
        raise bad(f"canvas {w:g}x{h:g} is out of range (16 to 3840 pixels a side)")
    if fps not in (24, 25, 30, 60):
        raise bad(f"fps {fps:g} is not supported (24, 25, 30 or 60)")
    if not (1000 <= d <= MAX_SECONDS * 1000):
        raise bad(f"duration {d:g} ms is out of range (1 to {MAX_SECONDS} s)")
    if len(tracks) > 50:
        raise bad("at most 50 tracks")
    filled = False
    for t in tracks:
        if not isinstance(t, dict) or not isinstance(t.get("sg", []), list):
            raise bad("each track must be an object with a 'sg' list")
        tt = t.get("tt")
        if tt not in (0, 1, 7) or isinstance(tt, bool):
            raise bad(f"track type {str(tt)[:20]} is unknown (0 video, 1 audio, 7 text)")
        segments = t.get("sg", [])
        if len(segments) > 200:
            raise bad("at most 200 segments a track")
        for s in segments:
            if not isinstance(s, dict):
                raise bad("each segment must be an object")
            sid = str(s.get("id", "?"))[:40]
            st = _number(s.get("st", 0), f"segment {sid}: st")
            sd = _number(s.get("d"), f"segment {sid}: d")
            if st < 0 or sd <= 0 or st + sd > 600_000:
                raise bad(f"segment {sid}: bad timing ({st:g} ms + {sd:g} ms)")
            if s.get("m") is not None and not isinstance(s.get("m"), dict):
                raise bad(f"segment {sid}: m must be an object")
            src = s.get("src")
            builtin = tt == 1 and isinstance(src, str) and re.fullmatch(r"builtin:\w{1,32}", src)
            if tt in (0, 1) and not (builtin or (isinstance(src, str) and src in known)):
                raise bad(f"segment {sid}: unknown source {str(src)[:80]!r}")
            filled = True
    if not filled:
        raise bad("the timeline is empty: upload an image first")
    return math.ceil(d / 1000 - 1e-9), int(min(w, h))


def _log_to_file(path: Path) -> None:
    """The engine's own log goes to DATA/engine.log (rotated), not to stderr: a parent that
    never reads our stderr pipe must not be able to stall us."""
    from logging.handlers import RotatingFileHandler

    root = logging.getLogger("i2v")
    if root.handlers:
        return
    handler = RotatingFileHandler(path, maxBytes=1 << 20, backupCount=2, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    root.propagate = False


def serve(
    host: str = "127.0.0.1",
    port: int = 0,
    data_dir: Path | None = None,
    workers: int | None = None,
    on_ready: Callable[[str], None] | None = None,
    watch_stdin: bool = False,
    *,
    heartbeat: float = HEARTBEAT_SECONDS,
    turn_delay: float = 0.0,
) -> None:
    """Run the engine until interrupted; `on_ready` gets the URL once the socket listens."""
    import socket
    import sys
    import threading

    import uvicorn

    from tui.paths import engine_dir

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP so that asyncio sets TCP_NODELAY: else every answer waits ~40 ms on Nagle.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(False)
    real_port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{real_port}"
    engine = Engine(
        data_dir or engine_dir(),
        workers,
        heartbeat=heartbeat,
        turn_delay=turn_delay,
        loopback=is_loopback(host),
    )
    _log_to_file(engine.data_dir / "engine.log")
    # Named outright, nothing "auto": no probing for uvloop, httptools or websockets at start.
    config = uvicorn.Config(
        engine.app,
        loop="asyncio",
        http="h11",
        ws="none",
        interface="asgi3",
        lifespan="on",
        log_level="warning",
        log_config=None,  # no dictConfig; uvicorn's errors still reach stderr (last resort)
        access_log=False,
        timeout_keep_alive=30,
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
