"""What every part of the app shares: its state, the panes, and the helpers they all call.

Each part subclasses `AppPart` and sees the app's state through the declarations here (set by
`I2VApp.__init__` in tui/app/app.py). The few calls one part makes into another are declared too,
so each part reads, and type-checks, on its own.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from textual.app import App
from textual.css.query import NoMatches
from textual.widget import Widget

from tui.app.messages import CreditsReady, StatusLine, TrackReady
from widgets.files import FileBrowser
from widgets.transcript import Transcript

if TYPE_CHECKING:
    from textual.worker import Worker

    from tui.app.history import History
    from tui.client import Client
    from tui.core.backend import EmbeddedEngine
    from tui.core.session_state import Media
    from tui.session.actions import Queued
    from tui.session.backend import Backend
    from tui.terminal.graphics import Graphics
    from tui.watch import Watcher

W = TypeVar("W", bound=Widget)


class AppPart(App):
    # Options, from the command line.
    graphics: Graphics | None  # real-pixel previews, when the terminal said it can
    folder: Path
    out_dir: Path
    watch_dir: Path | None
    watch_prompt: str | None
    watch_settle: float
    still_working_every: float
    export_quality: str
    # The connection (connect.py): the backend, its engine and its client (tui/session/).
    backend: Backend
    history: History | None  # the sessions' conversations, per backend (tui/app/history.py)
    _connected: asyncio.Event  # set when a connect attempt has finished
    # The action queue (actions.py).
    _actions: asyncio.Queue[Queued]
    busy: bool
    _turn_task: asyncio.Task[None] | None  # the agent turn in flight (Esc cancels it)
    _jobs: int
    marked: list[Path]  # marked in Files: the next instruction makes one clip each
    last_source: str  # the last upload's name: the export's, when the timeline names none
    # Exports and the renders followed (exports.py).
    last_export: Path | None
    _claimed: set[Path]  # export paths being made: never handed out twice
    _following: set[str]  # render ids a worker waits on
    # Watch mode (watch.py).
    watcher: Watcher | None
    _watch_idle: asyncio.Event  # no watcher holds a folder
    _queue_folder: Path | None  # whose rows the queue pane shows

    if TYPE_CHECKING:  # the calls across parts, each defined in the part named
        # actions.py
        def submit(
            self, action: str, arg: str = "", paths: list[Path] | None = None, said: str = ""
        ) -> None: ...
        # exports.py
        async def _start_export(
            self, quality: str, stem: str | None = None, ask: bool = True
        ) -> Worker[Path | None] | None: ...
        def _resume_renders(self) -> Worker[None]: ...
        def _show_made(self, media: list[Media], said: str = "The cloud made") -> None: ...
        # connect.py
        def _read(self, what: str) -> Worker[None]: ...
        def _reconnect(self) -> Worker[None]: ...
        # watch.py
        def command_watch(self, arg: str) -> None: ...
        # commands.py
        def command_watch_off(self) -> None: ...
        # notify.py
        def tell_done(self, text: str, error: bool = False) -> None: ...

    # ---- panes and paths -------------------------------------------------------------------

    @property
    def transcript(self) -> Transcript:
        return self.query_one(Transcript)

    @property
    def browser(self) -> FileBrowser:
        return self.query_one(FileBrowser)

    def _pane(self, kind: type[W]) -> W | None:
        """The pane, or None while the app shuts down (a late result is then dropped)."""
        try:
            pane = self.query_one(kind)
        except NoMatches:
            return None
        return pane if pane.is_attached else None

    def shown_path(self, path: Path) -> str:
        """A path as people read it: relative to the browsed folder when inside it."""
        try:
            return str(Path(path).resolve().relative_to(self.folder.resolve()))
        except ValueError:
            return str(path)

    def _resolve(self, arg: str) -> Path:
        p = Path(arg).expanduser()
        if not p.is_absolute() and not p.exists() and (self.folder / p).exists():
            p = self.folder / p
        return p

    # ---- the client ------------------------------------------------------------------------

    @property
    def client(self) -> Client | None:
        """The backend's client: None until the first connect."""
        return self.backend.client

    @property
    def engine(self) -> EmbeddedEngine | None:
        """The embedded engine's process (None on the cloud, and while /reconnect restarts it)."""
        return self.backend.engine

    def _need_client(self) -> Client | None:
        if self.client is None:
            self.post_message(
                StatusLine(
                    "Not connected",
                    error=True,
                    hint="type /reconnect to try again, or ctrl+q to quit",
                    keep=False,
                )
            )
        return self.client

    async def _refresh(
        self, tracks: bool = False, credits: bool = False, quiet: bool = False
    ) -> None:
        from tui.client import ClientError
        from tui.core.protocol import summarize_draft

        assert self.client is not None
        try:
            if tracks:
                draft = await self.backend.draft()
                self.post_message(TrackReady(draft, summarize_draft(draft)))
            if credits:
                c = await self.backend.credits()
                self.post_message(CreditsReady(c.available, c.frozen, c.total))
        except ClientError as exc:
            if not quiet:
                raise
            self._report(exc)

    # ---- errors ----------------------------------------------------------------------------

    def _report(self, exc: BaseException) -> None:
        """Any failure as one status line, with what to do about it."""
        text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        hint = getattr(exc, "hint", "")
        if self.backend.engine_dead:
            text = f"Lost the local engine: {text}"
            hint = "type /reconnect to start it again (your session is kept)"
        elif getattr(exc, "transient", False):
            hint = "check the connection, then type /reconnect"
        elif not hasattr(exc, "message"):
            text = f"{type(exc).__name__}: {text}"
        self.post_message(StatusLine(text, error=True, hint=hint))
