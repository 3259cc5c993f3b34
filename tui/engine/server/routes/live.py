"""A draft's MP4 while it is being made (GET /api/render/proxy/{rid}/live): the preview plays
its first second while the rest renders.

A draft is written in fragments, each on disk as soon as it is made and every byte once, in
order (tui/engine/render/pipeline.py, MUXING): this sends the worker's file from its first byte
as it grows, and when the render completes, the rest (the same file, renamed into place: the
open descriptor reads on). A draft that fails or is cancelled ends the body short, its status
says why. A body that ends is a prefix of the finished file (one cut off by LIVE_FOR is
completed by the download, Range: from what came); a file that was another attempt's is cut,
never ended, and the client then takes the finished file whole. Exports are laid out at their
end: only drafts stream.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from tui.core.protocol import RATE_LIMITED
from tui.core.tiers import DRAFT
from tui.engine.accounts import TokenInfo
from tui.engine.outputs import being_written, output_path
from tui.engine.server.envelope import ApiFailure
from tui.engine.server.routes.render import owned_render

if TYPE_CHECKING:
    from tui.engine.server.engine import Engine

LOOK_EVERY = 0.01  # seconds between looks at a growing file (a fragment is 0.25 s of video)
WAIT_EVERY = 0.05  # and for the file to appear, while the draft waits for a worker
LIVE_FOR = 300.0  # seconds a stream lasts at most (then the client polls and downloads)
CHUNK = 1 << 16
RUNNING = ("pending", "processing")
# Streams a user may have open at once: the preview needs one (a newer draft's may begin before
# the older one's has ended); each looks at its file every 10 ms, so they are not left unbounded.
MAX_LIVE = 3


class WriterGone(Exception):
    """The file being sent was another attempt's, not the one that completed: the body is cut
    (never ended cleanly), so the client takes the finished file whole."""


async def live(engine: Engine, request: Request, user: TokenInfo) -> Response:
    row = owned_render(engine, request, user)
    if row["quality"] != DRAFT:
        raise ApiFailure(409, 409, f"render {row['id']} is no draft: download it once completed")
    if row["status"] not in (*RUNNING, "completed") or (
        row["status"] == "completed" and not row["output"]
    ):
        raise ApiFailure(409, 409, f"render {row['id']} is {row['status']}, nothing to send")
    if engine.live_streams[user.user_id] >= MAX_LIVE:
        raise ApiFailure(
            429,
            RATE_LIMITED,
            f"{MAX_LIVE} drafts are being sent to you already: download this one once completed",
            {"Retry-After": "1"},
        )
    out = output_path(engine.renders_dir, row["id"])
    return StreamingResponse(
        _grow(engine, user.user_id, row["id"], out),
        media_type="video/mp4",
        headers={"Cache-Control": "no-store"},
    )


async def _grow(engine: Engine, user_id: str, rid: str, out: Path) -> AsyncIterator[bytes]:
    # Counted while it runs (a body never started costs nothing and is never counted).
    streams = engine.live_streams
    if streams[user_id] >= MAX_LIVE:  # a burst of requests passed the check together
        return
    streams[user_id] += 1
    f: BinaryIO | None = None
    deadline = time.monotonic() + LIVE_FOR
    try:
        while time.monotonic() < deadline:
            # The status before the read: once it says completed, the read sees the whole file.
            row = engine.store.render(rid)
            status = row["status"] if row is not None else "gone"
            if f is None:
                f = _open(row["output"] if status == "completed" else being_written(out))
            if f is not None:
                chunk = f.read(CHUNK)
                if chunk:
                    yield chunk
                    continue
            if status not in RUNNING:
                if status == "completed" and f is not None and not _same(f, row["output"]):
                    raise WriterGone(rid)
                return  # completed: all sent; failed or cancelled: cut short, as it is
            await asyncio.sleep(LOOK_EVERY if f is not None else WAIT_EVERY)
    finally:
        if f is not None:
            f.close()
        streams[user_id] -= 1
        if not streams[user_id]:
            del streams[user_id]


def _open(path: str | Path | None) -> BinaryIO | None:
    if not path:
        return None
    try:
        return open(path, "rb")  # (closed by _grow's finally)
    except FileNotFoundError:  # renamed into place just now: the next look opens that
        return None


def _same(f: BinaryIO, path: str) -> bool:
    try:
        return os.fstat(f.fileno()).st_ino == os.stat(path).st_ino
    except OSError:
        return False
