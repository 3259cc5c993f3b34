"""The watcher: a folder in, clips out, through the one client, on either backend.

`watchfiles.awatch` is only a trigger. The truth is the folder itself, reconciled against the
journal at start, after each batch of events and on a timer (mounts that deliver no events).
Jobs run N at a time, each on its own Client (its own session) sharing one ClientState.
No textual import here: the TUI feeds its queue pane from `on_event`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import os
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tui.client import Client, ClientError, OutOfCredits, StateUpdate, unique_path
from tui.core.intents import language_of
from tui.core.protocol import RATE_LIMITED, FinalText, TurnError
from tui.core.sqlite_schema import SchemaTooNew
from tui.watch.journal import (
    DONE,
    DOWNLOADED,
    DOWNLOADING,
    FAILED,
    FINAL,
    GONE,
    RENDERING,
    SEEN,
    TURNED,
    UPLOADED,
    Job,
    Journal,
)
from tui.watch.scan import (
    BOOKKEEPING,
    Settler,
    check_image,
    file_hash,
    folder_instruction,
    instruction_for,
    iter_inputs,
    move_with_sidecar,
)

# Steps an image goes through, as reported to `on_event` (and logged one line each).
STEPS = ("seen", "uploaded", "turned", "rendering", "downloaded", "done", "failed")


@dataclass(frozen=True)
class WatchConfig:
    folder: Path
    out: Path | None = None  # default: folder/out
    prompt: str | None = None
    jobs: int = 2
    recursive: bool = False
    poll: bool = False
    settle: float = 2.0
    quality: str = "high"
    rescan: float = 10.0  # reconcile at least this often, events or not
    poll_delay: float = 0.3  # --poll: how often watchfiles looks
    credit_check: float = 30.0  # while paused for credits, ask this often
    journal: Path | None = None  # default: I2V_FLOW_HOME/watch.db
    once: bool = False  # take what is in the folder at start, then stop (watch --once)

    @property
    def out_dir(self) -> Path:
        return (self.out or self.folder / "out").resolve()


@dataclass(frozen=True)
class WatchEvent:
    """One step of one file (`file` relative to the folder), or of the watcher (`file` empty)."""

    step: str
    file: str = ""
    key: str = ""  # the image's content hash (first 10 hex digits)
    detail: str = ""
    out: str = ""
    progress: float | None = None
    at: float = field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if v not in ("", None)}
        d["at"] = round(self.at, 3)
        return d

    def line(self) -> str:
        stamp = time.strftime("%H:%M:%S", time.localtime(self.at))
        who = self.file or "watch"
        tail = f": {self.detail}" if self.detail else ""
        out = f" → {self.out}" if self.out and self.out not in self.detail else ""
        return f"{stamp} {who} {self.step}{tail}{out}"


class WatchError(Exception):
    """The watcher cannot start (no such folder, another watcher on it)."""


def _has_segments(draft: Any) -> bool:
    return isinstance(draft, dict) and any(t.get("sg") for t in draft.get("t") or [])


class Watcher:
    """Watch `config.folder` until `stop()`.

    `make_client()` must return a new Client on the same backend sharing ONE ClientState (the
    watcher connects the first, then makes one per job slot, each with its own session). The
    watcher tags each one as its own: renders owned by "watch:<folder>" (the app's resume
    leaves them alone) and sessions never saved as the backend's current one (the app's
    saved session survives a watcher run).
    """

    def __init__(
        self,
        config: WatchConfig,
        make_client: Callable[[], Client],
        on_event: Callable[[WatchEvent], None] | None = None,
    ):
        self.config = config
        self.folder = Path(config.folder).resolve()
        self.out_dir = config.out_dir
        self.done_dir = self.folder / "done"
        self.failed_dir = self.folder / "failed"
        self.make_client = make_client
        self.on_event = on_event
        self.journal: Journal | None = None
        self.settler = Settler(config.settle)
        self._skip = {self.folder / n for n in BOOKKEEPING} | {self.out_dir}
        self._known: dict[str, tuple[tuple[int, int], str]] = {}  # path → (sig, hash)
        self._suspect: dict[str, tuple[int, int]] = {}  # did not open as an image once
        self._queue: dict[str, None] = {}  # ordered set of hashes waiting
        self._active: set[str] = set()
        self._limit = max(1, config.jobs)
        self._paused = False
        self._slow_until = 0.0
        self._backoff = 0.0
        self._kick = asyncio.Event()
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._main: Client | None = None
        self._clients: list[Client] = []
        self._lock_fd: int | None = None
        self._credit_task: asyncio.Task | None = None
        self._only: set[str] | None = None  # --once: the files present at the first look
        self.tally: Counter[str] = Counter()  # this run's outcomes: done, failed, duplicate…
        self.left = 0  # images not finished when the run ended (journaled, resumed next time)

    # ---- public ----------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop soon: jobs in flight keep their step in the journal and resume next time."""
        self._stop.set()

    def rescan(self) -> None:
        self._wake.set()

    def reload(self, **changes: Any) -> None:
        """New settings (WatchConfig fields) for what comes next; nothing queued or running is
        dropped. Images already seen keep the instruction they were seen with."""
        self.config = dataclasses.replace(self.config, **changes)
        self.settler.settle = self.config.settle
        text, source = folder_instruction(self.folder, self.config.prompt)
        self._emit(
            "reloaded",
            detail=f"instruction {source}: {text!r}; quality {self.config.quality}, "
            f"settle {self.config.settle:g} s; {len(self._queue)} waiting and "
            f"{len(self._active)} under way carry on",
        )
        self._wake.set()

    @property
    def queued(self) -> int:
        return len(self._queue)

    @property
    def active(self) -> int:
        return len(self._active)

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    async def run(self) -> None:
        cfg = self.config
        if not self.folder.is_dir():
            raise WatchError(f"{self.folder}: no such folder")
        self._take_lock()
        tasks: list[asyncio.Task] = []
        try:
            from tui.core.paths import home

            try:
                self.journal = Journal(cfg.journal or home() / "watch.db", self.folder)
            except SchemaTooNew as exc:
                raise WatchError(str(exc)) from None
            self._main = self._client()
            self._clients.append(self._main)
            await self._main.connect()
            slots = [self._client() for _ in range(max(1, cfg.jobs))]
            self._clients += slots
            self._emit(
                "started",
                detail=f"watching {self.folder}, clips to {self.out_dir}, "
                f"{cfg.jobs} at a time, settle {cfg.settle:g} s"
                + (", polling" if cfg.poll else ""),
            )
            for job in self.journal.unfinished():
                self._emit("resumed", job, detail=f"was at step '{job.state}'")
                self._enqueue(job.hash)
            tasks = [asyncio.create_task(self._worker(c), name="watch-job") for c in slots]
            if not cfg.once:  # --once looks at the folder itself until its files are done
                tasks.append(asyncio.create_task(self._events(), name="watch-events"))
            tasks.append(asyncio.create_task(self._reconcile_loop(), name="watch-scan"))
            stopper = asyncio.create_task(self._stop.wait())
            done, _ = await asyncio.wait([stopper, *tasks], return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            for t in done:  # a task ended by itself: only a bug does that
                if t is not stopper and not t.cancelled() and t.exception() is not None:
                    raise t.exception()  # type: ignore[misc]
        finally:
            for t in [*tasks, *([self._credit_task] if self._credit_task else [])]:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self._credit_task is not None:
                await asyncio.gather(self._credit_task, return_exceptions=True)
            for c in self._clients:
                with contextlib.suppress(Exception):
                    await c.aclose()
            counts = self.journal.counts() if self.journal else {}
            if self.journal is not None:
                self.left = len(self.journal.unfinished())
                self.journal.close()
            self._release_lock()
            self._emit(
                "stopped",
                detail=", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "nothing done",
            )

    # ---- plumbing --------------------------------------------------------------------------

    @property
    def owner(self) -> str:
        return f"watch:{self.folder}"

    def _client(self) -> Client:
        c = self.make_client()
        c.owner = self.owner
        c.persist_session = False
        return c

    def _emit(self, step: str, job: Job | None = None, **kw: Any) -> None:
        if step in ("done", "failed", "duplicate", "gone"):
            self.tally[step] += 1
        if self.on_event is None:
            return
        if job is not None:
            kw.setdefault("file", self._rel(Path(job.path)))
            kw.setdefault("key", job.short)
        with contextlib.suppress(Exception):
            self.on_event(WatchEvent(step, **kw))

    def _rel(self, p: Path) -> str:
        try:
            return str(p.relative_to(self.folder))
        except ValueError:
            return p.name

    def _take_lock(self) -> None:
        """One watcher per folder: a second one would do every image twice."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover (Windows)
            return
        from tui.core.paths import home

        name = hashlib.sha1(str(self.folder).encode()).hexdigest()[:16]
        lock = home() / "watch-locks" / f"{name}.lock"
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise WatchError(f"another watcher is already watching {self.folder}") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing drops the flock
            self._lock_fd = None

    def _enqueue(self, key: str, front: bool = False) -> None:
        if key in self._active or key in self._queue:
            return
        if front:
            self._queue = {key: None, **self._queue}
        else:
            self._queue[key] = None
        self._kick.set()

    # ---- detection -------------------------------------------------------------------------

    async def _events(self) -> None:
        from watchfiles import awatch

        skip = tuple(str(s) for s in self._skip)

        def wanted(_change: Any, path: str) -> bool:
            return not any(path == s or path.startswith(s + os.sep) for s in skip)

        try:
            async for _batch in awatch(
                self.folder,
                watch_filter=wanted,
                recursive=self.config.recursive,
                force_polling=True if self.config.poll else None,
                poll_delay_ms=int(self.config.poll_delay * 1000),
                step=50,
                stop_event=self._stop,
            ):
                self._wake.set()
        except Exception as exc:  # keep going on the timer alone
            self._emit(
                "warning",
                detail=f"no file events ({exc}); rescanning every {self.config.rescan:g} s",
            )
        await self._stop.wait()

    async def _reconcile_loop(self) -> None:
        while True:
            self._wake.clear()
            deadline = await self._reconcile()
            if self.config.once and deadline is None and not self._queue and not self._active:
                self.stop()  # every file of the first look is settled and finished
                return
            timeout = self.config.rescan
            if deadline is not None:
                timeout = max(0.0, min(timeout, deadline - time.monotonic()))
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancel that
            # lands as the event is set, and the task would then never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()

    async def _reconcile(self) -> float | None:
        """Look at every candidate file once; returns when the next unsettled one may settle."""
        next_at: float | None = None
        present: set[str] = set()
        for entry in iter_inputs(self.folder, self.config.recursive, self._skip):
            path = entry.path
            if self._only is not None and path not in self._only:
                continue  # --once: arrived after the first look; the next run takes it
            present.add(path)
            try:
                st = entry.stat()
            except OSError:
                continue
            sig = (st.st_size, st.st_mtime_ns)
            known = self._known.get(path)
            if known is not None and known[0] == sig:
                self._take(Path(path), known[1])
                continue
            self._known.pop(path, None)
            at = self.settler.observe(path, *sig, time.monotonic())
            if at is not None:
                next_at = at if next_at is None else min(next_at, at)
                continue
            p = Path(path)
            why = await asyncio.to_thread(check_image, p)
            if why is not None:
                if self._suspect.get(path) != sig:
                    # Perhaps still being written in bursts: give it one more settle time.
                    self._suspect[path] = sig
                    at = self.settler.restart(path, time.monotonic())
                    next_at = at if next_at is None else min(next_at, at)
                    continue
                key = await asyncio.to_thread(file_hash, p)
                self._corrupt(p, key, why)
                continue
            self._suspect.pop(path, None)
            try:
                key = await asyncio.to_thread(file_hash, p)
            except OSError:
                continue
            self._known[path] = (sig, key)
            self._take(p, key)
        if self.config.once and self._only is None:
            self._only = present
        self.settler.prune(present)
        for d in (self._known, self._suspect):
            for p in [p for p in d if p not in present]:
                del d[p]
        return next_at

    def _take(self, p: Path, key: str) -> None:
        """A complete image at `p`: decide against the journal what it needs."""
        assert self.journal is not None
        job = self.journal.get(key)
        if job is None or job.state in (FAILED, GONE):
            again = job is not None
            prompt = instruction_for(p, self.folder, self.config.prompt)
            job = self.journal.add(key, p, prompt)
            self._emit(
                "seen",
                job,
                detail=("moved back: trying again; " if again else "") + f"instruction: {prompt!r}",
            )
            self._enqueue(key)
        elif job.state == DONE:
            if not p.exists():
                return
            moved = move_with_sidecar(p, self.done_dir)
            self._known.pop(str(p), None)
            self._emit(
                "duplicate",
                file=self._rel(p),
                key=job.short,
                out=job.out,
                detail=f"same image as {Path(job.path).name}, already made; "
                f"moved to done/{moved.name if moved else p.name}",
            )
        elif job.path != str(p):
            if not Path(job.path).exists():  # renamed while in flight or while we were down
                self.journal.set(key, path=str(p))
                self._enqueue(key)
            # else: the same image twice at once; the copy waits for the first to finish
        else:
            self._enqueue(key)

    def _corrupt(self, p: Path, key: str, why: str) -> None:
        assert self.journal is not None
        self.journal.add(key, p, "")
        self._known.pop(str(p), None)
        self._suspect.pop(str(p), None)
        self._fail_now(
            key,
            f"{p.name} does not open as an image ({why})",
            "check that the file is a complete JPEG, PNG, GIF or WebP (re-save or re-download it)",
        )

    # ---- jobs ------------------------------------------------------------------------------

    async def _worker(self, client: Client) -> None:
        while True:
            key = await self._next()
            self._active.add(key)
            try:
                await self._run(client, key)
            finally:
                self._active.discard(key)
                self._kick.set()
                self._wake.set()  # a copy of this image may be waiting

    async def _next(self) -> str:
        while True:
            now = time.monotonic()
            ready = self._queue and not self._paused and len(self._active) < self._limit
            if ready and now >= self._slow_until:
                key = next(iter(self._queue))
                del self._queue[key]
                return key
            self._kick.clear()
            timeout = self._slow_until - now if ready else None
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancel that
            # lands as the event is set, and the task would then never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._kick.wait()

    async def _run(self, client: Client, key: str) -> None:
        assert self.journal is not None
        job = self.journal.get(key)
        if job is None or job.state in FINAL:
            return
        try:
            await self._advance(client, job)
        except OutOfCredits as exc:
            self._enqueue(key, front=True)
            self._pause(exc)
        except ClientError as exc:
            if exc.code == RATE_LIMITED or exc.transient:  # retry later, never fail the image
                self._slow_down(key, exc)
            else:
                self._fail_now(key, exc.message, exc.hint)
        except (OSError, ValueError) as exc:
            self._fail_now(key, f"{type(exc).__name__}: {exc}", "")
        except Exception as exc:
            tb = traceback.format_exc(limit=6)
            self._fail_now(
                key,
                f"internal error: {type(exc).__name__}: {exc}",
                "this is a bug in i2v-flow; please report it with this file\n\n" + tb,
            )
        else:
            if self._backoff:
                self._backoff = 0.0
            if self._limit < self.config.jobs:
                self._limit += 1
                self._kick.set()

    async def _advance(self, client: Client, job: Job, again: bool = False) -> None:
        """Take `job` from its journaled step to the end, saving each step before the next."""
        assert self.journal is not None
        j = self.journal
        key, p = job.hash, Path(job.path)
        if job.state == SEEN:
            if not p.exists() or await asyncio.to_thread(file_hash, p) != key:
                # Gone, or replaced by other bytes (those are a new image with their own row).
                j.step(key, GONE)
                self._emit("gone", job, detail="the file went away or changed before upload")
                self._wake.set()
                return
            await client.new_session(language_of(job.prompt))  # a Chinese prompt: zh replies
            await client.upload([p])
            job = j.step(
                key,
                UPLOADED,
                session_id=client.session.session_id,
                task_id=client.session.task_id,
            )
            self._emit("uploaded", job, detail=f"session {job.session_id}")
        else:
            client.session.session_id = job.session_id
            client.session.task_id = job.task_id

        if job.state == UPLOADED:
            draft = await client.draft()
            if client.session.session_id != job.session_id and not again:
                # The backend lost the session (the client opened a new, empty one).
                job = j.step(key, SEEN, session_id="", task_id="")
                self._emit("resumed", job, detail="the backend lost the session; starting over")
                return await self._advance(client, job, again=True)
            if _has_segments(draft):  # the turn ran before a crash: never run it twice
                summary = "the turn had already run"
            else:
                update: StateUpdate | None = None
                said, errors = "", []
                async for ev in client.turn(job.prompt):
                    if isinstance(ev, FinalText):
                        said = ev.text
                    elif isinstance(ev, TurnError):
                        errors.append(ev.message)
                    elif isinstance(ev, StateUpdate):
                        update = ev
                if update is None or not _has_segments(update.draft):
                    why = "; ".join(errors) or (said.strip().splitlines() or [""])[0]
                    raise ClientError(
                        "the assistant made no timeline from the instruction"
                        + (f" ({why})" if why else ""),
                        hint=f"reword the instruction in {p.stem}.txt (or prompt.txt)",
                    )
                summary = "; ".join(update.summary)
            job = j.step(key, TURNED)
            self._emit("turned", job, detail=summary)

        status = None
        if job.state == TURNED:
            rid = self._render_in_flight(job.session_id)
            if rid is None:
                rid = await client.start_render(self.config.quality)
            job = j.step(key, RENDERING, render_id=rid)
            self._emit("rendering", job, detail=rid)

        if job.state == RENDERING:
            last = [-1]

            def progress(s: Any) -> None:
                pct = int(s.progress)
                if pct != last[0]:
                    last[0] = pct
                    self._emit("progress", job, progress=float(pct))

            try:
                status = await client.wait_render(job.render_id, progress)
            except ClientError as exc:
                if exc.code != 404 or again:
                    raise
                # The backend no longer knows the render (its data was reset): ask again.
                job = j.step(key, TURNED, render_id="")
                self._emit("resumed", job, detail=f"{exc.message}; rendering again")
                return await self._advance(client, job, again=True)
            job = j.step(key, DOWNLOADING, out=str(self._reserve_out(job)))

        if job.state == DOWNLOADING:
            out = Path(job.out)
            if not out.exists():  # the client renames into place only when complete
                if status is None:
                    status, _ = await client.render_status(job.render_id)
                await client.download(job.render_id, out, status)
            job = j.step(key, DOWNLOADED)
            self._emit("downloaded", job, out=job.out, detail=f"{out.stat().st_size} bytes")

        if job.state == DOWNLOADED:
            moved = move_with_sidecar(p, self.done_dir) if p.exists() else None
            job = j.step(key, DONE, moved_to=str(moved or ""))
            self._emit(
                "done", job, out=job.out, detail=f"image in done/{moved.name}" if moved else ""
            )

    def _render_in_flight(self, session_id: str) -> str | None:
        """A render the client saved for this session before a crash cut the journal step."""
        assert self._main is not None
        renders = self._main.state.data.get("renders", {})
        for rid, r in renders.items():
            if r.get("owner", self.owner) != self.owner:
                continue
            if r.get("session_id") == session_id and r.get("state") in ("rendering", "rendered"):
                return rid
        return None

    def _reserve_out(self, job: Job) -> Path:
        """OUT/<stem>.mp4, else <stem>-2.mp4…: free on disk and not promised to another image."""
        assert self.journal is not None
        if job.out:
            return Path(job.out)
        stem = Path(job.path).stem
        n = 1
        while True:
            cand = self.out_dir / (f"{stem}.mp4" if n == 1 else f"{stem}-{n}.mp4")
            part = cand.with_name(f".{cand.name}.part")
            if not (cand.exists() or part.exists() or self.journal.out_taken(str(cand))):
                return cand
            n += 1

    def _fail_now(self, key: str, message: str, hint: str) -> None:
        """To failed/ with NAME.error.txt; tried again only when the person moves it back."""
        assert self.journal is not None
        job = self.journal.get(key)
        if job is None:
            return
        p = Path(job.path)
        moved = None
        with contextlib.suppress(OSError):
            moved = move_with_sidecar(p, self.failed_dir) if p.exists() else None
        name = moved.name if moved else p.name
        self.failed_dir.mkdir(parents=True, exist_ok=True)
        err = self.failed_dir / f"{name}.error.txt"
        err = unique_path(err)
        what_to_do = (hint + ".\n" if hint and not hint.endswith("\n") else hint) or ""
        err.write_text(
            f"{name} could not be turned into a clip.\n\n"
            f"What went wrong: {message}\n\n"
            f"What to do: {what_to_do}"
            f"{'' if what_to_do.endswith(chr(10)) or not what_to_do else chr(10)}"
            f"To try again, move {name} back into {self.folder}; it will be picked up.\n",
            encoding="utf-8",
        )
        job = self.journal.step(key, FAILED, error=message, moved_to=str(moved or ""))
        self._emit("failed", job, detail=f"{message} (see failed/{err.name})")

    def _pause(self, exc: ClientError) -> None:
        if self._paused:
            return
        self._paused = True
        if self.config.once:  # a cron run does not wait: the next run takes the rest
            self._emit(
                "paused",
                detail=f"{exc}. Stopping ({len(self._queue)} waiting, nothing failed); "
                "the next run takes what is left.",
            )
            self.stop()
            return
        self._emit(
            "paused",
            detail=f"{exc}. The queue is paused ({len(self._queue)} waiting, nothing failed); "
            f"it resumes by itself when credits are back (checked every "
            f"{self.config.credit_check:g} s).",
        )
        self._credit_task = asyncio.create_task(self._wait_for_credits())

    async def _wait_for_credits(self) -> None:
        """Resume once the balance grows (a top-up, or frozen credits released)."""
        assert self._main is not None
        baseline: int | None = None
        while self._paused:
            try:
                available = (await self._main.credits())["available"]
            except ClientError:
                available = None
            if available is not None:
                if baseline is None:
                    baseline = available
                elif available > baseline:
                    self._paused = False
                    self._emit("resumed", detail=f"{available} credits available")
                    self._kick.set()
                    return
            await asyncio.sleep(self.config.credit_check)

    def _slow_down(self, key: str, exc: ClientError) -> None:
        base = 5.0 if exc.code == RATE_LIMITED else 2.0
        self._backoff = min(60.0, max(base, self._backoff * 2))
        self._slow_until = time.monotonic() + self._backoff
        self._limit = max(1, self._limit - 1)
        self._enqueue(key, front=True)
        self._emit(
            "slowed",
            detail=f"{exc.message}: waiting {self._backoff:g} s, {self._limit} at a time",
        )


__all__ = ["STEPS", "WatchConfig", "WatchError", "WatchEvent", "Watcher"]
