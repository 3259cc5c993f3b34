"""Connecting and reading: the client on the chosen backend, /reconnect, and the reads.

The client (and httpx) are imported by the connect worker, after the first screen. Reads
(credits, status) run in their own workers, never queued behind a long turn.
"""

from __future__ import annotations

import asyncio
import contextlib

from textual import work

from tui.app.base import AppPart
from tui.app.messages import Connected, CreditsReady, HistoryLoaded, StatusLine, TrackReady
from tui.core.backend import EmbeddedEngine, choose


class Connecting(AppPart):
    @work(exclusive=True, group="connect", exit_on_error=False)
    async def connect(self) -> None:
        self._connected.clear()
        try:
            from tui.client import Client, ClientError
            from tui.client.state import ClientState
            from tui.core.paths import client_state_file

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
                    url,
                    state,
                    token=choice.token,
                    cloud=choice.is_cloud,
                    owner="app",
                    poll_interval=self.poll_interval,
                    on_status=self._client_says,
                )
                await self.client.connect()
                self._open_history(key)
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
        if resumed and self.history is not None and self.client is not None:
            # Above "Ready", which stays the last line in sight however long the history.
            sid = self.client.session.session_id
            entries = await asyncio.to_thread(self.history.load, sid)
            if entries:
                self.post_message(HistoryLoaded(entries))
        self.post_message(Connected(self.backend_label, resumed))
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
        if self.engine is not None:
            await self.engine.stop()
            self.engine = None
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
                c = await client.credits()
                self.post_message(CreditsReady(c["available"], c["frozen"], c["total"]))
                self.post_message(
                    StatusLine(
                        f"Credits: {c['available']} available, {c['frozen']} frozen, "
                        f"{c['total']} total"
                    )
                )
            else:
                state = await client.session_state()
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
