"""The session's state beyond the draft: `video_infos` (what was uploaded or made into it) and
`generated_media` (what the cloud's own tools made: a generated clip, a render's file).

The cloud documents these fields by name only, so every reader here is lenient: a list or a dict
of entries, any of the URL and name keys the API uses elsewhere, missing fields left empty, wrong
types ignored. Every string is cleaned of terminal controls (it reaches the transcript).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from tui.core.clean_text import clean
from tui.core.draft import Draft
from tui.core.draft import num as _num

# The keys a URL, a name or a kind goes by in the API's other answers (upload, render status).
_URL_KEYS = ("url", "cdn_url", "cdnUrl", "outputUrl", "output_url", "video_url", "download_url")
_NAME_KEYS = ("filename", "name", "title", "file_name")
_KIND_KEYS = ("file_type", "type", "media_type", "kind")


@dataclass(frozen=True)
class Media:
    """One asset of the session: `url` is https/http or "" (never another scheme)."""

    url: str = ""
    name: str = ""
    kind: str = ""  # image | video | audio, or the backend's own word; "" when not said
    width: int | None = None
    height: int | None = None
    duration: float | None = None  # seconds

    def describe(self) -> str:
        """`clip.mp4 (video, 1920×1080, 5s)`; only the facts the backend gave."""
        facts = [self.kind] if self.kind else []
        if self.width and self.height:
            facts.append(f"{self.width}×{self.height}")
        if self.duration is not None:
            facts.append(f"{self.duration:g}s")
        name = self.name or "(unnamed)"
        return f"{name} ({', '.join(facts)})" if facts else name


@dataclass(frozen=True)
class SessionState:
    draft: dict = field(default_factory=dict)  # as the wire has it: what a render is sent
    video_infos: list[Media] = field(default_factory=list)
    generated_media: list[Media] = field(default_factory=list)

    @cached_property
    def timeline(self) -> Draft:
        """The draft read as typed values (tui/core/draft.py)."""
        return Draft.from_wire(self.draft)


def _first(d: dict, keys: tuple[str, ...]) -> Any:
    for k in keys:
        v = d.get(k)
        if v not in (None, ""):
            return v
    return None


def _number(value: Any) -> float | None:
    v = _num(value)  # the draft reader's: finite, never a boolean
    return v if v is not None and v >= 0 else None


def _url(d: dict) -> str:
    v = _first(d, _URL_KEYS)
    if v is None and isinstance(d.get("output"), dict):  # the render status's `output.url`
        v = d["output"].get("url")
    s = clean(v).strip() if isinstance(v, str) else ""
    return s if urlsplit(s).scheme in ("http", "https") and " " not in s else ""


def read_media(entry: Any) -> Media | None:
    """One entry as Media; None when it says nothing we can show (no URL and no name)."""
    if isinstance(entry, str):
        entry = {"url": entry}
    if not isinstance(entry, dict):
        return None
    url = _url(entry)
    name = _first(entry, _NAME_KEYS)
    name = clean(name).strip() if isinstance(name, str | int) else ""
    if not name and url:
        name = urlsplit(url).path.rsplit("/", 1)[-1]
    if not (url or name):
        return None
    kind = _first(entry, _KIND_KEYS)
    w, h = _number(entry.get("width")), _number(entry.get("height"))
    duration, ms = _number(entry.get("duration")), _number(entry.get("d"))
    if duration is None and ms is not None:  # the draft's milliseconds
        duration = ms / 1000
    return Media(
        url=url,
        name=name,
        kind=clean(kind).strip().lower() if isinstance(kind, str) else "",
        width=int(w) if w else None,
        height=int(h) if h else None,
        duration=duration,
    )


def read_media_list(value: Any) -> list[Media]:
    """A list of entries, or a dict of them (by id), or one entry; unreadable ones skipped."""
    if isinstance(value, dict):
        looks_like_one = any(k in value for k in _URL_KEYS + _NAME_KEYS + ("output",))
        value = [value] if looks_like_one else list(value.values())
    if not isinstance(value, list):
        return []
    return [m for m in map(read_media, value) if m is not None]


def read_session_state(state: Any) -> SessionState:
    s = state if isinstance(state, dict) else {}
    draft = s.get("draft")
    return SessionState(
        draft=draft if isinstance(draft, dict) else {},
        video_infos=read_media_list(s.get("video_infos")),
        generated_media=read_media_list(s.get("generated_media")),
    )


def new_media(before: list[Media], after: list[Media]) -> list[Media]:
    """What `after` has that `before` did not (by URL, else by name): what a turn made."""
    seen = {m.url or m.name for m in before}
    out = []
    for m in after:
        key = m.url or m.name
        if key not in seen:
            seen.add(key)
            out.append(m)
    return out
