"""Pacing: which waiting image goes next, and when. N jobs at a time, fewer and later after a 429
or a transient failure (more again after each success), none while the account is out of credits.

It owns the queue and the count of jobs under way; the runner feeds it images and tells it how
each job ended. No journal, no files: the rules can be tried without a backend.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

from tui.client import ClientError
from tui.core.protocol import RATE_LIMITED
from tui.watch.shapes import Emit, WatchConfig

Balance = Callable[[], Awaitable[dict]]  # Client.credits: {"available": …, …}


class Pacing:
    def __init__(self, config: WatchConfig, emit: Emit, stop: Callable[[], None]):
        self.config = config  # the runner hands a reloaded one over
        self.emit = emit
        self.stop = stop  # --once: out of credits ends the run
        self.queue: dict[str, None] = {}  # ordered set of hashes waiting
        self.active: set[str] = set()
        self.limit = max(1, config.jobs)
        self.paused = False
        self.slow_until = 0.0
        self.backoff = 0.0
        self.kick = asyncio.Event()  # the queue or the limits changed: look again
        self._credit_task: asyncio.Task | None = None

    def enqueue(self, key: str, front: bool = False) -> None:
        if key in self.active or key in self.queue:
            return
        if front:
            self.queue = {key: None, **self.queue}
        else:
            self.queue[key] = None
        self.kick.set()

    async def next(self) -> str:
        """The next image to work on, once the limits allow; it counts as active until `done`."""
        while True:
            now = time.monotonic()
            ready = self.queue and not self.paused and len(self.active) < self.limit
            if ready and now >= self.slow_until:
                key = next(iter(self.queue))
                del self.queue[key]
                self.active.add(key)
                return key
            self.kick.clear()
            timeout = self.slow_until - now if ready else None
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancel that
            # lands as the event is set, and the task would then never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self.kick.wait()

    def done(self, key: str) -> None:
        """The job on `key` ended, however it ended."""
        self.active.discard(key)
        self.kick.set()

    def succeeded(self) -> None:
        """A job went through: forget the backoff, one more at a time up to `jobs`."""
        if self.backoff:
            self.backoff = 0.0
        if self.limit < self.config.jobs:
            self.limit += 1
            self.kick.set()

    def slow_down(self, key: str, exc: ClientError) -> None:
        """Rate limited (or a transient failure): `key` goes first again, after a doubling
        wait and with one job fewer at a time. The image never fails for it."""
        base = 5.0 if exc.code == RATE_LIMITED else 2.0
        self.backoff = min(60.0, max(base, self.backoff * 2))
        self.slow_until = time.monotonic() + self.backoff
        self.limit = max(1, self.limit - 1)
        self.enqueue(key, front=True)
        self.emit(
            "slowed",
            detail=f"{exc.message}: waiting {self.backoff:g} s, {self.limit} at a time",
        )

    def pause(self, key: str, exc: ClientError, balance: Balance) -> None:
        """Out of credits: `key` goes first again and nothing starts until `balance` grows
        (--once: the run stops instead, the next one takes the rest). One message, not one
        per image."""
        self.enqueue(key, front=True)
        if self.paused:
            return
        self.paused = True
        if self.config.once:  # a cron run does not wait: the next run takes the rest
            self.emit(
                "paused",
                detail=f"{exc}. Stopping ({len(self.queue)} waiting, nothing failed); "
                "the next run takes what is left.",
            )
            self.stop()
            return
        self.emit(
            "paused",
            detail=f"{exc}. The queue is paused ({len(self.queue)} waiting, nothing failed); "
            f"it resumes by itself when credits are back (checked every "
            f"{self.config.credit_check:g} s).",
        )
        self._credit_task = asyncio.create_task(self._wait_for_credits(balance))

    async def _wait_for_credits(self, balance: Balance) -> None:
        """Resume once the balance grows (a top-up, or frozen credits released)."""
        baseline: int | None = None
        while self.paused:
            try:
                available = (await balance())["available"]
            except ClientError:
                available = None
            if available is not None:
                if baseline is None:
                    baseline = available
                elif available > baseline:
                    self.paused = False
                    self.emit("resumed", detail=f"{available} credits available")
                    self.kick.set()
                    return
            await asyncio.sleep(self.config.credit_check)

    async def close(self) -> None:
        """Stop waiting for credits (the run is over)."""
        if self._credit_task is not None:
            self._credit_task.cancel()
            await asyncio.gather(self._credit_task, return_exceptions=True)
