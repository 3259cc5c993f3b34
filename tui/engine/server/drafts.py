"""Which drafts the engine renders, and what one costs: checked before a render is queued, so a
bad timeline is a 400 that says what is wrong, not a failed job. Every number has a range (ints of
any size are compared, never converted first), every string and list a length, and every value the
renderer reads from a segment's `m` a type and range it can take: no draft makes a render worker
do unbounded work.

The renderer's own tables are repeated here rather than imported (that would load numpy, PyAV and
OpenCV into the server); tests/test_abuse_requests.py checks that they agree.
"""

from __future__ import annotations

import math
import re
from typing import Any

from tui.core.text_colours import colour_hex
from tui.core.text_sizes import TEXT_SIZES
from tui.engine.server.envelope import bad

MAX_SECONDS = 60  # longest clip the engine renders
MAX_SIDE = 3840  # canvas pixels a side
FPS = (24, 25, 30, 60)
MAX_TRACKS = 50
MAX_TRACK_SEGMENTS = 200
MAX_SEGMENTS = 400  # all tracks together
MAX_AUDIO_SEGMENTS = 20  # each decoded (or synthesised) whole for the mix
MAX_TEXT_SEGMENTS = 10  # each drawn once and kept for the whole render: ~215 MB at 3840x3840
MAX_TEXT = 500  # characters in one title or caption
MAX_TEXT_TOTAL = 2000  # characters of text in the whole draft
MAX_STRING = 300  # characters in any other string (names, ids, the clip's title)
MAX_TIMELINE_MS = 600_000  # where a segment may start and end (the clip is cut at draft.d)
MAX_SOURCE_MS = 86_400_000  # m.source_start_ms: a day into a video
MAX_FACTOR_SIZE = 4  # m.size: a factor up to 4, above that a height in px up to a canvas side
MAX_VOLUME = 4.0  # render/soundtrack.py MAX_VOLUME
MAX_ANY = 1e9  # any other number in an `m`: finite and at most this in size

MOTIONS = (  # render/motion.py MOTIONS
    "zoom_in",
    "zoom_out",
    "pan_left",
    "pan_right",
    "pan_up",
    "pan_down",
    "ken_burns",
    "static",
    "parallax",
)
STRENGTHS = ("subtle", "medium", "strong")  # render/motion.py STRENGTHS
EASINGS = ("ease", "linear")  # render/motion.py EASINGS
BUILTIN_MUSIC = ("lofi", "ambient", "upbeat")  # render/audio.py BUILTIN_STYLES
WORDS = {
    "motion": MOTIONS,
    "strength": STRENGTHS,
    "easing": EASINGS,
    "fit": ("cover", "contain"),
    "position": ("top", "center", "bottom"),
    "role": ("title", "caption"),
    "transition": ("crossfade", "cut"),
}
MS = {  # a segment's `m` values in milliseconds (None: unset, where the renderer allows it)
    "fade": MAX_SECONDS * 1000,
    "transition_ms": MAX_SECONDS * 1000,
    "source_start_ms": MAX_SOURCE_MS,
}


def check_draft(draft: Any, known: set[str]) -> tuple[int, int]:
    """(seconds to charge, the canvas' short side) of a draft the engine can render; a 400 that
    says what is wrong otherwise. `known` are the hashes of the session's media."""
    if not isinstance(draft, dict):
        raise bad("draft must be a timeline object")
    tracks = draft.get("t")
    if not isinstance(tracks, list):
        raise bad("draft.t (the tracks) must be a list")
    m = draft.get("m")
    if not isinstance(m, dict):
        raise bad("draft.m (metadata) must be an object")
    for key in ("width", "height"):
        value = m.get(key)
        _number(value, f"draft.m.{key}")
        if not 16 <= value <= MAX_SIDE:
            raise bad(
                f"canvas {_show(m.get('width'))}x{_show(m.get('height'))} is out of range"
                f" (16 to {MAX_SIDE} pixels a side)"
            )
    fps = m.get("fps", 30)
    _number(fps, "draft.m.fps")
    if fps not in FPS:
        raise bad(f"fps {_show(fps)} is not supported (24, 25, 30 or 60)")
    d = draft.get("d")
    _number(d, "draft.d (duration, ms)")
    if not 1000 <= d <= MAX_SECONDS * 1000:
        raise bad(f"duration {_show(d)} ms is out of range (1 to {MAX_SECONDS} s)")
    for key in ("fade_in", "fade_out"):
        if m.get(key) is not None:
            _ranged(m[key], f"draft.m.{key} (ms)", 0, MAX_SECONDS * 1000)
    if m.get("title") is not None:
        _string(m["title"], "draft.m.title", MAX_STRING)
    _rest(m, "draft.m", ("width", "height", "fps", "fade_in", "fade_out", "title"))
    if len(tracks) > MAX_TRACKS:
        raise bad(f"at most {MAX_TRACKS} tracks")
    count = _Count()
    for t in tracks:
        _track(t, known, count)
    if not count.filled:
        raise bad("the timeline is empty: upload an image first")
    return math.ceil(d / 1000 - 1e-9), int(min(m["width"], m["height"]))


class _Count:
    """What the tracks hold so far, against the draft-wide limits."""

    def __init__(self) -> None:
        self.segments = self.audio = self.text = self.chars = 0
        self.filled = False


def _track(t: Any, known: set[str], count: _Count) -> None:
    if not isinstance(t, dict) or not isinstance(t.get("sg", []), list):
        raise bad("each track must be an object with a 'sg' list")
    tt = t.get("tt")
    if tt not in (0, 1, 7) or isinstance(tt, bool | float):
        raise bad(f"track type {_show(tt)} is unknown (0 video, 1 audio, 7 text)")
    segments = t.get("sg", [])
    if len(segments) > MAX_TRACK_SEGMENTS:
        raise bad(f"at most {MAX_TRACK_SEGMENTS} segments a track")
    count.segments += len(segments)
    if count.segments > MAX_SEGMENTS:
        raise bad(f"at most {MAX_SEGMENTS} segments in all")
    if tt == 1:
        count.audio += len(segments)
        if count.audio > MAX_AUDIO_SEGMENTS:
            raise bad(f"at most {MAX_AUDIO_SEGMENTS} audio segments")
    if tt == 7:
        count.text += len(segments)
        if count.text > MAX_TEXT_SEGMENTS:
            raise bad(f"at most {MAX_TEXT_SEGMENTS} titles and captions")
    for s in segments:
        _segment(s, tt, known, count)


def _segment(s: Any, tt: int, known: set[str], count: _Count) -> None:
    if not isinstance(s, dict):
        raise bad("each segment must be an object")
    sid = s.get("id", "?")
    named = isinstance(sid, str) and len(sid) <= 64
    if not named and (isinstance(sid, bool) or not isinstance(sid, int)):
        raise bad("a segment's id must be a string of at most 64 characters, or a number")
    what = f"segment {_show(sid)}"
    st, sd = s.get("st", 0), s.get("d")
    _number(st, f"{what}: st")
    _number(sd, f"{what}: d")
    if not (0 <= st <= MAX_TIMELINE_MS and 0 < sd <= MAX_TIMELINE_MS) or st + sd > MAX_TIMELINE_MS:
        raise bad(
            f"{what}: bad timing ({_show(st)} ms + {_show(sd)} ms; a segment lies within"
            f" {MAX_TIMELINE_MS // 1000} s of the start)"
        )
    m = s.get("m")
    if m is not None and not isinstance(m, dict):
        raise bad(f"{what}: m must be an object")
    m = m or {}
    _look(m, what)
    src = s.get("src")
    if tt in (0, 1):
        builtin = isinstance(src, str) and re.fullmatch(r"builtin:(\w{1,32})", src)
        if tt == 1 and builtin and builtin.group(1) not in BUILTIN_MUSIC:
            raise bad(f"{what}: no built-in music {src!r} (have: {', '.join(BUILTIN_MUSIC)})")
        if not ((tt == 1 and builtin) or (isinstance(src, str) and src in known)):
            raise bad(f"{what}: unknown source {_show(src)!r}")
    if tt == 7 and isinstance(m.get("text"), str):
        count.chars += len(m["text"])
        if count.chars > MAX_TEXT_TOTAL:
            raise bad(f"at most {MAX_TEXT_TOTAL} characters of titles and captions in all")
    count.filled = True


def _look(m: dict, what: str) -> None:
    """A segment's `m`: each value the renderer reads, in a type and range it takes."""
    if m.get("text") is not None:
        _string(m["text"], f"{what}: m.text", MAX_TEXT)
    for key, words in WORDS.items():
        if key in m and m[key] not in words:
            raise bad(f"{what}: m.{key} must be one of {', '.join(words)}")
    for key, most in MS.items():
        if m.get(key) is not None:
            _ranged(m[key], f"{what}: m.{key} (ms)", 0, most)
    if "volume" in m:
        _ranged(m["volume"], f"{what}: m.volume", 0, MAX_VOLUME)
    if m.get("mute") is not None and not isinstance(m["mute"], bool):
        raise bad(f"{what}: m.mute must be true or false")
    size = m.get("size")
    if isinstance(size, str):
        if size.strip().lower() not in TEXT_SIZES:
            raise bad(f"{what}: m.size must be {', '.join(TEXT_SIZES)} or a number")
    elif size is not None:
        _number(size, f"{what}: m.size")
        if not 0 < size <= MAX_SIDE:
            raise bad(
                f"{what}: m.size is out of range (a factor up to {MAX_FACTOR_SIZE}, or a height"
                f" up to {MAX_SIDE} px)"
            )
    color = m.get("color")
    if color is not None and (
        not isinstance(color, str) or len(color) > 40 or colour_hex(color) is None
    ):
        raise bad(f"{what}: m.color must be a colour name or #RRGGBB")
    focus = m.get("focus")
    if focus is not None:
        if not isinstance(focus, list) or len(focus) != 2:
            raise bad(f"{what}: m.focus must be [x, y], each 0 to 1")
        for v in focus:
            _ranged(v, f"{what}: m.focus", 0, 1)
    if m.get("name") is not None:
        _string(m["name"], f"{what}: m.name", MAX_STRING)
    _rest(m, f"{what}: m", ("text", *WORDS, *MS, "volume", "mute", "size", "color", "focus"))


def _rest(m: dict, what: str, done: tuple[str, ...]) -> None:
    """Values nobody reads (yet): numbers finite and modest, strings short."""
    for key, value in m.items():
        if key in done or value is None or isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            _ranged(value, f"{what}.{_show(key)}", -MAX_ANY, MAX_ANY)
        elif isinstance(value, str):
            _string(value, f"{what}.{_show(key)}", MAX_TEXT)


def _number(value: Any, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad(f"{what} must be a number, not {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise bad(f"{what} must be a finite number")


def _ranged(value: Any, what: str, lo: float, hi: float) -> None:
    _number(value, what)
    if not lo <= value <= hi:  # an int of any size compares exactly, and never overflows
        raise bad(f"{what} is out of range ({lo:g} to {hi:g})")


def _string(value: Any, what: str, most: int) -> None:
    if not isinstance(value, str):
        raise bad(f"{what} must be a string, not {type(value).__name__}")
    if len(value) > most:
        raise bad(f"{what} is over {most} characters")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise bad(f"{what} is not valid text (a lone surrogate)") from None


def _show(value: Any) -> str:
    """A value for a message: short, whatever it is (a 400-digit int included)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**15:
        return f"a {len(str(abs(value)))}-digit number"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)[:40]
