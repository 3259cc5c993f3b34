"""Exports: a render started from the queue, then followed (waited on and downloaded) in its own
worker, so chat goes on while a clip renders; and the app's renders an earlier run left, resumed.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import work

from tui.app.messages import ExportSaved, JobUpdate, StatusLine
from tui.app.spending import Spending, credits_word
from tui.core.tiers import TIERS, tier_list

if TYPE_CHECKING:
    from textual.worker import Worker

    from tui.core.session_state import Media


class Exports(Spending):
    def _claim(self, stem: str) -> Path:
        """`exports/photo.mp4`, else `photo-2.mp4`…: never an existing file or one being made."""
        from tui.client import unique_path

        base = self.out_dir / f"{stem}.mp4"
        cand = unique_path(base)
        n = 2
        while cand in self._claimed:
            cand = unique_path(base.with_name(f"{stem}-{n}.mp4"))
            n += 1
        self._claimed.add(cand)
        return cand

    def _show_made(self, media: list[Media], said: str = "The cloud made") -> None:
        """What the cloud's own tools made (the state's generated_media: a generated clip),
        each with its address: the person can fetch it as it is, or /export the timeline."""
        for m in media:
            where = f": {m.url}" if m.url else ""
            self.post_message(StatusLine(f"{said} {m.describe()}{where}"))

    async def _save_made(self) -> None:
        """/save: what the cloud's own tools made in this session (a generated clip), fetched
        into the exports folder under its own name; its host, often another, never gets our
        token (tui/client/transfer.py)."""
        from tui.client import ClientError

        assert self.client is not None
        made = (await self.backend.session_state()).generated_media
        if not made:
            self.post_message(
                StatusLine(
                    "The backend's own tools made nothing in this session yet",
                    hint="/export renders the timeline",
                )
            )
            return
        for m in made:
            try:
                path = await self.backend.save_media(m, self.out_dir)
            except ClientError as exc:
                self._report(exc)
                continue
            self.post_message(StatusLine(f"Saved {self.shown_path(path)} ({m.describe()})"))

    @staticmethod
    def _source_stem(draft: dict) -> str | None:
        """The first named image's or video's name, for the export's file name."""
        from tui.core.draft import TRACK_VIDEO, Draft

        names = (s.meta.name for s in Draft.from_wire(draft).segments if s.track == TRACK_VIDEO)
        return next((Path(n).stem for n in names if n), None)

    async def _start_export(
        self, quality: str, stem: str | None = None, ask: bool = True, draft: dict | None = None
    ) -> Worker[Path | None] | None:
        """Start a render of the timeline (or of `draft`, a batch's file's), its cost said first
        (and asked about when large, unless `ask` is False: a batch asks once for all); None
        when it was not started."""
        from tui.client import ClientError

        if quality not in TIERS:
            raise ClientError(f"unknown quality {quality!r}", hint=f"use /export {tier_list()}")
        if draft is None:
            draft = await self.backend.draft()
        name = stem or self._source_stem(draft) or self.last_source
        cost = await self.cost_of(draft, quality)
        if ask and not await self.may_spend(cost, f"{name}.mp4"):
            return None
        dest = self._claim(name)
        try:
            rid = await self.backend.start_render(quality, draft, dest)
        except Exception:
            self._claimed.discard(dest)
            raise
        price = ""
        if cost is not None:
            price = f", {credits_word(cost)}" if cost else ", free"
        self.post_message(StatusLine(f"Rendering {dest.name} ({quality}{price})…"))
        worker = self._follow_render(rid, dest)
        await self._refresh(credits=True, quiet=True)
        return worker

    @work(group="renders", exit_on_error=False)
    async def _follow_render(self, rid: str, dest: Path) -> Path | None:
        """Wait for one render and download it: its path, None when it failed. /reconnect
        cancels this worker (the group "renders") and the new connection resumes the render on
        the new client."""
        from tui.client import ClientError

        label = dest.name
        self._following.add(rid)
        self.post_message(JobUpdate(rid, f"Render {label}", 0, "running"))
        try:
            path = await self.backend.follow(
                rid,
                dest,
                lambda s: self.post_message(JobUpdate(rid, f"Render {label}", s.progress)),
                lambda: self.post_message(JobUpdate(rid, f"Download {label}", 100)),
            )
        except ClientError as exc:
            self.post_message(JobUpdate(rid, f"Render {label}", None, "failed"))
            self._report(exc)
            return None
        finally:
            self._claimed.discard(dest)
            self._following.discard(rid)
            with contextlib.suppress(Exception):
                await self._refresh(credits=True, quiet=True)
        self.post_message(JobUpdate(rid, label, 100, "done", path))
        self.post_message(ExportSaved(path))
        return path

    @work(group="renders", exit_on_error=False)
    async def _resume_renders(self) -> None:
        """The app's renders saved by an earlier run (or cut by /reconnect): seen through.

        `Backend.resume` takes only renders owned by "app": never a watcher's.
        """
        if self.client is None:
            return
        labels: dict[str, str] = {}
        taken: dict[str, Path] = {}

        def started(rid: str, dest: Path) -> None:
            labels[rid], taken[rid] = dest.name, dest
            self._claimed.add(dest)
            self._following.add(rid)
            self.post_message(StatusLine(f"Resuming render {dest.name}"))
            self.post_message(JobUpdate(rid, f"Render {dest.name}", 0, "running"))

        def progress(s: Any) -> None:
            self.post_message(JobUpdate(s.id, f"Render {labels.get(s.id, s.id)}", s.progress))

        try:
            results = await self.backend.resume(
                progress, on_start=started, skip=set(self._following)
            )
        finally:
            for rid, dest in taken.items():
                self._claimed.discard(dest)
                self._following.discard(rid)
        for r in results:
            if r.render_id not in labels:
                continue  # nowhere to put it: not one of ours to show
            label = labels[r.render_id]
            if r.path is not None:
                self.post_message(JobUpdate(r.render_id, label, 100, "done", r.path))
                self.post_message(ExportSaved(r.path))
            else:
                self.post_message(JobUpdate(r.render_id, f"Render {label}", None, "failed"))
                self.post_message(StatusLine(f"Could not resume {label}: {r.error}", error=True))
        if taken:
            await self._refresh(credits=True, quiet=True)
