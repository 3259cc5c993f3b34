"""`i2v-flow worker`: runs render jobs from the queue (tui/engine/queue.py) on this machine.

Up to `--jobs` renders at once, each in a child process (tui/engine/worker.py, the embedded
engine's render worker, given one job) that dies with this one. A heartbeat says this worker is
alive; beside the jobs runs the reaper: a job whose worker stopped heart-beating for
I2V_QUEUE_STALL seconds has its partial file removed and runs again, or after MAX_ATTEMPTS
attempts fails with its credits released. Whichever live worker sees it first does it; the
others find the job moved on and leave it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import procrastinate

    from tui.engine.store_pg import PgStore

log = logging.getLogger("i2v.engine.queue")

HEARTBEAT = 10.0  # seconds between a worker's heartbeats (I2V_QUEUE_HEARTBEAT)
STALL = 30.0  # seconds without one before its jobs are re-run (I2V_QUEUE_STALL)


@dataclass
class WorkerState:
    store: PgStore
    out_dir: Path  # STORAGE/renders: where every node's downloads read from
    memory_mb: int
    # Render processes that finished a job, kept for the next (importing av, cv2 and numpy
    # takes a second or two: as long as a small render).
    idle: list[asyncio.subprocess.Process] = field(default_factory=list)

    async def take(self) -> asyncio.subprocess.Process:
        while self.idle:
            proc = self.idle.pop()
            if proc.returncode is None:
                return proc
        return await self.spawn()

    async def spawn(self) -> asyncio.subprocess.Process:
        """A render process (tui/engine/worker.py), dying with this one; the database URL in
        its environment, never on its command line."""
        env = {**os.environ, "I2V_WORKER_DATABASE": self.store.locator}
        args = [str(os.getpid()), "env", str(self.out_dir), str(self.memory_mb)]
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tui.engine.worker",
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=env,
        )

    async def warm(self, n: int) -> None:
        self.idle.extend([await self.spawn() for _ in range(n)])

    async def close(self) -> None:
        for proc in self.idle:
            with contextlib.suppress(ProcessLookupError, OSError):
                proc.kill()
            await proc.wait()
        self.idle.clear()


def _env(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def _parts(out_dir: Path, render_id: str, pid: int | None = None) -> list[Path]:
    """A render's half-written outputs (tui/engine/render/pipeline.py: .NAME.PID.part)."""
    return list(out_dir.glob(f".{render_id}.mp4.{pid if pid else '*'}.part"))


async def render_job(context: procrastinate.JobContext, render_id: str) -> None:
    """The queue's render task: one render in a child process, settled in the store by it."""
    from tui.engine.queue import MAX_ATTEMPTS, RenderLost

    st: WorkerState = (context.additional_context or {})["i2v"]
    row = st.store.render(render_id)
    if row is None or row["status"] not in ("pending", "processing"):
        return  # cancelled (or settled) while it waited
    proc = await st.take()
    assert proc.stdin is not None and proc.stdout is not None
    status = last = None
    try:
        proc.stdin.write(f"{render_id}\n".encode())
        await proc.stdin.drain()
        while line := await proc.stdout.readline():
            words = line.decode(errors="replace").split()
            if len(words) == 4 and words[:2] == ["done", render_id]:
                status, last = words[2], words[3]
                break
    finally:  # done, lost, or aborted (a cancel: asyncio cancels this task)
        if status is not None and last == "next":
            st.idle.append(proc)  # kept warm for the next job
        else:  # lost, aborted, or retiring near its memory limit
            with contextlib.suppress(ProcessLookupError, OSError):
                proc.stdin.close()  # its end of input: the child exits
                if status is None:
                    proc.kill()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(proc.wait())
            for p in _parts(st.out_dir, render_id, proc.pid):
                p.unlink(missing_ok=True)
    if status is not None:
        return
    how = f"signal {-proc.returncode}" if (proc.returncode or 0) < 0 else "its exit"
    attempts = context.job.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        log.error("render %s: its render process died again (%s); failed", render_id, how)
        st.store.finish_render(
            render_id, "failed", error=f"the render worker died {attempts} times ({how})"
        )
        return
    log.warning("render %s: its render process died (%s); running it again", render_id, how)
    st.store.requeue(render_id)
    raise RenderLost(how)


async def reap(app: procrastinate.App, st: WorkerState, stall: float) -> int:
    """One pass of the reaper; returns the jobs it moved on."""
    from procrastinate.jobs import Status

    from tui.engine.queue import MAX_ATTEMPTS, RENDER_TASK, job_render_id

    moved = 0
    jm = app.job_manager
    for job in await jm.get_stalled_jobs(task_name=RENDER_TASK, seconds_since_heartbeat=stall):
        rid = job_render_id(job)
        for p in _parts(st.out_dir, rid):  # the dead attempt's; nobody else runs it now
            p.unlink(missing_ok=True)
        try:
            if job.attempts + 1 >= MAX_ATTEMPTS:
                assert job.id is not None
                await jm.finish_job_by_id_async(job.id, Status.FAILED, delete_job=False)
                err = f"its render worker stopped {job.attempts + 1} times"
                st.store.finish_render(rid, "failed", error=err)
                log.error("render %s: %s; failed", rid, err)
            else:
                st.store.requeue(rid)
                await jm.retry_job(job)
                log.warning("render %s: its worker stopped; running it again", rid)
        except Exception as exc:  # another worker's reaper moved it first
            log.info("render %s: reaped elsewhere (%s)", rid, exc)
            continue
        moved += 1
    await jm.prune_stalled_workers(stall)
    return moved


async def _reap_forever(app: procrastinate.App, st: WorkerState, every: float, stall: float):
    while True:
        await asyncio.sleep(every)
        try:
            await reap(app, st, stall)
        except Exception:
            log.exception("reaper")


async def _work(
    app: procrastinate.App, st: WorkerState, jobs: int, heartbeat: float, stall: float
) -> None:
    """procrastinate's worker until SIGINT or SIGTERM (which let the renders under way finish).
    A worker taken for dead (paused or cut off past the stall timeout: its row pruned, its job
    run elsewhere) can find its heartbeat or a settlement refused and stop: it starts afresh."""
    from tui.engine.queue import QUEUE

    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    current: list[asyncio.Task] = []

    def stop() -> None:
        stopping.set()
        for task in current:
            task.cancel()  # procrastinate's graceful stop: running jobs end first

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    while not stopping.is_set():
        task = asyncio.create_task(
            app.run_worker_async(
                queues=[QUEUE],
                concurrency=max(1, jobs),
                name=f"i2v-{socket.gethostname()}-{os.getpid()}",
                update_heartbeat_interval=heartbeat,
                stalled_worker_timeout=stall,
                additional_context={"i2v": st},
                install_signal_handlers=False,
            )
        )
        current[:] = [task]
        try:
            await task
        except asyncio.CancelledError:
            if not stopping.is_set():
                raise
        except Exception:
            log.exception("the queue worker failed")
        if not stopping.is_set():
            log.warning("the queue worker stopped; starting it again")
            await asyncio.sleep(heartbeat)


async def serve_jobs(url: str, storage: Path, jobs: int, memory_mb: int) -> None:
    from tui.engine.queue import ensure_schema, make_app
    from tui.engine.store_pg import PgStore

    store = PgStore(url, storage)
    store.run(ensure_schema)
    st = WorkerState(store, (storage / "renders").resolve(), memory_mb)
    st.out_dir.mkdir(parents=True, exist_ok=True)
    heartbeat = max(0.05, _env("I2V_QUEUE_HEARTBEAT", HEARTBEAT))
    stall = max(heartbeat * 2, _env("I2V_QUEUE_STALL", STALL))
    app = make_app(url)
    try:
        await st.warm(max(1, jobs))
        async with app.open_async():
            reaper = asyncio.create_task(_reap_forever(app, st, heartbeat, stall))
            try:
                print(f"i2v-flow worker {socket.gethostname()}:{os.getpid()} ready", flush=True)
                await _work(app, st, jobs, heartbeat, stall)
            finally:
                reaper.cancel()
    finally:
        await st.close()
        store.close()


def main(argv: list[str] | None = None) -> int:
    from tui.engine.args import worker_parser
    from tui.engine.jobs import default_memory_mb
    from tui.engine.stores import database_from_env, is_postgres, redact

    args = worker_parser().parse_args(argv)
    url = database_from_env(args.database)
    if not is_postgres(url):
        print(
            "error: a worker needs --database postgresql://… (or I2V_FLOW_DATABASE)",
            file=sys.stderr,
        )
        return 2
    assert url is not None
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    memory = int(_env("I2V_ENGINE_WORKER_MEMORY", default_memory_mb()))
    try:
        asyncio.run(serve_jobs(url, args.storage, args.jobs, memory))
    except KeyboardInterrupt:
        pass
    except Exception as exc:
        if type(exc).__module__.startswith(("psycopg", "procrastinate")):
            first = next((ln for ln in str(exc).splitlines() if ln.strip()), type(exc).__name__)
            print(f"error: {redact(url)}: {first}", file=sys.stderr)
            return 1
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
