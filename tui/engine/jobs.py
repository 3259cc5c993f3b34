"""Render jobs: a small pool of worker processes (tui/engine/worker.py) fed from a fair queue.

The renders table is the channel for progress and cancellation: workers write progress and the
final status there, and read it to notice a cancellation, so the server never blocks on a
worker. One supervisor thread owns the processes: it starts them, hands them jobs, reads their
answers, kills a worker too slow to notice a cancellation, and settles the job of a worker that
died. The event loop only queues, dequeues and wakes it, under a lock held for microseconds.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import sys
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tui.engine.stores import EngineStore, is_postgres
from tui.engine.worker import PREPARE

if TYPE_CHECKING:
    import subprocess
    from collections.abc import Callable

log = logging.getLogger("i2v.engine.jobs")

ROOT = Path(__file__).resolve().parents[2]  # where `tui` is imported from, for the workers
CANCEL_GRACE = 0.5  # seconds a running job has to notice its cancellation before its worker dies
MAX_QUEUED = 50  # renders waiting for a worker, all users together; more are refused (429)
WORKER_DATABASE_ENV = "I2V_WORKER_DATABASE"  # a worker's PostgreSQL URL (see _spawn)
START_FAILURES = 3  # workers in a row dying before they are ready: stop keeping one warm
# An uploaded image is decoded ahead for its drafts (JobRunner.prepare) once the engine has
# had no render to start for this long after it came: a one-shot command's render, asked for
# ~0.1 s after its upload, never waits behind it.
PREPARE_AFTER = 0.3
MAX_HINTS = 4  # images waiting to be decoded ahead: the latest ones
# Larger images are left to their drafts: decoding one could hold a worker for a second, and
# a render another user asks for would wait behind it.
MAX_AHEAD_PIXELS = 30_000_000


def default_workers() -> int:
    # x264 already uses every core with frame threads; more workers only add memory.
    return max(1, (os.cpu_count() or 2) // 2)


def default_memory_mb() -> int:
    """A worker's address-space limit (VmPeak, measured on 2 cores: a 2160p 'high' render
    ~2.8 GB, from a 24 MP photo as from a small one; 1080p ~1.5 GB; a draft ~1 GB, most of it
    thread stacks and malloc arenas). x264 adds frame threads, and their frames, with the
    cores; never more than the machine's memory."""
    cpus = os.cpu_count() or 2
    mb = 4096 + 256 * cpus
    with contextlib.suppress(ValueError, OSError, AttributeError):
        mb = min(mb, os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") >> 20)
    return mb


def worker_memory_mb() -> int:
    """A worker's address-space limit in MB: I2V_ENGINE_WORKER_MEMORY, else default_memory_mb()
    (0: no limit)."""
    return max(0, int(_env("I2V_ENGINE_WORKER_MEMORY", default_memory_mb())))


def local_layout(data_dir: Path) -> tuple[Path, Path]:
    """An engine's SQLite file and its folder of finished renders, in its data folder."""
    return data_dir / "engine.sqlite3", data_dir / "renders"


def spawn_worker(locator: str, out_dir: Path, memory_mb: int) -> subprocess.Popen:
    """A render worker process (tui/engine/worker.py) for the store at `locator`, writing into
    `out_dir`. It dies with the thread that starts it (PR_SET_PDEATHSIG): start it from one that
    lasts as long as the engine."""
    import site
    import subprocess

    env = dict(os.environ)
    if str(ROOT) not in site.getsitepackages():  # a checkout: let the child find `tui`
        env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH", ""), str(ROOT)) if p)
    where = locator
    if is_postgres(where):  # a URL may hold a password: never on a command line
        env[WORKER_DATABASE_ENV], where = where, "env"
    else:
        where = str(Path(where).resolve())
    args = [str(os.getpid()), where, str(out_dir)]
    return subprocess.Popen(
        [sys.executable, "-m", "tui.engine.worker", *args, str(memory_mb)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        bufsize=0,
        env=env,
    )


def _env(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


class FairQueue:
    """Queued render ids, per user, taken fairly: next is the first job of the user with the
    fewest jobs running, the one served longest ago among them (a user with ten renders queued
    never makes another's single render wait behind all ten)."""

    def __init__(self) -> None:
        self._jobs: dict[str, deque[str]] = {}  # user -> render ids, in arrival order
        self._served: dict[str, int] = {}  # user -> tick of the last job taken
        self._tick = 0

    def __len__(self) -> int:
        return sum(len(q) for q in self._jobs.values())

    def push(self, user: str, rid: str, *, front: bool = False) -> None:
        q = self._jobs.setdefault(user, deque())
        if rid in q:
            return
        if front:
            q.appendleft(rid)
        else:
            q.append(rid)

    def remove(self, rid: str) -> bool:
        for user, q in self._jobs.items():
            if rid in q:
                q.remove(rid)
                if not q:
                    del self._jobs[user]
                return True
        return False

    def take(self, running: Counter[str]) -> tuple[str, str] | None:
        if not self._jobs:
            return None
        user = min(self._jobs, key=lambda u: (running[u], self._served.get(u, 0)))
        q = self._jobs[user]
        rid = q.popleft()
        if not q:
            del self._jobs[user]
        self._tick += 1
        self._served[user] = self._tick
        return user, rid

    def forget(self, user: str) -> None:
        """`user` has nothing queued or running: its turn no longer matters."""
        if user not in self._jobs:
            self._served.pop(user, None)


@dataclass
class _Worker:
    proc: subprocess.Popen
    ready: bool = False  # imported the renderer
    job: str | None = None
    user: str | None = None
    last: bool = False  # retiring after its job (it came near its memory limit)
    preparing: str = ""  # the image it decodes ahead (a hint, see JobRunner.prepare)
    kill_at: float | None = None  # its job was cancelled: dies then unless it answered
    buf: bytes = field(default=b"", repr=False)


class JobRunner:
    """Workers start on first use (`warm`, `submit` or `resume`): the engine answers its first
    requests before a worker process (which imports av, cv2 and numpy) competes for the cores.

    `memory_mb` bounds each worker's address space (I2V_ENGINE_WORKER_MEMORY, 0: no limit),
    `max_queued` the renders waiting for a worker (I2V_ENGINE_MAX_QUEUED), `cancel_grace` the
    seconds a cancelled job has to stop before its worker is killed (I2V_ENGINE_CANCEL_GRACE)."""

    def __init__(
        self,
        store: EngineStore,
        out_dir: Path,
        workers: int | None = None,
        *,
        memory_mb: int | None = None,
        max_queued: int | None = None,
        cancel_grace: float | None = None,
        first: subprocess.Popen | None = None,
    ):
        self.store = store
        self.out_dir = Path(out_dir).resolve()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.workers = workers or default_workers()
        self.memory_mb = worker_memory_mb() if memory_mb is None else max(0, memory_mb)
        self.max_queued = max_queued or int(_env("I2V_ENGINE_MAX_QUEUED", MAX_QUEUED))
        if cancel_grace is None:
            cancel_grace = _env("I2V_ENGINE_CANCEL_GRACE", CANCEL_GRACE)
        self.cancel_grace = max(0.0, cancel_grace)
        self._queue = FairQueue()
        self._procs: list[_Worker] = []
        self._retries: dict[str, int] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._wake_r = self._wake_w = -1  # the supervisor's wake-up pipe, made with it
        self._warm = False
        self._closing = False
        self._start_failures = 0
        self._hints: deque[tuple[float, str]] = deque(maxlen=MAX_HINTS)  # (when due, path)
        self.prepare_after = max(0.0, _env("I2V_ENGINE_PREPARE_AFTER", PREPARE_AFTER))
        # Told each render that settles here (from the supervisor's thread): held polls answer.
        self.on_settled: Callable[[str], None] | None = None
        if first is not None:  # started ahead of the engine's imports (spawn_worker, --warm-now)
            self._procs.append(_Worker(first))
            self._warm = True

    # ---- the event loop's side -------------------------------------------------------------

    def warm(self) -> None:
        """Have a worker start and import the renderer now (later calls do nothing)."""
        with self._lock:
            self._warm = True
        self._kick()

    def resume(self) -> int:
        """Queue every job a previous run accepted but did not finish (a kill -9 included). Its
        workers died with it (see worker.py), so what they left half-written goes."""
        for p in self.out_dir.glob(".*.part"):
            p.unlink(missing_ok=True)
        rows = self.store.requeue_unfinished()
        with self._lock:
            for row in rows:
                self._queue.push(row["user_id"], row["id"])
        if rows:
            self._kick()
        return len(rows)

    def submit(self, render_id: str) -> None:
        row = self.store.render(render_id)
        if row is None or row["status"] not in ("pending", "processing"):
            return
        with self._lock:
            self._queue.push(row["user_id"], render_id)
        self._kick()

    def prepare(self, path: Path, pixels: int) -> None:
        """An image of `pixels` was uploaded: an idle worker decodes it for the draft previews
        to come (render/kept_stills.py), `prepare_after` seconds on (I2V_ENGINE_PREPARE_AFTER,
        default PREPARE_AFTER) if no render started meanwhile. A render started drops the hints
        given before it: it was what the user waited for, and a draft of the image decodes and
        keeps it itself. Images over MAX_AHEAD_PIXELS are not decoded ahead."""
        where = str(Path(path).resolve())
        if "\n" in where or not 0 < pixels <= MAX_AHEAD_PIXELS:
            return
        with self._lock:
            if self._closing or any(p == where for _, p in self._hints):
                return
            self._hints.append((time.monotonic() + self.prepare_after, where))
            self._warm = True
        self._kick()

    def queue_full(self) -> bool:
        """As many renders wait for a worker as the engine queues: a new one must wait."""
        with self._lock:
            return len(self._queue) >= self.max_queued

    def cancel(self, render_id: str) -> None:
        """Take a queued job out of the queue. A running one sees its cancelled status in the
        table within a few frames and stops; if it has not within `cancel_grace` seconds, its
        worker is killed (and replaced)."""
        with self._lock:
            self._retries.pop(render_id, None)
            if self._queue.remove(render_id):
                return
            for w in self._procs:
                if w.job == render_id and w.kill_at is None:
                    w.kill_at = time.monotonic() + self.cancel_grace
        self._kick()

    def shutdown(self) -> None:
        """Stop now, rendering or not: a job cut short here is still pending or processing in
        the table, so the next start runs it again (its credits stay frozen until then)."""
        with self._lock:
            self._closing = True
            thread = self._thread
        if thread is None:  # no supervisor ever started: at most a worker started ahead
            self._stop_workers()
            return
        self._wake()
        thread.join(10)
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _kick(self) -> None:
        with self._lock:
            if self._closing:
                return
            if self._thread is None:
                # Workers are started from this one long-lived thread: PR_SET_PDEATHSIG fires
                # when the *thread* that started a process ends, not only the process.
                self._wake_r, self._wake_w = os.pipe()
                os.set_blocking(self._wake_w, False)  # a full pipe already wakes it
                self._thread = threading.Thread(target=self._supervise, daemon=True, name="jobs")
                self._thread.start()
        self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"!")

    # ---- the supervisor thread -------------------------------------------------------------

    def _supervise(self) -> None:
        sel = selectors.DefaultSelector()
        sel.register(self._wake_r, selectors.EVENT_READ)
        with self._lock:
            ahead = list(self._procs)  # a worker started before this thread (see __init__)
        for w in ahead:
            sel.register(w.proc.stdout, selectors.EVENT_READ, w)
        while True:
            with self._lock:
                if self._closing:
                    break
            try:
                self._step(sel)
            except Exception:  # never let the thread die: its workers would die with it
                log.exception("render supervisor")
                time.sleep(0.2)
        self._stop_workers()
        sel.close()

    def _step(self, sel: selectors.BaseSelector) -> None:
        for _ in range(self._spawns_wanted()):
            w = _Worker(self._spawn())
            sel.register(w.proc.stdout, selectors.EVENT_READ, w)
            with self._lock:
                self._procs.append(w)
        now = time.monotonic()
        for w, line in self._assign() + self._hinted(now):
            with contextlib.suppress(OSError):  # if it died, its end of file settles the job
                w.proc.stdin.write(f"{line}\n".encode())
        with self._lock:
            deadlines = [w.kill_at for w in self._procs if w.kill_at is not None]
            # (a hint already due waits for a worker's answer, which wakes this thread)
            deadlines += [due for due, _ in self._hints if due > now]
        timeout = max(0.0, min(deadlines) - now) if deadlines else 5.0
        for key, _ in sel.select(timeout):
            if key.data is None:
                os.read(self._wake_r, 4096)
            else:
                self._read(sel, key.data)
        now = time.monotonic()
        with self._lock:
            late = [w for w in self._procs if w.kill_at is not None and w.kill_at <= now]
            for w in late:
                w.kill_at = None
        for w in late:
            log.info("render %s: cancelled but still running; killing its worker", w.job)
            with contextlib.suppress(OSError):
                w.proc.kill()

    def _spawns_wanted(self) -> int:
        with self._lock:
            live = [w for w in self._procs if not w.last]
            idle = sum(1 for w in live if w.job is None)
            want = len(self._queue) - idle
            if self._warm and not live and self._start_failures < START_FAILURES:
                want = max(want, 1)
            return max(0, min(want, self.workers - len(live)))

    def _assign(self) -> list[tuple[_Worker, str]]:
        out = []
        with self._lock:
            running = Counter(w.user for w in self._procs if w.user is not None)
            # Workers decoding an image ahead last: a job given one waits for that to end.
            for w in sorted(self._procs, key=lambda p: p.preparing != ""):
                if w.job is None and not w.last:
                    got = self._queue.take(running)
                    if got is None:
                        break
                    w.user, w.job = got
                    running[w.user] += 1
                    out.append((w, w.job))
            if out:
                self._hints.clear()
        return out

    def _hinted(self, now: float) -> list[tuple[_Worker, str]]:
        """Hints due, each for an idle worker, while no render waits (see prepare)."""
        out = []
        with self._lock:
            if len(self._queue):
                return out
            for w in self._procs:
                if not self._hints or self._hints[0][0] > now:
                    break
                if w.ready and w.job is None and not w.last and not w.preparing:
                    w.preparing = self._hints.popleft()[1]
                    out.append((w, PREPARE + w.preparing))
        return out

    def _spawn(self) -> subprocess.Popen:
        return spawn_worker(self.store.locator, self.out_dir, self.memory_mb)

    def _read(self, sel: selectors.BaseSelector, w: _Worker) -> None:
        try:
            got = os.read(w.proc.stdout.fileno(), 65536)
        except OSError:
            got = b""
        if not got:
            sel.unregister(w.proc.stdout)
            self._gone(w)
            return
        w.buf += got
        *lines, w.buf = w.buf.split(b"\n")
        for line in lines:
            words = line.decode(errors="replace").split()
            if words == ["ready"]:
                w.ready = True
                with self._lock:
                    self._start_failures = 0
            elif len(words) == 2 and words[0] == "prepared":
                log.info("image %s ahead of its drafts: %s", words[1], Path(w.preparing).name)
                with self._lock:
                    w.preparing = ""
            elif len(words) == 4 and words[0] == "done":
                with self._lock:
                    self._retries.pop(words[1], None)
                    user, w.job, w.user, w.kill_at = w.user, None, None, None
                    w.last = words[3] == "last"
                    if user is not None and not any(p.user == user for p in self._procs):
                        self._queue.forget(user)
                self._settled(words[1])

    def _gone(self, w: _Worker) -> None:
        """A worker's output ended: it exited (retiring, killed, crashed, out of memory)."""
        try:
            code = w.proc.wait(5)
        except Exception:
            w.proc.kill()
            code = w.proc.wait()
        for f in (w.proc.stdin, w.proc.stdout):
            with contextlib.suppress(OSError):
                f.close()
        for p in self.out_dir.glob(f".*.{w.proc.pid}.part"):  # its half-written output
            p.unlink(missing_ok=True)
        with self._lock:
            self._procs.remove(w)
            if not w.ready:
                self._start_failures += 1
            rid, user = w.job, w.user
            if user is not None and not any(p.user == user for p in self._procs):
                self._queue.forget(user)
        if rid is not None:
            how = f"signal {-code}" if code < 0 else f"exit code {code}"
            self._lost(rid, how)

    def _lost(self, rid: str, how: str) -> None:
        """The worker rendering `rid` died. The job runs once more on a fresh worker; a job that
        kills its worker twice fails and releases its credits. A cancelled one stays so."""
        row = self.store.render(rid)
        if row is None or row["status"] not in ("pending", "processing"):
            return
        with self._lock:
            tries = self._retries.get(rid, 0)
            self._retries[rid] = tries + 1
        if tries < 1:
            log.warning("render %s: its worker died (%s); running it again", rid, how)
            self.store.requeue(rid)
            with self._lock:
                self._queue.push(row["user_id"], rid, front=True)
            return
        with self._lock:
            self._retries.pop(rid, None)
        log.error("render %s: its worker died again (%s); failed", rid, how)
        self.store.finish_render(rid, "failed", error=f"the render worker died twice ({how})")
        self._settled(rid)

    def _settled(self, rid: str) -> None:
        if self.on_settled is not None:
            self.on_settled(rid)

    def _stop_workers(self) -> None:
        with self._lock:
            procs = list(self._procs)
        for w in procs:
            with contextlib.suppress(OSError):
                w.proc.kill()
        for w in procs:
            with contextlib.suppress(Exception):
                w.proc.wait(5)
            for f in (w.proc.stdin, w.proc.stdout):
                with contextlib.suppress(OSError):
                    f.close()
            for p in self.out_dir.glob(f".*.{w.proc.pid}.part"):
                p.unlink(missing_ok=True)
