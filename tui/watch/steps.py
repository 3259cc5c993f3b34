"""One image's steps, from seen to done: upload, turn, render, download, move. Each step is saved
in the journal before the next one starts, so a job cut anywhere (a crash, a stop, a lost
backend) resumes at the step it had reached and never does one twice.

Knows no queue and no loop: the runner calls `advance` for one journaled image and decides what
an error means for pacing; `fail` is where an image goes when it cannot become a clip.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tui.client import Client, ClientError, StateUpdate, unique_path
from tui.core.draft import Draft
from tui.core.intents import language_of
from tui.core.protocol import FinalText, TurnError
from tui.watch.journal import (
    DONE,
    DOWNLOADED,
    DOWNLOADING,
    FAILED,
    GONE,
    RENDERING,
    SEEN,
    TURNED,
    UPLOADED,
    Job,
    Journal,
)
from tui.watch.scan import file_hash, move_with_sidecar
from tui.watch.shapes import Emit, WatchConfig


def _has_segments(draft: Any) -> bool:
    return Draft.from_wire(draft).ready


class Steps:
    def __init__(
        self,
        config: WatchConfig,
        folder: Path,
        emit: Emit,
        wake: Callable[[], None],
        owner: str,
    ):
        self.config = config  # read at each render start: a reload's quality applies to the next
        self.folder = folder
        self.out_dir = config.out_dir
        self.done_dir = folder / "done"
        self.failed_dir = folder / "failed"
        self.emit = emit
        self.wake = wake  # the folder may hold something new for the runner to look at
        self.owner = owner  # whose renders in the client's state are this watcher's
        self.journal: Journal | None = None  # the runner opens it when the run starts

    async def advance(self, client: Client, job: Job, again: bool = False) -> None:
        """Take `job` from its journaled step to the end, saving each step before the next."""
        assert self.journal is not None
        # The image where this run of its steps found it: a rename meanwhile is the runner's
        # (it sees the new name as a copy of a done image).
        image = Path(job.path)
        if job.state == SEEN:
            uploaded = await self._upload(client, job)
            if uploaded is None:
                return
            job = uploaded
        else:  # the job's own session, as the journal has it
            client.session.session_id = job.session_id
            client.session.task_id = job.task_id

        if job.state == UPLOADED:
            draft = await client.draft()
            if client.session.session_id != job.session_id and not again:
                # The backend lost the session (the client opened a new, empty one).
                job = self.journal.step(job.hash, SEEN, session_id="", task_id="")
                self.emit("resumed", job, detail="the backend lost the session; starting over")
                return await self.advance(client, job, again=True)
            if _has_segments(draft):  # the turn ran before a crash: never run it twice
                summary = "the turn had already run"
            else:
                summary = await self._turn(client, job.prompt, image)
            job = self.journal.step(job.hash, TURNED)
            self.emit("turned", job, detail=summary)

        status = None
        if job.state == TURNED:
            rid = self._render_in_flight(client, job.session_id)
            if rid is None:
                rid = await client.start_render(self.config.quality)
            job = self.journal.step(job.hash, RENDERING, render_id=rid)
            self.emit("rendering", job, detail=rid)

        if job.state == RENDERING:
            try:
                status = await self._wait(client, job)
            except ClientError as exc:
                if exc.code != 404 or again:
                    raise
                # The backend no longer knows the render (its data was reset): ask again.
                job = self.journal.step(job.hash, TURNED, render_id="")
                self.emit("resumed", job, detail=f"{exc.message}; rendering again")
                return await self.advance(client, job, again=True)
            # The render that made it: a retry's own id when the first failed (wait_render).
            rid = status.id or job.render_id
            out = str(self._reserve_out(job))
            job = self.journal.step(job.hash, DOWNLOADING, out=out, render_id=rid)

        if job.state == DOWNLOADING:
            job = await self._download(client, job, status)

        if job.state == DOWNLOADED:
            self._finish(job, image)

    async def _upload(self, client: Client, job: Job) -> Job | None:
        """SEEN to UPLOADED in a new session of its own; None if the image is gone."""
        assert self.journal is not None
        key, p = job.hash, Path(job.path)
        if not p.exists() or await asyncio.to_thread(file_hash, p) != key:
            # Gone, or replaced by other bytes (those are a new image with their own row).
            self.journal.step(key, GONE)
            self.emit("gone", job, detail="the file went away or changed before upload")
            self.wake()
            return None
        await client.new_session(language_of(job.prompt))  # a Chinese prompt: zh replies
        await client.upload([p])
        job = self.journal.step(
            key,
            UPLOADED,
            session_id=client.session.session_id,
            task_id=client.session.task_id,
        )
        self.emit("uploaded", job, detail=f"session {job.session_id}")
        return job

    async def _turn(self, client: Client, prompt: str, image: Path) -> str:
        """The instruction's one turn; its summary, or a ClientError if it made no timeline."""
        update: StateUpdate | None = None
        said, errors = "", []
        async for ev in client.turn(prompt):
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
                hint=f"reword the instruction in {image.stem}.txt (or prompt.txt)",
            )
        return "; ".join(update.summary)

    async def _wait(self, client: Client, job: Job) -> Any:
        """The render's end (its final status), its progress emitted once per whole percent."""
        last = [-1]

        def progress(s: Any) -> None:
            pct = int(s.progress)
            if pct != last[0]:
                last[0] = pct
                self.emit("progress", job, progress=float(pct))

        return await client.wait_render(job.render_id, progress)

    async def _download(self, client: Client, job: Job, status: Any) -> Job:
        """DOWNLOADING to DOWNLOADED: the clip at its reserved path (kept if already there)."""
        assert self.journal is not None
        out = Path(job.out)
        if not out.exists():  # the client renames into place only when complete
            if status is None:
                status, _ = await client.render_status(job.render_id)
            await client.download(job.render_id, out, status)
        job = self.journal.step(job.hash, DOWNLOADED)
        self.emit("downloaded", job, out=job.out, detail=f"{out.stat().st_size} bytes")
        return job

    def _finish(self, job: Job, image: Path) -> None:
        """DOWNLOADED to DONE: the image moves to done/ (with its instruction file)."""
        assert self.journal is not None
        moved = move_with_sidecar(image, self.done_dir) if image.exists() else None
        job = self.journal.step(job.hash, DONE, moved_to=str(moved or ""))
        self.emit("done", job, out=job.out, detail=f"image in done/{moved.name}" if moved else "")

    def _render_in_flight(self, client: Client, session_id: str) -> str | None:
        """A render the client saved for this session before a crash cut the journal step."""
        # Every job's client shares the one ClientState (Watcher's make_client contract).
        renders = client.state.data.get("renders", {})
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

    def fail(self, key: str, message: str, hint: str) -> None:
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
        self.emit("failed", job, detail=f"{message} (see failed/{err.name})")
