"""The connection under every call: the httpx client, the token and the session (reused when
saved, renewed when refused), the request loop that applies the protocol's error table, and the
plain reads (credits, the session's state and draft).

Every retry here is a decision from the error table, never a transport's blind one: a new token
on 1001, a new session on 1002, one wait on 429, a fresh client id on 400.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self

import httpx

from tui.client.errors import ClientError, Unreachable, error_for
from tui.client.state import ClientState
from tui.client.wire import json_body, one_line, retry_after, to_int
from tui.core.intents import language_of
from tui.core.paths import socket_of
from tui.core.protocol import (
    ENGINE_NAME,
    MISSING_CLIENT_ID,
    RATE_LIMITED,
    SESSION_NOT_FOUND,
    TOKEN_EXPIRED,
    read_envelope,
    skill_headers,
)
from tui.core.session_state import SessionState, read_session_state

TURN_DEADLINE = 15 * 60.0  # longest agent turn, seconds (the default of Client's turn_deadline)


@dataclass
class Session:
    token: str = ""
    user_id: str = ""
    session_id: str = ""
    task_id: str = ""


class Connection:
    """The part of `Client` that talks; the endpoint families build on `_request`/`_call`."""

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
        language: str | None = None,
        connections: int = 8,
        http: httpx.AsyncClient | None = None,
    ):
        # `url` as given (another client for the same backend takes it); `base_url` what requests
        # and links are made against: over the embedded engine's Unix socket
        # (tui.core.paths.socket_url) that is http://localhost, the Host the engine accepts and
        # builds its own links from.
        self.url = base_url.rstrip("/")
        uds = socket_of(self.url)
        self.base_url = "http://localhost" if uds else self.url
        self.owner = owner
        self.persist_session = persist_session
        # The language new sessions are opened in: the user's (tui.core.intents.language_of of their
        # first words, the caller's to give), else the locale's.
        self.language = language or language_of()
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
        self.read_timeout = read_timeout
        self._own_engine: bool | None = None  # asked once (`own_engine`)
        # Another client's pool (`sibling`): one connection pool for the app and its watch jobs.
        self._owns_http = http is None
        # Siblings share it (`Client.sibling`): one account, so one of them gets a token at a time
        # and the others take the one it saved.
        self._token_lock = asyncio.Lock()
        if http is not None:
            self.http = http
            self._connect_lock = asyncio.Lock()
            return
        # Read timeout > any heartbeat gap; httpx applies it per read, not to the whole stream.
        # retries=0: the transport never re-sends a POST on its own; retries are ours.
        self.http = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=httpx.Timeout(connect=10.0, read=read_timeout, write=60.0, pool=10.0),
            # No CA bundle for plain http (the local engine): loading it costs ~50 ms.
            transport=transport
            or httpx.AsyncHTTPTransport(
                retries=0,
                verify=self.base_url.startswith("https"),
                uds=uds,
                # Enough for every job sharing this pool (a turn's stream and a poll each), few
                # enough that a busy watch folder cannot crowd a backend with connections.
                limits=httpx.Limits(
                    max_connections=connections, max_keepalive_connections=connections
                ),
            ),
            headers=skill_headers(),
            follow_redirects=True,
        )
        self._connect_lock = asyncio.Lock()

    async def aclose(self) -> None:
        if self._owns_http:  # a sibling leaves the shared pool to the client that made it
            await self.http.aclose()

    async def __aenter__(self) -> Self:
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
                await self._ensure_token()
            if not self.session.session_id:
                await self.new_session()
            return self.session

    async def _ensure_token(self, refused: str = "") -> None:
        """A token: the one a sibling saved meanwhile (same account, same state file), else a
        new one (`refused`, the token the backend just turned down, is the proof for it)."""
        async with self._token_lock:
            saved = "" if self.fixed_token else str(self.state.backend.get("token") or "")
            if saved and saved != refused:
                self.session.token = saved
                self.session.user_id = str(self.state.backend.get("user_id") or "")
                return
            await self._new_token(refused)

    async def _new_token(self, proof: str = "") -> None:
        """A new anonymous token; `proof`, the token just refused, keeps the account (its
        sessions and credits) on the local engine, which gives a client id alone a new one."""
        if self.fixed_token:
            raise ClientError(
                "NEMO_TOKEN is invalid or expired",
                code=TOKEN_EXPIRED,
                hint="set a valid NEMO_TOKEN, or unset it to get an anonymous token",
            )
        path = "/api/auth/anonymous-token"
        retried: set[int] = set()
        while True:
            headers = {"X-Client-Id": self.state.client_id}
            if proof:
                headers["Authorization"] = f"Bearer {proof}"
            resp = await self._send("POST", path, headers=headers)
            env = read_envelope(resp.status_code, json_body(resp))
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
                    wait = retry_after(resp, self.rate_limit_wait)
                    self._say(f"Too many new tokens; waiting {wait:g} s…")
                    await asyncio.sleep(wait)
                continue
            raise self._error(code, env.message, resp)

    async def new_session(
        self, language: str | None = None, *, persist: bool | None = None
    ) -> Session:
        """A new, empty session in `language` (else the client's); saved as the current one
        unless `persist` (or the client's `persist_session`) says not to."""
        data = await self._call(
            "POST",
            "/api/tasks/me/with-session/nemo_agent",
            json={"task_name": "project", "language": language or self.language},
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
                f"cannot reach the backend at {self.url} ({one_line(exc)})",
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
            # The refused token stays saved until a new one replaces it: should this renewal
            # fail, the next start shows it again, as the proof that keeps the account.
            proof, self.session.token = self.session.token, ""
            await self._ensure_token(proof)  # a bad NEMO_TOKEN raises: reported, not looped on
            return True
        if code == SESSION_NOT_FOUND and session_scoped:
            retried.add(code)
            # A new session starts empty: what was uploaded and made in the lost one is gone.
            self._say("The session was lost; starting a new, empty one…")
            await self.new_session()
            return True
        if code == RATE_LIMITED:
            retried.add(code)
            wait = retry_after(resp, self.rate_limit_wait)
            if wait >= 1:  # (a burst's shorter pause is not worth a line)
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
            await self._ensure_token()
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
            env = read_envelope(resp.status_code, json_body(resp))
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
        return error_for(
            code,
            message,
            resp,
            anonymous=self.anonymous,
            cloud=self.cloud,
            client_id=self.state.client_id,
        )

    # ---- reads -----------------------------------------------------------------------------

    async def own_engine(self) -> bool:
        """Whether the backend is our own engine, by what its GET /health says (`data.engine`),
        not by where it runs: a cloud stand-in on loopback is the cloud, `i2v-flow serve` on
        another host is ours. Asked once; no usable answer (the cloud has no /health, a
        network fault) counts as not ours, which spends nothing, and is asked again next time."""
        if self._own_engine is not None:
            return self._own_engine
        try:
            resp = await self._send("GET", "/health")
        except ClientError:
            return False
        env = read_envelope(resp.status_code, json_body(resp))
        ours = env.ok and isinstance(env.data, dict) and env.data.get("engine") == ENGINE_NAME
        if resp.is_success or resp.status_code == 404:  # a definite answer (busy is not)
            self._own_engine = ours
        return ours

    async def credits(self) -> dict:
        data = await self._call("GET", "/api/credits/balance/simple", session_scoped=False)
        data = data if isinstance(data, dict) else {}
        avail, frozen = to_int(data.get("available")), to_int(data.get("frozen"))
        total = data.get("total")
        return {
            "available": avail,
            "frozen": frozen,
            "total": to_int(total) if total is not None else avail + frozen,
        }

    async def fetch_state(self) -> dict:
        data = await self._call(
            "GET", lambda: f"/api/state/nemo_agent/me/{self.session.session_id}/latest"
        )
        state = (data or {}).get("state") if isinstance(data, dict) else None
        return state if isinstance(state, dict) else {}

    async def session_state(self) -> SessionState:
        """The state read leniently: the draft, `video_infos` and `generated_media`."""
        return read_session_state(await self.fetch_state())

    async def draft(self) -> dict:
        d = (await self.fetch_state()).get("draft")
        return d if isinstance(d, dict) else {}
