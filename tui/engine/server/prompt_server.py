"""uvicorn's Server, stopping as soon as it is told to.

uvicorn looks at `should_exit` every 0.1 s and then gives open connections another 0.1 s; a
one-shot `i2v-flow render` waits for its engine to stop, so that was 0.15 s of a 7 s command
(2 %) spent idle. Here a stop (`stop_now`, from any thread; or a signal, seen at the next tick)
wakes the loop at once, held render polls are answered first, and when no connection is open
(the app and `render` close theirs before closing our stdin) there is nothing to wait for.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable

import uvicorn


class PromptServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, on_stop: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_stop = on_stop  # before anything else stops: the held polls answered
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def stop_now(self) -> None:
        """Stop, from any thread (the one watching the parent's pipe)."""
        self.should_exit = True
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed
                loop.call_soon_threadsafe(wake.set)

    async def main_loop(self) -> None:
        # uvicorn's loop (on_tick every 0.1 s: the Date header, max requests, should_exit),
        # with a wake-up for `stop_now` instead of a plain sleep.
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.1)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._on_stop()
        if self.server_state.connections or self.server_state.tasks or self.force_exit:
            await super().shutdown(sockets)  # connections to let finish: uvicorn's own way
            return
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for server in self.servers:
            await server.wait_closed()
        await self.lifespan.shutdown()
