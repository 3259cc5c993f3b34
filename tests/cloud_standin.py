"""The cloud, played on loopback: one readable test server the client and app suites run against.

`FakeBackend` answers every endpoint of ../shared/protocol.md in its default, well-behaved way;
`then(name, response)` queues one misbehaviour for the next request to that endpoint.
`CloudStandin` is the same server with the cloud's own habits by default, as the protocol page
describes the cloud (not as our engine does it): turns that end with no text (every third edit),
generating turns in two stages (two messages), replies with GUI words in the session's language
(and, on demand, the "I encountered a temporary issue" line after a good one), `: ping` and
empty `data:` heartbeats, a silence before the first byte, the `{"success", …}` envelope on the
render endpoints, each of the render-status shapes, renders that take several polls with no
Retry-After (the cloud's cadence is the client's poll interval, scaled down in tests), files on
another host (`CdnHost`, which records what it was sent: never our token), a free plan that
refuses exports with 402, and one project per session (a draft with no size until the first
upload, `video_infos`, `generated_media`): a new session starts empty. A turn that says "use
only the 2nd photo" (a batch in one session) leaves that upload alone on the video track.
Render credits are frozen while a render runs, spent when it completes, released when it fails
(`fail_next`, `render_error`, `render_retryable`) or is cancelled.

Both run Starlette under uvicorn in a thread of their own and record every request they see.
Neither answers GET /health as our engine does (`data.engine`, tui/core/protocol.py ENGINE_NAME),
so on loopback too the app takes them for the cloud: the preview plays the last export.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

ROUTES: list[tuple[str, str, re.Pattern[str]]] = [
    (name, method, re.compile(pattern + "$"))
    for name, method, pattern in [
        ("token", "POST", r"/api/auth/anonymous-token"),
        ("session", "POST", r"/api/tasks/me/with-session/nemo_agent"),
        ("run_sse", "POST", r"/run_sse"),
        ("upload", "POST", r"/api/upload-video/nemo_agent/me/(?P<sid>[^/]+)"),
        ("credits", "GET", r"/api/credits/balance/simple"),
        ("state", "GET", r"/api/state/nemo_agent/me/(?P<sid>[^/]+)/latest"),
        ("render", "POST", r"/api/render/proxy/lambda"),
        ("cancel", "POST", r"/api/render/proxy/lambda/(?P<rid>[^/]+)/cancel"),
        ("render_status", "GET", r"/api/render/proxy/lambda/(?P<rid>[^/]+)"),
        ("download", "GET", r"/api/render/proxy/(?P<rid>[^/]+)/download"),
        # Our engine's own (a draft as it renders): the cloud has none, so by default a 404.
        ("live", "GET", r"/api/render/proxy/(?P<rid>[^/]+)/live"),
        ("cdn", "GET", r"/cdn/(?P<rid>[^/]+)\.mp4"),
    ]
]


def _match(method: str, path: str) -> tuple[str, re.Match[str]] | None:
    for name, want, pat in ROUTES:
        m = pat.match(path)
        if m and method in (want, "HEAD" if want == "GET" else want):
            return name, m
    return None


def env(data: Any = None, code: int = 0, message: str = "ok") -> dict:
    return {"code": code, "message": message, "data": data}


def fail(http: int, code: int, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(env(None, code, message), http, headers=headers)


def bare(http: int, text: str = "", headers: dict | None = None) -> Response:
    """An error with no envelope: an empty body or a proxy's page, as the cloud's gateway sends."""
    return Response(text, http, media_type="text/html" if text else None, headers=headers)


# What a hostile backend puts in its texts: a window title, the clipboard (OSC 52), a cleared
# screen and home, a DCS string, 8-bit CSI, a bell and a character set switch.
HOSTILE = (
    "\x1b]0;pwned\x07\x1b]52;c;cm0gLXJmIH4=\x1b\\\x1b[2J\x1b[H\x1bP1$qm\x1b\\\x9b31m\x07\x1b(0"
)


def adk(text: str | None = None, partial: bool = False, parts: list | None = None) -> dict:
    """One ADK event, as the cloud agent sends it."""
    ev: dict[str, Any] = {
        "id": "ev",
        "invocationId": "e-1",
        "author": "nemo_agent",
        "timestamp": 1743712257.39,
        "content": {"role": "model", "parts": parts or [{"text": text}]},
        "actions": {"stateDelta": {}, "artifactDelta": {}},
    }
    if partial:
        ev["partial"] = True
    return ev


def sse_body(*items: dict | str) -> bytes:
    """`data: <json>` lines with blank lines between; a str item is sent as it is."""
    out = []
    for it in items:
        out.append(it if isinstance(it, str) else f"data: {json.dumps(it)}\n\n")
    return "".join(out).encode()


def sse(*items: dict | str) -> Response:
    return Response(sse_body(*items), media_type="text/event-stream; charset=utf-8")


def sse_stream(chunks: list[bytes | float | BaseException]) -> Response:
    """A stream sent piece by piece: bytes are sent, floats slept, an exception cuts it."""

    async def gen() -> AsyncIterator[bytes]:
        for c in chunks:
            if isinstance(c, float):
                await asyncio.sleep(c)
            elif isinstance(c, BaseException):
                raise c
            else:
                yield c

    return StreamingResponse(gen(), media_type="text/event-stream; charset=utf-8")


@dataclass
class Seen:
    name: str
    method: str
    path: str
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)


class Served:
    """An ASGI app under uvicorn on a free loopback port, in a daemon thread of its own."""

    def __init__(self) -> None:
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    def start(self, app: Any) -> str:
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            log_level="critical",
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("a stand-in server did not start")
            time.sleep(0.005)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(5)


def serve_bytes(data: bytes, request: Request) -> Response:
    """`data` as an MP4, whole or from a `Range: bytes=N-` on."""
    total = len(data)
    m = re.fullmatch(r"bytes=(\d+)-", request.headers.get("range", ""))
    if m:
        start = int(m.group(1))
        if start >= total:
            return Response(b"", 416, headers={"Content-Range": f"bytes */{total}"})
        return Response(
            data[start:],
            206,
            media_type="video/mp4",
            headers={"Content-Range": f"bytes {start}-{total - 1}/{total}"},
        )
    return Response(data, media_type="video/mp4")


def empty_draft() -> dict:
    return {"d": 5000, "m": {"title": "project", "width": 1920, "height": 1080, "fps": 30}, "t": []}


class FakeBackend:
    """The protocol's endpoints, well-behaved unless told otherwise with `then`."""

    def __init__(self, video_size: int = 300_000):
        self.video_size = video_size
        self.n = 0
        self.reset()
        self.app = Starlette(
            routes=[Route("/{path:path}", self.dispatch, methods=["GET", "POST", "HEAD"])]
        )
        self.served = Served()
        self.url = ""

    def reset(self) -> None:
        """Forget every token, session, render and queued answer (a server reused by tests)."""
        self.seen: list[Seen] = []
        self.queued: dict[str, deque] = defaultdict(deque)
        self.tokens: set[str] = set()
        self.sessions: set[str] = set()
        self.draft = empty_draft()
        self.credits = {"available": 100, "frozen": 0}
        self.polls: dict[str, int] = {}
        self.polls_to_finish = 2
        self.video = bytes(i * 7 % 251 for i in range(self.video_size))
        self.reply = "Setting the clip to 5 seconds, with a title."
        self.session_bodies: list[dict] = []  # what each new session was asked for

    # ---- running -----------------------------------------------------------------------

    def start(self) -> FakeBackend:
        self.url = self.served.start(self.app)
        return self

    def stop(self) -> None:
        self.served.stop()

    def __enter__(self) -> FakeBackend:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- scripting ---------------------------------------------------------------------

    def then(self, name: str, *responses: Response | Callable[[Request], Any]) -> FakeBackend:
        """The next requests to `name` get these answers, in order; then the defaults."""
        assert name in {r[0] for r in ROUTES}, name
        self.queued[name].extend(responses)
        return self

    def count(self, name: str) -> int:
        return sum(1 for s in self.seen if s.name == name)

    def names(self) -> list[str]:
        return [s.name for s in self.seen]

    # ---- serving -----------------------------------------------------------------------

    async def dispatch(self, request: Request) -> Response:
        path = "/" + request.path_params["path"]
        found = _match(request.method, path)
        if found is None:
            return fail(404, 404, f"no route {request.method} {path}")
        name, m = found
        self.seen.append(Seen(name, request.method, path, dict(request.headers)))
        if self.queued[name]:
            answer = self.queued[name].popleft()
            if not isinstance(answer, Response):
                answer = answer(request)
                if asyncio.iscoroutine(answer):
                    answer = await answer
            if answer is not None:
                return answer
        if name not in ("token", "cdn"):
            auth = request.headers.get("authorization", "")
            if auth.removeprefix("Bearer ") not in self.tokens:
                return fail(401, 1001, "token expired or invalid")
        sid = m.groupdict().get("sid")
        if sid is not None and sid not in self.sessions:
            return fail(404, 1002, f"session {sid} not found")
        return await getattr(self, "on_" + name)(request, **m.groupdict())

    def new_token(self) -> str:
        self.n += 1
        token = f"tok-{self.n}"
        self.tokens.add(token)
        return token

    async def on_token(self, request: Request) -> Response:
        if not request.headers.get("x-client-id"):
            return fail(400, 400, "missing X-Client-Id header")
        token = self.new_token()
        data = {"token": token, "user_id": "u1", "expires_at": "2030-01-01T00:00:00Z"}
        return JSONResponse(env({**data, "credits": 100}))

    async def on_session(self, request: Request) -> Response:
        raw = await request.body()
        self.session_bodies.append(json.loads(raw) if raw else {})
        self.n += 1
        sid = str(1000 + self.n)
        self.sessions.add(sid)
        return JSONResponse(env({"task_id": f"t{sid}", "session_id": sid, "user_id": "u1"}))

    def draft_of(self, sid: str) -> dict:
        """The session's draft: here one for all sessions (tests set `draft` directly)."""
        return self.draft

    async def on_upload(self, request: Request, sid: str) -> Response:
        draft = self.draft_of(sid)
        files = []
        if request.headers.get("content-type", "").startswith("application/json"):
            body = json.loads(await request.body())
            assert body["source_type"] == "url"
            for url in body["urls"]:
                name = urlsplit(url).path.rsplit("/", 1)[1]
                seg = {"id": f"u{len(files)}", "src": url, "st": 0, "d": 5000, "m": {"name": name}}
                draft["t"].append({"tt": 0, "sg": [seg]})
                files.append({"filename": name, "file_type": "image"})
            return JSONResponse(env({"files": files, "session_state_applied": True}))
        async with request.form() as form:
            for up in form.getlist("files"):
                data = await up.read()
                seg = {"id": f"v{len(files)}", "src": f"h{len(data)}", "st": 0, "d": 5000}
                seg["m"] = {"name": up.filename, "motion": "zoom_in"}
                draft["t"].append({"tt": 0, "sg": [seg]})
                files.append({"filename": up.filename, "file_type": "image", "hash": seg["src"]})
        return JSONResponse(env({"files": files, "session_state_applied": True}))

    async def on_run_sse(self, request: Request) -> Response:
        body = json.loads(await request.body())
        if body.get("session_id") not in self.sessions:
            return fail(404, 1002, "session not found")
        self.draft["t"].append(
            {"tt": 7, "sg": [{"id": "t1", "st": 0, "d": 3000, "m": {"text": "Spring Sale"}}]}
        )
        words = self.reply.split(" ")
        chunks = [" ".join(words[:3]) + " ", " ".join(words[3:])]
        call = {"functionCall": {"id": "c1", "name": "add_title", "args": {"text": "Spring"}}}
        result = {"functionResponse": {"id": "c1", "name": "add_title", "response": {"ok": 1}}}
        return sse(
            adk(parts=[call]),
            adk(parts=[result]),
            *(adk(c, partial=True) for c in chunks),
            adk(self.reply),
        )

    async def on_credits(self, request: Request) -> Response:
        c = self.credits
        return JSONResponse(env({**c, "total": c["available"] + c["frozen"]}))

    async def on_state(self, request: Request, sid: str) -> Response:
        draft = self.draft_of(sid)
        state = {"draft": draft, "video_infos": [], "generated_media": [], "canvas_config": {}}
        return JSONResponse(env({"session_id": sid, "task_id": "t", "state": state}))

    async def on_render(self, request: Request) -> Response:
        body = json.loads(await request.body())
        if body.get("sessionId") not in self.sessions:
            return fail(404, 1002, "session not found")
        rid = body["id"]
        self.polls[rid] = 0
        return JSONResponse(env({"id": rid, "status": "pending", "progress": 0}))

    def status_of(self, rid: str) -> dict:
        self.polls[rid] = self.polls.get(rid, 0) + 1
        if self.polls[rid] < self.polls_to_finish:
            return {"id": rid, "status": "processing", "progress": 50}
        return {
            "id": rid,
            "status": "completed",
            "progress": 100,
            "outputUrl": f"{self.url}/api/render/proxy/{rid}/download",
        }

    async def on_render_status(self, request: Request, rid: str) -> Response:
        if rid not in self.polls:
            return fail(404, 404, f"render {rid} not found")
        data = self.status_of(rid)
        headers = {"Retry-After": "0"} if data["status"] != "completed" else {}
        return JSONResponse(env(data), headers=headers)

    async def on_cancel(self, request: Request, rid: str) -> Response:
        return JSONResponse(env({"id": rid, "status": "cancelled"}))

    async def on_download(self, request: Request, rid: str) -> Response:
        return self.serve_bytes(request)

    async def on_live(self, request: Request, rid: str) -> Response:
        return fail(404, 404, f"no route GET {request.url.path}")

    async def on_cdn(self, request: Request, rid: str) -> Response:
        return self.serve_bytes(request)

    def serve_bytes(self, request: Request) -> Response:
        return serve_bytes(self.video, request)

    def cut_download(self, after: int, length: bool = True) -> Callable[[Request], Response]:
        """A download that declares the whole length (unless not `length`: a live draft's
        stream, chunked), sends `after` bytes, then drops."""

        def answer(request: Request) -> Response:
            async def gen() -> AsyncIterator[bytes]:
                yield self.video[:after]
                await asyncio.sleep(0.05)
                raise ConnectionResetError("cut")

            size = {"Content-Length": str(len(self.video))} if length else {}
            return StreamingResponse(gen(), media_type="video/mp4", headers=size)

        return answer

    # ---- turns that misbehave (each a `then("run_sse", …)` answer) -------------------------

    def cut_turn(self, text: str) -> Callable[[Request], Response]:
        """A turn that streams the first part of an answer, then drops: no final event."""

        def answer(request: Request) -> Response:
            first = f"data: {json.dumps(adk(text, partial=True))}\n\n".encode()
            return sse_stream([first, 0.05, ConnectionResetError("cut")])

        return answer

    def quiet_turn(self, beats: int, every: float, text: str) -> Callable[[Request], Response]:
        """A long turn: `beats` heartbeats `every` seconds apart (each form the protocol
        names, in turn), and only then its words."""
        forms = [b": ping\n\n", b"data:\n\n", b'data: {"type": "heartbeat"}\n\n']

        def answer(request: Request) -> Response:
            chunks: list[bytes | float | BaseException] = []
            for i in range(beats):
                chunks += [forms[i % len(forms)], every]
            chunks.append(f"data: {json.dumps(adk(text))}\n\n".encode())
            return sse_stream(chunks)

        return answer


# ---- the cloud's habits -------------------------------------------------------------------------


class CdnHost:
    """Another host, as the cloud's CDN: serves files by name and records every request's
    headers (our token must never reach it)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.seen: list[Seen] = []
        self.served = Served()
        self.url = ""
        self.app = Starlette(routes=[Route("/{name:path}", self.get, methods=["GET", "HEAD"])])

    def start(self) -> CdnHost:
        self.url = self.served.start(self.app)
        return self

    def stop(self) -> None:
        self.served.stop()

    def put(self, name: str, data: bytes) -> str:
        self.files[name] = data
        return f"{self.url}/{name}"

    async def get(self, request: Request) -> Response:
        name = request.path_params["name"]
        self.seen.append(Seen("cdn", request.method, "/" + name, dict(request.headers)))
        if name not in self.files:
            return Response("<html>404 Not Found</html>", 404, media_type="text/html")
        return serve_bytes(self.files[name], request)


# What the cloud agent says after an edit, GUI words and all, in the session's language.
CLOUD_REPLIES = {
    "en": "Added the title. Preview it in the timeline.",
    "zh": "已添加标题。请在时间线中预览效果。",
}

# The first of a generating turn's two messages: the raw clip is ready, post-production follows.
RAW_READY = "Your raw video is ready (5 s). Adding music now."

# The render-status shapes the protocol page lists (see render_answer).
STATUS_SHAPES = ("data", "top", "task")


def render_answer(
    shape: str,
    rid: str,
    status: str,
    progress: int,
    url: str | None,
    why: str = "the render ran out of time",
    retryable: bool | None = None,
) -> dict:
    """One poll's answer in a documented shape: `data.status`/`data.outputUrl`, a top-level
    `status` with `output.url`, or `taskId`/`output.url`; all in the `success` envelope."""
    error: dict[str, Any] | None = {"message": why} if status == "failed" else None
    if error and retryable is not None:
        error["retryable"] = retryable
    if shape == "data":
        data: dict[str, Any] = {"id": rid, "status": status, "progress": progress}
        data["createdAt"] = 1773423613616
        if url:
            data.update(outputUrl=url, completedAt=1773423641222)
        if error:
            data["error"] = error["message"]
            if retryable is not None:
                data["retryable"] = retryable
        return {"success": True, "data": data}
    body: dict[str, Any] = {"status": status, "progress": progress}
    body["id" if shape == "top" else "taskId"] = rid
    if url:
        body["output"] = {"url": url}
    if error:
        body["error"] = error
    return {"success": True, **body} if shape == "top" else {"success": True, "data": body}


@dataclass
class Project:
    """What the cloud keeps per session: a new session starts empty (a lost one's uploads are
    gone with it)."""

    language: str = "en"
    draft: dict = field(default_factory=lambda: {"d": 5000, "m": {"title": "project"}, "t": []})
    video_infos: list[dict] = field(default_factory=list)
    generated_media: list[dict] = field(default_factory=list)
    uploads: list[dict] = field(default_factory=list)  # each upload's video track, in order


class CloudStandin(FakeBackend):
    """The protocol as the cloud speaks it (see the module's docstring); every habit is an
    attribute a test may change. Time is scaled: `pause` and `silence` are seconds here where
    the cloud takes minutes."""

    def __init__(self, video_size: int = 300_000):
        self.cdn = CdnHost()
        super().__init__(video_size)

    def reset(self) -> None:
        super().reset()
        self.projects: dict[str, Project] = {}  # session id → its project (no size until media)
        self.polls_to_finish = 4
        self.shape = "data"  # the render-status shape of every poll (STATUS_SHAPES)
        self.render_fails = False
        self.fail_next = 0  # the next N renders fail (then they complete)
        self.render_error = "the render ran out of time"  # why a render failed
        self.render_retryable: bool | None = None  # and whether it says it may be retried
        self.frozen: dict[str, int] = {}  # render id → credits frozen for it while it runs
        self.failing: set[str] = set()  # renders that will fail
        self.plan = "paid"  # "free": the render request is refused with 402
        self.silent_every = 3  # every third turn ends with no text (~30 % of the cloud's edits)
        self.silence = 0.0  # seconds before a turn's first byte, not even a heartbeat
        self.pause = 0.02  # seconds between a turn's events
        self.trailing_issue = False  # a good answer followed by "I encountered a temporary issue"
        self.replies = dict(CLOUD_REPLIES)
        self.turns = 0
        self.cdn.files.clear()
        self.cdn.seen.clear()

    def start(self) -> CloudStandin:
        self.cdn.start()
        super().start()
        return self

    def stop(self) -> None:
        super().stop()
        self.cdn.stop()

    def __enter__(self) -> CloudStandin:
        return self.start()

    # ---- sessions and uploads ----------------------------------------------------------------

    @property
    def project(self) -> Project:
        """The newest session's project (what a test usually looks at)."""
        return self.projects[max(self.projects, key=int)]

    def draft_of(self, sid: str) -> dict:
        return self.projects[sid].draft

    async def on_session(self, request: Request) -> Response:
        answer = await super().on_session(request)
        sid = str(1000 + self.n)
        self.projects[sid] = Project(str(self.session_bodies[-1].get("language") or "en"))
        return answer

    async def on_upload(self, request: Request, sid: str) -> Response:
        project = self.projects[sid]
        had = len(project.draft["t"])
        answer = await super().on_upload(request, sid)
        project.uploads += [dict(t) for t in project.draft["t"][had:]]
        project.draft["m"].update(width=1920, height=1080, fps=30)  # sized by the first media
        body = json.loads(bytes(answer.body))
        for f in body["data"]["files"]:
            # The cloud's answer: where it keeps the file now, and what it found in it.
            f.update(cdn_url=self.cdn.put(f"up/{f['filename']}", b""), width=1920, height=1080)
            project.video_infos.append(dict(f))
        return JSONResponse(body)

    async def on_state(self, request: Request, sid: str) -> Response:
        project = self.projects[sid]
        state = {
            "draft": project.draft,
            "video_infos": project.video_infos,
            "generated_media": project.generated_media,
            "canvas_config": {"width": 1920, "height": 1080, "aspect_ratio": "16:9"},
            "video_analyses": [],
        }
        return JSONResponse(env({"session_id": sid, "task_id": f"t{sid}", "state": state}))

    # ---- the turn ----------------------------------------------------------------------------

    async def on_run_sse(self, request: Request) -> Response:
        body = json.loads(await request.body())
        sid = body.get("session_id")
        if sid not in self.sessions:
            return bare(404)  # the cloud's gateway: no envelope
        self.turns += 1
        n, project = self.turns, self.projects[sid]
        text = body["new_message"]["parts"][0]["text"]
        made = None
        only = re.search(r"only the (\d+)(?:st|nd|rd|th) photo|只用第(\d+)张", text)
        if only and 1 <= int(only[1] or only[2]) <= len(project.uploads):
            # One file of a batch uploaded into this session: the video track is that file's.
            rest = [t for t in project.draft["t"] if t.get("tt") != 0]
            project.draft["t"] = [dict(project.uploads[int(only[1] or only[2]) - 1]), *rest]
        if re.search(r"generate|生成", text):
            # A clip made by the cloud's own tool: in generated_media, and on the timeline.
            made = self.cdn.put(f"gen/clip_{n}.mp4", self.video)
            project.generated_media.append(
                {"url": made, "type": "video", "duration": 5, "width": 1280, "height": 720}
            )
            seg = {"id": f"g{n}", "src": made, "st": 0, "d": 5000, "m": {"name": f"clip_{n}.mp4"}}
            project.draft["t"].append({"tt": 0, "sg": [seg]})
            # Its second stage, in the same turn: music added after the raw clip.
            bgm = {"id": f"b{n}", "src": "builtin:lofi", "st": 0, "d": 5000}
            bgm["m"] = {"name": "Lo-fi", "volume": 0.35}
            project.draft["t"].append({"tt": 1, "sg": [bgm]})
        else:
            seg = {"id": f"t{n}", "st": 0, "d": 3000, "m": {"text": f"Title {n}"}}
            project.draft["t"].append({"tt": 7, "sg": [seg]})
        tool = "generate_video_with_seedance" if made else "edit_multitrack"
        call = {"functionCall": {"id": f"c{n}", "name": tool, "args": {"text": text}}}
        result = {"functionResponse": {"id": f"c{n}", "name": tool, "response": {"ok": True}}}
        p = self.pause
        chunks: list[bytes | float | BaseException] = [self.silence] if self.silence else []
        chunks += [b": ping\n\n", p, _data(adk(parts=[call])), p, b"data:\n\n", p]
        chunks += [_data(adk(parts=[result])), p, b": ping\n\n"]
        if made:  # two stages, two messages: the raw clip first, then the rest of the reply
            chunks += [_data(adk(RAW_READY, partial=True)), p, _data(adk(RAW_READY)), p]
        elif self.silent_every and n % self.silent_every == 0:
            return sse_stream(chunks)  # the stream closes: no text at all
        reply = self.replies.get(project.language, self.replies["en"])
        half = len(reply) // 2
        chunks += [p, _data(adk(reply[:half], partial=True)), p]
        chunks += [_data(adk(reply[half:], partial=True)), b"data:\n\n", p, _data(adk(reply))]
        if self.trailing_issue:
            issue = "I encountered a temporary issue. Please try again."
            chunks += [p, _data(adk("I encounter", partial=True)), p]
            chunks += [_data(adk(issue[11:], partial=True)), p, _data(adk(issue))]
        return sse_stream(chunks)

    def cut_while_working(self, lands_after: float) -> Callable[[Request], Any]:
        """A `then("run_sse", …)` answer: the stream drops after the tool call, and the cloud
        goes on: the edit lands on the timeline `lands_after` seconds later."""

        async def answer(request: Request) -> Response:
            sid = json.loads(await request.body()).get("session_id")
            tracks = self.projects[sid].draft["t"]
            title = {"id": f"late{len(tracks)}", "st": 0, "d": 3000, "m": {"text": "Late title"}}
            land = tracks.append
            asyncio.get_running_loop().call_later(lands_after, land, {"tt": 7, "sg": [title]})
            call = {"functionCall": {"id": "c", "name": "edit_multitrack", "args": {}}}
            return sse_stream(
                [b": ping\n\n", _data(adk(parts=[call])), 0.02, ConnectionResetError()]
            )

        return answer

    # ---- renders -----------------------------------------------------------------------------

    async def on_render(self, request: Request) -> Response:
        body = json.loads(await request.body())
        if body.get("sessionId") not in self.sessions:
            return bare(404)
        if self.plan == "free":
            error = {"code": 402, "message": "Export is not available on the free plan"}
            return JSONResponse({"success": False, "error": error}, 402)
        rid = body["id"]
        if rid in self.polls:  # the same id again: the same request, answered as before
            return JSONResponse({"success": True, "data": {"id": rid, "status": "pending"}})
        self.polls[rid] = 0
        # Credits frozen while it runs (1 a started second), spent when it completes, released
        # when it fails or is cancelled.
        cost = -(-int(body["draft"].get("d") or 0) // 1000)
        self.credits["available"] -= cost
        self.credits["frozen"] += cost
        self.frozen[rid] = cost
        if self.fail_next:
            self.fail_next -= 1
            self.failing.add(rid)
        return JSONResponse({"success": True, "data": {"id": rid, "status": "pending"}})

    def thaw(self, rid: str, spent: bool) -> None:
        cost = self.frozen.pop(rid, 0)
        self.credits["frozen"] -= cost
        if not spent:
            self.credits["available"] += cost

    async def on_render_status(self, request: Request, rid: str) -> Response:
        if rid not in self.polls:
            return bare(404)
        self.polls[rid] += 1
        n = self.polls[rid]
        if n < self.polls_to_finish:  # no Retry-After: the client keeps its own cadence
            status, progress, url = ("pending" if n == 1 else "processing"), 25 * n, None
        elif self.render_fails or rid in self.failing:
            status, progress, url = "failed", 90, None
            self.thaw(rid, spent=False)
        else:
            status, progress = "completed", 100
            url = self.cdn.put(f"render-result/{rid}.mp4", self.video)
            self.thaw(rid, spent=True)
        why, retryable = self.render_error, self.render_retryable
        answer = render_answer(self.shape, rid, status, progress, url, why, retryable)
        return JSONResponse(answer)

    async def on_cancel(self, request: Request, rid: str) -> Response:
        self.thaw(rid, spent=False)
        return JSONResponse({"success": True, "data": {"id": rid, "status": "cancelled"}})


def _data(event: dict) -> bytes:
    return f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode()
