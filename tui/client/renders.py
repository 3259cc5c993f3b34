"""Renders: start one (saved before the first poll, so a restart resumes it), poll it to its
end, cancel it, the whole export (start, wait, download), and resuming an earlier run's renders.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui.client.errors import ClientError
from tui.client.transfer import TransferCalls, file_stem, in_path, unique_path
from tui.client.wire import json_body, retry_after
from tui.core.protocol import SESSION_NOT_FOUND, RenderStatus, draft_ready, read_render_status
from tui.core.tiers import DEFAULT_TIER

POLL_BLIPS = 3  # failed polls in a row that a render wait rides out

OnStatus = Callable[[RenderStatus], Awaitable[None] | None]


@dataclass
class Resumed:
    """A render saved by an earlier run, seen through: downloaded to `path`, or why not."""

    render_id: str
    path: Path | None = None
    status: RenderStatus | None = None
    error: str = ""


@dataclass
class ExportResult:
    render_id: str
    path: Path
    status: RenderStatus
    size: int


_last_ms = 0
_ids_lock = threading.Lock()


def new_render_id() -> str:
    """`render_<ms>` as the protocol writes it, never twice from this process. The id is also the
    retry key: two renders started in one millisecond (a watch robot's jobs) were taken by the
    backend as one request sent twice, and both jobs got the first one's clip."""
    global _last_ms
    with _ids_lock:
        _last_ms = max(int(time.time() * 1000), _last_ms + 1)
        return f"render_{_last_ms}"


class RenderCalls(TransferCalls):
    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        # What each render of this run was asked for (draft, quality, target): a render that
        # fails for a passing cause is asked for once more. Not saved: a render resumed by a
        # later run is seen through as it ends.
        self._asked: dict[str, tuple[dict, str, Path | None, str]] = {}

    async def start_render(
        self, quality: str = DEFAULT_TIER, draft: dict | None = None, *, target: Path | None = None
    ) -> str:
        if draft is None:
            draft = await self.draft()
        if not draft_ready(draft):
            raise ClientError("the timeline is empty", hint="upload an image and describe the clip")
        return await self._post_render(draft, quality, target)

    async def _post_render(
        self, draft: dict, quality: str, target: Path | None, retry_of: str = ""
    ) -> str:
        # A new id each time, a retry's too: the id is the backend's key for "the same request
        # sent twice", and a failed render must not be answered with its own failure again.
        rid = new_render_id()

        def body() -> dict:
            return {
                "id": rid,
                "sessionId": self.session.session_id,
                "draft": draft,
                "output": {"format": "mp4", "quality": quality},
            }

        data = await self._call("POST", "/api/render/proxy/lambda", make_json=body)
        status = read_render_status(data, rid)
        # Saved before the first poll: a restart resumes the job instead of orphaning it.
        info: dict[str, Any] = {
            "session_id": self.session.session_id,
            "state": "rendering",
            "owner": self.owner,
        }
        if target is not None:
            info["target"] = str(target)
        if retry_of:
            info["retry_of"] = retry_of
        self.state.add_render(status.id, started=time.time(), quality=quality, **info)
        self._asked[status.id] = (draft, quality, target, retry_of)
        return status.id

    async def _retry_render(self, render_id: str, failed: RenderStatus) -> str | None:
        """One more render, under a new id, of what a render that failed for a passing cause
        was asked for: its id, or None when it is not to be retried (a retry itself, one this
        run did not start, a cause the draft or the account would meet again)."""
        asked = self._asked.pop(render_id, None)
        if asked is None or asked[3] or not failed.may_retry:
            return None
        draft, quality, target, _ = asked
        self._say(f"The render failed ({failed.error}); rendering it once more…")
        return await self._post_render(draft, quality, target, retry_of=render_id)

    async def render_status(self, render_id: str) -> tuple[RenderStatus, float | None]:
        """The status, and the seconds the backend asks us to wait before the next poll (its
        Retry-After, at most 5 minutes; None without a usable one)."""
        data, resp = await self._request(
            "GET", f"/api/render/proxy/lambda/{in_path(render_id)}", session_scoped=False
        )
        status = read_render_status(json_body(resp) or data, render_id)
        return status, retry_after(resp, None)  # None: poll at our own pace

    async def wait_render(
        self, render_id: str, on_progress: OnStatus | None = None
    ) -> RenderStatus:
        blips = 0
        while True:
            try:
                status, wait = await self.render_status(render_id)
            except ClientError as exc:
                if exc.code in (404, SESSION_NOT_FOUND):  # a bare 404 reads as 1002
                    self.state.update_render(render_id, state="lost")
                # Polling is a GET: a dropped connection or a gateway's 5xx is tried again,
                # a few times in a row at most.
                # 5xx only: the table's codes (1002, 2001, 4001…) are over 500 too.
                server = exc.code is not None and 500 <= exc.code < 600
                if not (exc.transient or server) or blips >= POLL_BLIPS:
                    raise
                blips += 1
                await asyncio.sleep(self.poll_interval)
                continue
            blips = 0
            if on_progress is not None:
                r = on_progress(status)
                if asyncio.iscoroutine(r):
                    await r
            if status.done:
                self.state.update_render(
                    render_id, state=status.status if status.status != "completed" else "rendered"
                )
                if status.status == "completed":
                    self._asked.pop(render_id, None)
                    return status
                again = await self._retry_render(render_id, status)
                if again is None:
                    raise ClientError(
                        f"render {status.status}: {status.error or 'no reason given'}"
                    )
                render_id = again  # polled on: the status returned is the retry's
                continue
            await asyncio.sleep(wait if wait is not None else self.poll_interval)

    async def cancel_render(self, render_id: str) -> RenderStatus:
        data = await self._call(
            "POST", f"/api/render/proxy/lambda/{in_path(render_id)}/cancel", session_scoped=False
        )
        self.state.update_render(render_id, state="cancelled")
        return read_render_status(data, render_id)

    async def export(
        self, dest: Path, quality: str = DEFAULT_TIER, on_progress: OnStatus | None = None
    ) -> ExportResult:
        rid = await self.start_render(quality, target=Path(dest))
        status = await self.wait_render(rid, on_progress)
        path = await self.download(rid, dest, status)
        # The render that made it: a retry's own id when the first failed (wait_render).
        return ExportResult(status.id or rid, path, status, path.stat().st_size)

    async def resume_renders(
        self,
        on_progress: OnStatus | None = None,
        default_dir: Path | None = None,
        *,
        on_start: Callable[[str, Path], None] | None = None,
        skip: Collection[str] = (),
    ) -> list[Resumed]:
        """See through the renders an earlier run of this owner saved but never downloaded.

        Only renders tagged with this client's `owner` (or saved before owners were recorded)
        are taken: the app never downloads a watcher's render, nor a watcher the app's. Each is
        polled to its end, all at once, and downloaded to the target it was started for (or
        into `default_dir`); `on_start(render_id, dest)` is called as each is taken up. A render
        the backend no longer knows is marked lost, not retried forever; one with nowhere to go
        is reported, not polled.
        """

        async def one(rid: str, info: dict) -> Resumed:
            target = info.get("target")
            if not target and default_dir is not None:
                target = str(Path(default_dir) / f"{file_stem(rid)}.mp4")
            if not target:
                return Resumed(rid, None, None, "no download target saved")
            dest = Path(target)
            part = dest.with_name(f".{dest.name}.part")
            if not part.exists():
                dest = unique_path(dest)
            if on_start is not None:
                on_start(rid, dest)
            try:
                status = await self.wait_render(rid, on_progress)
                path = await self.download(rid, dest, status)
                return Resumed(rid, path, status)
            except ClientError as exc:
                return Resumed(rid, None, None, str(exc))

        pending = self.state.pending_renders(owner=self.owner)
        jobs = [one(rid, info) for rid, info in pending.items() if rid not in skip]
        return list(await asyncio.gather(*jobs))
