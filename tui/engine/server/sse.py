"""Server-sent events: one frame per event, and heartbeats while a slow task works, so that
neither the client's read timeout nor a proxy cuts a quiet stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

HEARTBEAT_SECONDS = 15.0
HEARTBEAT = b'data: {"type": "heartbeat"}\n\n'


def frame(event: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(event, ensure_ascii=False).encode() + b"\n\n"


async def heartbeats_until_done(task: asyncio.Task, every: float) -> AsyncIterator[bytes]:
    """A heartbeat after each `every` seconds of silence, until `task` is done (its result is
    the caller's to read)."""
    while not task.done():
        done, _ = await asyncio.wait({task}, timeout=every)
        if not done:
            yield HEARTBEAT
