"""What a person asks for by name: the `command_*` methods (called by the palette, see
tui/app/palette.py, by slash commands and by keys) and the key bindings' `action_*` methods.

Each command either answers at once, or hands its job to the part that does it: the action
queue (`submit`), a read, a reconnect, or the watch.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from textual import work

from tui.app.base import AppPart
from widgets.jobs import Jobs
from widgets.prompt import Prompt
from widgets.tracks import Tracks

HELP = """\
**Say what you want**, e.g. *"a 5-second vertical clip, title 'Spring Sale' for 3 s, lo-fi
music at 35%"*, or:

- `/upload PATH`: upload a file (or **Enter** on it in Files)
- `/export [draft|standard|high]`: render and save to the exports folder
- `/credits`, `/status`: the balance; the timeline
- `/undo`, `/new`: step back; start a new session
- `/open`: the last export
- `/watch DIR`: a clip from every image dropped into DIR (to DIR/out); `/watch off` stops
- `/reconnect`: restart the local engine, or reconnect"""
# Last, after the Tracks pane's keys (widgets/tracks.py).
HELP_KEYS = """\
**Space** marks files: the next instruction goes to each, one clip each. **Tab** moves between
panes, **ctrl+p** lists every action, **ctrl+q** quits."""


class Commands(AppPart):
    # ---- commands (palette, slash commands, keys) ------------------------------------------

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
        self.query_one(Prompt).focus()  # the next step is saying what it should become

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
        self.clear_finished_jobs()
        self.submit("new")

    def clear_finished_jobs(self) -> None:
        """A new session starts with only the jobs still running in the Jobs pane."""
        if jobs := self._pane(Jobs):
            jobs.clear_finished()

    def command_help(self) -> None:
        self.transcript.add_markdown("\n\n".join((HELP, Tracks.HELP, HELP_KEYS)))

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

    def command_watch_off(self) -> None:
        self.watch_dir = None
        if self.watcher is None:
            self.transcript.add_status("Not watching a folder", hint="/watch DIR starts")
            return
        self.transcript.add_status("Stopping the watch…")
        self.watcher.stop()

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

    async def action_quit(self) -> None:
        """Quit cleanly: the watcher stops first (its jobs keep their step in the journal)."""
        if self.watcher is not None:
            self.watcher.stop()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(10):
                    await self._watch_idle.wait()
        self.exit()


def _desktop_opener() -> str | None:
    if sys.platform == "darwin":
        return shutil.which("open")
    if sys.platform.startswith("win"):
        return None
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return None  # over SSH: show the path instead
    return shutil.which("xdg-open")
