"""The one async client: speaks ../shared/protocol.md to the cloud or the embedded engine.

Every retry here is a decision from the protocol's error table, never a transport's blind one:
a new token on 1001, a new session on 1002, one wait on 429, a fresh client id on 400.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from httpx_sse._decoders import SSEDecoder, SSELineDecoder

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
    diff_drafts,
    draft_ready,
    file_kind,
    parse_sse_data,
    read_envelope,
    read_render_status,
    skill_headers,
    summarize_draft,
)

TURN_DEADLINE = 15 * 60.0
POLL_BLIPS = 3  # failed polls in a row that a render wait rides out
REGISTER_URL = "https://nemovideo.ai/"


class ClientError(Exception):
    """A failure with words for people: `message` says what happened, `hint` what to do.

    `transient` is True when the backend could not be reached at all (refused, reset, timed
    out): the same request may well work later, so callers retry instead of giving up.
    """

    transient = False

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        hint: str = "",
        transient: bool | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.hint = hint
        if transient is not None:
            self.transient = transient

    def __str__(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message


class OutOfCredits(ClientError):
    pass


class Unreachable(ClientError):
    """The backend did not answer at all (connection refused, reset, timed out)."""

    transient = True


@dataclass(frozen=True)
class StateUpdate:
    """Ends every turn: the timeline after it, and a note when the turn said nothing."""

    draft: dict
    summary: list[str]
    note: str = ""
    changes: list[str] = field(default_factory=list)  # what the turn changed, in plain words
    actions: list[str] = field(default_factory=list)  # GUI words turned into actions ("export")


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
class Resumed:
    """A render saved by an earlier run, seen through: downloaded to `path`, or why not."""

    render_id: str
    path: Path | None = None
    status: RenderStatus | None = None
    error: str = ""


@dataclass
class ExportResult:
    render_id: str
    path: Path
    status: RenderStatus
    size: int
    elapsed: float = 0.0
    extra: dict = field(default_factory=dict)


class Client:
    """One `httpx.AsyncClient` speaking the protocol; use it from one event loop only.

    `owner` tags the renders this client starts ("app", "watch:<folder>", "cli"), so that each
    process resumes only its own. With `persist_session=False` the sessions it opens are its
    own business: they never become the backend's saved "current session" (the one the app
    resumes at start), e.g. a watcher's one session per image.
    """

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
        on_status: Callable[[str], None] | None = None,
        turn_deadline: float = TURN_DEADLINE,
        owner: str = "cli",
        persist_session: bool = True,
    ):
        self.base_url = base_url.rstrip("/")
        self.owner = owner
        self.persist_session = persist_session
        self.state = state
        self.fixed_token = token
        self.cloud = cloud
        self.rate_limit_wait = rate_limit_wait
        self.poll_interval = (
            poll_interval if poll_interval is not None else (30.0 if cloud else 1.0)
        )
        self.on_status = on_status
        self.turn_deadline = turn_deadline
        saved = state.backend
        self.session = Session(
            token=token or saved.get("token", ""),
            user_id=saved.get("user_id", ""),
            session_id=saved.get("session_id", ""),
            task_id=saved.get("task_id", ""),
        )
        # Read timeout > any heartbeat gap; httpx applies it per read, not to the whole stream.
        # retries=0: the transport never re-sends a POST on its own; retries are ours.
        self.http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(connect=10.0, read=read_timeout, write=60.0, pool=10.0),
            # No CA bundle for plain http (the local engine): loading it costs ~50 ms.
            transport=transport
            or httpx.AsyncHTTPTransport(retries=0, verify=self.base_url.startswith("https")),
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

    def _say(self, text: str) -> None:
        if self.on_status is not None:
            self.on_status(text)

    # ---- connecting ------------------------------------------------------------------------

    async def connect(self) -> Session:
        """A token and a session, reusing saved ones; new ones only when needed."""
        async with self._connect_lock:
            if self.session.token and self.session.session_id:
                return self.session
            self._say("Connecting…")
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
        path = "/api/auth/anonymous-token"
        retried: set[int] = set()
        while True:
            resp = await self._send("POST", path, headers={"X-Client-Id": self.state.client_id})
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
            if env.ok:
                raise ClientError("the backend answered the token request without a token")
            code = env.code
            if code in (MISSING_CLIENT_ID, RATE_LIMITED) and code not in retried:
                retried.add(code)
                if code == MISSING_CLIENT_ID:
                    self.state.new_client_id()
                else:
                    await asyncio.sleep(_retry_after(resp, self.rate_limit_wait))
                continue
            raise self._error(code, env.message, resp)

    async def new_session(self, language: str = "en", *, persist: bool | None = None) -> Session:
        """A new, empty session; saved as the current one unless `persist` (or the client's
        `persist_session`) says not to."""
        data = await self._call(
            "POST",
            "/api/tasks/me/with-session/nemo_agent",
            json={"task_name": "project", "language": language},
            session_scoped=False,
        )
        data = data if isinstance(data, dict) else {}
        if not data.get("session_id"):
            raise ClientError("the backend opened a session without an id")
        self.session.session_id = str(data["session_id"])
        self.session.task_id = str(data.get("task_id", ""))
        if self.persist_session if persist is None else persist:
            self.state.update(session_id=self.session.session_id, task_id=self.session.task_id)
        return self.session

    # ---- plumbing --------------------------------------------------------------------------

    def _auth(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.session.token}",
            "X-Client-Id": self.state.client_id,
        }

    def _check_open(self) -> None:
        """A request on a closed client (the app's /reconnect replaced it) is words, not a
        RuntimeError from httpx; transient: the same request on the new client may work."""
        if self.http.is_closed:
            raise ClientError(
                "this connection was closed (reconnected meanwhile)",
                hint="try again",
                transient=True,
            )

    async def _send(self, method: str, url: str, **kw: Any) -> httpx.Response:
        self._check_open()
        try:
            return await self.http.request(method, url, **kw)
        except httpx.TimeoutException as exc:
            raise Unreachable(
                f"the backend did not answer in time ({type(exc).__name__})",
                hint="check the connection and try again",
            ) from None
        except httpx.TransportError as exc:
            raise Unreachable(
                f"cannot reach the backend at {self.base_url} ({_one_line(exc)})",
                hint="check the connection, or the --api URL",
            ) from None

    async def _recover(
        self,
        code: int | None,
        message: str,
        resp: httpx.Response | None,
        retried: set[int],
        *,
        session_scoped: bool = True,
    ) -> bool:
        """The error table: True when the request may be tried once more."""
        if code is None or code in retried:
            return False
        if code == TOKEN_EXPIRED:
            retried.add(code)
            self.session.token = ""
            if self.anonymous:
                self.state.forget("token")
            await self._new_token()  # a bad NEMO_TOKEN raises here: reported, not looped on
            return True
        if code == SESSION_NOT_FOUND and session_scoped:
            retried.add(code)
            self._say("The session was lost; starting a new one…")
            await self.new_session()
            return True
        if code == RATE_LIMITED:
            retried.add(code)
            wait = _retry_after(resp, self.rate_limit_wait)
            self._say(f"Rate limited; waiting {wait:g} s…")
            await asyncio.sleep(wait)
            return True
        if code == MISSING_CLIENT_ID and "client" in message.lower():
            retried.add(code)
            self.state.new_client_id()
            return True
        return False

    async def _request(
        self,
        method: str,
        path: str | Callable[[], str],
        *,
        session_scoped: bool = True,
        json: Any = None,
        make_json: Callable[[], Any] | None = None,
        make_files: Callable[[], list] | None = None,
    ) -> tuple[Any, httpx.Response]:
        """One request with the error table applied: (`data`, the response).

        `path`, `make_json` and `make_files` may be callables, so that a retry after a new
        session uses the new id and re-reads files from the start.
        """
        if session_scoped:
            await self.connect()
        elif not self.session.token:
            await self._new_token()
        retried: set[int] = set()
        while True:
            url = path() if callable(path) else path
            kw: dict[str, Any] = {"headers": self._auth()}
            body = make_json() if make_json is not None else json
            if body is not None:
                kw["json"] = body
            if make_files is not None:
                kw["files"] = make_files()
            resp = await self._send(method, url, **kw)
            env = read_envelope(resp.status_code, _json(resp))
            if env.ok:
                return env.data, resp
            if await self._recover(
                env.code, env.message, resp, retried, session_scoped=session_scoped
            ):
                continue
            raise self._error(env.code, env.message, resp)

    async def _call(self, method: str, path: str | Callable[[], str], **kw: Any) -> Any:
        return (await self._request(method, path, **kw))[0]

    def _error(self, code: int | None, message: str, resp: httpx.Response | None) -> ClientError:
        msg = message or (f"HTTP {resp.status_code}" if resp is not None else "request failed")
        if code == OUT_OF_CREDITS:
            if self.anonymous and self.cloud:
                hint = f"register to get more: {REGISTER_URL}?bind={self.state.client_id}"
            elif self.cloud:
                hint = "top up your credits at nemovideo.ai"
            else:
                hint = "the local engine's credits are used up for this token"
            if not msg.lower().startswith("out of credits"):
                msg = f"out of credits: {msg}"
            return OutOfCredits(msg, code=code, hint=hint)
        if code == UNSUPPORTED_TYPE:
            return ClientError(msg, code=code, hint="accepted: " + ", ".join(ACCEPTED_TYPES))
        if code == FILE_TOO_LARGE:
            return ClientError(msg, code=code, hint="compress or trim it below 200 MB")
        if code == PLAN_BLOCKED:
            return ClientError(
                f"export refused by the backend's plan: {msg}",
                code=code,
                hint="this is a subscription tier matter, not credits: upgrade the plan",
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
        avail, frozen = _int(data.get("available")), _int(data.get("frozen"))
        total = data.get("total")
        return {
            "available": avail,
            "frozen": frozen,
            "total": _int(total) if total is not None else avail + frozen,
        }

    async def fetch_state(self) -> dict:
        data = await self._call(
            "GET", lambda: f"/api/state/nemo_agent/me/{self.session.session_id}/latest"
        )
        state = (data or {}).get("state") if isinstance(data, dict) else None
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
        files = (data or {}).get("files") if isinstance(data, dict) else None
        return [f for f in files or [] if isinstance(f, dict)]

    async def upload_urls(self, urls: list[str]) -> list[dict]:
        """Media the backend fetches itself (the cloud; the local engine refuses it)."""
        data = await self._call(
            "POST",
            lambda: f"/api/upload-video/nemo_agent/me/{self.session.session_id}",
            json={"urls": list(urls), "source_type": "url"},
        )
        files = (data or {}).get("files") if isinstance(data, dict) else None
        return [f for f in files or [] if isinstance(f, dict)]

    # ---- the agent turn --------------------------------------------------------------------

    async def turn(self, text: str) -> AsyncIterator[AgentEvent | StateUpdate]:
        """One agent turn: typed events as they stream, then always a StateUpdate."""
        await self.connect()
        try:
            before: dict | None = await self.draft()
        except ClientError:
            before = None
        saw_text = False
        final_text = ""
        broken: TurnError | None = None
        deadline = asyncio.get_running_loop().time() + self.turn_deadline
        events = self._stream_turn(text)
        try:
            while True:
                try:
                    async with asyncio.timeout_at(deadline):
                        ev = await anext(events)
                except StopAsyncIteration:
                    break
                if isinstance(ev, TextChunk | FinalText):
                    saw_text = saw_text or bool(ev.text.strip())
                    if isinstance(ev, FinalText):
                        final_text = ev.text
                yield ev
        except TimeoutError:
            minutes = self.turn_deadline / 60
            broken = TurnError(
                f"the turn took over {minutes:g} minutes; not re-sent (it would run twice), "
                "checking the timeline",
                "deadline",
            )
        except _StreamBroken as exc:
            broken = TurnError(
                f"{exc}; not re-sent (it would run twice), checking the timeline", "broken"
            )
        finally:
            await events.aclose()
        if broken is not None:
            yield broken
        try:
            draft = await self.draft()
        except ClientError as exc:
            yield TurnError(f"could not read the timeline: {exc}", "state")
            draft = before or {}
        summary = summarize_draft(draft)
        changes = diff_drafts(before, draft) if before is not None else []
        actions: list[str] = []
        note = ""
        if not saw_text:
            if before is None:
                note = "The assistant finished without words. The timeline now has: " + (
                    "; ".join(summary) or "nothing"
                )
            elif changes:
                note = "The assistant finished without words. Changed: " + "; ".join(changes)
            else:
                note = "The assistant finished without words; the timeline did not change."
        elif final_text:
            gui = translate_gui(final_text)
            note, actions = gui.note, gui.actions
        yield StateUpdate(draft, summary, note, changes, actions)

    async def _stream_turn(self, text: str) -> AsyncIterator[AgentEvent]:
        retried: set[int] = set()
        while True:
            body = {
                "app_name": APP_NAME,
                "user_id": "me",  # as the protocol page has it; the token says who
                "session_id": self.session.session_id,
                "new_message": {"role": "user", "parts": [{"text": text}]},
                "streaming": True,
            }
            headers = {**self._auth(), "Accept": "text/event-stream", "Cache-Control": "no-store"}
            started = False
            self._check_open()
            try:
                async with self.http.stream("POST", "/run_sse", json=body, headers=headers) as resp:
                    ctype = resp.headers.get("content-type", "")
                    if resp.status_code >= 400 or "text/event-stream" not in ctype:
                        await resp.aread()
                        env = read_envelope(resp.status_code, _json(resp))
                        if env.ok:
                            raise ClientError(
                                f"the backend answered the turn with {ctype or 'no type'}, "
                                "not an event stream"
                            )
                        # Refused before it started: safe to retry per the error table.
                        if await self._recover(env.code, env.message, resp, retried):
                            continue
                        raise self._error(env.code, env.message, resp)
                    started = True
                    lines, decoder = SSELineDecoder(), SSEDecoder()
                    async for chunk in resp.aiter_text():
                        for line in lines.decode(chunk):
                            for ev in _sse_line(decoder, line):
                                yield ev
                                if isinstance(ev, TurnError):
                                    return
                    # The server closed the stream: what is left is the last event.
                    for line in [*lines.flush(), ""]:
                        for ev in _sse_line(decoder, line):
                            yield ev
                    return
            except (httpx.TransportError, httpx.StreamError) as exc:
                if not started:
                    raise Unreachable(
                        f"cannot reach the backend at {self.base_url} ({_one_line(exc)})",
                        hint="check the connection",
                    ) from None
                raise _StreamBroken(
                    f"the connection dropped mid-turn ({type(exc).__name__})"
                ) from None

    # ---- export ----------------------------------------------------------------------------

    async def start_render(
        self, quality: str = "high", draft: dict | None = None, *, target: Path | None = None
    ) -> str:
        if draft is None:
            draft = await self.draft()
        if not draft_ready(draft):
            raise ClientError("the timeline is empty", hint="upload an image and describe the clip")
        rid = f"render_{int(time.time() * 1000)}"

        def body() -> dict:
            return {
                "id": rid,
                "sessionId": self.session.session_id,
                "draft": draft,
                "output": {"format": "mp4", "quality": quality},
            }

        data = await self._call("POST", "/api/render/proxy/lambda", make_json=body)
        status = read_render_status(data, rid)
        # Saved before the first poll: a restart resumes the job instead of orphaning it.
        info: dict[str, Any] = {
            "session_id": self.session.session_id,
            "state": "rendering",
            "owner": self.owner,
        }
        if target is not None:
            info["target"] = str(target)
        self.state.add_render(status.id, started=time.time(), quality=quality, **info)
        return status.id

    async def render_status(self, render_id: str) -> tuple[RenderStatus, float | None]:
        data, resp = await self._request(
            "GET", f"/api/render/proxy/lambda/{render_id}", session_scoped=False
        )
        status = read_render_status(_json(resp) or data, render_id)
        retry = resp.headers.get("retry-after")
        try:
            wait = max(0.0, float(retry)) if retry else None
        except ValueError:
            wait = None
        return status, wait

    async def wait_render(
        self,
        render_id: str,
        on_progress: Callable[[RenderStatus], Awaitable[None] | None] | None = None,
    ) -> RenderStatus:
        blips = 0
        while True:
            try:
                status, wait = await self.render_status(render_id)
            except ClientError as exc:
                if exc.code == 404:
                    self.state.update_render(render_id, state="lost")
                # Polling is a GET: a dropped connection or a gateway's 5xx is tried again,
                # a few times in a row at most.
                if not (exc.transient or (exc.code or 0) >= 500) or blips >= POLL_BLIPS:
                    raise
                blips += 1
                await asyncio.sleep(self.poll_interval)
                continue
            blips = 0
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
        data = await self._call(
            "POST", f"/api/render/proxy/lambda/{render_id}/cancel", session_scoped=False
        )
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
        url = f"{self.base_url}/api/render/proxy/{render_id}/download"
        if status and status.output_url and status.output_url.startswith(("http://", "https://")):
            url = status.output_url  # the cloud's CDN, or the engine's own link
        # Our token goes only to our backend, never to a CDN on another host.
        own = httpx.URL(url).netloc == httpx.URL(self.base_url).netloc
        total: int | None = None
        retried: set[int] = set()
        for _attempt in range(6):
            have = tmp.stat().st_size if tmp.exists() else 0
            headers = self._auth() if own else {}
            headers["Accept-Encoding"] = "identity"  # lengths and ranges count the file's bytes
            if have:
                headers["Range"] = f"bytes={have}-"
            self._check_open()
            try:
                async with self.http.stream("GET", url, headers=headers) as resp:
                    if resp.status_code == 416:
                        # Asked past the end: the part file is whole, or stale.
                        crange = resp.headers.get("content-range", "")
                        size = _int(crange.rsplit("/", 1)[1]) if "/" in crange else None
                        if size is not None and have == size:
                            total = size
                            break
                        tmp.unlink(missing_ok=True)
                        continue
                    if resp.status_code >= 400:
                        await resp.aread()
                        env = read_envelope(resp.status_code, _json(resp))
                        if own and await self._recover(
                            env.code, env.message, resp, retried, session_scoped=False
                        ):
                            continue
                        raise self._error(env.code, env.message or "download failed", resp)
                    crange = resp.headers.get("content-range", "")
                    if resp.status_code == 206 and crange.startswith(f"bytes {have}-"):
                        total = _int(crange.rsplit("/", 1)[1]) if "/" in crange else None
                        mode = "ab"
                    elif resp.status_code == 206:  # some other range: start over
                        tmp.unlink(missing_ok=True)
                        continue
                    else:  # the whole file again
                        clen = resp.headers.get("content-length")
                        total = _int(clen) if clen else None
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
                self._say("The download was cut; resuming…")
                await asyncio.sleep(0.1)
                continue
        size = tmp.stat().st_size if tmp.exists() else 0
        if (total is None and size == 0) or (total is not None and size != total):
            raise ClientError(
                f"download incomplete: {size} of {total if total is not None else '?'} bytes",
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
        rid = await self.start_render(quality, target=Path(dest))
        status = await self.wait_render(rid, on_progress)
        path = await self.download(rid, dest, status)
        return ExportResult(rid, path, status, path.stat().st_size, time.perf_counter() - started)

    async def resume_renders(
        self,
        on_progress: Callable[[RenderStatus], Awaitable[None] | None] | None = None,
        default_dir: Path | None = None,
        *,
        on_start: Callable[[str, Path], None] | None = None,
        skip: Collection[str] = (),
    ) -> list[Resumed]:
        """See through the renders an earlier run of this owner saved but never downloaded.

        Only renders tagged with this client's `owner` (or saved before owners were recorded)
        are taken: the app never downloads a watcher's render, nor a watcher the app's. Each is
        polled to its end, all at once, and downloaded to the target it was started for (or
        into `default_dir`); `on_start(render_id, dest)` is called as each is taken up. A render
        the backend no longer knows is marked lost, not retried forever; one with nowhere to go
        is reported, not polled.
        """

        async def one(rid: str, info: dict) -> Resumed:
            target = info.get("target")
            if not target and default_dir is not None:
                target = str(Path(default_dir) / f"{rid}.mp4")
            if not target:
                return Resumed(rid, None, None, "no download target saved")
            dest = Path(target)
            part = dest.with_name(f".{dest.name}.part")
            if not part.exists():
                dest = unique_path(dest)
            if on_start is not None:
                on_start(rid, dest)
            try:
                status = await self.wait_render(rid, on_progress)
                path = await self.download(rid, dest, status)
                return Resumed(rid, path, status)
            except ClientError as exc:
                return Resumed(rid, None, None, str(exc))

        pending = self.state.pending_renders(owner=self.owner)
        jobs = [one(rid, info) for rid, info in pending.items() if rid not in skip]
        return list(await asyncio.gather(*jobs))


class _StreamBroken(Exception):
    pass


def _sse_line(decoder: SSEDecoder, line: str) -> list[AgentEvent]:
    """One line of the stream: `: ping` comments are heartbeats too."""
    if line.startswith(":"):
        return [Heartbeat()]
    sse = decoder.decode(line)
    return parse_sse_data(sse.data) if sse is not None else []


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _int(value: Any) -> int:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return 0


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
    "Resumed",
    "StateUpdate",
    "TextChunk",
    "ToolCall",
    "TurnError",
    "Unreachable",
    "unique_path",
]
