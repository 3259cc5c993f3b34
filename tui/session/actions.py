"""What changes a session, typed: the app's action queue holds these, one at a time, in order.

`action_for` makes one of the router's words (tui/core/intents.py: "upload", "agent", "undo",
"new", "export", "save", "batch"…) and its argument; each face runs them on its `Backend`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Upload:
    paths: tuple[Path, ...]


@dataclass(frozen=True)
class FetchUrls:
    """`/upload https://…`: the backend fetches the media itself (the cloud does)."""

    urls: tuple[str, ...]


@dataclass(frozen=True)
class Say:
    """An agent turn: the person's words, or "undo" / "redo" (the agent's own words for them)."""

    text: str


@dataclass(frozen=True)
class NewSession:
    pass


@dataclass(frozen=True)
class Export:
    quality: str = ""  # "" the face's own default tier


@dataclass(frozen=True)
class Save:
    """`/save`: what the backend's own tools made in this session, fetched as it is."""


@dataclass(frozen=True)
class Batch:
    """The same words for each file, each in a session of its own, each its own clip."""

    paths: tuple[Path, ...]
    text: str = ""


Action = Upload | FetchUrls | Say | NewSession | Export | Save | Batch


@dataclass(frozen=True)
class Queued:
    """An action waiting its turn, with the person's words shown when it starts (if any)."""

    action: Action
    said: str = ""


def action_for(
    name: str,
    arg: str = "",
    paths: Sequence[Path] = (),
    resolve: Callable[[str], Path] = Path,
) -> Action:
    """The router's `name` and `arg` (and the marked `paths`) as one action; `resolve` makes a
    typed path a file (the app's: relative to the folder it browses)."""
    if name == "upload" and not paths and arg.startswith(("http://", "https://")):
        return FetchUrls(tuple(arg.split()))
    if name == "upload":
        return Upload(tuple(paths) or (resolve(arg),))
    if name == "new":
        return NewSession()
    if name == "export":
        return Export(arg)
    if name == "save":
        return Save()
    if name == "batch":
        return Batch(tuple(paths), arg)
    if name in ("undo", "redo"):
        return Say(name)
    return Say(arg)  # agent
