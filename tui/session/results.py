"""What the session layer answers, typed: a connection made, a session, the balance, a file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Connected:
    """A token and a session on the backend: shown as `label`, its state kept under `key`."""

    label: str  # "local engine", or the cloud's host
    key: str  # "local", or the backend's URL: whose saved token, session and history
    resumed: bool  # the saved session was taken up again (not a new, empty one)


@dataclass(frozen=True)
class SessionRef:
    """Which session the calls go to (a batch works in one per file, then comes back)."""

    session_id: str
    task_id: str


@dataclass(frozen=True)
class Credits:
    available: int
    frozen: int
    total: int

    def line(self) -> str:
        return f"Credits: {self.available} available, {self.frozen} frozen, {self.total} total"


@dataclass(frozen=True)
class Uploaded:
    """One file the backend took: its name (cleaned of terminal controls) and picture size."""

    name: str
    width: int | None = None
    height: int | None = None

    @classmethod
    def of(cls, data: dict[str, Any]) -> Uploaded:
        return cls(str(data.get("filename") or "?"), data.get("width"), data.get("height"))

    def describe(self) -> str:
        """`beach.jpg (400×300)`, or the name alone when the size is not known."""
        dims = f" ({self.width}×{self.height})" if self.width and self.height else ""
        return f"{self.name}{dims}"
