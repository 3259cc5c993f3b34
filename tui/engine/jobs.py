"""Render jobs: a bounded pool of worker processes fed from the renders table.

The table is the channel both ways: workers write progress and the final status there, and
read it to notice a cancellation, so the server never blocks on a worker.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tui.engine.store import Store

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

log = logging.getLogger("i2v.engine.jobs")


def default_workers() -> int:
    # x264 already uses every core with frame threads; more workers only add memory.
    return max(1, (os.cpu_count() or 2) // 2)


def _warm() -> None:
    import tui.engine.render  # noqa: F401  (imports av, cv2, numpy once per worker)


def run_job(db_path: str, render_id: str, out_dir: str) -> str:
    """In a worker process: render one job and settle it. Returns the final status."""
    from tui.engine.render import RenderCancelled, RenderError, render_draft

    store = Store(Path(db_path))
    server = os.getppid()

    def orphaned() -> None:
        # The server died (kill -9): stop without settling; its next start runs the job again.
        if os.getppid() != server:
            os._exit(0)

    try:
        row = store.render(render_id)
        if row is None or row["status"] not in ("pending", "processing"):
            return row["status"] if row else "missing"
        import json

        draft = json.loads(row["draft"])
        hashes = [s.get("src", "") for t in draft.get("t", []) for s in t.get("sg", [])]
        media = store.media_paths([h for h in hashes if h and not h.startswith("builtin:")])
        store.set_progress(render_id, 0.0)
        out = Path(out_dir) / f"{render_id}.mp4"
        last = [0.0]

        def progress(frac: float) -> None:
            orphaned()
            now = time.monotonic()
            if now - last[0] >= 0.25 or frac >= 1.0:
                last[0] = now
                store.set_progress(render_id, round(frac * 99.0, 1))

        def cancelled() -> bool:
            orphaned()
            r = store.render(render_id)
            return r is None or r["status"] == "cancelled"

        try:
            render_draft(
                draft, media, out, quality=row["quality"], progress=progress, cancel=cancelled
            )
        except RenderCancelled:
            store.finish_render(render_id, "cancelled")
            return "cancelled"
        except RenderError as exc:
            store.finish_render(render_id, "failed", error=str(exc))
            return "failed"
        except Exception as exc:  # a bug: report it on the job, never leave it hanging
            log.exception("render %s crashed", render_id)
            store.finish_render(render_id, "failed", error=f"internal error: {exc}")
            return "failed"
        if not store.finish_render(render_id, "completed", output=str(out)):
            out.unlink(missing_ok=True)  # cancelled at the very end
            return "cancelled"
        return "completed"
    finally:
        store.close()


def _make_pool(workers: int) -> ProcessPoolExecutor:
    # Imported here: multiprocessing and the pool cost the engine's start-up ~20 ms for nothing.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


class JobRunner:
    """The pool is made on first use (`warm` or `submit`): the engine answers its first requests
    before any worker process (which imports av, cv2 and numpy) competes with it for the cores."""

    def __init__(self, store: Store, out_dir: Path, workers: int | None = None):
        self.store = store
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.workers = workers or default_workers()
        self._pool: ProcessPoolExecutor | None = None
        self.futures: dict[str, Future] = {}
        self._lock = threading.RLock()
        self._broken = False
        self._closing = False
        self._warmed = False
        self._retries: dict[str, int] = {}

    @property
    def pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                if self._closing:
                    raise RuntimeError("cannot schedule new futures after shutdown")
                self._pool = _make_pool(self.workers)
            return self._pool

    def warm(self) -> None:
        """Start a worker and have it import the renderer now, once (later calls do nothing).
        Only a head start: it never fails its caller (a broken pool is remade by `submit`)."""
        with self._lock:
            if self._warmed or self._closing or self._broken:
                return
            self._warmed = True
            try:
                self.pool.submit(_warm)
            except Exception as exc:
                log.warning("render worker warm-up failed: %s", exc)

    def resume(self) -> int:
        """Queue every job a previous run accepted but did not finish (a kill -9 included)."""
        for p in self.out_dir.glob(".*.part"):  # half-written outputs of a killed run
            p.unlink(missing_ok=True)
        rows = self.store.requeue_unfinished()
        for row in rows:
            self.submit(row["id"])
        return len(rows)

    def submit(self, render_id: str) -> None:
        with self._lock:
            if self._broken:
                self._new_pool()
            pool = self.pool
            fut = pool.submit(run_job, str(self.store.path), render_id, str(self.out_dir))
            self.futures[render_id] = fut
        fut.add_done_callback(lambda f, rid=render_id, p=pool: self._done(rid, f, p))

    def cancel(self, render_id: str) -> None:
        """Take a queued job out of the queue; a running one sees its cancelled status in the
        table within a few frames and stops, freeing its worker."""
        fut = self.futures.get(render_id)
        if fut is not None:
            fut.cancel()

    def _done(self, render_id: str, fut: Future, pool: ProcessPoolExecutor) -> None:
        from concurrent.futures.process import BrokenProcessPool

        if self.futures.get(render_id) is fut:
            self.futures.pop(render_id, None)
        if fut.cancelled() or self._closing:
            return  # stopping: the job stays unfinished in the table and runs at the next start
        exc = fut.exception()
        if exc is None:
            return
        if isinstance(exc, BrokenProcessPool):
            # A worker died (killed, out of memory) and took the pool with it. Its jobs go to a
            # fresh pool: queued ones as they are, a running one once more; a job that breaks
            # its worker twice fails and releases its credits.
            with self._lock:
                if pool is self._pool:
                    self._broken = True
                tries = self._retries.get(render_id, 0)
                self._retries[render_id] = tries + 1
            row = self.store.render(render_id)
            if row is not None and (
                row["status"] == "pending" or (row["status"] == "processing" and tries < 1)
            ):
                self.store.requeue(render_id)
                self.submit(render_id)
                return
        log.error("render %s: worker failed: %s", render_id, exc)
        self.store.finish_render(render_id, "failed", error=f"render worker failed: {exc}")

    def _new_pool(self) -> None:
        old = self.pool
        self._pool = _make_pool(self.workers)
        self._broken = False
        old.shutdown(wait=False)  # broken: its futures have all failed already

    def shutdown(self) -> None:
        """Stop now, rendering or not: a job cut short here is still pending or processing in
        the table, so the next start runs it again (its credits stay frozen until then)."""
        with self._lock:
            self._closing = True
            pool = self._pool
        if pool is None:
            return  # no worker ever started
        procs = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for p in procs:
            with contextlib.suppress(Exception):
                p.terminate()
