"""The preview: shown and hidden (f2, /preview), fed the current timeline's draft render (our
own engine, as its /health says) or the last export (the cloud), and refreshed after each turn
that changes the timeline while it shows (unless `preview_auto = false`).

A lone change renders at once; changes in a burst (a turn and its follow-up) make one render
after they settle. A newer timeline cancels the render in flight (tui/preview/source.py).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from textual import work

from tui.app.base import AppPart
from widgets.preview import PreviewPane

SETTLE = 0.5  # seconds: changes closer than this make one render


class PreviewPart(AppPart):
    preview_auto: bool  # set by I2VApp.__init__ (the `preview_auto` setting)
    _preview_draft: dict | None = None  # the timeline as the last TrackReady had it
    _preview_key = ""  # the timeline the pane plays ("" none)
    _preview_changed = 0.0  # when the timeline last changed (time.monotonic())

    def command_preview(self) -> None:
        pane = self._pane(PreviewPane)
        if pane is None:
            return
        pane.display = not pane.display
        if not pane.display:
            pane.hidden()
            self.query_one("#prompt").focus()
            return
        pane.focus()
        self._load_preview()

    def _load_preview(self) -> None:
        """What the pane should play now, if it is not playing it already."""
        pane = self._pane(PreviewPane)
        if pane is None or not pane.display:
            return
        from tui.preview.source import draft_key

        draft = self._preview_draft
        if draft is None or draft_key(draft) != self._preview_key:
            self._make_preview(draft, time.monotonic() - self._preview_changed < SETTLE)

    def _timeline_changed(self, draft: dict) -> None:
        """After a turn, upload, undo or new session: refresh a shown preview."""
        settling = time.monotonic() - self._preview_changed < SETTLE
        self._preview_changed = time.monotonic()
        self._preview_draft = draft
        pane = self._pane(PreviewPane)
        if pane is None or not pane.display or not self.preview_auto:
            return
        from tui.preview.source import draft_key

        if draft_key(draft) != self._preview_key:
            self._make_preview(draft, settling)

    def _export_landed(self, path: Path) -> None:
        pane = self._pane(PreviewPane)
        if pane is not None and pane.display:
            self._after_export()

    @work(group="preview-export", exit_on_error=False)
    async def _after_export(self) -> None:
        """On the cloud, the preview is the export just saved."""
        if self.client is not None and not await self.backend.own_engine():
            self._play_export()

    def _play_export(self) -> None:
        from tui.preview.source import exported

        pane = self._pane(PreviewPane)
        if pane is None:
            return
        source = exported(self.last_export)
        if source is None:
            pane.say("the cloud's renders cost credits: /export, then it plays here")
        elif source.path != pane.source:
            pane.play(source.path)

    @work(exclusive=True, group="preview", exit_on_error=False)
    async def _make_preview(self, draft: dict | None, settle: bool) -> None:
        """Our engine: render `draft` at the draft tier (free there) and play it; the cloud,
        where every render costs credits, plays the last export instead."""
        from tui.client import ClientError
        from tui.core.protocol import draft_ready
        from tui.preview.frames import warm_up
        from tui.preview.source import Source, render_draft

        pane = self._pane(PreviewPane)
        if pane is None:
            return
        await self._connected.wait()
        if self.client is None:
            pane.say("not connected")
            return
        if not await self.backend.own_engine():
            self._play_export()
            return
        if draft is None or not draft_ready(draft):
            self._preview_key = ""
            pane.clear("nothing to play yet: upload an image and say what you want")
            return
        if settle:  # another change came just now: wait for the burst to end (a newer one
            await asyncio.sleep(SETTLE)  # cancels this worker and waits in its place)
        pane.say("rendering the draft…")
        await asyncio.to_thread(warm_up)  # the decoder starts while the engine renders

        def started(source: Source) -> None:  # its first bytes are here: it plays as it comes
            pane.play(source.path, source.sound, source.seconds)

        try:
            source = await render_draft(self.backend, draft, started)
        except ClientError as exc:
            pane.say(f"cannot render: {exc.message}")
            return
        self._preview_key = source.key
        if not source.streamed:  # (an older engine, or the stream was cut: played whole now)
            pane.play(source.path, source.sound, source.seconds)
        await self._refresh(credits=True, quiet=True)  # free, but the balance is read again
