"""What a message asks for: a `Request` (and a `TextEdit` per title or caption), filled in by the
readers and carried out by the appliers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class TextEdit:
    role: str  # title | caption | any (removal only)
    remove: bool = False
    text: str | None = None
    start: int | None = None
    dur: int | None = None
    tail: int | None = None  # the last `tail` ms of the clip
    position: str | None = None
    append: bool = False
    longer: int | None = None  # ms added to how long it shows (negative: shorter)
    shift: int | None = None  # ms it moves later (negative: earlier), its length kept
    size: str | None = None  # a name in apply_text.SIZES, or "bigger" / "smaller": one step
    color: str | None = None  # "#RRGGBB" (text_colours)
    # Said of "the text" or "it", not of a title or caption by name: the only text on screen.
    loose: bool = False


@dataclass
class Request:
    make: bool = False  # "make a video": enough for the first turn
    duration: int | None = None
    relative: tuple[str, float] | None = None  # ("add", ms) or ("scale", factor)
    per_image: int | None = None
    all_images: bool = False
    add_new: bool = False  # "add the new image": images not on the track go at its end
    moves: list[tuple[str, int, int]] = field(default_factory=list)  # (op, index, target)
    aspect: str | None = None
    short_side: int | None = None
    size: tuple[int, int] | None = None
    fps: int | None = None
    motion: dict[str, Any] = field(default_factory=dict)
    focus: tuple[float, float] | None = None
    fit: str | None = None
    transition: int | None = None  # crossfade ms, 0 = none
    fades: dict[str, int] = field(default_factory=dict)  # fade_in/fade_out ms, 0 = remove
    texts: list[TextEdit] = field(default_factory=list)
    music: dict[str, Any] = field(default_factory=dict)
    # A video's own sound: mute (True, or False to turn it back on), volume, delta; "loose"
    # when said of the video or of all sound rather than of its sound by name (read_video_sound).
    video_sound: dict[str, Any] = field(default_factory=dict)
    # Filled by the appliers: what was asked but cannot be done, as (English, Chinese), said in
    # the reply ("there is no video with its own sound").
    notes: list[tuple[str, str]] = field(default_factory=list)
    # The pieces of the message no reader took anything from (read_unread), as written.
    unread: list[str] = field(default_factory=list)

    def useful(self) -> bool:
        """Whether anything besides "make a video" was understood."""
        blank = Request(make=self.make, notes=self.notes, unread=self.unread)
        return self != blank
