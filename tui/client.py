"""The one async client: speaks ../shared/protocol.md to the cloud or the embedded engine.

Every retry here is a decision from the protocol's error table, never a transport's blind one:
a new token on 1001, a new session on 1002, one wait on 429, a fresh client id on 400.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from httpx_sse import aconnect_sse

from tui.client_state import ClientState
from tui.gui_words import translate_gui
from tui.protocol import (
    ACCEPTED_TYPES,
    APP_NAME,
    FILE_TOO_LARGE,
    MAX_UPLOAD_BYTES,
    MISSING_CLIENT_ID,
    OUT_OF_CREDITS,
    PLAN_BLOCKED,
    RATE_LIMITED,
    SESSION_NOT_FOUND,
    TOKEN_EXPIRED,
    UNSUPPORTED_TYPE,
    AgentEvent,
    FinalText,
    Heartbeat,
    RenderStatus,
    TextChunk,
    ToolCall,
    TurnError,
    file_kind,
    parse_sse_data,
    read_envelope,
    read_render_status,
    skill_headers,
    summarize_draft,
)

TURN_DEADLINE = 15 * 60.0
REGISTER_URL = "https://nemovideo.ai/"


class ClientError(Exception):
    """A failure with words for people: `message` says what happened, `hint` what to do."""

    def __init__(self, message: str, *, code: int | None = None, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.code = code
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message


class OutOfCredits(ClientError):
    pass


@dataclass(frozen=True)
class StateUpdate:
    """Ends every turn: the timeline after it, and a note when the turn said nothing."""

    draft: dict
    summary: list[str]
    note: str = ""


@dataclass
class Session:
    token: str = ""
    user_id: str = ""
    session_id: str = ""
    task_id: str = ""


@dataclass
class Progress:
    done: int
    total: int | None


@dataclass
class ExportResult:
    render_id: str
    path: Path
    status: RenderStatus
    size: int
    elapsed: float = 0.0
    extra: dict = field(default_factory=dict)


class Client:
    def __init__(
        self,
        base_url: str,
        state: ClientState,
        *,
        token: str | None = None,
        cloud: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
        rate_limit_wait: float = 30.0,
        poll_interval: float | None = None,
        read_timeout: float = 120.0,
    ):
        self.base_url = base_url.rstrip("/")
        self.state = state
        self.fixed_token = token
        self.cloud = cloud
        self.rate_limit_wait = rate_limit_wait
        self.poll_interval = (
            poll_interval if poll_interval is not None else (30.0 if cloud else 1.0)
        )
        self.session = Session(
            token=token or state.backend.get("token", ""),
            user_id=state.backend.get("user_id", ""),
            session_id=state.backend.get("session_id", ""),
            task_id=state.backend.get("task_id", ""),
        )
        # Read timeout > any heartbeat gap; httpx applies it per read, not to the whole stream.
        self.http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(connect=10.0, read=read_timeout, write=60.0, pool=10.0),
            transport=transport,
            headers=skill_headers(),
            follow_redirects=True,
        )
        self._connect_lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def anonymous(self) -> bool:
        return self.fixed_token is None

    # ---- connecting ------------------------------------------------------------------------

    async def connect(self) -> Session:
        """A token and a session, reusing saved ones; new ones only when needed."""
        async with self._connect_lock:
            if not self.session.token:
                await self._new_token()
            if not self.session.session_id:
                await self.new_session()
            return self.session

    async def _new_token(self) -> None:
        if self.fixed_token:
            raise ClientError(
                "NEMO_TOKEN is invalid or expired",
                code=TOKEN_EXPIRED,
                hint="set a valid NEMO_TOKEN, or unset it to get an anonymous token",
            )
        for attempt in range(2):
            resp = await self._send(
                "POST", "/api/auth/anonymous-token", headers={"X-Client-Id": self.state.client_id}
            )
            env = read_envelope(resp.status_code, _json(resp))
            if env.ok and isinstance(env.data, dict) and env.data.get("token"):
                self.session.token = str(env.data["token"])
                self.session.user_id = str(env.data.get("user_id", ""))
                self.state.update(
                    token=self.session.token,
                    user_id=self.session.user_id,
                    expires_at=env.data.get("expires_at"),
                )
                return
            if env.code == MISSING_CLIENT_ID and attempt == 0:
                self.state.new_client_id()
                continue
            if env.code == RATE_LIMITED and attempt == 0:
                await asyncio.sleep(_retry_after(resp, self.rate_limit_wait))
                continue
            raise self._error(env.code, env.message, resp)
        raise ClientError("could not get a token from the backend")

    async def new_session(self, language: str = "en") -> Session:
        data = await self._call(
            "POST",
            "/api/tasks/me/with-session/nemo_agent",
            json={"task_name": "project", "language": language},
            session_scoped=False,
        )
        self.session.session_id = str(data.get("session_id", ""))
        self.session.task_id = str(data.get("task_id", ""))
        self.state.update(session_id=self.session.session_id, task_id=self.session.task_id)
        return self.session

    # ---- plumbing --------------------------------------------------------------------------

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.session.token}"}

    async def _send(self, method: str, url: str, **kw: Any) -> httpx.Response:
        try:
            return await self.http.request(method, url, **kw)
        except httpx.TimeoutException as exc:
            raise ClientError(
                f"the backend did not answer in time ({type(exc).__name__})",
                hint="check the connection and try again",
            ) from None
        except httpx.TransportError as exc:
            raise ClientError(
                f"cannot reach the backend at {self.base_url} ({exc})",
                hint="check the connection, or the --api URL",
            ) from None

    async def _call(
        self,
        method: str,
        path: str | Callable[[], str],
        *,
        session_scoped: bool = True,
        raw: bool = False,
        json: Any = None,
        make_files: Callable[[], list] | None = None,
    ) -> Any:
        """One request with the error table applied; returns `data` (or the response if raw).

        `path` may be a callable so that a retry after a new session uses the new id;
        `make_files` builds fresh multipart parts for each attempt.
        """
        if session_scoped:
            await self.connect()
        elif not self.session.token:
            await self._new_token()
        retried: set[int] = set()
        while True:
            url = path() if callable(path) else path
            kw: dict[str, Any] = {"headers": self._auth()}
            if json is not None:
                kw["json"] = json
            if make_files is not None:
                kw["files"] = make_files()
            resp = await self._send(method, url, **kw)
            if raw and resp.status_code < 400:
                return resp
            env = read_envelope(resp.status_code, _json(resp))
            if env.ok:
                return resp if raw else env.data
            code = env.code
            if code == TOKEN_EXPIRED and code not in retried:
                retried.add(code)
                self.session.token = ""
                self.state.forget("token")
                await self._new_token()
                continue
            if code == SESSION_NOT_FOUND and session_scoped and code not in retried:
                retried.add(code)
                await self.new_session()
                if json is not None and "sessionId" in json:
                    json = {**json, "sessionId": self.session.session_id}
                continue
            if code == RATE_LIMITED and code not in retried:
                retried.add(code)
                await asyncio.sleep(_retry_after(resp, self.rate_limit_wait))
                continue
            raise self._error(code, env.message, resp)

    def _error(self, code: int | None, message: str, resp: httpx.Response | None) -> ClientError:
        msg = message or (f"HTTP {resp.status_code}" if resp is not None else "request failed")
        if code == OUT_OF_CREDITS:
            if self.anonymous and self.cloud:
                hint = f"register to get more: {REGISTER_URL}?bind={self.state.client_id}"
            elif self.cloud:
                hint = "top up your credits at nemovideo.ai"
            else:
                hint = "the local engine's credits are used up for this token"
            return OutOfCredits(f"out of credits: {msg}", code=code, hint=hint)
        if code == UNSUPPORTED_TYPE:
            return ClientError(msg, code=code, hint="accepted: " + ", ".join(ACCEPTED_TYPES))
        if code == FILE_TOO_LARGE:
            return ClientError(msg, code=code, hint="compress or trim it below 200 MB")
        if code == PLAN_BLOCKED:
            return ClientError(
                f"export refused by the backend's plan: {msg}",
                code=code,
                hint="this is a subscription tier matter, not credits",
            )
        if code == TOKEN_EXPIRED:
            return ClientError(
                "the token was refused twice", code=code, hint="check NEMO_TOKEN or the backend"
            )
        if code == SESSION_NOT_FOUND:
            return ClientError("the session was lost twice", code=code, hint="start a new one")
        if code == RATE_LIMITED:
            return ClientError(
                "the backend is rate limiting us", code=code, hint="wait a minute and try again"
            )
        return ClientError(msg, code=code)

    # ---- endpoints -------------------------------------------------------------------------

    async def credits(self) -> dict:
        data = await self._call("GET", "/api/credits/balance/simple", session_scoped=False)
        data = data if isinstance(data, dict) else {}
        avail, frozen = int(data.get("available", 0) or 0), int(data.get("frozen", 0) or 0)
        return {
            "available": avail,
            "frozen": frozen,
            "total": int(data.get("total", avail + frozen)),
        }

    async def fetch_state(self) -> dict:
        data = await self._call(
            "GET", lambda: f"/api/state/nemo_agent/me/{self.session.session_id}/latest"
        )
        state = (data or {}).get("state") or {}
        return state if isinstance(state, dict) else {}

    async def draft(self) -> dict:
        d = (await self.fetch_state()).get("draft")
        return d if isinstance(d, dict) else {}

    @staticmethod
    def check_upload(path: Path) -> None:
        """Refuse locally what the backend would refuse (4001, 4002), before sending a byte."""
        path = Path(path)
        if not path.is_file():
            raise ClientError(f"{path}: no such file")
        if file_kind(path.name) is None:
            raise ClientError(
                f"{path.name}: unsupported file type",
                code=UNSUPPORTED_TYPE,
                hint="accepted: " + ", ".join(ACCEPTED_TYPES),
            )
        size = path.stat().st_size
        if size > MAX_UPLOAD_BYTES:
            raise ClientError(
                f"{path.name}: {size / 1e6:.0f} MB is over the 200 MB limit",
                code=FILE_TOO_LARGE,
                hint="compress or trim it first",
            )

    async def upload(self, paths: list[Path]) -> list[dict]:
        paths = [Path(p) for p in paths]
        for p in paths:
            self.check_upload(p)
        opened: list[Any] = []

        def parts() -> list:
            # Fresh handles for each attempt: a retried request re-reads from the start.
            for f in opened:
                f.close()
            opened.clear()
            opened.extend(open(p, "rb") for p in paths)  # noqa: SIM115
            return [("files", (p.name, f)) for p, f in zip(paths, opened, strict=True)]

        try:
            data = await self._call(
                "POST",
                lambda: f"/api/upload-video/nemo_agent/me/{self.session.session_id}",
                make_files=parts,
            )
        finally:
            for f in opened:
                f.close()
        files = (data or {}).get("files") or []
        return [f for f in files if isinstance(f, dict)]

    async def turn(self, text: str) -> AsyncIterator[AgentEvent | StateUpdate]:
        """One agent turn: typed events as they stream, then a StateUpdate."""
        await self.connect()
        saw_text = False
        broken: str | None = None
        final_text = ""
        try:
            async with asyncio.timeout(TURN_DEADLINE):
                async for ev in self._stream_turn(text):
                    if isinstance(ev, TextChunk | FinalText):
                        saw_text = saw_text or bool(ev.text.strip())
                        if isinstance(ev, FinalText):
                            final_text = ev.text
                    yield ev
        except TimeoutError:
            broken = "the turn took over 15 minutes"
        except _StreamBroken as exc:
            broken = str(exc)
        if broken:
            yield TurnError(f"{broken}; not re-sent (it would run twice), checking the timeline")
        try:
            draft = await self.draft()
        except ClientError as exc:
            yield TurnError(f"could not read the timeline: {exc}")
            return
        summary = summarize_draft(draft)
        note = ""
        if not saw_text:
            note = (
                (
                    "The assistant finished without words. The timeline now has: "
                    + "; ".join(summary)
                )
                if summary
                else "The assistant finished without words."
            )
        elif final_text:
            note = translate_gui(final_text).note
        yield StateUpdate(draft, summary, note)

    async def _stream_turn(self, text: str) -> AsyncIterator[AgentEvent]:
        retried: set[int] = set()
        while True:
            body = {
                "app_name": APP_NAME,
                "user_id": self.session.user_id or "me",
                "session_id": self.session.session_id,
                "new_message": {"role": "user", "parts": [{"text": text}]},
                "streaming": True,
            }
            started = False
            try:
                async with aconnect_sse(
                    self.http,
                    "POST",
                    "/run_sse",
                    json=body,
                    headers={**self._auth(), "Accept": "text/event-stream"},
                ) as source:
                    resp = source.response
                    ctype = resp.headers.get("content-type", "")
                    if resp.status_code >= 400 or "text/event-stream" not in ctype:
                        await resp.aread()
                        env = read_envelope(resp.status_code, _json(resp))
                        code = env.code or resp.status_code
                        # Refused before it started: safe to retry per the error table.
                        if code == TOKEN_EXPIRED and code not in retried:
                            retried.add(code)
                            self.session.token = ""
                            await self._new_token()
                            continue
                        if code == SESSION_NOT_FOUND and code not in retried:
                            retried.add(code)
                            await self.new_session()
                            continue
                        if code == RATE_LIMITED and code not in retried:
                            retried.add(code)
                            await asyncio.sleep(_retry_after(resp, self.rate_limit_wait))
                            continue
                        raise self._error(code, env.message, resp)
                    started = True
                    async for sse in source.aiter_sse():
                        for ev in parse_sse_data(sse.data):
                            yield ev
                            if isinstance(ev, TurnError):
                                return
                    return
            except (httpx.TransportError, httpx.StreamError) as exc:
                if not started:
                    raise ClientError(
                        f"cannot reach the backend at {self.base_url} ({exc})",
                        hint="check the connection",
                    ) from None
                raise _StreamBroken(
                    f"the connection dropped mid-turn ({type(exc).__name__})"
                ) from None

    # ---- export ----------------------------------------------------------------------------

    async def start_render(self, quality: str = "high", draft: dict | None = None) -> str:
        if draft is None:
            draft = await self.draft()
        if not any(t.get("sg") for t in draft.get("t") or []):
            raise ClientError("the timeline is empty", hint="upload an image and describe the clip")
        rid = f"render_{int(time.time() * 1000)}"
        body = {
            "id": rid,
            "sessionId": self.session.session_id,
            "draft": draft,
            "output": {"format": "mp4", "quality": quality},
        }
        data = await self._call("POST", "/api/render/proxy/lambda", json=body)
        status = read_render_status(data, rid)
        # Saved before the first poll: a restart resumes the job instead of orphaning it.
        self.state.add_render(
            status.id, session_id=self.session.session_id, state="rendering", started=time.time()
        )
        return status.id

    async def render_status(self, render_id: str) -> tuple[RenderStatus, float | None]:
        resp = await self._call("GET", f"/api/render/proxy/lambda/{render_id}", raw=True)
        status = read_render_status(_json(resp), render_id)
        retry = resp.headers.get("retry-after")
        try:
            wait = float(retry) if retry else None
        except ValueError:
            wait = None
        return status, wait

    async def wait_render(
        self,
        render_id: str,
        on_progress: Callable[[RenderStatus], Awaitable[None] | None] | None = None,
    ) -> RenderStatus:
        while True:
            status, wait = await self.render_status(render_id)
            if on_progress is not None:
                r = on_progress(status)
                if asyncio.iscoroutine(r):
                    await r
            if status.done:
                self.state.update_render(
                    render_id, state=status.status if status.status != "completed" else "rendered"
                )
                if status.status != "completed":
                    raise ClientError(
                        f"render {status.status}: {status.error or 'no reason given'}"
                    )
                return status
            await asyncio.sleep(wait if wait is not None else self.poll_interval)

    async def cancel_render(self, render_id: str) -> RenderStatus:
        data = await self._call("POST", f"/api/render/proxy/lambda/{render_id}/cancel")
        self.state.update_render(render_id, state="cancelled")
        return read_render_status(data, render_id)

    async def download(
        self,
        render_id: str,
        dest: Path,
        status: RenderStatus | None = None,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> Path:
        """To a temporary name beside `dest`, resuming a cut transfer with Range, then rename."""
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.part")
        url = f"/api/render/proxy/{render_id}/download"
        if status and status.output_url and not status.output_url.startswith(self.base_url):
            url = status.output_url  # the cloud's CDN
        total: int | None = None
        for _attempt in range(5):
            have = tmp.stat().st_size if tmp.exists() else 0
            headers = {**self._auth()}
            if have:
                headers["Range"] = f"bytes={have}-"
            try:
                async with self.http.stream("GET", url, headers=headers) as resp:
                    if resp.status_code == 416 and total is not None and have >= total:
                        break
                    if resp.status_code >= 400:
                        await resp.aread()
                        env = read_envelope(resp.status_code, _json(resp))
                        raise self._error(env.code, env.message or "download failed", resp)
                    if resp.status_code == 206:
                        crange = resp.headers.get("content-range", "")
                        total = int(crange.rsplit("/", 1)[1]) if "/" in crange else None
                        mode = "ab"
                    else:
                        clen = resp.headers.get("content-length")
                        total = int(clen) if clen else None
                        mode, have = "wb", 0
                    with open(tmp, mode) as f:
                        async for chunk in resp.aiter_bytes(1 << 16):
                            f.write(chunk)
                            have += len(chunk)
                            if on_progress:
                                on_progress(Progress(have, total))
                if total is None or have >= total:
                    break
            except (httpx.TransportError, httpx.StreamError):
                await asyncio.sleep(0.2)
                continue
        size = tmp.stat().st_size if tmp.exists() else 0
        if total is not None and size != total:
            raise ClientError(
                f"download incomplete: {size} of {total} bytes",
                hint="try the export again; the partial file was kept for resuming",
            )
        os.replace(tmp, dest)
        self.state.update_render(render_id, state="downloaded", path=str(dest))
        return dest

    async def export(
        self,
        dest: Path,
        quality: str = "high",
        on_progress: Callable[[RenderStatus], Awaitable[None] | None] | None = None,
    ) -> ExportResult:
        started = time.perf_counter()
        rid = await self.start_render(quality)
        self.state.update_render(rid, target=str(dest))
        status = await self.wait_render(rid, on_progress)
        path = await self.download(rid, dest, status)
        return ExportResult(rid, path, status, path.stat().st_size, time.perf_counter() - started)


class _StreamBroken(Exception):
    pass


def _json(resp: httpx.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return None


def _retry_after(resp: httpx.Response | None, default: float) -> float:
    if resp is not None:
        value = resp.headers.get("retry-after")
        if value:
            try:
                return max(0.0, min(float(value), 300.0))
            except ValueError:
                pass
    return default


def unique_path(path: Path) -> Path:
    """`clip.mp4`, else `clip-2.mp4`, `clip-3.mp4`…: never overwrite."""
    path = Path(path)
    if not path.exists():
        return path
    n = 2
    while True:
        cand = path.with_name(f"{path.stem}-{n}{path.suffix}")
        if not cand.exists():
            return cand
        n += 1


__all__ = [
    "Client",
    "ClientError",
    "ExportResult",
    "FinalText",
    "Heartbeat",
    "OutOfCredits",
    "Progress",
    "StateUpdate",
    "TextChunk",
    "ToolCall",
    "TurnError",
    "unique_path",
]
