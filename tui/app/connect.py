"""Connecting and reading: the app's `Backend` (tui/session/) connected, /reconnect, the reads.

The client (and httpx) are imported by the connect worker, after the first screen. Reads
(credits, status) run in their own workers, never queued behind a long turn.
"""

from __future__ import annotations

import asyncio
import contextlib

from textual import work

from tui.app.base import AppPart
from tui.app.messages import Connected, CreditsReady, HistoryLoaded, StatusLine, TrackReady


class Connecting(AppPart):
    @work(exclusive=True, group="connect", exit_on_error=False)
    async def connect(self) -> None:
        self._connected.clear()
        try:
            from tui.client import ClientError

            try:
                connected = await self.backend.connect()
                self._open_history(connected.key)
            except (ClientError, OSError, RuntimeError) as exc:
                self.post_message(
                    StatusLine(
                        f"Could not connect: {getattr(exc, 'message', exc)}",
                        error=True,
                        hint=getattr(exc, "hint", "")
                        or "check the backend, then type /reconnect (or press ctrl+q to quit)",
                        keep=False,
                    )
                )
                return
        finally:
            self._connected.set()
        if connected.resumed and self.history is not None and self.client is not None:
            # Above "Ready", which stays the last line in sight however long the history.
            sid = self.backend.where().session_id
            entries = await asyncio.to_thread(self.history.load, sid)
            if entries:
                self.post_message(HistoryLoaded(entries))
        self.post_message(Connected(connected.label, connected.resumed))
        await self._refresh(tracks=True, credits=True, quiet=True)
        self._resume_renders()
        if self.watch_dir is not None and self.watcher is None:
            self.call_later(self.command_watch, str(self.watch_dir))

    def _client_says(self, text: str) -> None:
        """What the client says as it recovers (a lost session replaced, a wait for a rate
        limit, a cut download resumed): in the transcript, else a session's timeline could
        empty with no word why. "Connecting…" is the app's own line already."""
        if not text.startswith("Connecting"):
            self.post_message(StatusLine(text, keep=False))

    def _open_history(self, key: str) -> None:
        from tui.app.history import History
        from tui.core.paths import home

        if self.history is not None and self.history.key == key:
            return
        if self.history is not None:
            self.history.close()
        self.history = History(home() / "history", key)

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
        await self.backend.restart()
        self.connect()

    @work(group="reads", exit_on_error=False)
    async def _read(self, what: str) -> None:
        await self._connected.wait()
        client = self._need_client()
        if client is None:
            return
        from tui.core.protocol import summarize_draft

        try:
            if what == "credits":
                c = await self.backend.credits()
                self.post_message(CreditsReady(c.available, c.frozen, c.total))
                self.post_message(StatusLine(c.line()))
            else:
                state = await self.backend.session_state()
                summary = summarize_draft(state.draft)
                self.post_message(TrackReady(state.draft, summary))
                self.post_message(
                    StatusLine(
                        "Timeline: " + "  ".join(summary)
                        if summary
                        else "The timeline is empty: upload an image"
                    )
                )
                if state.generated_media:
                    self._show_made(state.generated_media, "So far the cloud made")
        except Exception as exc:
            self._report(exc)
