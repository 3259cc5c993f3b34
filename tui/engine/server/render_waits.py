"""Status polls held until their render settles: the poller hears of a finished render at once.

A client polls a running render once a second (its Retry-After); on average it learned of the
end half a second late, which was 7 % of a 5 s 1080p `i2v-flow render`. So a poll of a running
render is held for up to HOLD seconds, and answered the moment the render settles (completed,
failed or cancelled), with "Retry-After: 0" to ask again at once. The render supervisor's thread
says so through `settled_soon`; a render it never hears of (the PostgreSQL queue's workers are
elsewhere) is answered when the hold ends, as a plain poll would have been.
"""

from __future__ import annotations

import asyncio
import contextlib
import os

HOLD = 1.0  # seconds a poll of a running render waits at most (the progress shown moves as often)
HOLD_ENV = "I2V_ENGINE_POLL_HOLD"  # another hold, in seconds (tests: long, to see what ends it)


class RenderWaits:
    """Pollers waiting per render id; everything but `settled_soon` runs on the event loop."""

    def __init__(self, hold: float | None = None) -> None:
        if hold is None:
            try:
                hold = float(os.environ.get(HOLD_ENV, HOLD))
            except ValueError:
                hold = HOLD
        self.hold_for = min(60.0, max(0.0, hold))
        self._waits: dict[str, tuple[asyncio.Event, int]] = {}  # rid -> (event, pollers)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    async def hold(self, rid: str) -> bool:
        """Return when `rid` settles, the engine stops, or after `hold_for` seconds; False when
        nothing was held (the engine is stopping, or no hold: the poller waits its own pace)."""
        if self._closed or not self.hold_for:
            return False
        event, n = self._waits.get(rid) or (asyncio.Event(), 0)
        self._waits[rid] = (event, n + 1)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), self.hold_for)
        finally:
            event, n = self._waits.get(rid, (event, 1))
            if n <= 1:
                self._waits.pop(rid, None)
            else:
                self._waits[rid] = (event, n - 1)
        return True

    def settled(self, rid: str) -> None:
        got = self._waits.get(rid)
        if got is not None:
            got[0].set()

    def close(self) -> None:
        """The engine is stopping: every held poll is answered now, none held from here on."""
        self._closed = True
        for event, _ in self._waits.values():
            event.set()

    def settled_soon(self, rid: str) -> None:
        """`settled`, from another thread (the render supervisor's)."""
        loop = self._loop
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed: nobody waits
                loop.call_soon_threadsafe(self.settled, rid)
