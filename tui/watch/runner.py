"""The watcher: a folder in, clips out, through the one client, on either backend.

`watchfiles.awatch` is only a trigger. The truth is the folder itself, reconciled against the
journal at start, after each batch of events and on a timer (mounts that deliver no events).
Jobs run N at a time, each on its own Client (its own session) sharing one ClientState.
No textual import here: the TUI feeds its queue pane from `on_event`.

This module is the loop: events, rescans, settling, and the job slots. One image's steps are
`steps.Steps`; which image goes next and when is `pacing.Pacing`; both report through `_emit`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tui.client import Client, ClientError, OutOfCredits
from tui.core.protocol import RATE_LIMITED
from tui.core.sqlite_schema import SchemaTooNew
from tui.watch.journal import DONE, FAILED, FINAL, GONE, Job, Journal
from tui.watch.lock import release_lock, take_lock
from tui.watch.pacing import Pacing
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
from tui.watch.shapes import STEPS, WatchConfig, WatchError, WatchEvent
from tui.watch.steps import Steps


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
        self.folder = Path(config.folder).resolve()
        self.make_client = make_client
        self.on_event = on_event
        self.settler = Settler(config.settle)
        self.pacing = Pacing(config, self._emit, self.stop)
        self.steps = Steps(config, self.folder, self._emit, self.rescan, self.owner)
        self.config = config
        self.out_dir, self.done_dir = self.steps.out_dir, self.steps.done_dir
        self.failed_dir = self.steps.failed_dir
        self._skip = {self.folder / n for n in BOOKKEEPING} | {self.out_dir}
        self._known: dict[str, tuple[tuple[int, int], str]] = {}  # path → (sig, hash)
        self._suspect: dict[str, tuple[int, int]] = {}  # did not open as an image once
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._main: Client | None = None
        self._clients: list[Client] = []
        self._lock_fd: int | None = None
        self._only: set[str] | None = None  # --once: the files present at the first look
        self.tally: Counter[str] = Counter()  # this run's outcomes: done, failed, duplicate…
        self.left = 0  # images not finished when the run ended (journaled, resumed next time)

    # ---- public ----------------------------------------------------------------------------

    @property
    def config(self) -> WatchConfig:
        return self._config

    @config.setter
    def config(self, config: WatchConfig) -> None:
        # One config for all the parts: a reload's quality, jobs and credit_check reach them.
        self._config = self.pacing.config = self.steps.config = config

    @property
    def journal(self) -> Journal | None:
        return self.steps.journal

    @journal.setter
    def journal(self, journal: Journal | None) -> None:
        self.steps.journal = journal

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
            f"settle {self.config.settle:g} s; {self.queued} waiting and "
            f"{self.active} under way carry on",
        )
        self._wake.set()

    @property
    def queued(self) -> int:
        return len(self.pacing.queue)

    @property
    def active(self) -> int:
        return len(self.pacing.active)

    @property
    def paused(self) -> bool:
        return self.pacing.paused

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    async def run(self) -> None:
        cfg = self.config
        if not self.folder.is_dir():
            raise WatchError(f"{self.folder}: no such folder")
        self._lock_fd = take_lock(self.folder)
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
            for t in tasks:
                t.cancel()
            await self.pacing.close()
            await asyncio.gather(*tasks, return_exceptions=True)
            for c in self._clients:
                with contextlib.suppress(Exception):
                    await c.aclose()
            counts = self.journal.counts() if self.journal else {}
            if self.journal is not None:
                self.left = len(self.journal.unfinished())
                self.journal.close()
            if self._lock_fd is not None:
                release_lock(self._lock_fd)
                self._lock_fd = None
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
        """The `emit` every part reports through: counts this run's outcomes, then tells
        `on_event` (whose errors never stop the watcher)."""
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

    def _enqueue(self, key: str, front: bool = False) -> None:
        self.pacing.enqueue(key, front)

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
            if self.config.once and deadline is None and not self.queued and not self.active:
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
        self.steps.fail(
            key,
            f"{p.name} does not open as an image ({why})",
            "check that the file is a complete JPEG, PNG, GIF or WebP (re-save or re-download it)",
        )

    # ---- jobs ------------------------------------------------------------------------------

    async def _worker(self, client: Client) -> None:
        while True:
            key = await self.pacing.next()
            try:
                await self._run(client, key)
            finally:
                self.pacing.done(key)
                self._wake.set()  # a copy of this image may be waiting

    async def _run(self, client: Client, key: str) -> None:
        """One image's steps; what an error means for the image and for the pace."""
        assert self.journal is not None
        job = self.journal.get(key)
        if job is None or job.state in FINAL:
            return
        try:
            await self.steps.advance(client, job)
        except OutOfCredits as exc:
            self.pacing.pause(key, exc, self._balance)
        except ClientError as exc:
            if exc.code == RATE_LIMITED or exc.transient:  # retry later, never fail the image
                self.pacing.slow_down(key, exc)
            else:
                self.steps.fail(key, exc.message, exc.hint)
        except (OSError, ValueError) as exc:
            self.steps.fail(key, f"{type(exc).__name__}: {exc}", "")
        except Exception as exc:
            tb = traceback.format_exc(limit=6)
            self.steps.fail(
                key,
                f"internal error: {type(exc).__name__}: {exc}",
                "this is a bug in i2v-flow; please report it with this file\n\n" + tb,
            )
        else:
            self.pacing.succeeded()

    async def _balance(self) -> dict:
        """The account's credits, asked on the first client (the one the run connected)."""
        assert self._main is not None
        return await self._main.credits()

    # The pace as tests/test_watch.py drives it (the rules: tests/test_watch_pacing.py).
    def _slow_down(self, key: str, exc: ClientError) -> None:
        self.pacing.slow_down(key, exc)

    @property
    def _queue(self) -> dict[str, None]:
        return self.pacing.queue

    @property
    def _limit(self) -> int:
        return self.pacing.limit

    @property
    def _slow_until(self) -> float:
        return self.pacing.slow_until

    @property
    def _backoff(self) -> float:
        return self.pacing.backoff


__all__ = ["STEPS", "WatchConfig", "WatchError", "WatchEvent", "Watcher"]
