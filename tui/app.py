"""The terminal app: panes post messages, the app routes them to the client in workers.

Actions that change the session (uploads, turns, undo, new session, starting renders, batches) run
one at a time, in order, from a queue served by one worker, so a second action never cancels one
in flight. Reads (credits, status) and the long part of an export (waiting for the render and
downloading it) run in their own workers, so chat goes on while a clip renders. Results come back
as the messages of `tui.messages`; nothing on the UI's thread waits for the network.

The client (and httpx) are imported by the connect worker, after the first screen.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.widgets import DirectoryTree, Footer, Header
from textual.worker import Worker, WorkerState

from tui.backend import EmbeddedEngine, choose
from tui.commands import I2VCommands
from tui.graphics import Graphics
from tui.messages import (
    Connected,
    CreditsReady,
    ExportSaved,
    JobUpdate,
    StatusLine,
    ToolLine,
    TrackReady,
    TranscriptChunk,
)
from widgets.credits import Credits, Jobs
from widgets.files import FileBrowser, FilesPane
from widgets.prompt import Prompt
from widgets.queue import WatchQueue
from widgets.tracks import Tracks
from widgets.transcript import Transcript

if TYPE_CHECKING:
    from tui.client import Client
    from tui.watch import Watcher, WatchEvent

W = TypeVar("W")

HELP = """\
**Say what you want**, e.g. *"a 5-second vertical clip, title 'Spring Sale' for 3 s, lo-fi
music at 35%"*, or:

- `/upload PATH`: upload a file (or **Enter** on it in Files)
- `/export [draft|standard|high]`: render and save to the exports folder
- `/credits`, `/status`: the balance; the timeline
- `/undo`, `/new`: step back; start a new session
- `/open`: the last export
- `/watch DIR`: a clip from every image dropped into DIR (to DIR/out); `/watch off` stops
- `/reconnect`: restart the local engine, or reconnect

**Space** marks files: the next instruction goes to each, one clip each. **Tab** moves between
panes, **ctrl+p** lists every action, **ctrl+q** quits."""

STILL_WORKING_EVERY = 120.0  # seconds of heartbeats between "⏳ Still working…" lines
QUEUED_ACTIONS = ("upload", "agent", "undo", "new", "export", "batch")


class I2VApp(App):
    TITLE = "image-to-video-in-flow"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {I2VCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("ctrl+s", "export", "Export", priority=True),
        Binding("ctrl+r", "credits", "Credits", priority=True),
        Binding("ctrl+n", "new_session", "New", priority=True),
        Binding("ctrl+o", "open", "Open", show=False, priority=True),
        Binding("f1", "help", "Help"),
    ]

    def __init__(
        self,
        folder: Path = Path("."),
        out: Path | None = None,
        api: str | None = None,
        *,
        watch: Path | None = None,
        watch_prompt: str | None = None,
        still_working_every: float = STILL_WORKING_EVERY,
        export_quality: str = "high",
        watch_settle: float = 2.0,
        graphics: Graphics | None = None,
    ):
        super().__init__()
        self.graphics = graphics  # real-pixel previews, when the terminal said it can
        self.folder = Path(folder)
        self.out_dir = Path(out) if out else self.folder / "exports"
        self.api = api
        self.watch_dir = Path(watch).expanduser() if watch is not None else None
        self.watch_prompt = watch_prompt
        self.watch_settle = watch_settle
        self.watcher: Watcher | None = None
        self._watch_idle = asyncio.Event()  # no watcher holds a folder
        self._watch_idle.set()
        self._queue_folder: Path | None = None  # whose rows the queue pane shows
        self.still_working_every = still_working_every
        self.export_quality = export_quality
        self.client: Client | None = None
        self.engine: EmbeddedEngine | None = None
        self.backend_label = ""
        self.last_source = "clip"
        self.last_export: Path | None = None
        self.marked: list[Path] = []
        self.busy = False
        self._claimed: set[Path] = set()
        self._actions: asyncio.Queue[tuple[str, str, list[Path]]] = asyncio.Queue()
        self._connected = asyncio.Event()  # set when a connect attempt has finished
        self._jobs = 0
        self._following: set[str] = set()
        self._engine_url: asyncio.Future[str] | None = None

    # ---- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(icon="▶")
        with Vertical(id="main"):
            yield FilesPane(self.folder, graphics=self.graphics, id="files")
            yield Transcript(id="transcript")
            with VerticalScroll(id="side"):
                yield Tracks(id="tracks")
                yield Jobs(id="jobs")
                # The watch queue pane (widgets/queue.py) mounts here when watching.
                yield Vertical(id="queue-slot")
        yield Prompt(id="prompt")
        yield Footer()

    def on_load(self) -> None:
        # Launch the local engine before the first screen is drawn: its start-up overlaps ours.
        if not choose(self.api).is_cloud:
            self.engine = EmbeddedEngine()
            self._engine_url = asyncio.ensure_future(self.engine.start())

    def on_mount(self) -> None:
        self.query_one(Prompt).focus()
        self.transcript.add_status("Connecting…")
        # After the first paint: the connect worker imports httpx, which would delay it.
        self.call_after_refresh(self.connect)
        self._serve_actions()

    @property
    def transcript(self) -> Transcript:
        return self.query_one(Transcript)

    @property
    def browser(self) -> FileBrowser:
        return self.query_one(FileBrowser)

    def shown_path(self, path: Path) -> str:
        """A path as people read it: relative to the browsed folder when inside it."""
        try:
            return str(Path(path).resolve().relative_to(self.folder.resolve()))
        except ValueError:
            return str(path)

    # ---- connecting ------------------------------------------------------------------------

    @work(exclusive=True, group="connect", exit_on_error=False)
    async def connect(self) -> None:
        self._connected.clear()
        try:
            from tui.client import Client, ClientError
            from tui.client_state import ClientState
            from tui.paths import client_state_file

            choice = choose(self.api)
            try:
                if choice.is_cloud:
                    assert choice.url is not None
                    url, key = choice.url, choice.url
                    self.backend_label = choice.url.split("://", 1)[-1]
                else:
                    if self._engine_url is None or self.engine is None:
                        self.engine = EmbeddedEngine()
                        self._engine_url = asyncio.ensure_future(self.engine.start())
                    url, key = await self._engine_url, "local"
                    self._engine_url = None
                    self.backend_label = "local engine"
                if self.client is not None:
                    await self.client.aclose()
                state = ClientState(client_state_file(), key)
                resumed = bool(state.backend.get("session_id"))
                self.client = Client(
                    url, state, token=choice.token, cloud=choice.is_cloud, owner="app"
                )
                await self.client.connect()
            except (ClientError, OSError, RuntimeError) as exc:
                self.post_message(
                    StatusLine(
                        f"Could not connect: {getattr(exc, 'message', exc)}",
                        error=True,
                        hint=getattr(exc, "hint", "")
                        or "check the backend, then type /reconnect (or press ctrl+q to quit)",
                    )
                )
                return
        finally:
            self._connected.set()
        self.post_message(Connected(self.backend_label, resumed))
        await self._refresh(tracks=True, credits=True, quiet=True)
        self._resume_renders()
        if self.watch_dir is not None and self.watcher is None:
            self.call_later(self._start_watch, str(self.watch_dir))

    async def _refresh(self, tracks: bool = False, credits: bool = False, quiet=False) -> None:
        from tui.client import ClientError
        from tui.protocol import summarize_draft

        assert self.client is not None
        try:
            if tracks:
                draft = await self.client.draft()
                self.post_message(TrackReady(draft, summarize_draft(draft)))
            if credits:
                c = await self.client.credits()
                self.post_message(CreditsReady(c["available"], c["frozen"], c["total"]))
        except ClientError as exc:
            if not quiet:
                raise
            self._report(exc)

    @work(group="renders", exit_on_error=False)
    async def _resume_renders(self) -> None:
        """The app's renders saved by an earlier run (or cut by /reconnect): seen through.

        `Client.resume_renders` takes only renders owned by "app": never a watcher's.
        """
        client = self.client
        if client is None:
            return
        labels: dict[str, str] = {}
        taken: dict[str, Path] = {}

        def started(rid: str, dest: Path) -> None:
            labels[rid], taken[rid] = dest.name, dest
            self._claimed.add(dest)
            self._following.add(rid)
            self.post_message(StatusLine(f"Resuming render {dest.name}"))
            self.post_message(JobUpdate(rid, f"Render {dest.name}", 0, "running"))

        def progress(s: Any) -> None:
            self.post_message(JobUpdate(s.id, f"Render {labels.get(s.id, s.id)}", s.progress))

        try:
            results = await client.resume_renders(
                progress, on_start=started, skip=set(self._following)
            )
        finally:
            for rid, dest in taken.items():
                self._claimed.discard(dest)
                self._following.discard(rid)
        for r in results:
            if r.render_id not in labels:
                continue  # nowhere to put it: not one of ours to show
            label = labels[r.render_id]
            if r.path is not None:
                self.post_message(JobUpdate(r.render_id, label, 100, "done", r.path))
                self.post_message(ExportSaved(r.path))
            else:
                self.post_message(JobUpdate(r.render_id, f"Render {label}", None, "failed"))
                self.post_message(StatusLine(f"Could not resume {label}: {r.error}", error=True))
        if taken:
            await self._refresh(credits=True, quiet=True)

    # ---- the action queue ------------------------------------------------------------------

    def submit(self, action: str, arg: str = "", paths: list[Path] | None = None) -> None:
        """Queue an action that changes the session; they run one at a time, in order."""
        if self.busy or not self._actions.empty():
            self.transcript.add_status("(queued: runs after the current step)")
        self._actions.put_nowait((action, arg, list(paths or [])))

    @work(exclusive=True, group="actions", exit_on_error=False)
    async def _serve_actions(self) -> None:
        while True:
            action, arg, paths = await self._actions.get()
            self.busy = True
            try:
                await self._connected.wait()
                await self._run_action(action, arg, paths)
            except Exception as exc:  # every failure becomes words; the queue goes on
                self._report(exc)
            finally:
                self.busy = False

    async def _run_action(self, action: str, arg: str, paths: list[Path]) -> None:
        client = self._need_client()
        if client is None:
            return
        if action == "upload":
            await self._upload(paths or [self._resolve(arg)])
        elif action == "new":
            await client.new_session()
            self.post_message(StatusLine("New session: an empty timeline"))
            await self._refresh(tracks=True)
        elif action == "export":
            await self._start_export(arg or self.export_quality)
        elif action == "batch":
            await self._batch(paths, arg)
        else:  # agent, undo
            await self._turn("undo" if action == "undo" else arg)

    def _need_client(self) -> Client | None:
        if self.client is None:
            self.post_message(
                StatusLine(
                    "Not connected",
                    error=True,
                    hint="type /reconnect to try again, or ctrl+q to quit",
                )
            )
        return self.client

    def _resolve(self, arg: str) -> Path:
        p = Path(arg).expanduser()
        if not p.is_absolute() and not p.exists() and (self.folder / p).exists():
            p = self.folder / p
        return p

    def _job_id(self, kind: str) -> str:
        self._jobs += 1
        return f"{kind}{self._jobs}"

    async def _upload(self, paths: list[Path]) -> None:
        from tui.client import Client

        assert self.client is not None
        for p in paths:
            Client.check_upload(p)  # no such file / wrong type / too large: before a byte
        label = ", ".join(p.name for p in paths)
        jid = self._job_id("upload")
        self.post_message(JobUpdate(jid, f"Upload {label}", None, "running"))
        try:
            files = await self.client.upload(paths)
        except Exception:
            self.post_message(JobUpdate(jid, f"Upload {label}", None, "failed"))
            raise
        self.post_message(JobUpdate(jid, f"Uploaded {label}", 100, "done"))
        self.last_source = paths[-1].stem
        facts = []
        for f in files:
            dims = f" ({f['width']}×{f['height']})" if f.get("width") and f.get("height") else ""
            facts.append(f"{f.get('filename', '?')}{dims}")
        self.post_message(StatusLine("Uploaded " + ", ".join(facts)))
        await self._refresh(tracks=True)

    async def _turn(self, text: str) -> None:
        from tui.client import StateUpdate
        from tui.protocol import FinalText, Heartbeat, TextChunk, ToolCall, TurnError

        assert self.client is not None
        last_note = time.monotonic()
        async for ev in self.client.turn(text):
            if isinstance(ev, TextChunk):
                self.post_message(TranscriptChunk(ev.text))
            elif isinstance(ev, FinalText):
                self.post_message(TranscriptChunk(ev.text, final=True))
            elif isinstance(ev, ToolCall):
                self.post_message(ToolLine(ev.name, dict(ev.args)))
            elif isinstance(ev, Heartbeat):
                if time.monotonic() - last_note >= self.still_working_every:
                    last_note = time.monotonic()
                    self.post_message(StatusLine("⏳ Still working…"))
            elif isinstance(ev, TurnError):
                self.post_message(
                    StatusLine(ev.message, error=True, hint="the Tracks pane shows the timeline")
                )
            elif isinstance(ev, StateUpdate):
                self.post_message(TrackReady(ev.draft, ev.summary))
                if ev.note:
                    self.post_message(StatusLine(ev.note))

    # ---- exports ---------------------------------------------------------------------------

    def _claim(self, stem: str) -> Path:
        """`exports/photo.mp4`, else `photo-2.mp4`…: never an existing file or one being made."""
        from tui.client import unique_path

        base = self.out_dir / f"{stem}.mp4"
        cand = unique_path(base)
        n = 2
        while cand in self._claimed:
            cand = unique_path(base.with_name(f"{stem}-{n}.mp4"))
            n += 1
        self._claimed.add(cand)
        return cand

    @staticmethod
    def _source_stem(draft: dict) -> str | None:
        for t in draft.get("t") or []:
            if isinstance(t, dict) and t.get("tt") == 0:
                for s in t.get("sg") or []:
                    name = (s.get("m") or {}).get("name")
                    if name:
                        return Path(name).stem
        return None

    async def _start_export(self, quality: str, stem: str | None = None) -> None:
        from tui.client import ClientError

        assert self.client is not None
        if quality not in ("high", "standard", "draft"):
            raise ClientError(
                f"unknown quality {quality!r}", hint="use /export high, standard or draft"
            )
        draft = await self.client.draft()
        dest = self._claim(stem or self._source_stem(draft) or self.last_source)
        try:
            rid = await self.client.start_render(quality, draft, target=dest)
        except Exception:
            self._claimed.discard(dest)
            raise
        self.post_message(StatusLine(f"Rendering {dest.name} ({quality})…"))
        self._follow_render(rid, dest)
        await self._refresh(credits=True, quiet=True)

    @work(group="renders", exit_on_error=False)
    async def _follow_render(self, rid: str, dest: Path) -> None:
        """Wait for one render and download it. /reconnect cancels this worker (the group
        "renders") and the new connection resumes the render on the new client."""
        from tui.client import ClientError

        client = self.client
        assert client is not None
        label = dest.name
        self._following.add(rid)
        self.post_message(JobUpdate(rid, f"Render {label}", 0, "running"))
        try:
            status = await client.wait_render(
                rid,
                lambda s: self.post_message(JobUpdate(rid, f"Render {label}", s.progress)),
            )
            self.post_message(JobUpdate(rid, f"Download {label}", 100))
            path = await client.download(rid, dest, status)
        except ClientError as exc:
            self.post_message(JobUpdate(rid, f"Render {label}", None, "failed"))
            self._report(exc)
            return
        finally:
            self._claimed.discard(dest)
            self._following.discard(rid)
            with contextlib.suppress(Exception):
                await self._refresh(credits=True, quiet=True)
        self.post_message(JobUpdate(rid, label, 100, "done", path))
        self.post_message(ExportSaved(path))

    async def _batch(self, paths: list[Path], text: str) -> None:
        """Each marked file gets its own session, the same instruction and its own render.

        The batch's sessions are never saved as the current one: a quit mid-batch still
        resumes the session the person was working in."""
        assert self.client is not None
        session = self.client.session
        saved = (session.session_id, session.task_id)
        try:
            for i, p in enumerate(paths, 1):
                self.post_message(StatusLine(f"Batch {i}/{len(paths)}: {p.name}"))
                try:
                    await self.client.new_session(persist=False)
                    await self._upload([p])
                    await self._turn(text)
                    await self._start_export(self.export_quality, p.stem)
                except Exception as exc:
                    self._report(exc)
        finally:
            # Back to the session the person was working in.
            session.session_id, session.task_id = saved
            await self._refresh(tracks=True, quiet=True)

    # ---- reads (never queued behind a long turn) -------------------------------------------

    @work(group="reads", exit_on_error=False)
    async def _read(self, what: str) -> None:
        await self._connected.wait()
        client = self._need_client()
        if client is None:
            return
        from tui.protocol import summarize_draft

        try:
            if what == "credits":
                c = await client.credits()
                self.post_message(CreditsReady(c["available"], c["frozen"], c["total"]))
                self.post_message(
                    StatusLine(
                        f"Credits: {c['available']} available, {c['frozen']} frozen, "
                        f"{c['total']} total"
                    )
                )
            else:
                draft = await client.draft()
                summary = summarize_draft(draft)
                self.post_message(TrackReady(draft, summary))
                self.post_message(
                    StatusLine(
                        "Timeline: " + "  ".join(summary)
                        if summary
                        else "The timeline is empty: upload an image"
                    )
                )
        except Exception as exc:
            self._report(exc)

    # ---- errors ----------------------------------------------------------------------------

    def _engine_dead(self) -> bool:
        if self.engine is None:
            return False
        proc = self.engine.proc
        return proc is None or proc.returncode is not None

    def _report(self, exc: BaseException) -> None:
        text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        hint = getattr(exc, "hint", "")
        if self._engine_dead():
            text = f"Lost the local engine: {text}"
            hint = "type /reconnect to start it again (your session is kept)"
        elif getattr(exc, "transient", False):
            hint = "check the connection, then type /reconnect"
        elif not hasattr(exc, "message"):
            text = f"{type(exc).__name__}: {text}"
        self.post_message(StatusLine(text, error=True, hint=hint))

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """The one place a worker's unexpected failure becomes words (Harlequin's pattern)."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self._report(event.worker.error)

    # ---- results coming back ---------------------------------------------------------------
    # (A result that arrives while the app shuts down finds no panes: it is dropped.)

    def _pane(self, kind: type[W]) -> W | None:
        try:
            pane = self.query_one(kind)
        except NoMatches:
            return None
        return pane if pane.is_attached else None  # type: ignore[attr-defined]

    @on(StatusLine)
    def _status(self, msg: StatusLine) -> None:
        if t := self._pane(Transcript):
            t.add_status(msg.text, msg.error, msg.hint)

    @on(TranscriptChunk)
    async def _chunk(self, msg: TranscriptChunk) -> None:
        if t := self._pane(Transcript):
            await (t.finish_answer(msg.text) if msg.final else t.append_chunk(msg.text))

    @on(ToolLine)
    def _tool(self, msg: ToolLine) -> None:
        if t := self._pane(Transcript):
            t.add_tool(msg.name, msg.args)

    @on(TrackReady)
    def _tracks(self, msg: TrackReady) -> None:
        if t := self._pane(Tracks):
            t.show(msg.draft, msg.summary)

    @on(CreditsReady)
    def _credits(self, msg: CreditsReady) -> None:
        if c := self._pane(Credits):
            c.show(msg.available, msg.frozen, msg.total)

    @on(Connected)
    def _connected_msg(self, msg: Connected) -> None:
        self.sub_title = msg.backend
        if t := self._pane(Transcript):
            t.add_status("Ready" + (": resumed your last session" if msg.resumed else ""))

    @on(JobUpdate)
    def _job(self, msg: JobUpdate) -> None:
        shown = self.shown_path(msg.path) if msg.path is not None else ""
        if jobs := self._pane(Jobs):
            jobs.update_job(msg.job_id, msg.label, msg.progress, msg.state, msg.path, shown)

    @on(ExportSaved)
    def _saved(self, msg: ExportSaved) -> None:
        self.last_export = msg.path
        if t := self._pane(Transcript):
            t.add_status(f"Saved {self.shown_path(msg.path)} (/open opens it)")

    # ---- input from the panes --------------------------------------------------------------

    @on(Prompt.Sent)
    def _prompt(self, event: Prompt.Sent) -> None:
        text = event.text
        self.transcript.add_user(text)
        if text.strip().lower() == "/reconnect":
            self.command_reconnect()
            return
        from tui.intents import route  # after the first screen

        intent = route(text)
        action, arg = intent.action, intent.arg
        if action == "help":
            if arg:
                self.transcript.add_status(f"Unknown command /{arg}", error=True, hint="see below")
            self.command_help()
        elif action == "open":
            self.command_open()
        elif action == "watch":
            self._start_watch(arg)
        elif action in ("credits", "status"):
            self._read(action)
        elif action == "upload" and not arg:
            self.transcript.add_status(
                "Upload what?", error=True, hint="/upload PATH, or Enter on a file in Files"
            )
        elif action == "agent" and self.marked:
            paths = list(self.marked)
            self.browser.clear_marks()
            self.transcript.add_status(f"Batch of {len(paths)}: each gets its own clip")
            self.submit("batch", arg, paths)
        else:
            self.submit(action, arg)

    @on(DirectoryTree.FileSelected)
    def _file(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.transcript.add_user(f"/upload {self.shown_path(event.path)}")
        self.submit("upload", str(event.path))

    @on(FileBrowser.MarksChanged)
    def _marks(self, event: FileBrowser.MarksChanged) -> None:
        self.marked = list(event.paths)
        prompt = self.query_one(Prompt)
        if self.marked:
            prompt.placeholder = (
                f"{len(self.marked)} marked: say what each should become (one clip each)"
            )
        else:
            prompt.placeholder = Prompt.PLACEHOLDER

    # ---- commands (palette, keys, slash commands) ------------------------------------------

    def command_export(self) -> None:
        self.submit("export", self.export_quality)

    def command_upload(self) -> None:
        node = self.browser.cursor_node
        if node is None or node.data is None or node.data.path.is_dir():
            self.transcript.add_status(
                "No file highlighted", error=True, hint="pick one in Files (Tab), or /upload PATH"
            )
            return
        self.submit("upload", str(node.data.path))

    def command_upload_marked(self) -> None:
        if not self.marked:
            self.transcript.add_status(
                "Nothing marked", error=True, hint="press space on files in Files"
            )
            return
        self.submit("upload", "", list(self.marked))

    def command_clear_marks(self) -> None:
        self.browser.clear_marks()

    def command_credits(self) -> None:
        self._read("credits")

    def command_status(self) -> None:
        self._read("status")

    def command_undo(self) -> None:
        self.submit("undo")

    def command_new_session(self) -> None:
        self.submit("new")

    def command_help(self) -> None:
        self.transcript.add_markdown(HELP)

    def command_open(self) -> None:
        if self.last_export is None:
            self.transcript.add_status(
                "Nothing exported yet", error=True, hint="/export renders the timeline"
            )
            return
        shown = self.shown_path(self.last_export)
        opener = _desktop_opener()
        if opener is None:
            self.transcript.add_status(f"The last export is {self.last_export}")
            return
        self._open_file(opener, self.last_export)
        self.transcript.add_status(f"Opening {shown}")

    @work(thread=True, group="opener", exit_on_error=False)
    def _open_file(self, opener: str, path: Path) -> None:
        subprocess.Popen(
            [opener, str(path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def command_reconnect(self) -> None:
        self.transcript.add_status("Connecting…")
        self._reconnect()

    @work(exclusive=True, group="reconnect", exit_on_error=False)
    async def _reconnect(self) -> None:
        # Renders being waited on stop here and are resumed on the new client once it is
        # connected (they are saved in the client state, owned by "app"); the watcher, whose
        # clients know only the old address, stops and starts again on the new connection.
        self.workers.cancel_group(self, "renders")
        if self.watcher is not None:
            self.watcher.stop()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(15):
                await self._watch_idle.wait()
        if self.engine is not None:
            await self.engine.stop()
            self.engine = None
        self.connect()

    # ---- watch mode ------------------------------------------------------------------------

    def _start_watch(self, arg: str) -> None:
        """`/watch DIR` or `--watch DIR`: a Watcher in this app, on the app's backend."""
        arg = arg.strip()
        if arg.lower() in ("off", "stop"):
            self.command_watch_off()
            return
        if not arg:
            if self.watcher is not None:
                self.transcript.add_status(
                    f"Watching {self.watcher.folder}: {self.watcher.active} in flight, "
                    f"{self.watcher.queued} waiting"
                )
            else:
                self.transcript.add_status(
                    "Watch what?", error=True, hint="/watch DIR (and /watch off to stop)"
                )
            return
        folder = self._resolve(arg)
        if not folder.is_dir():
            self.transcript.add_status(
                f"{arg}: no such folder", error=True, hint="/watch DIR names an existing folder"
            )
            return
        self.watch_dir = folder
        w = self.watcher
        if w is not None and w.folder == folder.resolve() and not w.stopping:
            self.transcript.add_status(f"Already watching {self.shown_path(folder)}")
            return
        if self.client is None:
            self.transcript.add_status(
                f"Will watch {self.shown_path(folder)} once connected"
                + ("" if not self._connected.is_set() else " (type /reconnect)")
            )
            return
        self._watch(folder.resolve())

    def command_watch_off(self) -> None:
        self.watch_dir = None
        if self.watcher is None:
            self.transcript.add_status("Not watching a folder", hint="/watch DIR starts")
            return
        self.transcript.add_status("Stopping the watch…")
        self.watcher.stop()

    @work(exclusive=True, group="watch", exit_on_error=False)
    async def _watch(self, folder: Path) -> None:
        from tui.client import Client
        from tui.watch import WatchConfig, Watcher, WatchError

        if self.watcher is not None:  # another folder: that watcher lets go of its own first
            self.watcher.stop()
        await self._watch_idle.wait()
        client = self.client
        if client is None:
            return
        self._watch_idle.clear()
        try:
            slot = self.query_one("#queue-slot")
            if self._queue_folder != folder or not slot.children:  # same folder: keep its rows
                await slot.remove_children()
                await slot.mount(WatchQueue(id="queue"))
                self._queue_folder = folder
            slot.add_class("-watching")
            url, state = client.base_url, client.state  # ONE ClientState for every client
            token, cloud = client.fixed_token, client.cloud
            config = WatchConfig(
                folder,
                prompt=self.watch_prompt,
                jobs=2,
                settle=self.watch_settle,
                quality=self.export_quality,
            )
            self.watcher = Watcher(
                config,
                make_client=lambda: Client(url, state, token=token, cloud=cloud),
                on_event=self._watch_event,
            )
            await self.watcher.run()
        except WatchError as exc:
            self.post_message(
                StatusLine(f"Cannot watch: {exc}", error=True, hint="/watch DIR, another folder")
            )
        finally:
            self.watcher = None
            self._watch_idle.set()

    def _watch_event(self, ev: WatchEvent) -> None:
        """The Watcher's `on_event` (on this loop): to the queue pane, a few to the transcript."""
        if queue := self._pane(WatchQueue):
            queue.post_message(WatchQueue.Update(ev))
        if ev.step == "started":
            self.post_message(StatusLine(f"Watch: {ev.detail}"))
        elif ev.step == "stopped":
            self.post_message(StatusLine(f"Watch stopped: {ev.detail}"))
        elif ev.step == "paused" or (ev.step == "resumed" and not ev.file):
            self.post_message(
                StatusLine(f"Watch {ev.step}: {ev.detail}", error=ev.step == "paused")
            )
        elif ev.step == "failed":
            self.post_message(StatusLine(f"Watch: {ev.file} failed: {ev.detail}", error=True))

    @on(WatchQueue.Opened)
    def _watch_opened(self, event: WatchQueue.Opened) -> None:
        self.last_export = Path(event.out)
        self.command_open()

    async def action_quit(self) -> None:
        """Quit cleanly: the watcher stops first (its jobs keep their step in the journal)."""
        if self.watcher is not None:
            self.watcher.stop()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(10):
                    await self._watch_idle.wait()
        self.exit()

    # ---- key actions -----------------------------------------------------------------------

    def action_export(self) -> None:
        self.command_export()

    def action_credits(self) -> None:
        self.command_credits()

    def action_new_session(self) -> None:
        self.command_new_session()

    def action_open(self) -> None:
        self.command_open()

    def action_help(self) -> None:
        self.command_help()

    async def on_unmount(self) -> None:
        # Workers are cancelled by now; the client's state file is written atomically on
        # every change, and downloads land under a temporary name, so nothing is half-written.
        if self.client is not None:
            with contextlib.suppress(Exception):
                await self.client.aclose()
        if self._engine_url is not None:  # quit while the engine was still starting
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._engine_url, 10)
        if self.engine is not None:
            await self.engine.stop()


def _desktop_opener() -> str | None:
    if sys.platform == "darwin":
        return shutil.which("open")
    if sys.platform.startswith("win"):
        return None
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return None  # over SSH: show the path instead
    return shutil.which("xdg-open")


def make_app(args: argparse.Namespace, **kw: Any) -> I2VApp:
    """The one factory, shared by the CLI and the tests."""
    return I2VApp(
        args.folder,
        args.out,
        args.api,
        watch=getattr(args, "watch", None),
        watch_prompt=getattr(args, "prompt", None),
        **kw,
    )


def run_app(args: argparse.Namespace, graphics: Graphics | None = None) -> int:
    make_app(args, graphics=graphics).run()
    return 0
