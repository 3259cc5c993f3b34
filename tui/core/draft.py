"""The draft (the timeline) as typed values: one lenient reading for the client, the panes, the
watcher, the CLI and the engine (../shared/protocol.md, "The draft").

`Draft.from_wire` never raises. A cloud draft may lack fields or carry them with other types (a
size not sent yet, a number as a string, a list where a dict goes): a field that is missing or
unreadable reads as None (a number as a string reads as that number). Each shape keeps in
`extra`, verbatim, every key it does not read and every key it read otherwise than it came (a
"5000" read as 5000.0), so `to_wire()` gives back the very dict it was read from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tui.core.text_colours import colour_hex, colour_label
from tui.core.text_sizes import text_scale

TRACK_VIDEO, TRACK_AUDIO, TRACK_TEXT = 0, 1, 7
_HUGE = 2**1000  # an int past this is past every float, so no number here (as `num` says)
Number = int | float
Plain = str | int | float


def num(value: Any) -> float | None:
    """A finite number (or numeric string), else None; booleans are not numbers here."""
    if isinstance(value, bool):
        return None
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return v if v == v and abs(v) != float("inf") else None


# ---- the readers of one field: what the wire holds to a typed value, None when unreadable ----


def _number(value: Any) -> Number | None:
    """A number as the wire has it (an int stays an int), a numeric string as a float."""
    if type(value) is int and -_HUGE < value < _HUGE:
        return value
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        v = num(value)
        return None if v is None else (v if isinstance(value, str) else value)
    return None


def _plain(value: Any) -> Plain | None:
    """A plain value (a string, a number, a boolean: JSON's scalars) as it came; never a dict
    or a list."""
    return value if isinstance(value, Plain) else None


def _words(value: Any) -> str | None:
    """A plain value as words: a name the cloud sent as a number reads as that number (and
    `true` as "True", as the summary always said it)."""
    v = _plain(value)
    return None if v is None else str(v)


def _name(value: Any) -> str | None:
    """A name: words, but none when it is empty, 0 or false (the src stands in, as it always
    did)."""
    return _words(value) if value else None


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _flag(value: Any) -> bool | None:
    """A yes/no as the cloud may send it: true, 1, "1", "true", "yes" (any case) mean yes."""
    if isinstance(value, bool):
        return value
    if isinstance(value, Plain):
        return str(value).lower() in ("1", "true", "yes")
    return None


def _size(value: Any) -> str | Number | None:
    """A text's size: a name (small, medium, large) or a number (tui/core/text_sizes.py)."""
    return value if isinstance(value, str) else _number(value)


# ---- keeping what is not read --------------------------------------------------------------

Readers = dict[str, tuple[str, Callable[[Any], Any]]]  # field: (wire key, reader)


def _same(a: Any, b: Any) -> bool:
    """Equal and of one type (1, 1.0 and True are three different wire values)."""
    return type(a) is type(b) and a == b


def _read(wire: dict, readers: Readers) -> dict[str, Any]:
    """The typed fields of `wire` by `readers`, with `extra`: what they do not give back."""
    out: dict[str, Any] = dict.fromkeys(readers)
    typed = {}
    for name, (key, reader) in readers.items():
        if key in wire:  # (most shapes hold a few of their fields: the rest are not read)
            out[name] = value = reader(wire[key])
            if value is not None:
                typed[key] = value
    out["extra"] = _rest(wire, typed)
    return out


def _rest(wire: dict, typed: dict) -> dict:
    return {k: v for k, v in wire.items() if k not in typed or not _same(typed[k], v)}


def _kept(extra: dict, wire: dict, key: str) -> dict:
    """`extra` without the nested part `key` (`m`, `t`, `sg`) when its shape gives it back as it
    came: a dict, or a list of dicts, that holds something (each shape gives back the dict it
    read, so the part is not rebuilt to see)."""
    part = wire.get(key)
    if key == "m":
        whole = isinstance(part, dict)
    else:
        whole = isinstance(part, list) and all(isinstance(x, dict) for x in part)
    return {k: v for k, v in extra.items() if k != key} if part and whole else extra


def _filled(nested: dict[str, Any]) -> dict[str, Any]:
    """The nested parts (`m`, `t`, `sg`) that hold something: an empty one is not written."""
    return {k: v for k, v in nested.items() if v}


def _write(shape: Any, readers: Readers, nested: dict[str, Any] | None = None) -> dict:
    """A shape's wire dict: its typed fields that are set, the nested ones that are not empty,
    and over them its `extra` (what came otherwise than it reads)."""
    out = {key: getattr(shape, name) for name, (key, _) in readers.items()}
    out = {k: v for k, v in out.items() if v is not None}
    return out | _filled(nested or {}) | shape.extra


# ---- the shapes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentMeta:
    """A segment's `m`: what it shows and how (the fields the engine reads; the cloud may lack
    any of them)."""

    name: str | None = None  # a video's file or the music's name
    text: str | None = None  # a title's or caption's words
    role: str | None = None  # title | caption
    position: str | None = None  # top | center | bottom
    colour: str | None = None  # `color`: a name or hex (tui/core/text_colours.py)
    size: str | Number | None = None  # a name or factor or px (tui/core/text_sizes.py)
    volume: Number | None = None  # 1 = 100 %
    mute: bool | None = None  # a video file's own sound
    motion: str | None = None  # zoom_in, pan_left, ken_burns, parallax, ...
    strength: str | None = None  # subtle | medium | strong
    extra: dict = field(default_factory=dict)

    READERS = {
        "name": ("name", _name),
        "text": ("text", _words),
        "role": ("role", _string),
        "position": ("position", _string),
        "colour": ("color", _string),
        "size": ("size", _size),
        "volume": ("volume", _number),
        "mute": ("mute", _flag),
        "motion": ("motion", _string),
        "strength": ("strength", _string),
    }

    @classmethod
    def from_wire(cls, wire: Any) -> SegmentMeta:
        return cls(**_read(wire, cls.READERS)) if isinstance(wire, dict) else cls()

    def to_wire(self) -> dict:
        return _write(self, self.READERS)


@dataclass(frozen=True)
class Segment:
    """One segment, with where it sits: its track's type, its place on that track (`nth` of
    `count`, 1-based) and in the whole draft (`order`, 0-based: the summary's line)."""

    id: Plain | None = None
    src: str | None = None  # a file hash, a URL or `builtin:<name>`
    start: Number | None = None  # `st`, ms
    dur: Number | None = None  # `d`, ms
    meta: SegmentMeta = field(default_factory=SegmentMeta)
    extra: dict = field(default_factory=dict)
    # Where it sits (not on the wire: two segments are equal when their wire dicts are).
    track: Plain | None = field(default=None, compare=False)  # the `tt` of its track
    nth: int = field(default=1, compare=False)
    count: int = field(default=1, compare=False)
    order: int = field(default=0, compare=False)

    READERS = {
        "id": ("id", _plain),
        "src": ("src", _words),
        "start": ("st", _number),
        "dur": ("d", _number),
    }

    @classmethod
    def from_wire(cls, wire: Any, **place: Any) -> Segment:
        if not isinstance(wire, dict):
            return cls(**place)
        meta = SegmentMeta.from_wire(wire.get("m"))
        got = _read(wire, cls.READERS)
        got["extra"] = _kept(got["extra"], wire, "m")
        return cls(meta=meta, **got, **place)

    def to_wire(self) -> dict:
        return _write(self, self.READERS, {"m": self.meta.to_wire()})

    @property
    def key(self) -> Any:
        """What identifies it across turns: its id, else its track and place in the draft."""
        sid = self.id
        return sid if isinstance(sid, str | int) and sid else ("#", repr(self.track), self.order)

    @property
    def kind(self) -> str:
        """video | music | title | caption | other."""
        if self.track == TRACK_TEXT:
            return "caption" if self.meta.role == "caption" else "title"
        return {TRACK_VIDEO: "video", TRACK_AUDIO: "music"}.get(self.track, "other")  # type: ignore[arg-type]

    def span(self) -> tuple[Number, Number] | None:
        """(start, duration) in ms: a missing one is 0; None when one is there but no number."""
        st = self.start if self.start is not None else (None if self.extra.get("st") else 0)
        d = self.dur if self.dur is not None else (None if self.extra.get("d") else 0)
        return None if st is None or d is None else (st, d)

    @property
    def muted(self) -> bool:
        return bool(self.meta.mute)

    @property
    def percent(self) -> int | None:
        """Its volume as a whole percentage (1 = 100 %), None when it has none."""
        return None if self.meta.volume is None else round(self.meta.volume * 100)

    @property
    def colour(self) -> str | None:
        """A text's colour as `#RRGGBB`, None when it says none (drawn white)."""
        return colour_hex(self.meta.colour)

    @property
    def colour_label(self) -> str | None:
        """A text's colour as words: the table's name, else its hex; None when none."""
        return colour_label(self.meta.colour)


@dataclass(frozen=True)
class Track:
    type: Plain | None = None  # `tt`: TRACK_VIDEO, TRACK_AUDIO, TRACK_TEXT, or the cloud's own
    segments: tuple[Segment, ...] = ()
    extra: dict = field(default_factory=dict)

    READERS = {"type": ("tt", _plain)}

    @classmethod
    def from_wire(cls, wire: Any, order: int = 0) -> Track:
        """`order`: how many segments the tracks before it hold."""
        if not isinstance(wire, dict):
            return cls()
        got = _read(wire, cls.READERS)
        sg = wire.get("sg")
        segs = [s for s in sg if isinstance(s, dict)] if isinstance(sg, list) else []
        tt = got["type"]
        segments = tuple(
            Segment.from_wire(s, track=tt, nth=i, count=len(segs), order=order + i - 1)
            for i, s in enumerate(segs, 1)
        )
        return cls(type=tt, segments=segments, extra=_kept(got["extra"], wire, "sg"))

    def to_wire(self) -> dict:
        return _write(self, self.READERS, {"sg": [s.to_wire() for s in self.segments]})


@dataclass(frozen=True)
class DraftMeta:
    """The draft's `m`: the canvas (a cloud draft may have no size yet) and its fades."""

    width: Number | None = None
    height: Number | None = None
    fps: Number | None = None
    title: str | None = None
    fade_in: Number | None = None  # ms
    fade_out: Number | None = None  # ms
    extra: dict = field(default_factory=dict)

    READERS = {
        "width": ("width", _number),
        "height": ("height", _number),
        "fps": ("fps", _number),
        "title": ("title", _words),
        "fade_in": ("fade_in", _number),
        "fade_out": ("fade_out", _number),
    }

    @classmethod
    def from_wire(cls, wire: Any) -> DraftMeta:
        return cls(**_read(wire, cls.READERS)) if isinstance(wire, dict) else cls()

    def to_wire(self) -> dict:
        return _write(self, self.READERS)


def _nested(meta: DraftMeta, tracks: tuple[Track, ...] | list[Track]) -> dict[str, Any]:
    return {"m": meta.to_wire(), "t": [t.to_wire() for t in tracks]}


@dataclass(frozen=True)
class Draft:
    duration: Number | None = None  # `d`, ms
    meta: DraftMeta = field(default_factory=DraftMeta)
    tracks: tuple[Track, ...] = ()
    extra: dict = field(default_factory=dict)

    READERS = {"duration": ("d", _number)}

    @classmethod
    def from_wire(cls, wire: Any) -> Draft:
        """Any JSON value as a draft (a non-dict is the empty one); a Draft as it is."""
        if isinstance(wire, Draft):
            return wire
        if not isinstance(wire, dict):
            return cls()
        got = _read(wire, cls.READERS)
        meta = DraftMeta.from_wire(wire.get("m"))
        t = wire.get("t")
        tracks: list[Track] = []
        for track in t if isinstance(t, list) else []:
            if isinstance(track, dict):
                tracks.append(Track.from_wire(track, sum(len(x.segments) for x in tracks)))
        got["extra"] = _kept(_kept(got["extra"], wire, "m"), wire, "t")
        return cls(meta=meta, tracks=tuple(tracks), **got)

    def to_wire(self) -> dict:
        return _write(self, self.READERS, _nested(self.meta, self.tracks))

    @property
    def segments(self) -> tuple[Segment, ...]:
        """Every segment, track by track: the order of the summary's lines."""
        return tuple(s for t in self.tracks for s in t.segments)

    @property
    def ready(self) -> bool:
        """Ready to export: some track has a segment."""
        return any(t.segments for t in self.tracks)

    def text_scale(self, seg: Segment) -> float:
        """A text's `m.size` as a factor of its role's default size (tui/core/text_sizes.py)."""
        m = {k: v for k, v in (("width", self.meta.width), ("height", self.meta.height)) if v}
        return text_scale(seg.meta.size, seg.meta.role or "title", {"m": m})
