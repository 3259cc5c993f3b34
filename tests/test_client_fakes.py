"""A small programmable stand-in for the cloud backend, on a real loopback socket.

`FakeBackend` answers every endpoint of ../shared/protocol.md in its default, well-behaved way;
`then(name, response)` queues one misbehaviour for the next request to that endpoint. It runs
Starlette under uvicorn in a thread of its own, records every request it sees, and is used by
the client and headless tests. The tests in this module check the fake itself.
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

import httpx
import pytest
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
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None
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
        config = uvicorn.Config(
            self.app,
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
                raise RuntimeError("the fake backend did not start")
            time.sleep(0.005)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(5)

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

    async def on_upload(self, request: Request, sid: str) -> Response:
        files = []
        if request.headers.get("content-type", "").startswith("application/json"):
            body = json.loads(await request.body())
            assert body["source_type"] == "url"
            for url in body["urls"]:
                name = urlsplit(url).path.rsplit("/", 1)[1]
                seg = {"id": f"u{len(files)}", "src": url, "st": 0, "d": 5000, "m": {"name": name}}
                self.draft["t"].append({"tt": 0, "sg": [seg]})
                files.append({"filename": name, "file_type": "image"})
            return JSONResponse(env({"files": files, "session_state_applied": True}))
        async with request.form() as form:
            for up in form.getlist("files"):
                data = await up.read()
                seg = {"id": f"v{len(files)}", "src": f"h{len(data)}", "st": 0, "d": 5000}
                seg["m"] = {"name": up.filename, "motion": "zoom_in"}
                self.draft["t"].append({"tt": 0, "sg": [seg]})
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
        state = {"draft": self.draft, "video_infos": [], "generated_media": [], "canvas_config": {}}
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

    async def on_cdn(self, request: Request, rid: str) -> Response:
        return self.serve_bytes(request)

    def serve_bytes(self, request: Request) -> Response:
        total = len(self.video)
        m = re.fullmatch(r"bytes=(\d+)-", request.headers.get("range", ""))
        if m:
            start = int(m.group(1))
            if start >= total:
                return Response(b"", 416, headers={"Content-Range": f"bytes */{total}"})
            return Response(
                self.video[start:],
                206,
                media_type="video/mp4",
                headers={"Content-Range": f"bytes {start}-{total - 1}/{total}"},
            )
        return Response(self.video, media_type="video/mp4")

    def cut_download(self, after: int) -> Callable[[Request], Response]:
        """A download that declares the whole length, sends `after` bytes, then drops."""

        def answer(request: Request) -> Response:
            async def gen() -> AsyncIterator[bytes]:
                yield self.video[:after]
                await asyncio.sleep(0.05)
                raise ConnectionResetError("cut")

            return StreamingResponse(
                gen(), media_type="video/mp4", headers={"Content-Length": str(len(self.video))}
            )

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


# ---- the fake itself -------------------------------------------------------------------------


def test_the_fake_backend_answers_the_protocol() -> None:
    with FakeBackend() as fb:
        r = httpx.post(fb.url + "/api/auth/anonymous-token", headers={"X-Client-Id": "c"})
        token = r.json()["data"]["token"]
        r = httpx.get(
            fb.url + "/api/credits/balance/simple", headers={"Authorization": f"Bearer {token}"}
        )
        assert r.json()["data"] == {"available": 100, "frozen": 0, "total": 100}
        assert httpx.get(fb.url + "/api/credits/balance/simple").json()["code"] == 1001
        fb.then("credits", fail(429, 429, "slow down", {"Retry-After": "0"}))
        r = httpx.get(
            fb.url + "/api/credits/balance/simple", headers={"Authorization": f"Bearer {token}"}
        )
        assert (r.status_code, r.headers["retry-after"]) == (429, "0")
        assert fb.names() == ["token", "credits", "credits", "credits"]


def test_render_ids_never_repeat_within_a_process() -> None:
    """Ids are the backend's retry key; a tight loop stands in for jobs started in one ms."""
    import re

    from tui.client.renders import new_render_id

    ids = [new_render_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"render_\d{13,}", i) for i in ids)  # the protocol's render_<ms>
    assert [int(i[7:]) for i in ids] == sorted(int(i[7:]) for i in ids)


async def test_the_fake_cuts_a_turn_and_sends_heartbeats() -> None:
    with FakeBackend() as fb:
        fb.then("run_sse", fb.cut_turn("Half an"), fb.quiet_turn(3, 0.01, "Done."))
        async with httpx.AsyncClient(base_url=fb.url) as http:
            got: list[bytes] = []
            with pytest.raises(httpx.HTTPError):  # the stream drops after its first event
                async with http.stream("POST", "/run_sse") as resp:
                    async for chunk in resp.aiter_bytes():
                        got.append(chunk)
            r = await http.post("/run_sse")
        assert b'"partial": true' in b"".join(got) and b"Half an" in b"".join(got)
        assert r.text.count("\n\n") == 4 and r.text.startswith(": ping")
        assert '"Done."' in r.text.rsplit("\n\n", 2)[-2]
