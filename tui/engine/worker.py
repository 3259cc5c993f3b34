"""A render worker process: `python -m tui.engine.worker PARENT_PID DB OUT_DIR MEMORY_MB`.

It imports the renderer once, then renders the job ids its parent writes to its stdin, one line
each, answering `done <id> <status>` on its stdout (stray prints go to stderr). A line
`prepare <path>` is a hint: an image just uploaded, to decode for the draft previews to come
while nothing else waits (render/kept_stills.py); answered `prepared decoded` (or `kept`: it was
already; `skipped`: a job came; `failed`: not an image it can read).

It never outlives the engine: PR_SET_PDEATHSIG kills it with its parent (on Linux), and an end
of stdin (the parent gone, however it died) ends it too, busy or idle. Above MEMORY_MB of
address space its allocations fail, and the job fails with a sentence saying it ran out of
memory.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import resource
import signal
import sys
import threading
import time
from pathlib import Path

from tui.core.draft import Draft
from tui.engine.outputs import output_path
from tui.engine.stores import EngineStore, open_store

log = logging.getLogger("i2v.engine.worker")

PREPARE = "prepare "  # a hint's line (see above)
OOM_SHARE = 0.85  # a failure once the address space reached this share of the limit: memory


def out_of_memory_text(limit_mb: int) -> str:
    return f"the render ran out of memory (a render worker may use {limit_mb} MB)"


def _prctl(option: int, arg: int) -> bool:
    """Linux's prctl(option, arg) for this process; whether it took (False elsewhere)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            return ctypes.CDLL(None, use_errno=True).prctl(option, arg, 0, 0, 0) == 0
    return False


def _die_with_parent(parent: int) -> None:
    _prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it died before prctl took effect
        os._exit(0)


def no_huge_pages() -> bool:
    """This process's memory (and its children's) in small pages; whether that took.

    numpy and x264 madvise their large buffers for transparent huge pages; a fresh process's
    first faults on them cost the kernel far more than the small pages they replace (here,
    1080p at the high tier: 2.4-2.8 s of system time in a worker's first render against 0.4 s
    without huge pages, 1.3-2 s of its wall time; later renders 0.5 against 0.2-0.3 s).
    """
    return _prctl(41, 1)  # PR_SET_THP_DISABLE


def _one_blas_thread() -> None:
    # numpy's OpenBLAS starts a thread per core at import, and they spin while they wait for
    # work that never comes (our arrays go through OpenCV, not BLAS): 0.17 s of the CPU a
    # starting worker takes (0.30 -> 0.13 s for its imports), taken from the engine and the
    # command starting beside it on the same cores. Before numpy is imported.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def _limit_memory(limit_mb: int) -> None:
    if limit_mb > 0:
        size = limit_mb << 20
        with contextlib.suppress(ValueError, OSError):  # macOS may refuse it: no limit then
            resource.setrlimit(resource.RLIMIT_AS, (size, size))


def _vm_peak_mb() -> float:
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmPeak:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _near_limit(limit_mb: int) -> bool:
    return limit_mb > 0 and _vm_peak_mb() >= OOM_SHARE * limit_mb


def _was_memory(exc: BaseException, limit_mb: int) -> bool:
    # An allocation refused inside x264 or FFmpeg surfaces as a generic library error (and one
    # in a decoder as a RenderError): the address space having come close to the limit during
    # this job tells them apart (a worker that came close retires after its job, see main).
    chain = [exc, exc.__cause__, exc.__context__]
    return any(isinstance(e, MemoryError) for e in chain) or _near_limit(limit_mb)


def run_job(store: EngineStore, render_id: str, out_dir: Path, limit_mb: int = 0) -> str:
    """Render one job and settle it in the table. Returns the final status."""
    from tui.engine.render import RenderCancelled, RenderError, render_draft

    row = store.render(render_id)
    if row is None or row["status"] not in ("pending", "processing"):
        return row["status"] if row else "missing"
    draft = json.loads(row["draft"])
    hashes = [s.src for s in Draft.from_wire(draft).segments if s.src]
    media = store.media_paths([h for h in hashes if not h.startswith("builtin:")])
    store.set_progress(render_id, 0.0)
    out = output_path(out_dir, render_id)
    last = [0.0]

    def progress(frac: float) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.25 or frac >= 1.0:
            last[0] = now
            store.set_progress(render_id, round(frac * 99.0, 1))

    def cancelled() -> bool:
        # Cancelled, or settled by another attempt (the queue's reaper re-ran it while this
        # one was stalled): either way this copy stops.
        r = store.render(render_id)
        return r is None or r["status"] not in ("pending", "processing")

    try:
        render_draft(draft, media, out, quality=row["quality"], progress=progress, cancel=cancelled)
    except RenderCancelled:
        store.finish_render(render_id, "cancelled")
        return "cancelled"
    except Exception as exc:
        if _was_memory(exc, limit_mb):
            store.finish_render(render_id, "failed", error=out_of_memory_text(limit_mb))
            return "failed"
        if isinstance(exc, RenderError):
            store.finish_render(render_id, "failed", error=str(exc))
            return "failed"
        log.exception("render %s crashed", render_id)  # a bug: on the job, never left hanging
        store.finish_render(render_id, "failed", error=f"internal error: {exc}")
        return "failed"
    if not store.finish_render(render_id, "completed", output=str(out)):
        r = store.render(render_id)
        # Cancelled at the very end: the clip goes. Unless another attempt (the queue's reaper
        # ran it again while this worker was stalled) completed it: the file is its.
        if not (r and r["status"] == "completed" and r["output"] == str(out)):
            out.unlink(missing_ok=True)
        return "cancelled" if r is None or r["status"] != "completed" else "completed"
    return "completed"


def prepare(path: str) -> str:
    """Decode an uploaded image (and find its subject) for the drafts to come: how it went."""
    from tui.engine.render.kept_stills import STILLS

    try:
        return "decoded" if STILLS.prepare(Path(path)) else "kept"
    except Exception as exc:  # only a hint: a render of the file says what is wrong with it
        log.info("prepare %s: %s", Path(path).name, exc)
        return "failed"


def _read_jobs(jobs: queue.Queue[str]) -> None:
    """Job ids from stdin; its end means the engine is gone or stopping: exit at once (a job
    cut short stays unfinished in the table and runs again at the engine's next start)."""
    for line in sys.stdin.buffer:
        jobs.put(line.decode().strip())
    os._exit(0)


def main(argv: list[str]) -> int:
    parent, db, out_dir, limit_mb = int(argv[0]), argv[1], Path(argv[2]), int(argv[3])
    if db == "env":  # a PostgreSQL URL, passed in the environment (tui/engine/jobs.py)
        db = os.environ.pop("I2V_WORKER_DATABASE")
    _die_with_parent(parent)
    no_huge_pages()
    _one_blas_thread()
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # what libraries print goes to stderr, never into the answers
    import tui.engine.render  # noqa: F401  (av, cv2, numpy: once, before the first job)

    _limit_memory(limit_mb)  # after the imports: too small a limit fails renders, not starts
    from tui.engine.render.warm_up import warm_up

    warm_up()  # the first calls' cost, paid while the engine still works on the turn
    jobs: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_read_jobs, args=(jobs,), daemon=True, name="jobs").start()
    answers.write("ready\n")
    store: EngineStore | None = None
    while True:
        rid = jobs.get()
        if rid.startswith(PREPARE):
            how = prepare(rid[len(PREPARE) :]) if jobs.empty() else "skipped"  # a job waits
            answers.write(f"prepared {how}\n")
            continue
        if store is None:  # at the first job: its row, so the engine's tables, exist by then
            store = open_store(db, out_dir.parent)
        status = run_job(store, rid, out_dir, limit_mb)
        # A job that took it near its limit retires the worker: the next job starts in a fresh
        # process (not a fragmented heap), and the peak read above is always this job's own.
        last = _near_limit(limit_mb)
        answers.write(f"done {rid} {status} {'last' if last else 'next'}\n")
        if last:
            return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
