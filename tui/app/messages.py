"""App-level messages: results coming back from the client workers to the panes.

Data flows one way: panes post their own (nested) messages, the app routes them to the client in
workers, and the workers post these back; the app's handlers update the panes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from tui.app.history import Entry


@dataclass
class StatusLine(Message):
    """A one-line status in the transcript ("Connecting…", "Ready", an error and what to do)."""

    text: str
    error: bool = False
    hint: str = ""
    keep: bool = True  # part of the session's history (False: about the app or the watcher)


@dataclass
class TranscriptChunk(Message):
    """Assistant text: a streamed chunk, or (final) the whole answer that replaces the chunks."""

    text: str
    final: bool = False


@dataclass
class ToolLine(Message):
    """A tool call by the agent: shown as one compact dim line."""

    name: str
    args: dict = field(default_factory=dict)


@dataclass
class TrackReady(Message):
    """The timeline after a turn, upload, undo or new session."""

    draft: dict
    summary: list[str]


@dataclass
class CreditsReady(Message):
    available: int
    frozen: int
    total: int


@dataclass
class Connected(Message):
    """The backend answered: token and session are ready."""

    backend: str
    resumed: bool = False


@dataclass
class JobUpdate(Message):
    """An upload or render: progress 0-100 (None: unknown), state, its output path once known."""

    job_id: str
    label: str
    progress: float | None = None
    state: str = "running"  # queued | running | done | failed
    path: Path | None = None


@dataclass
class ExportSaved(Message):
    path: Path


@dataclass
class HistoryLoaded(Message):
    """The resumed session's earlier conversation, to show again above what comes next."""

    entries: list[Entry]


@dataclass
class Working(Message):
    """An agent turn waits on the backend since `since` (time.monotonic()); None: it ended."""

    since: float | None


@dataclass
class Said(Message):
    """A queued message's turn starts now: its words go above its reply, not above another's."""

    text: str


@dataclass
class StillWorking(Message):
    """Heartbeats and no words from the assistant for `minutes`: one line, updated in place."""

    minutes: float
