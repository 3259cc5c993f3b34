"""Renders on procrastinate (a task queue on PostgreSQL), when the store is PostgreSQL.

A `serve` node freezes the credits, inserts the render and defers its job in one transaction
(`QueueJobs`, hooked into PgStore.create_render), so there is no second store to keep in step.
`i2v-flow worker` (tui/engine/queue_worker.py) runs the jobs on any machine, each render in a
child process as the embedded engine's pool does (tui/engine/worker.py).

Jobs run at least once; money moves once anyway (PgStore's guarded settlement). A worker that
stops heart-beating has its job re-run by a reaper in any other worker: at most MAX_ATTEMPTS
attempts, then the render fails and its credits are released; the dead attempt's partial file is
removed first. A cancel settles the render (released) and asks the queue to abort its job.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import procrastinate

if TYPE_CHECKING:
    from pathlib import Path

    import psycopg

    from tui.engine.store_pg import PgStore

RENDER_TASK = "i2v_render"
QUEUE = "i2v_renders"
MAX_ATTEMPTS = 2  # a job whose worker dies this many times fails, its credits released
MAX_QUEUED = 50  # renders waiting for a worker, all users and nodes together (then 429)
SCHEMA_LOCK = 0x1257F11  # the advisory lock nodes install procrastinate's schema under


class RenderLost(Exception):
    """The render's child process died before it answered (killed, crashed): run again."""


def make_app(url: str) -> procrastinate.App:
    """The queue's app with the render task (tui/engine/queue_worker.py runs it)."""
    from tui.engine.queue_worker import render_job

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=url))
    app.task(
        name=RENDER_TASK,
        queue=QUEUE,
        pass_context=True,
        # A render process that died is tried once more on this worker; a worker that died is
        # the reaper's (get_stalled_jobs). Both count the job's attempts.
        retry=procrastinate.RetryStrategy(
            max_attempts=MAX_ATTEMPTS - 1, retry_exceptions={RenderLost}
        ),
    )(render_job)
    return app


def ensure_schema(conn: psycopg.Connection) -> None:
    """procrastinate's tables, installed by the first node or worker to start."""
    from procrastinate.schema import SchemaManager

    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        row = conn.execute("SELECT to_regclass('procrastinate_jobs') AS t").fetchone()
        there = row["t"] if isinstance(row, dict) else row[0]  # type: ignore[index]
        if there is None:
            conn.execute(SchemaManager.get_schema())


class QueueJobs:
    """What tui/engine/jobs.py's JobRunner is to the embedded engine, on the queue: the routes
    call the same methods. Nothing runs here; workers take the jobs."""

    def __init__(self, store: PgStore, max_queued: int | None = None):
        self.store = store
        self.max_queued = max_queued or int(os.environ.get("I2V_ENGINE_MAX_QUEUED", MAX_QUEUED))
        self.app = make_app(store.locator)
        store.run(ensure_schema)
        store.on_render = self._defer

    def _defer(self, conn: psycopg.Connection, render_id: str, user_id: str) -> None:
        """In create_render's transaction. Priority interleaves users: a user's n-th unfinished
        render waits behind everyone's first."""
        n = conn.execute(
            "SELECT COUNT(*) AS n FROM renders WHERE user_id=%s AND status IN"
            " ('pending','processing')",
            (user_id,),
        ).fetchone()
        count = n["n"] if isinstance(n, dict) else n[0]  # type: ignore[index]
        task = self.app.tasks[RENDER_TASK]
        task.configure(connection=conn, priority=-int(count)).defer(render_id=render_id)

    def warm(self) -> None:
        pass  # workers are other processes

    def prepare(self, path: Path, pixels: int) -> None:
        pass  # (their drafts decode and keep the image themselves, see render/kept_stills.py)

    def resume(self) -> int:
        return 0  # the queue keeps unfinished jobs; workers and their reaper run them

    def submit(self, render_id: str) -> None:
        pass  # deferred in create_render's own transaction

    def queue_full(self) -> bool:
        row = self.store.one("SELECT COUNT(*) AS n FROM renders WHERE status='pending'")
        return row is not None and row["n"] >= self.max_queued

    def cancel(self, render_id: str) -> None:
        """The render is settled (cancelled) already: a waiting job leaves the queue, a running
        one is asked to abort (its worker kills the render process)."""

        def abort(conn: psycopg.Connection) -> None:
            for row in conn.execute(
                "SELECT id FROM procrastinate_jobs WHERE task_name=%s AND args->>'render_id'=%s"
                " AND status IN ('todo','doing')",
                (RENDER_TASK, render_id),
            ).fetchall():
                job_id = row["id"] if isinstance(row, dict) else row[0]
                self.app.job_manager.cancel_job_by_id(job_id, abort=True, connection=conn)

        self.store.run(abort)

    def shutdown(self) -> None:
        pass


def job_render_id(job: Any) -> str:
    return str(job.task_kwargs.get("render_id", ""))
