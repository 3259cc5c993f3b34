"""The terminal app: panes post messages, the app routes them to the client in workers."""

from __future__ import annotations

import argparse
from pathlib import Path

from textual import on, work
from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DirectoryTree, Footer, Header, Markdown

from tui.backend import EmbeddedEngine, choose
from tui.client import Client, ClientError, StateUpdate, unique_path
from tui.client_state import ClientState
from tui.intents import route
from tui.paths import client_state_file
from tui.protocol import FinalText, TextChunk, ToolCall, TurnError, summarize_draft
from widgets.credits import Credits
from widgets.files import FileBrowser
from widgets.prompt import Prompt
from widgets.tracks import Tracks
from widgets.transcript import Transcript

HELP = """\
**Commands**: `/upload PATH`, `/export`, `/credits`, `/status`, `/undo`, `/new`, `/help`.
Or just say what you want, for example
*"a 5-second vertical clip, title 'Spring Sale' for 3 s, lo-fi music at 35%"*.
Press **Enter** on a file in the Files pane to upload it."""


class I2VApp(App):
    TITLE = "image-to-video-in-flow"
    CSS_PATH = "app.tcss"
    BINDINGS = [("ctrl+q", "quit", "Quit")]

    def __init__(self, folder: Path = Path("."), out: Path | None = None, api: str | None = None):
        super().__init__()
        self.folder = Path(folder)
        self.out_dir = Path(out) if out else self.folder / "exports"
        self.api = api
        self.client: Client | None = None
        self.engine: EmbeddedEngine | None = None
        self.last_source = "clip"

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            yield FileBrowser(self.folder, id="files")
            yield Transcript(id="transcript")
            with Vertical(id="side"):
                yield Tracks(id="tracks")
                yield Credits(id="credits")
        yield Prompt(id="prompt")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Prompt).focus()
        self.transcript.add_status("Connecting…")
        self.connect()

    @property
    def transcript(self) -> Transcript:
        return self.query_one(Transcript)

    @work(exclusive=True, group="connect")
    async def connect(self) -> None:
        choice = choose(self.api)
        try:
            if choice.is_cloud:
                url, key = choice.url, choice.url
            else:
                self.engine = EmbeddedEngine()
                url, key = await self.engine.start(), "local"
            assert url is not None
            self.client = Client(
                url,
                ClientState(client_state_file(), key),
                token=choice.token,
                cloud=choice.is_cloud,
            )
            await self.client.connect()
            self.transcript.add_status("Ready")
            await self._refresh_state()
        except (ClientError, OSError, RuntimeError) as exc:
            self.transcript.add_status(f"Could not connect: {exc}", error=True)

    async def _refresh_state(self) -> None:
        assert self.client is not None
        draft = await self.client.draft()
        self.query_one(Tracks).show(summarize_draft(draft))
        c = await self.client.credits()
        self.query_one(Credits).show(c["available"], c["frozen"], c["total"])

    @on(Prompt.Sent)
    def _prompt(self, event: Prompt.Sent) -> None:
        intent = route(event.text)
        self.transcript.add_user(event.text)
        if intent.action == "help":
            self.transcript.mount(Markdown(HELP))
            return
        self.act(intent.action, intent.arg)

    @on(DirectoryTree.FileSelected)
    def _file(self, event: DirectoryTree.FileSelected) -> None:
        self.transcript.add_user(f"/upload {event.path}")
        self.act("upload", str(event.path))

    @work(exclusive=True, group="client")
    async def act(self, action: str, arg: str) -> None:
        if self.client is None:
            self.transcript.add_status("Not connected yet", error=True)
            return
        try:
            if action == "upload":
                path = Path(arg).expanduser()
                files = await self.client.upload([path])
                self.last_source = path.stem
                names = ", ".join(f.get("filename", "?") for f in files)
                self.transcript.add_status(f"Uploaded {names}")
            elif action == "credits" or action == "status":
                pass
            elif action == "new":
                await self.client.new_session()
                self.transcript.add_status("New session")
            elif action == "export":
                dest = unique_path(self.out_dir / f"{self.last_source}.mp4")
                self.transcript.add_status("Rendering…")
                result = await self.client.export(dest)
                self.transcript.add_status(f"Saved {result.path}")
            else:
                text = "undo" if action == "undo" else arg
                async for ev in self.client.turn(text):
                    if isinstance(ev, TextChunk):
                        await self.transcript.append_chunk(ev.text)
                    elif isinstance(ev, FinalText):
                        await self.transcript.finish_answer(ev.text)
                    elif isinstance(ev, ToolCall):
                        self.transcript.add_tool(ev.name)
                    elif isinstance(ev, TurnError):
                        self.transcript.add_status(ev.message, error=True)
                    elif isinstance(ev, StateUpdate) and ev.note:
                        self.transcript.add_status(ev.note)
            await self._refresh_state()
        except ClientError as exc:
            self.transcript.add_status(str(exc), error=True)

    async def on_unmount(self) -> None:
        if self.client is not None:
            await self.client.aclose()
        if self.engine is not None:
            await self.engine.stop()


def run_app(args: argparse.Namespace) -> int:
    app = I2VApp(args.folder, args.out, args.api)
    app.run()
    return 0
