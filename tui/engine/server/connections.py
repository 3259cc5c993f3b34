"""What one connection may hold: deadlines for its first byte, its request head and a slow body; a
cap on open connections (past it a new one takes the place of the one silent the longest, else is
answered 503); and running out of file descriptors answered 503, not logged per accept.

uvicorn's h11 protocol only times out a kept-alive connection after a response: a client that
connects and says nothing, sends its head a byte at a time (slowloris) or trickles its body held a
file descriptor for ever. At 256 open files the engine stopped accepting, and asyncio logged a
traceback for every failed accept() (50 MB of stderr in 10 s).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import socket
from dataclasses import dataclass
from typing import Any, ClassVar

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("i2v.engine.connections")

# Sent as is to a connection we will not serve, before closing it.
BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\nretry-after: 1\r\ncontent-length: 32\r\n\r\n"
    b"the local engine is busy; retry\n"
)
FD_RESERVE = 64  # descriptors kept for SQLite, the log, render workers' pipes, the listener
# The listen backlog, and so how many connections asyncio accepts in one go before any of them
# is closed for being past the cap (each holds a descriptor meanwhile).
LISTEN_BACKLOG = 64
REPEAT_WINDOW = 60.0  # s: one log line per kind of loop error
# s: a connection silent for less is not put out for a new one: its first bytes may be in the
# socket, unread because the loop got to its connection_made first (a burst of requests at the
# cap would otherwise put out each other).
MIN_SILENCE = 1.0


@dataclass(frozen=True)
class Limits:
    idle: float = 5.0  # s: a new connection's first byte
    # s: a kept-alive one between requests (uvicorn's timeout_keep_alive; was 30). Just over
    # httpx's keepalive_expiry of 5 s, so that our client always lets go first and never sends
    # on a connection we are closing (it does not retry: tui/client/connection.py).
    keep_alive: float = 6.0
    head: float = 15.0  # s: from a request's first byte to the end of its headers
    body_window: float = 10.0  # s: each such window of a request body must bring at least
    body_rate: int = 1024  # bytes/s on average (windows where we paused reading don't count)
    max_open: int = 256  # open connections (see GuardedH11._evict_one)
    write_stall: float = 60.0  # s: a response may wait that long on a client that reads nothing

    def for_fd_limit(self, soft: int) -> Limits:
        """At most half of what the descriptor limit leaves after FD_RESERVE and one accept
        burst (a download holds a file open beside its socket), so that accept() does not run
        out first: 256 open files allow 64 connections."""
        fit = max(8, (soft - FD_RESERVE - LISTEN_BACKLOG) // 2)
        return dataclasses.replace(self, max_open=min(self.max_open, fit))


def fd_limit() -> int:
    import resource

    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


def protocol_for(limits: Limits) -> type[H11Protocol]:
    """uvicorn's `http=` protocol class with these limits."""
    return type("GuardedH11", (GuardedH11,), {"limits": limits})


class GuardedH11(H11Protocol):
    """uvicorn's h11 protocol with the deadlines and the cap of `limits`."""

    limits: ClassVar[Limits] = Limits()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._deadline: asyncio.TimerHandle | None = None
        self._in_head = False
        self._received = 0  # bytes, for the body's rate
        self._watch: asyncio.TimerHandle | None = None
        self._stall: asyncio.TimerHandle | None = None
        self._idle_since: float | None = self.loop.time()  # None: a request is in flight
        if self._open_count() > self.limits.max_open and not self._evict_one():
            log.warning("%d connections open: new ones answered 503", self.limits.max_open)
            transport.write(BUSY)
            transport.close()
            return
        self._arm(self.limits.idle, "a connection said nothing: closed")

    def data_received(self, data: bytes) -> None:
        self._received += len(data)
        if self.conn.their_state is h11.IDLE and not self._in_head:  # a request head begins
            self._in_head = True
            self._arm(self.limits.head, "a connection sent its request head too slowly: closed")
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE and self._in_head:  # ... and is complete
            self._in_head = False
            self._idle_since = None
            self._disarm()
        if self.conn.their_state is h11.SEND_BODY and self._watch is None:
            self._watch_body()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.conn.their_state is not h11.SEND_BODY:  # kept alive, waiting for the next
            self._idle_since = self.loop.time()

    def _open_count(self) -> int:
        """Connections not being closed: one we closed holds its place in uvicorn's set until
        its connection_lost runs, a loop turn later, and must not count against a new one."""
        return sum(1 for c in self.connections if not c.transport.is_closing())

    def _evict_one(self) -> bool:
        """At the cap, a new connection takes the place of the one that has waited longest
        without a request in flight (silent, kept alive, or still sending its head), so that a
        flood of those cannot keep a real request out. False: every one is busy."""
        since = self.loop.time() - MIN_SILENCE
        waiting = [
            c
            for c in self.connections
            if isinstance(c, GuardedH11)
            and c is not self
            and getattr(c, "_idle_since", None) is not None
            and c._idle_since <= since
            and not c.transport.is_closing()
        ]
        if not waiting:
            return False
        oldest = min(waiting, key=lambda c: c._idle_since or 0.0)
        oldest._cut("the connection that waited longest was closed for a new one (at the cap)")
        return True

    def pause_writing(self) -> None:
        """Our send buffer is full: the client reads no more. A download it resumes later is
        fine (the client asks for the rest with Range); one that holds a slot for ever is not."""
        super().pause_writing()
        if self._stall is None:
            message = "a connection stopped reading its response: closed"
            self._stall = self.loop.call_later(self.limits.write_stall, self._cut, message)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._stall is not None:
            self._stall.cancel()
            self._stall = None

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._stall is not None:
            self._stall.cancel()
            self._stall = None
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        super().connection_lost(exc)

    def _arm(self, seconds: float, message: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._cut, message)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _cut(self, message: str) -> None:
        log.warning(message)  # one template per reason: each gets its own line a minute
        self.transport.close()

    def _watch_body(self) -> None:
        """Every body_window while the client owes body bytes: at least body_rate per second."""
        window = self.limits.body_window
        self._watch = self.loop.call_later(window, self._check_body, self._received)

    def _check_body(self, mark: int) -> None:
        self._watch = None
        if self.transport.is_closing() or self.conn.their_state is not h11.SEND_BODY:
            return
        slow = self._received - mark < self.limits.body_rate * self.limits.body_window
        if slow and not self.flow.read_paused:  # paused: the app is slow, not the client
            self._cut(f"a connection sent its body slower than {self.limits.body_rate} B/s: closed")
            return
        self._watch_body()


class AcceptGuard:
    """The loop's exception handler: when accept() runs out of descriptors, one held in reserve
    is let go to accept the next waiting connection and answer it 503 (asyncio retries the
    listener in 1 s). Anything else goes to the default handler, once per kind of message per
    REPEAT_WINDOW (each message carries a traceback; the next one says how many were left out).
    """

    def __init__(self, listener: socket.socket):
        self.listener = listener
        self.reserve: int | None = _reserve()
        self.last: dict[str, tuple[float, int]] = {}

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        message = str(context.get("message", ""))
        if message.startswith("socket.accept() out of system resource"):
            log.warning("out of file descriptors: waiting connections answered 503")
            self.shed_one()
            return
        if self.listener.fileno() == -1 and "_start_serving" in message:
            return  # asyncio's retry of the listener, come after we closed it: nothing wrong
        at, left_out = self.last.get(message, (-REPEAT_WINDOW, 0))
        now = loop.time()
        if now - at < REPEAT_WINDOW:
            self.last[message] = (at, left_out + 1)
            return
        if len(self.last) > 512:
            self.last.clear()
        self.last[message] = (now, 0)
        if left_out:
            context = {**context, "message": f"{message} [{left_out} more like this left out]"}
        loop.default_exception_handler(context)

    def shed_one(self) -> None:
        if self.reserve is not None:
            os.close(self.reserve)
            self.reserve = None
        try:
            conn, _addr = self.listener.accept()
        except OSError:  # nothing waiting (BlockingIOError), or still out of descriptors
            pass
        else:
            with conn, contextlib.suppress(OSError):
                conn.send(BUSY)
        self.reserve = _reserve()

    def close(self) -> None:
        if self.reserve is not None:
            os.close(self.reserve)
            self.reserve = None


def _reserve() -> int | None:
    try:
        return os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
