"""What a person asks for by name: the `command_*` methods that tui/core/command_table.py names
(called by the palette, see tui/app/palette.py, by slash commands and by keys), and what is made
from that table here: /help, "did you mean", and the app's key bindings.

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
from textual.binding import Binding

from tui.app.base import AppPart
from tui.core.command_table import BY_NAME, COMMANDS, PANE_KEYS, SLASH_WORDS
from widgets.jobs import Jobs
from widgets.prompt import Prompt
from widgets.tracks import Tracks

INTRO = """\
**Say what you want**, e.g. *"a 5-second vertical clip, title 'Spring Sale' for 3 s, lo-fi
music at 35%"*, or:"""


def help_markdown() -> str:
    """/help: the slash commands, then the Tracks pane's keys, then the other keys (last: the
    transcript ends on them); each command as the table says it."""
    heads: dict[str, list[str]] = {}  # a line's first command to its heads
    parts: dict[str, list[str]] = {}  # and to its words
    for c in COMMANDS:
        if not c.words or not (c.help or c.line):
            continue
        head = f"`/{c.words[0]}{' ' + c.usage if c.usage else ''}`"
        if c.key and not c.footer:
            head += f", **{c.key}**"
        heads.setdefault(c.line or c.name, []).append(head)
        parts.setdefault(c.line or c.name, []).extend([c.help] if c.help else [])
    slash = "\n".join(f"- {', '.join(h)}: {'; '.join(parts[n])}" for n, h in heads.items())
    keys = [f"**{c.key}** {c.help}" for c in COMMANDS if c.key and c.help and not c.words]
    return "\n\n".join((INTRO, slash, Tracks.HELP, ", ".join((PANE_KEYS, *keys)) + "."))


def bindings() -> list[Binding]:
    """The app's keys: a command's `action_*` bound as itself, a `command_*` through
    `action_command`."""
    return [
        Binding(c.key, key_action(c.name), c.label, show=c.footer, priority=c.priority)
        for c in COMMANDS
        if c.key
    ]


def key_action(name: str) -> str:
    """The binding's action for the command `name` (HelpFooter puts f1's first)."""
    run = BY_NAME[name].run
    return run.removeprefix("action_") if run.startswith("action_") else f"command({name!r})"


def unknown_command(name: str) -> str:
    """'unknown command /x: did you mean /y? (/help lists them)', not the whole help."""
    import difflib

    close = difflib.get_close_matches(name.lower(), SLASH_WORDS, n=1, cutoff=0.6)
    if not close:
        close = [c for c in SLASH_WORDS if name and c.startswith(name.lower()[:2])][:1]
    guess = f": did you mean /{close[0]}?" if close else ""
    return f"unknown command /{name}{guess} (/help lists them)"


class Commands(AppPart):
    def run_command(self, name: str, arg: str = "") -> None:
        """A slash command (or the words routed to one): its method, given what followed the
        slash word when it takes one."""
        command = BY_NAME[name]
        method = getattr(self, command.run)
        if command.usage:
            method(arg)
        else:
            method()

    def action_command(self, name: str) -> None:
        """A key of the table (see `bindings`)."""
        getattr(self, BY_NAME[name].run)()

    # ---- commands (tui/core/command_table.py: palette, slash commands, keys) ---------------

    def command_export(self, quality: str = "") -> None:
        self.submit("export", quality or self.export_quality)

    def command_upload(self, path: str | None = None) -> None:
        """`/upload PATH`, or (from the palette) the file highlighted in Files."""
        if path is not None:
            if path:
                self.submit("upload", path)
            else:
                self.transcript.add_status(
                    "Upload what?", error=True, hint="/upload PATH, or Enter on a file in Files"
                )
            return
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

    def command_save(self) -> None:
        self.submit("save")

    def command_credits(self) -> None:
        self._read("credits")

    def command_status(self) -> None:
        self._read("status")

    def command_undo(self) -> None:
        self.submit("undo")

    def command_redo(self) -> None:
        self.submit("redo")

    def command_new_session(self) -> None:
        self.clear_finished_jobs()
        self.submit("new")

    def clear_finished_jobs(self) -> None:
        """A new session starts with only the jobs still running in the Jobs pane."""
        if jobs := self._pane(Jobs):
            jobs.clear_finished()

    def command_help(self) -> None:
        self.transcript.add_markdown(help_markdown())

    def command_open(self) -> None:
        if self.last_export is None:
            self.transcript.add_status(
                "Nothing exported yet", error=True, hint="/export renders the timeline"
            )
            return
        shown = self.shown_path(self.last_export)
        opener = _desktop_opener()
        if opener is None:  # over SSH: where it is, whole, to copy (scp, a player there)
            self.transcript.add_status(
                f"The last export is {self.last_export.resolve()}",
                hint="no desktop here to open it in a player",
            )
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

    # ---- key actions of their own -----------------------------------------------------------

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
