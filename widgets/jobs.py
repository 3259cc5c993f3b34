"""The Jobs pane: the balance, and each upload and render with its progress and output path."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ProgressBar, Static

from widgets.credits import Credits

FINISHED = ("done", "failed")


class JobRow(Vertical):
    DEFAULT_CSS = """
    JobRow { height: auto; }
    JobRow > .label { height: auto; }
    JobRow > ProgressBar { height: 1; }
    JobRow.-done > ProgressBar, JobRow.-failed > ProgressBar { display: none; }
    JobRow.-failed > .label { color: $text-error; text-style: bold; }
    JobRow:nocolor.-failed > .label { color: $foreground; text-style: bold reverse; }
    JobRow.-done > .label { color: $text-success; }
    """

    def __init__(self, job_id: str, label: str) -> None:
        super().__init__(id=f"job-{job_id}" if job_id.replace("_", "").isalnum() else None)
        self.job_id = job_id
        self.label = label
        self.state = "queued"
        self.path: Path | None = None
        # Updates that arrive before the row's children exist wait here (the latest wins).
        self._pending: tuple | None = None
        self._ready = False

    def compose(self) -> ComposeResult:
        yield Static(f"… {self.label}", classes="label", markup=False)
        yield ProgressBar(total=100, show_eta=False)

    def on_mount(self) -> None:
        self._ready = True
        if self._pending is not None:
            self._show(*self._pending)

    def update_job(
        self, label: str, progress: float | None, state: str, path: Path | None, shown: str
    ) -> None:
        self.label, self.state, self.path = label, state, path
        if not self._ready:
            last = self._pending[1] if self._pending else None
            self._pending = (label, progress if progress is not None else last, state, path, shown)
            return
        self._show(label, progress, state, path, shown)

    def _show(
        self, label: str, progress: float | None, state: str, path: Path | None, shown: str
    ) -> None:
        bars, labels = self.query(ProgressBar), self.query(".label")
        if not bars or not labels:
            # Children not there (yet, or any more: a removed row loses them first, and under
            # load a late update can land in between): keep the update for on_mount.
            self._pending = (label, progress, state, path, shown)
            return
        bar = bars.first(ProgressBar)
        if progress is not None:
            bar.update(progress=progress)
        icon = {"done": "✓", "failed": "✗", "queued": "…"}.get(state, "⟳")
        text = f"{icon} {label}"
        if state == "done" and shown:
            # A render is named after its file: the saved path alone says both, in one line.
            text = f"{icon} {shown}" if Path(shown).name == label else f"{text}\n  → {shown}"
        labels.first(Static).update(text)
        self.set_class(state == "done", "-done")
        self.set_class(state == "failed", "-failed")


class Jobs(Vertical):
    """The balance over the jobs: running ones first, then the last few finished, newest first.

    Finished rows beyond `KEEP` are dropped and counted in "+N earlier" on the bottom border, so
    that the pane stays short at 80x24 under the Tracks pane."""

    KEEP = 3  # finished jobs shown
    DEFAULT_CSS = """
    Jobs { border: round $primary-darken-1; height: auto; padding: 0 1; }
    Jobs:focus-within { border: heavy $primary; }
    Jobs > #jobs-list { height: auto; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.earlier = 0  # finished jobs no longer listed
        self._dropped: set[str] = set()
        self._order: dict[str, int] = {}  # job → when it started, or when it finished
        self._tick = 0

    def compose(self) -> ComposeResult:
        yield Credits(id="credits")
        yield Vertical(id="jobs-list")

    def on_mount(self) -> None:
        self.border_title = "Credits & jobs"

    def row(self, job_id: str) -> JobRow | None:
        for r in self.query(JobRow):
            if r.job_id == job_id:
                return r
        return None

    def rows(self) -> list[JobRow]:
        """The rows in the order shown."""
        return list(self.query_one("#jobs-list").query_children(JobRow))

    def update_job(
        self,
        job_id: str,
        label: str,
        progress: float | None,
        state: str,
        path: Path | None = None,
        shown: str = "",
    ) -> JobRow | None:
        if job_id in self._dropped:  # a late word about a job no longer listed
            return None
        r = self.row(job_id)
        was_finished = r is not None and r.state in FINISHED
        if r is None:
            r = JobRow(job_id, label)
            box = self.query_one("#jobs-list")
            if box.children:
                box.mount(r, before=0)
            else:
                box.mount(r)
            if state == "running":
                # At 80x24 the side column scrolls: bring a new job's progress into sight.
                self.call_after_refresh(r.scroll_visible, animate=False)
        if job_id not in self._order or (state in FINISHED and not was_finished):
            self._tick += 1
            self._order[job_id] = self._tick
        r.update_job(label, progress, state, path, shown)
        self._arrange()
        return r

    def clear_finished(self) -> None:
        """Forget every finished job (a new session starts with only what still runs)."""
        for r in self.rows():
            if r.state in FINISHED:
                self._forget(r)
        self.earlier = 0
        self.border_subtitle = ""

    def _forget(self, r: JobRow) -> None:
        self._dropped.add(r.job_id)
        self._order.pop(r.job_id, None)
        r.remove()

    def _arrange(self) -> None:
        rows = [r for r in self.rows() if r.job_id not in self._dropped]
        running = [r for r in rows if r.state not in FINISHED]
        finished = [r for r in rows if r.state in FINISHED]
        running.sort(key=self._age)
        finished.sort(key=self._age)
        for r in finished[self.KEEP :]:
            self.earlier += 1
            self._forget(r)
        wanted = running + finished[: self.KEEP]
        if [r for r in self.rows() if r.job_id not in self._dropped] != wanted:
            box = self.query_one("#jobs-list")
            for r in reversed(wanted):
                box.move_child(r, before=0)
        self.border_subtitle = f"+{self.earlier} earlier" if self.earlier else ""

    def _age(self, r: JobRow) -> int:
        return -self._order.get(r.job_id, 0)
