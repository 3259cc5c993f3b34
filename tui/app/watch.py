"""Watch mode in the app: `/watch DIR` or `--watch DIR` runs a Watcher (tui/watch/) on the app's
backend, and its events feed the queue pane. The transcript says which instruction it uses, and
one line per clip made or failed; the credits pane is read again after each render.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from textual import work

from tui.app.base import AppPart
from tui.app.messages import StatusLine
from widgets.queue import WatchQueue

if TYPE_CHECKING:
    from tui.watch import WatchEvent


class WatchMode(AppPart):
    def command_watch(self, arg: str) -> None:
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
        self.transcript.add_status(self._instruction_line(folder))
        self._watch(folder.resolve())

    def _instruction_line(self, folder: Path) -> str:
        """What `/watch DIR` will tell the assistant for each image, said before it starts."""
        from tui.watch.scan import folder_instruction

        text, where = folder_instruction(folder, self.watch_prompt)
        if len(text) > 80:
            text = text[:79] + "…"
        return f'Instruction: an image\'s own NAME.txt, else "{text}" ({where})'

    @work(exclusive=True, group="watch", exit_on_error=False)
    async def _watch(self, folder: Path) -> None:
        from tui.watch import WatchConfig, Watcher, WatchError

        if self.watcher is not None:  # another folder: that watcher lets go of its own first
            self.watcher.stop()
        await self._watch_idle.wait()
        if self.client is None:
            return
        self._watch_idle.clear()
        try:
            slot = self.query_one("#queue-slot")
            if self._queue_folder != folder or not slot.children:  # same folder: keep its rows
                await slot.remove_children()
                await slot.mount(WatchQueue(id="queue"))
                self._queue_folder = folder
            slot.add_class("-watching")
            config = WatchConfig(
                folder,
                prompt=self.watch_prompt,
                jobs=2,
                settle=self.watch_settle,
                quality=self.export_quality,
            )
            self.watcher = Watcher(
                config,
                make_client=self.backend.sibling,  # the app's one connection pool
                on_event=self._watch_event,
            )
            await self.watcher.run()
        except WatchError as exc:
            self.post_message(
                StatusLine(
                    f"Cannot watch: {exc}",
                    error=True,
                    hint="/watch DIR, another folder",
                    keep=False,
                )
            )
        finally:
            self.watcher = None
            self._watch_idle.set()

    def _watch_event(self, ev: WatchEvent) -> None:
        """The Watcher's `on_event` (on this loop): to the queue pane, a few to the transcript."""
        if queue := self._pane(WatchQueue):
            queue.post_message(WatchQueue.Update(ev))
        if ev.step == "started":
            self.post_message(StatusLine(f"Watch: {ev.detail}", keep=False))
        elif ev.step == "stopped":
            self.post_message(StatusLine(f"Watch stopped: {ev.detail}", keep=False))
        elif ev.step == "paused" or (ev.step == "resumed" and not ev.file):
            self.post_message(
                StatusLine(f"Watch {ev.step}: {ev.detail}", error=ev.step == "paused", keep=False)
            )
        elif ev.step == "done":
            out = f" → {self.shown_path(Path(ev.out))}" if ev.out else ""
            self.post_message(StatusLine(f"Watch: {ev.file} done{out} ✓", keep=False))
            self.tell_done(f"Watch: {ev.file} done{out}")
            self._watch_credits()
        if ev.step == "failed":
            self.post_message(
                StatusLine(f"Watch: {ev.file} failed: {ev.detail}", error=True, keep=False)
            )
            self.tell_done(f"Watch: {ev.file} failed", error=True)
            self._watch_credits()  # a failed render's frozen credits are released

    @work(exclusive=True, group="watch-credits", exit_on_error=False)
    async def _watch_credits(self) -> None:
        """The credits pane after a watch render: the spend shows without ctrl+r."""
        if self.client is not None:
            await self._refresh(credits=True, quiet=True)
