"""The Engine: its state (store, render jobs, rate limiter, agent turns), the route table, and
start-up and shutdown (resuming renders, warming the worker and the agent)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tui import __version__
from tui.core.protocol import ENGINE_NAME
from tui.engine.jobs import JobRunner, local_layout
from tui.engine.media import clean_partial
from tui.engine.server.envelope import http_error, ok
from tui.engine.server.guard import guarded
from tui.engine.server.ratelimit import RateLimiter
from tui.engine.server.render_waits import RenderWaits
from tui.engine.server.routes import credits, live, render, sessions, tokens, turn, upload
from tui.engine.server.sse import HEARTBEAT_SECONDS
from tui.engine.stores import open_store

if TYPE_CHECKING:
    import subprocess

    from tui.engine.queue import QueueJobs

log = logging.getLogger("i2v.engine")

WARM_AFTER = 3.0  # seconds after start: start a render worker, load the agent (see _lifespan)
PRUNE_EVERY = 6 * 3600.0  # seconds between storage prunes (the first at WARM_AFTER)
PRUNE_EVERY_ENV = "I2V_ENGINE_PRUNE_EVERY"  # another interval, in seconds (tests)
SHARED_PARTIAL_AGE = 3600.0  # an upload untouched this long in a shared folder is a dead one's


async def health(engine: Engine, request: Request) -> Response:
    # Named: the client prices drafts (free here) by whether the backend is this engine.
    return ok({"status": "ok", "engine": ENGINE_NAME, "version": __version__})


# (path, endpoint, methods, needs a token); each endpoint is `fn(engine, request[, user])`.
ROUTES = [
    ("/api/auth/anonymous-token", tokens.anonymous_token, ["POST"], False),
    ("/api/tasks/me/with-session/nemo_agent", sessions.new_session, ["POST"], True),
    ("/run_sse", turn.run_sse, ["POST"], True),
    ("/api/upload-video/nemo_agent/me/{sid}", upload.upload, ["POST"], True),
    ("/api/credits/balance/simple", credits.balance, ["GET"], True),
    ("/api/state/nemo_agent/me/{sid}/latest", sessions.state, ["GET"], True),
    ("/api/render/proxy/lambda", render.start, ["POST"], True),
    ("/api/render/proxy/lambda/{rid}", render.status, ["GET"], True),
    ("/api/render/proxy/lambda/{rid}/cancel", render.cancel, ["POST"], True),
    ("/api/render/proxy/{rid}/download", render.download, ["GET", "HEAD"], True),
    ("/api/render/proxy/{rid}/live", live.live, ["GET"], True),
    ("/health", health, ["GET"], False),
]


class TurnLock:
    """A session's turn lock, and how many turns hold it or wait for it."""

    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


class Engine:
    """State shared by the endpoints; `app` is the Starlette application.

    `heartbeat` is the longest silence in an agent turn's stream (seconds); `turn_delay` makes
    every turn work that much longer (a testing knob: it shows the heartbeats); `loopback` says
    the server listens on loopback only (Host header check, `file://` imports); `allow_files`
    are the only folders `file://` imports may read (none: imports are off), kept as real paths.
    """

    def __init__(
        self,
        data_dir: Path,
        workers: int | None = None,
        *,
        heartbeat: float = HEARTBEAT_SECONDS,
        turn_delay: float = 0.0,
        loopback: bool = True,
        allow_files: tuple[Path, ...] = (),
        database: str | None = None,
        warm_now: bool = False,
        first_worker: subprocess.Popen | None = None,
    ):
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # SQLite in the data folder, or PostgreSQL (`database`, a URL) shared with other nodes.
        sqlite_file, renders = local_layout(self.data_dir)
        self.store = open_store(database or sqlite_file, self.data_dir)
        self.media_dir = self.data_dir / "media"
        self.renders_dir = renders  # this node's workers' MP4s (a live draft is read there)
        self.jobs: JobRunner | QueueJobs
        if self.store.path is None:  # PostgreSQL: renders go to the queue, `i2v-flow worker`s
            from tui.engine.queue import QueueJobs
            from tui.engine.store_pg import PgStore

            assert isinstance(self.store, PgStore)
            self.jobs = QueueJobs(self.store)
        else:
            self.jobs = JobRunner(self.store, renders, workers, first=first_worker)
        self.render_waits = RenderWaits()  # status polls held until their render settles
        self.live_streams: Counter[str] = Counter()  # drafts being sent as they render, by user
        if isinstance(self.jobs, JobRunner):
            self.jobs.on_settled = self.render_waits.settled_soon
        self.warm_after = 0.0 if warm_now else WARM_AFTER
        self.heartbeat = max(0.01, float(heartbeat))
        self.turn_delay = max(0.0, float(turn_delay))
        self.stopping = threading.Event()  # set at shutdown: the turn-delay knob's waits end
        self.loopback = loopback
        self.allow_files = tuple(Path(os.path.realpath(p)) for p in allow_files)
        self.limiter = RateLimiter()
        # One turn at a time per session: a session's lock is here only while a turn holds it
        # or waits for it (see `turn_lock`), so the table never outgrows the turns under way.
        self.turn_locks: dict[int, TurnLock] = {}
        self.turns: set[asyncio.Task] = set()  # running turns (kept alive past their stream)
        self.app = Starlette(
            routes=[Route(p, guarded(self, fn, auth), methods=m) for p, fn, m, auth in ROUTES],
            exception_handlers={HTTPException: http_error},
            lifespan=self._lifespan,
        )

    @contextlib.asynccontextmanager
    async def turn_lock(self, session_id: int) -> AsyncIterator[None]:
        """Hold `session_id`'s turn lock for the block (turns on one session run one at a time,
        each reading the draft the last one left). The lock leaves `turn_locks` when its last
        holder or waiter is done, a waiter cancelled included; never while anyone holds or waits
        for it, so a later turn can never get a second lock of its own. (Everything here runs on
        the event loop: nothing comes between looking the lock up and counting oneself in.)"""
        entry = self.turn_locks.get(session_id)
        if entry is None:
            entry = self.turn_locks[session_id] = TurnLock()
        entry.users += 1
        try:
            async with entry.lock:
                yield
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self.turn_locks[session_id]

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        # A shared folder (PostgreSQL: several nodes) holds other nodes' uploads under way.
        clean_partial(self.media_dir, 0.0 if self.store.path else SHARED_PARTIAL_AGE)
        n = self.jobs.resume()
        if n:
            log.info("resumed %d render job(s)", n)
        # Start-up answers the app's first requests (token, session, state) on its own: the
        # render worker (a process importing av, cv2 and numpy) and the agent's tables load a
        # little later, or at the first upload, so they never compete with the app's start.
        # With --warm-now (a one-shot `render` or `watch`: no screen to draw) they load at once.
        loop = asyncio.get_running_loop()
        self.render_waits.bind(loop)
        warm = loop.call_later(self.warm_after, self._warm_up)
        self._prune_timer = loop.call_later(WARM_AFTER, self._prune_soon)
        try:
            yield
        finally:
            self.stopping.set()
            self.render_waits.close()
            warm.cancel()
            self._prune_timer.cancel()
            if self._pruner is not None:  # it uses the store: let it finish first
                self._pruner.join(timeout=30)
            self.jobs.shutdown()
            self.store.close()

    _pruner: threading.Thread | None = None

    def _prune_soon(self) -> None:
        """Prune storage in a thread (never on the event loop), then again in PRUNE_EVERY."""
        if self._pruner is None or not self._pruner.is_alive():
            self._pruner = threading.Thread(target=self._prune, name="prune", daemon=True)
            self._pruner.start()
        try:
            every = max(0.1, float(os.environ.get(PRUNE_EVERY_ENV, PRUNE_EVERY)))
        except ValueError:
            every = PRUNE_EVERY
        self._prune_timer = asyncio.get_running_loop().call_later(every, self._prune_soon)

    def _prune(self) -> None:
        from tui.core.config import ConfigError, Settings, load
        from tui.engine.prune import Limits, prune

        try:
            settings = load().settings
        except ConfigError as exc:  # the app says so where it is read; here, the defaults
            log.warning("storage limits: %s; using the defaults", exc)
            settings = Settings()
        try:
            freed = prune(self.store, Limits.from_settings(settings))
        except Exception:  # a prune that fails waits for the next; the engine goes on
            log.exception("storage prune failed")
            return
        if freed.renders or freed.uploads:
            log.info("storage: %s", freed.summary())

    def _warm_up(self) -> None:
        from tui.engine import agent
        from tui.engine.draft_history import EMPTY_DRAFT

        self.jobs.warm()
        # A first plan compiles the agent's patterns (~20 ms the first turn would wait for):
        # made now, on a thread of its own (plan_turn is pure: it changes nothing).
        threading.Thread(
            target=agent.plan_turn,
            args=("a 5-second clip", EMPTY_DRAFT, [], "en"),
            name="agent-warm",
            daemon=True,
        ).start()
