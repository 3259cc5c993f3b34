"""What the preview plays, and making it: the engine's draft tier of the current timeline (our
own engine, where drafts are free), or the last exported file (the cloud, where every render
costs real credits).

The draft is rendered through the session layer's Backend like an export, into the app's
state folder (never the user's exports), polled briskly (the engine answers a 5 s draft in well
under a second; an export's 1 s poll would double the wait) and handed over to nobody else: its
render is marked owner "preview", so a restart never resumes it as an export.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tui.client.transfer import file_stem
from tui.core.draft import TRACK_AUDIO, TRACK_VIDEO, Draft
from tui.core.paths import home, part_path
from tui.core.protocol import draft_ready, file_kind
from tui.core.tiers import DRAFT

if TYPE_CHECKING:
    from tui.session.backend import Backend

OWNER = "preview"
POLL_FIRST, POLL_MOST = 0.05, 0.1  # seconds between status reads: a loopback read is cheap
DEADLINE = 300.0  # a draft render that takes longer than this has gone wrong


@dataclass(frozen=True)
class Source:
    """A file to play, what was made from, and the sound it has ("" when none)."""

    path: Path
    sound: str = ""
    key: str = ""  # the timeline it shows (a draft's JSON), "" for an exported file
    seconds: float | None = None  # its length, when known before the file is whole
    streamed: bool = False  # handed over at its first bytes, and all of it came that way


def cache_dir() -> Path:
    path = home() / "preview"
    path.mkdir(parents=True, exist_ok=True)
    return path


def draft_key(draft: dict) -> str:
    """The same timeline gives the same key: no render when a turn changed nothing."""
    return json.dumps(draft, sort_keys=True, separators=(",", ":"), default=str)


def sound_words(draft: dict | Draft) -> str:
    """'music', 'video sound', both, or '': what a listener would hear (none is played)."""
    music = own = False
    for seg in Draft.from_wire(draft).segments:
        loud = seg.meta.volume is None or seg.meta.volume > 0  # no volume: at 100 %
        if seg.track == TRACK_AUDIO and loud:
            music = True
        elif seg.track == TRACK_VIDEO and loud and not seg.muted:
            own = own or file_kind(seg.meta.name or "") == "video"
    return " + ".join(w for w, on in (("music", music), ("video sound", own)) if on)


async def render_draft(
    backend: Backend, draft: dict, on_start: Callable[[Source], None] | None = None
) -> Source:
    """Render `draft` at the draft tier and download it into the cache; cancelled (a newer
    timeline came), the render is cancelled too, so it neither runs on nor counts as busy.

    The engine sends the draft as it renders (GET .../live): `on_start` gets the Source as soon
    as its first bytes are here, to play it while the rest comes (tui/preview/frames.py reads
    the part file as it grows); the Source returned is the same file, whole."""
    from tui.client import ClientError

    if not draft_ready(draft):
        raise ClientError("nothing to preview yet", hint="upload an image and describe the clip")
    folder = cache_dir()
    rid = await backend.start_render(DRAFT, draft, folder, owner=OWNER)
    # A file per render: a cut download's `.part` never meets another render's bytes, and the
    # file being played is never written over.
    dest = folder / f"draft-{file_stem(rid)}.mp4"
    ms = Draft.from_wire(draft).duration
    source = Source(dest, sound_words(draft), draft_key(draft), ms / 1000 if ms else None)
    try:
        streamed = await backend.follow_live(rid, dest, on_start and (lambda: on_start(source)))
        status = await _wait(backend, rid)
        path = await backend.download(rid, dest, status)  # the rest, if the stream was cut
    except BaseException:
        with contextlib.suppress(Exception):
            await asyncio.shield(backend.cancel_render(rid))
        part_path(dest).unlink(missing_ok=True)  # a decoder reading it ends where it is
        raise
    for old in folder.glob("*draft-*.mp4*"):  # earlier drafts (a player's open file stays)
        if old not in (path, part_path(dest)):
            old.unlink(missing_ok=True)
    return dataclasses.replace(source, streamed=streamed)


async def _wait(backend: Backend, rid: str):
    from tui.client import ClientError

    pause, deadline = POLL_FIRST, time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        status = await backend.render_status(rid)
        if status.done:
            if status.status != "completed":
                raise ClientError(f"preview render {status.status}: {status.error or 'no reason'}")
            return status
        await asyncio.sleep(pause)
        pause = min(POLL_MOST, pause * 1.5)
    raise ClientError("the preview render took too long", hint="try /preview again")


def exported(path: Path | None) -> Source | None:
    """The cloud's preview: the last exported file, when there is one."""
    if path is None or not Path(path).is_file():
        return None
    return Source(Path(path), "")
