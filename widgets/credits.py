"""Credits and jobs: the balance, and each upload and render with its progress and output path."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ProgressBar, Static


class Credits(Static):
    DEFAULT_CSS = """
    Credits { height: auto; }
    """

    def on_mount(self) -> None:
        self.available: int | None = None
        self.update("credits: …")

    def show(self, available: int, frozen: int, total: int) -> None:
        self.available = available
        self.update(f"{available} available · {frozen} frozen · {total} total")


class JobRow(Vertical):
    DEFAULT_CSS = """
    JobRow { height: auto; }
    JobRow > .label { height: auto; }
    JobRow > ProgressBar { height: 1; }
    JobRow.-done > ProgressBar, JobRow.-failed > ProgressBar { display: none; }
    JobRow.-failed > .label { color: $text-error; }
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
        bar = self.query_one(ProgressBar)
        if progress is not None:
            bar.update(progress=progress)
        icon = {"done": "✓", "failed": "✗", "queued": "…"}.get(state, "⟳")
        text = f"{icon} {label}"
        if state == "done" and shown:
            text += f"\n  → {shown}"
        self.query_one(".label", Static).update(text)
        self.set_class(state == "done", "-done")
        self.set_class(state == "failed", "-failed")


class Jobs(Vertical):
    """The balance over a list of jobs (newest last)."""

    DEFAULT_CSS = """
    Jobs { border: round $primary-darken-1; height: auto; max-height: 16; padding: 0 1; }
    Jobs:focus-within { border: round $primary; }
    Jobs > #jobs-list { height: auto; }
    """

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

    def update_job(
        self,
        job_id: str,
        label: str,
        progress: float | None,
        state: str,
        path: Path | None = None,
        shown: str = "",
    ) -> JobRow:
        r = self.row(job_id)
        if r is None:
            r = JobRow(job_id, label)
            self.query_one("#jobs-list").mount(r)
            if state == "running":
                # At 80x24 the side column scrolls: bring a new job's progress into sight.
                self.call_after_refresh(r.scroll_visible, animate=False)
        r.update_job(label, progress, state, path, shown)
        return r
