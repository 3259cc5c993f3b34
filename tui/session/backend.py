"""`Backend`: the one connection a face stands on (the app, `render`, `watch`).

It chooses the backend (tui/core/backend.py: `--api`, I2V_FLOW_API, NEMO_TOKEN, else the
embedded engine), starts and stops the embedded engine's process, and holds the one `Client`
(one `httpx.AsyncClient`; a watch job's client is its `sibling`, on the same pool and token
lock). The calls below are the client's, with typed results where the faces read the answer.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from tui.core.backend import BackendChoice, EmbeddedEngine, choose

if TYPE_CHECKING:  # the client loads on first use: after the app's first screen
    from tui.client import BatchFile, BatchItem, Client, ExportResult, Resumed, StateUpdate
    from tui.client.renders import OnStatus
    from tui.core.protocol import AgentEvent, RenderStatus
    from tui.core.session_state import Media, SessionState
    from tui.session.results import Connected, Credits, SessionRef, Uploaded


def check_uploads(paths: Sequence[Path]) -> None:
    """No such file, a wrong type, too large: said before a byte is sent (ClientError)."""
    from tui.client import Client

    for p in paths:
        Client.check_upload(p)


class Backend:
    """One backend and its client, from `open` (or `connect`) to `aclose`.

    `owner` tags the renders started here ("app", "cli"): each face resumes only its own.
    `persist_session=False`: the sessions opened here never become the saved current one.
    `connections`: the pool's size (a watcher's jobs share it).
    """

    def __init__(
        self,
        api: str | None = None,
        *,
        owner: str = "cli",
        persist_session: bool = True,
        poll_interval: float | None = None,
        on_status: Callable[[str], None] | None = None,
        language: str | None = None,
        connections: int = 8,
    ):
        self.choice: BackendChoice = choose(api)
        self.owner = owner
        self.persist_session = persist_session
        self.poll_interval = poll_interval
        self.on_status = on_status
        self._language = language  # None: the client's own (tui.core.intents.language_of)
        self.connections = connections
        self.client: Client | None = None
        self.engine: EmbeddedEngine | None = None
        self._starting: asyncio.Future[str] | None = None  # the embedded engine, while it starts
        self.label = ""  # "local engine", or the cloud's host
        self.key = ""  # whose saved state: "local", or the backend's URL
        self.resumable = False  # a saved session was there when the client was made

    @property
    def is_cloud(self) -> bool:
        return self.choice.is_cloud

    # ---- the backend's life ----------------------------------------------------------------

    def prestart(self) -> None:
        """Launch the embedded engine now (the app: before its first screen, so that the two
        start-ups overlap); `open` waits for it. Nothing to do on the cloud."""
        if not self.choice.is_cloud:
            # The app's engine warms its render worker after the first screen; others at once.
            self.engine = EmbeddedEngine(warm_now=self.owner != "app")
            self._starting = asyncio.ensure_future(self.engine.start())

    async def open(self) -> Client:
        """The backend up and a new client on it (the previous one closed once the backend is
        up); no request is made. EngineStartError when the engine cannot start."""
        from tui.client import Client
        from tui.client.state import ClientState
        from tui.core.paths import client_state_file

        if self.choice.is_cloud:
            assert self.choice.url is not None
            url = key = self.choice.url
            self.label = url.split("://", 1)[-1]
        else:
            if self._starting is None or self.engine is None:
                self.prestart()
            assert self._starting is not None
            url = await self._starting
            self._starting = None
            key, self.label = "local", "local engine"
        if self.client is not None:
            await self.client.aclose()
        self.key = key
        state = ClientState(client_state_file(), key)
        self.resumable = bool(state.backend.get("session_id"))
        self.client = Client(
            url,
            state,
            token=self.choice.token,
            cloud=self.choice.is_cloud,
            owner=self.owner,
            persist_session=self.persist_session,
            poll_interval=self.poll_interval,
            on_status=self.on_status,
            language=self._language,
            connections=self.connections,
        )
        return self.client

    async def connect(self) -> Connected:
        """`open`, then a token and a session: the saved ones when there are, else new ones."""
        from tui.session.results import Connected

        client = await self.open()
        await client.connect()
        return Connected(self.label, self.key, self.resumable)

    async def restart(self) -> None:
        """Before connecting again: the embedded engine stops (`open` starts a new one)."""
        if self.engine is not None:
            await self.engine.stop()
            self.engine = None

    @property
    def engine_dead(self) -> bool:
        """The embedded engine was started and is gone (never true on the cloud)."""
        if self.engine is None:
            return False
        proc = self.engine.proc
        return proc is None or proc.returncode is not None

    async def aclose(self) -> None:
        """The client closed, then the engine stopped (one still starting is waited for)."""
        if self.client is not None:
            with contextlib.suppress(Exception):
                await self.client.aclose()
        if self._starting is not None:  # quit while the engine was still starting
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._starting, 10)
        if self.engine is not None:
            await self.engine.stop()

    async def __aenter__(self) -> Backend:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ---- calls -----------------------------------------------------------------------------

    @property
    def live(self) -> Client:
        """The client; a RuntimeError before `open` (a face's bug, never the person's)."""
        if self.client is None:
            raise RuntimeError("the backend is not open")
        return self.client

    @property
    def language(self) -> str:
        """The language new sessions are opened in (a batch's words to the agent follow it)."""
        if self.client is not None:
            return self.client.language
        from tui.core.intents import language_of

        return self._language or language_of()

    def sibling(self) -> Client:
        """A client of its own session on the same pool (a watch job's)."""
        return self.live.sibling()

    async def own_engine(self) -> bool:
        """Whether the backend is our own engine (its /health says): its prices are known and
        its draft tier is free; no answer counts as not ours, which spends nothing."""
        return await self.live.own_engine()

    async def credits(self) -> Credits:
        from tui.session.results import Credits

        c = await self.live.credits()
        return Credits(c["available"], c["frozen"], c["total"])

    async def draft(self) -> dict:
        return await self.live.draft()

    async def session_state(self) -> SessionState:
        return await self.live.session_state()

    async def new_session(self, *, persist: bool | None = None) -> SessionRef:
        """A new, empty session; saved as the current one unless `persist` says not to."""
        await self.live.new_session(persist=persist)
        return self.where()

    def where(self) -> SessionRef:
        """The session the calls go to now."""
        from tui.session.results import SessionRef

        s = self.live.session
        return SessionRef(s.session_id, s.task_id)

    def go(self, ref: SessionRef) -> None:
        """The calls go to `ref`'s session from now on (never saved as the current one)."""
        s = self.live.session
        s.session_id, s.task_id = ref.session_id, ref.task_id

    async def upload(self, paths: Sequence[Path]) -> list[Uploaded]:
        from tui.session.results import Uploaded

        return [Uploaded.of(f) for f in await self.live.upload(list(paths))]

    async def fetch_urls(self, urls: Sequence[str]) -> list[Uploaded]:
        """Media the backend fetches itself (the cloud; the local engine says why it won't)."""
        from tui.session.results import Uploaded

        return [Uploaded.of(f) for f in await self.live.upload_urls(list(urls))]

    async def open_batch(self) -> SessionRef:
        """The batch's own new session, never saved as the current one: where the calls go now
        (`go` back to the one before when the batch is done)."""
        await self.live.open_batch()
        return self.where()

    async def add_to_batch(self, item: BatchItem, files: list[BatchFile]) -> BatchFile:
        """One file (or URL) uploaded into the batch's session, appended to `files` once there."""
        return await self.live.add_to_batch(item, files)

    async def save_media(self, media: Media, folder: Path) -> Path:
        """What the cloud's own tools made, fetched into `folder` under its own name (its host
        never gets our token): the file's path."""
        return await self.live.save_media(media, folder)

    def turn(self, text: str) -> AsyncIterator[AgentEvent | StateUpdate]:
        """One agent turn: its events as they stream, then always a StateUpdate."""
        return self.live.turn(text)

    async def start_render(
        self, quality: str, draft: dict, target: Path, *, owner: str | None = None
    ) -> str:
        """A render of `draft` started (saved in the client's state for `resume`): its id.
        `owner` (the preview's drafts) marks it as another face's: this one never resumes it."""
        client = self.live
        rid = await client.start_render(quality, draft, target=target)
        if owner is not None:
            client.state.update_render(rid, owner=owner)
        return rid

    async def render_status(self, render_id: str) -> RenderStatus:
        """One read of a render's status (no wait, no retry)."""
        status, _ = await self.live.render_status(render_id)
        return status

    async def cancel_render(self, render_id: str) -> RenderStatus:
        return await self.live.cancel_render(render_id)

    async def follow(
        self,
        render_id: str,
        dest: Path,
        on_progress: OnStatus | None = None,
        on_download: Callable[[], None] | None = None,
    ) -> Path:
        """Wait for a render, then download it to `dest` (resumed if cut): the file's path.
        On this client throughout, even if another connection replaces it meanwhile."""
        client = self.live
        status = await client.wait_render(render_id, on_progress)
        if on_download is not None:
            on_download()
        return await client.download(render_id, dest, status)

    async def wait_render(
        self, render_id: str, on_progress: OnStatus | None = None
    ) -> RenderStatus:
        """A render waited for (a failed one retried once): its final status, whose `id` is the
        retry's when there was one."""
        return await self.live.wait_render(render_id, on_progress)

    async def download(self, render_id: str, dest: Path, status: RenderStatus) -> Path:
        """A finished render's file downloaded to `dest` (resumed if cut): its path."""
        return await self.live.download(render_id, dest, status)

    async def follow_live(
        self, render_id: str, dest: Path, on_first: Callable[[], None] | None = None
    ) -> bool:
        """A draft into `dest`'s part file as our engine renders it (tui/client/transfer.py)."""
        return await self.live.follow_live(render_id, dest, on_first)

    async def export(
        self, dest: Path, quality: str, on_progress: OnStatus | None = None
    ) -> ExportResult:
        """The timeline rendered and downloaded to `dest`, in one call."""
        return await self.live.export(dest, quality, on_progress)

    async def resume(
        self,
        on_progress: OnStatus | None = None,
        *,
        on_start: Callable[[str, Path], None] | None = None,
        skip: set[str] | None = None,
    ) -> list[Resumed]:
        """This owner's renders an earlier run (or a reconnect) left: seen through."""
        return await self.live.resume_renders(on_progress, on_start=on_start, skip=skip or set())
