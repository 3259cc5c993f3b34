"""Render jobs: a bounded pool of worker processes fed from the renders table.

The table is the channel both ways: workers write progress and the final status there, and
read it to notice a cancellation, so the server never blocks on a worker.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from tui.engine.store import Store

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
            now = time.monotonic()
            if now - last[0] >= 0.25 or frac >= 1.0:
                last[0] = now
                store.set_progress(render_id, round(frac * 99.0, 1))

        def cancelled() -> bool:
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


class JobRunner:
    def __init__(self, store: Store, out_dir: Path, workers: int | None = None):
        self.store = store
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        ctx = multiprocessing.get_context("spawn")
        self.pool = ProcessPoolExecutor(max_workers=workers or default_workers(), mp_context=ctx)
        self.futures: dict[str, Future] = {}

    def warm(self) -> None:
        self.pool.submit(_warm)

    def resume(self) -> int:
        """Queue every job a previous run accepted but did not finish."""
        rows = self.store.unfinished_renders()
        for row in rows:
            self.submit(row["id"])
        return len(rows)

    def submit(self, render_id: str) -> None:
        fut = self.pool.submit(run_job, str(self.store.path), render_id, str(self.out_dir))
        self.futures[render_id] = fut
        fut.add_done_callback(lambda f, rid=render_id: self._done(rid, f))

    def _done(self, render_id: str, fut: Future) -> None:
        self.futures.pop(render_id, None)
        exc = fut.exception() if not fut.cancelled() else None
        if exc is not None:  # the worker died (e.g. killed): fail the job, release credits
            log.error("render %s: worker failed: %s", render_id, exc)
            self.store.finish_render(render_id, "failed", error=f"render worker failed: {exc}")

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
