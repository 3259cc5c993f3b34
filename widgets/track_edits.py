"""What a key in the Tracks pane says: the plain sentence a person could have typed.

A key never edits the timeline itself: it becomes words ("make the title 1 second longer") sent
as an ordinary agent turn, so it works the same on the cloud and shows in the transcript. Each
sentence here is one the local agent understands (tests/test_agent_track_keys.py checks it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from tui.core.draft import Draft
from tui.core.draft import Segment as DraftSegment

# The ordinals the agent reads (tui/engine/agent/words.py, not imported: the app never loads the
# engine's code; tests/test_agent_track_keys.py checks they are the same).
ORDINALS = ("first", "second", "third", "fourth", "fifth")
ORDINALS += ("sixth", "seventh", "eighth", "ninth", "tenth")
VIDEO_FILES = {".mp4", ".mov", ".m4v", ".webm", ".mkv", ".avi"}
UNMUTED = 50  # % the music comes back at when nothing louder was heard before the mute


@dataclass(frozen=True)
class Segment:
    """One line of the Tracks pane, as the keys need it."""

    kind: str  # video | music | title | caption | other
    start: int  # ms
    dur: int  # ms
    nth: int  # 1-based among the segments of its track
    count: int  # segments on its track
    name: str = ""  # a video segment's file, the music's name
    text: str = ""  # a title's or caption's words
    volume: int | None = None  # the music's, in %
    muted: bool = False  # a video file's own sound


def segments_of(draft: dict | Draft) -> list[Segment]:
    """The draft's segments in the order of its summary (tui.core.draft_words.summarize_draft)."""
    return [segment(seg) for seg in Draft.from_wire(draft).segments]


def segment(seg: DraftSegment) -> Segment:
    """One of the draft's segments as the keys need it."""
    return Segment(
        seg.kind,
        int(seg.start or 0),
        int(seg.dur or 0),
        seg.nth,
        seg.count,
        name=seg.meta.name or seg.src or "",
        text=seg.meta.text or "",
        volume=seg.percent,
        muted=seg.muted,
    )


def _secs(ms: int) -> str:
    s = ms / 1000
    return f"{s:g} second" + ("" if s == 1 else "s")


def _what(seg: Segment) -> str:
    if seg.kind == "video":
        return f"the {_ordinal(seg.nth)} image" if seg.count > 1 else "the image"
    return f"the {seg.kind}"


def _ordinal(n: int) -> str:
    return ORDINALS[n - 1] if 0 < n <= len(ORDINALS) else f"{n}th"


def quoted(text: str) -> str:
    """Words in the quotes the agent reads, ones the text does not hold."""
    for a, b in (("'", "'"), ('"', '"'), ("“", "”"), ("「", "」")):
        if a not in text and b not in text:
            return f"{a}{text}{b}"
    return "'" + text.replace("'", "’") + "'"


@dataclass(frozen=True)
class Said:
    """A key's sentence, or why that key does nothing on this segment."""

    text: str = ""
    why_not: str = ""
    volume: int | None = None  # the music's volume (%) the sentence asks for


def longer(seg: Segment, ms: int) -> Said:
    """Lengthen (ms > 0) or shorten a segment: a text's own time, an image's the clip's."""
    word = "longer" if ms > 0 else "shorter"
    if seg.kind in ("title", "caption"):
        return Said(f"make the {seg.kind} {_secs(abs(ms))} {word}")
    if seg.kind == "video":  # the images share the clip's length
        return Said(f"make the clip {_secs(abs(ms))} {word}")
    return Said(why_not="The music runs as long as the clip: select an image to change it")


def move(seg: Segment, ms: int) -> Said:
    """Move a text later (ms > 0) or earlier; an image one place along the track."""
    word = "later" if ms > 0 else "earlier"
    if seg.kind in ("title", "caption"):
        return Said(f"move the {seg.kind} {_secs(abs(ms))} {word}")
    if seg.kind == "video":
        other = seg.nth + (1 if ms > 0 else -1)
        if not 0 < other <= seg.count:
            return Said(why_not=f"It is already the {'last' if ms > 0 else 'first'} image")
        return Said(f"swap the {_ordinal(seg.nth)} image and the {_ordinal(other)}")
    return Said(why_not="The music starts with the clip")


def delete(seg: Segment) -> Said:
    if seg.kind in ("title", "caption"):
        return Said(f"delete the {seg.kind}")
    if seg.kind == "music":
        return Said("remove the music")
    if seg.kind == "video" and seg.count > 1:
        return Said(f"remove the {_ordinal(seg.nth)} image")
    return Said(why_not="A clip needs an image: upload another to replace it")


def retitle(seg: Segment, text: str) -> Said:
    if seg.kind not in ("title", "caption") or not text.strip():
        return Said(why_not="Only a title's or a caption's text can be edited")
    return Said(f"change the {seg.kind} text to {quoted(text.strip())}")


def volume(seg: Segment, step: int, before_mute: int | None = None) -> Said:
    """The music louder or quieter by `step` %; step 0 mutes it, or turns it back on."""
    if seg.kind == "video" and PurePath(seg.name).suffix.lower() in VIDEO_FILES and step == 0:
        return Said("unmute the video's sound" if seg.muted else "mute the video's sound")
    if seg.kind != "music":
        return Said(why_not="Select the music (BGM) to change its volume")
    now = seg.volume if seg.volume is not None else 100
    if step == 0:
        to = (before_mute or UNMUTED) if now == 0 else 0
    else:
        to = max(0, min(100, now + step))
        if to == now:
            return Said(why_not=f"The music is already at {now}%")
    return Said(f"set the music volume to {to}%", volume=to)
