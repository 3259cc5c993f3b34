"""The watcher's shapes: its settings, the events it reports, and the `emit` its parts share."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from tui.core.tiers import DEFAULT_TIER

if TYPE_CHECKING:
    from tui.watch.journal import Job

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
    quality: str = DEFAULT_TIER
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


class Emit(Protocol):
    """How a part reports: a step, of `job` (its file and key filled in) or of the watcher.
    `kw` are WatchEvent fields. The runner's emit counts outcomes and calls `on_event`."""

    def __call__(self, step: str, job: Job | None = None, **kw: Any) -> None: ...
