"""The terminal app: panes post messages, the app routes them to the client in workers.

Actions that change the session (uploads, turns, undo, new session, starting renders, batches) run
one at a time, in order, from a queue served by one worker, so a second action never cancels one
in flight. Reads (credits, status) and the long part of an export (waiting for the render and
downloading it) run in their own workers, so chat goes on while a clip renders. Results come back
as the messages of `tui.app.messages`; nothing on the UI's thread waits for the network.

`I2VApp` is this module (layout, start and stop, routing of what panes and workers post) plus
one part per job beside it in `tui/app/`:

- `connect.py`: connecting to the backend (the client is imported after the first screen),
  /reconnect, and the reads (credits, status)
- `actions.py`: the action queue: upload, agent turn, undo, new session, export, batch
- `exports.py`: starting a render, following it to the download, resuming earlier ones
- `spending.py`: what a render costs, said before it starts, and asked about when large
- `watch.py`: watch mode, feeding the queue pane
- `commands.py`: the `command_*` methods (palette, slash commands, keys), and /help and the
  key bindings made from the one command table (tui/core/command_table.py)
- `notify.py`: telling the person a job ended while the terminal was not looked at
- `base.py`: the state and helpers the parts share (panes, paths, errors, refreshing)
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events, on
from textual.app import App, ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import DirectoryTree, Header, Input, Static
from textual.worker import Worker, WorkerState

from tui.app import state as app_state
from tui.app.actions import STILL_WORKING_EVERY, ActionQueue
from tui.app.commands import Commands, bindings, key_action, unknown_command
from tui.app.connect import Connecting
from tui.app.exports import Exports
from tui.app.history import Entry, History
from tui.app.messages import (
    Connected,
    CreditsReady,
    ExportSaved,
    HistoryLoaded,
    JobUpdate,
    Said,
    StatusLine,
    StillWorking,
    ToolLine,
    TrackReady,
    TranscriptChunk,
    Working,
)
from tui.app.notify import Notify
from tui.app.palette import I2VCommands
from tui.app.preview import PreviewPart
from tui.app.state import AppState, load_state, save_state
from tui.app.watch import WatchMode
from tui.core.tiers import DEFAULT_TIER
from tui.session.backend import Backend
from tui.terminal.graphics import Graphics
from widgets.credits import Credits
from widgets.files import FileBrowser, FilesPane
from widgets.footer import HelpFooter
from widgets.jobs import Jobs
from widgets.preview import PreviewPane
from widgets.prompt import Prompt
from widgets.queue import WatchQueue
from widgets.tracks import Tracks
from widgets.transcript import Transcript

if TYPE_CHECKING:
    from textual.theme import Theme

    from tui.session.actions import Queued
    from tui.watch import Watcher

# Said under "Ready" on the very first launch only (tui/app/state.py remembers it was).
HOW_TO = (
    "New here? 1. Pick an image: Tab to Files, then Enter (or paste its path here)",
    "2. Say what you want: \"a 5-second vertical clip, title 'Sale' for 3 s\"",
    '3. Say "export" (or ctrl+s): the MP4 lands in {out}/ · f1 for help',
)


class I2VApp(Connecting, ActionQueue, Exports, WatchMode, Commands, PreviewPart, Notify):
    TITLE = "image-to-video-in-flow"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {I2VCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    BINDINGS = bindings()  # tui/core/command_table.py, with every command

    def __init__(
        self,
        folder: Path = Path("."),
        out: Path | None = None,
        api: str | None = None,
        *,
        watch: Path | None = None,
        watch_prompt: str | None = None,
        still_working_every: float = STILL_WORKING_EVERY,
        export_quality: str = DEFAULT_TIER,
        watch_settle: float = 2.0,
        graphics: Graphics | None = None,
        ask_above: float = 0.5,
        preview_auto: bool = True,
        notify: bool = True,
        poll_interval: float | None = None,
    ):
        super().__init__()
        self.ask_above = ask_above  # config.toml: ask before a large share of the credits
        self.notify_done = notify  # a job that ends unseen is told (tui/app/notify.py)
        self.graphics = graphics  # real-pixel previews, when the terminal said it can
        self.folder = Path(folder)
        self.out_dir = Path(out) if out else self.folder / "exports"
        self.watch_dir = Path(watch).expanduser() if watch is not None else None
        self.watch_prompt = watch_prompt
        self.watch_settle = watch_settle
        self.watcher: Watcher | None = None
        self._watch_idle = asyncio.Event()  # no watcher holds a folder
        self._watch_idle.set()
        self._queue_folder: Path | None = None  # whose rows the queue pane shows
        self.still_working_every = still_working_every
        self.export_quality = export_quality
        # The backend, its engine and its one client (tui/session/): what the app stands on.
        # poll_interval: seconds between render polls; None: the client's own (30 s on the cloud)
        self.backend = Backend(
            api, owner="app", poll_interval=poll_interval, on_status=self._client_says
        )
        self.history: History | None = None
        self.last_source = "clip"
        self.last_export: Path | None = None
        self.marked: list[Path] = []
        self.busy = False
        self._claimed: set[Path] = set()
        self._actions: asyncio.Queue[Queued] = asyncio.Queue()
        self._turn_task: asyncio.Task[None] | None = None
        self._working: Static | None = None  # "⏳ Working… N s" while a turn is in flight
        self._working_since = 0.0
        self._working_timer: Timer | None = None
        self._connected = asyncio.Event()  # set when a connect attempt has finished
        self._jobs = 0
        self._cost_seen: int | None = None
        self._following: set[str] = set()
        # Why the app ends on an error: "" while a connect attempt is in flight, the attempt's
        # error if it failed, None once connected (see `exit_status`).
        self.exit_error: str | None = None
        self._app_state = AppState()  # read at mount
        self.preview_auto = preview_auto  # the preview follows each change (tui/app/preview.py)

    # ---- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(icon="▶")
        with Vertical(id="main"):
            yield FilesPane(self.folder, graphics=self.graphics, id="files")
            with Vertical(id="centre"):  # the preview, when shown, over the transcript
                yield PreviewPane(graphics=self.graphics, id="player")
                yield Transcript(id="transcript")
            # Scrolled by the focus moving through its panes, never a Tab stop of its own (it
            # would be one nothing shows, where typed text goes nowhere).
            with Vertical(id="side"):
                yield Tracks(id="tracks")  # always whole: only what is under it scrolls
                with VerticalScroll(id="side-rest", can_focus=False):
                    # The watch queue pane (widgets/queue.py) mounts here when watching: first,
                    # and no taller than what it has, so its summary (last row) shows.
                    yield Vertical(id="queue-slot")
                    yield Jobs(id="jobs")
        yield Prompt(id="prompt")
        yield HelpFooter(first=key_action("help"))  # f1 Help: first, never cut off

    # ---- start and stop --------------------------------------------------------------------

    def on_load(self) -> None:
        # Launch the local engine before the first screen is drawn: its start-up overlaps ours.
        self.backend.prestart()

    def connect(self) -> Worker[None]:  # type: ignore[override]
        self.exit_error = ""  # until Connected arrives, or the attempt's error
        return super().connect()

    def on_mount(self) -> None:
        self._app_state = load_state()  # a few bytes: the theme picked, the how-to shown
        if self._app_state.theme in self.available_themes:
            self.theme = self._app_state.theme
        self.theme_changed_signal.subscribe(self, self._keep_theme)
        self.query_one(Prompt).focus()
        self.transcript.add_status("Connecting…")
        # After the first paint: the connect worker imports httpx, which would delay it.
        self.call_after_refresh(self.connect)
        self._serve_actions()

    async def on_unmount(self) -> None:
        # Workers are cancelled by now; the client's state file is written atomically on
        # every change, and downloads land under a temporary name, so nothing is half-written.
        await self.backend.aclose()
        if self.history is not None:  # the last lines of the conversation land first
            await asyncio.to_thread(self.history.close)

    def _record(self, entry: Entry) -> None:
        """Keep a line of the conversation with the session it belongs to."""
        if self.client is None or self.history is None:
            return
        sid = self.backend.where().session_id
        if sid:
            self.history.append(sid, entry)

    # ---- results coming back ---------------------------------------------------------------
    # (A result that arrives while the app shuts down finds no panes: it is dropped.)

    @on(StatusLine)
    def _status(self, msg: StatusLine) -> None:
        if msg.error and self.exit_error == "":  # the connect attempt in flight failed
            self.exit_error = msg.text
        if t := self._pane(Transcript):
            t.add_status(msg.text, msg.error, msg.hint)
        if msg.keep:
            self._record(Entry("error" if msg.error else "status", msg.text, msg.hint))

    @on(TranscriptChunk)
    async def _chunk(self, msg: TranscriptChunk) -> None:
        if t := self._pane(Transcript):
            await (t.finish_answer(msg.text) if msg.final else t.append_chunk(msg.text))
        if msg.final:
            self._record(Entry("assistant", msg.text))

    @on(StillWorking)
    def _still(self, msg: StillWorking) -> None:
        if t := self._pane(Transcript):
            quiet = f" no words for {int(msg.minutes)} min" if msg.minutes >= 1 else ""
            t.still_working(f"⏳ Still working…{quiet}")

    @on(ToolLine)
    def _tool(self, msg: ToolLine) -> None:
        if t := self._pane(Transcript):
            t.add_tool(msg.name, msg.args)
        self._record(Entry("tool", msg.name, args=msg.args))

    @on(TrackReady)
    def _tracks(self, msg: TrackReady) -> None:
        if t := self._pane(Tracks):
            t.show(msg.draft, msg.summary)
        self._timeline_changed(msg.draft)

    @on(CreditsReady)
    def _credits(self, msg: CreditsReady) -> None:
        if c := self._pane(Credits):
            c.show(msg.available, msg.frozen, msg.total)

    @on(Connected)
    async def _connected_msg(self, msg: Connected) -> None:
        self.exit_error = None
        self.sub_title = msg.backend
        t = self._pane(Transcript)
        if t is None:
            return
        for line in list(t.query(Static).results()):  # said and done: not left above "Ready"
            if line.has_class("status") and str(line.render()) == "Connecting…":
                await line.remove()
        t.add_status("Ready" + (": resumed your last session" if msg.resumed else ""))
        if not self._app_state.welcomed and app_state.HOW_TO_ON_FIRST_LAUNCH:  # once
            out = self.shown_path(self.out_dir)
            for line in HOW_TO:
                t.add_status(line.format(out=out))
            self._app_state.welcomed = True
            self._save_app_state()

    def _keep_theme(self, theme: Theme) -> None:
        """The theme picked in the palette is the next launch's too."""
        if theme.name != self._app_state.theme:
            self._app_state.theme = theme.name
            self._save_app_state()

    def _save_app_state(self) -> None:
        state = dataclasses.replace(self._app_state)
        self.run_worker(lambda: save_state(state), thread=True, group="app-state")

    @on(HistoryLoaded)
    def _history(self, msg: HistoryLoaded) -> None:
        if t := self._pane(Transcript):
            t.add_history(msg.entries)

    @on(JobUpdate)
    def _job(self, msg: JobUpdate) -> None:
        shown = self.shown_path(msg.path) if msg.path is not None else ""
        if jobs := self._pane(Jobs):
            jobs.update_job(msg.job_id, msg.label, msg.progress, msg.state, msg.path, shown)
        if msg.state in ("done", "failed") and not msg.job_id.startswith("upload"):
            # An export's end (uploads are the app's own ids): told when looked away from.
            words = f"Saved {shown}" if msg.state == "done" else f"Failed: {msg.label}"
            self.tell_done(words, error=msg.state == "failed")

    @on(ExportSaved)
    def _saved(self, msg: ExportSaved) -> None:
        self.last_export = msg.path
        self._export_landed(msg.path)
        text = f"Saved {self.shown_path(msg.path)} (/open opens it)"
        if t := self._pane(Transcript):
            t.add_status(text)
        self._record(Entry("status", text))

    @on(PreviewPane.PlayheadMoved)
    def _playhead(self, msg: PreviewPane.PlayheadMoved) -> None:
        # Tracks draws it on its time bars where it can (an older Tracks has no playhead).
        if (tracks := self._pane(Tracks)) and (show := getattr(tracks, "show_playhead", None)):
            show(msg.seconds)

    @on(Said)
    def _said(self, msg: Said) -> None:
        if t := self._pane(Transcript):
            t.add_user(msg.text)
        self._record(Entry("user", msg.text))

    @on(Working)
    def _working_msg(self, msg: Working) -> None:
        """'⏳ Working… N s' from the turn's first byte, each second, until it ends."""
        if self._working_timer is not None:
            self._working_timer.stop()
            self._working_timer = None
        if self._working is not None:
            self._working.remove()
            self._working = None
        t = self._pane(Transcript)
        if msg.since is None or t is None:
            return
        self._working_since = msg.since
        self._working = Static(self._working_text(), classes="status working", markup=False)
        t.mount(self._working)
        t.scroll_end(animate=False)
        self._working_timer = self.set_interval(1.0, self._tick_working)

    def _working_text(self) -> str:
        seconds = int(time.monotonic() - self._working_since)
        return f"⏳ Working… {seconds} s  (Esc stops waiting)"

    def _tick_working(self) -> None:
        if self._working is not None and self._working.is_attached:
            self._working.update(self._working_text())

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """The one place a worker's unexpected failure becomes words (Harlequin's pattern)."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self._report(event.worker.error)

    # ---- input from the panes --------------------------------------------------------------

    @on(Prompt.Sent)
    def _prompt(self, event: Prompt.Sent) -> None:
        self.send(event.text)

    @on(Tracks.Say)
    def _track_key(self, event: Tracks.Say) -> None:
        """A key in Tracks, as the words a person could have typed: sent as they would be."""
        self.send(event.text)

    def send(self, text: str) -> None:
        """What was typed at the prompt (or said by a key): a command, or an agent turn."""
        from tui.core.intents import route  # after the first screen

        intent = route(text)
        action, arg = intent.action, intent.arg
        if action == "new":
            self.clear_finished_jobs()
        later = action in ("agent", "undo", "redo", "new", "export") or (action == "upload" and arg)
        if self.queued() and later and not (action == "agent" and self.marked):
            # Shown when its turn comes, so its reply lands under it, not under this one.
            self.submit(action, arg, said=text)
            return
        self.transcript.add_user(text)
        self._record(Entry("user", text))
        if action == "help" and arg:
            self.transcript.add_status(unknown_command(arg), error=True)
        elif action == "agent" and self.marked:
            paths = list(self.marked)
            self.browser.clear_marks()
            self.transcript.add_status(f"Batch of {len(paths)}: each gets its own clip")
            self.submit("batch", arg, paths)
        elif action == "agent":
            self.submit(action, arg)
        else:
            self.run_command(action, arg)

    async def on_event(self, event: events.Event) -> None:
        # A path pasted (or dropped) while a pane that takes no text has the focus goes to
        # the prompt, not nowhere: the terminal's paste comes here before any pane sees it.
        # So does a printable key no binding of the focused pane takes, as in chat apps: a
        # sentence typed after Enter in Files goes to the prompt, while space still marks.
        if isinstance(event, events.Paste | events.Key) and not event.is_forwarded:
            text = event.text.splitlines()[0] if isinstance(event, events.Paste) else ""
            key = event if isinstance(event, events.Key) else None
            if key is not None and key.is_printable and key.character and not self._bound(key):
                text = key.character
            prompt = self._pane(Prompt)
            mine = len(self.screen_stack) == 1 and not isinstance(self.focused, Input)
            if text and prompt is not None and mine:  # not the palette's input, nor the prompt
                prompt.focus()
                prompt.insert_text_at_cursor(text)
                return
        await super().on_event(event)

    def _bound(self, key: events.Key) -> bool:
        """Whether a binding of the focused pane (or the app's) takes `key` now."""
        active = self.active_bindings
        return any(
            name in active and active[name].enabled
            for name in (key.key, key.character, *key.aliases)
        )

    @on(DirectoryTree.FileSelected)
    def _file(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        said = f"/upload {self.shown_path(event.path)}"
        if self.queued():  # shown when it starts, above its own result
            self.submit("upload", str(event.path), said=said)
            self.query_one(Prompt).focus()
            return
        self.transcript.add_user(said)
        self._record(Entry("user", said))
        self.submit("upload", str(event.path))
        self.query_one(Prompt).focus()  # the next step is saying what it should become

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

    @on(WatchQueue.Opened)
    def _watch_opened(self, event: WatchQueue.Opened) -> None:
        self.last_export = Path(event.out)
        self.command_open()


def make_app(args: argparse.Namespace, **kw: Any) -> I2VApp:
    """The one factory, shared by the CLI and the tests."""
    if getattr(args, "quality", None):  # from the config file: the app has no flag for it
        kw.setdefault("export_quality", args.quality)
    if getattr(args, "ask_above", None) is not None:  # the config file's too
        kw.setdefault("ask_above", args.ask_above)
    if getattr(args, "preview_auto", None) is not None:
        kw.setdefault("preview_auto", args.preview_auto)
    if getattr(args, "notify", None) is False:  # the config file's `notifications = false`
        kw.setdefault("notify", False)
    return I2VApp(
        args.folder,
        args.out,
        args.api,
        watch=getattr(args, "watch", None),
        watch_prompt=getattr(args, "prompt", None),
        **kw,
    )


def run_app(args: argparse.Namespace, graphics: Graphics | None = None) -> int:
    app = make_app(args, graphics=graphics)
    app.run()
    return exit_status(app)


def exit_status(app: I2VApp) -> int:
    """0 on a normal quit; Textual's code when the app crashed (it prints the traceback); 1 with
    one `error:` line when it ends unable to reach its backend (the engine did not start)."""
    if app.return_code:
        return app.return_code
    if app.exit_error:
        text = " ".join(app.exit_error.split())
        print(f"error: {text[:1].lower()}{text[1:]}", file=sys.stderr)
        return 1
    return 0
