"""The draft dict: its tracks and segments, ids, the canvas size, the clip's length and the
video track's layout. Shared by the appliers; nothing here reads a message."""

from __future__ import annotations

import copy
import re

from tui.core.protocol import TRACK_AUDIO, TRACK_TEXT, TRACK_VIDEO, file_kind

ASPECTS = {
    "16:9": (16, 9),
    "9:16": (9, 16),
    "1:1": (1, 1),
    "4:5": (4, 5),
    "4:3": (4, 3),
    "3:4": (3, 4),
}
MIN_MS, MAX_MS = 1000, 60000  # the clip's length, whatever is asked
TRANSITION_KEYS = ("transition", "transition_ms")  # on every video segment but the first
VISUAL = ("image", "video")  # media that go on the video track
PER_IMAGE_MS = 3000  # a slideshow's default time per image
MIN_PER_IMAGE_MS = 2000  # below this the current length is stretched to PER_IMAGE_MS each


def canvas_size(aspect: str, short: int) -> tuple[int, int]:
    a, b = ASPECTS[aspect]
    if a >= b:
        return round(short * a / b / 2) * 2, short
    return short, round(short * b / a / 2) * 2


def aspect_of(draft: dict) -> str:
    m = draft["m"]
    w, h = int(m["width"]), int(m["height"])
    return min(ASPECTS, key=lambda k: abs(ASPECTS[k][0] / ASPECTS[k][1] - w / h))


def short_side(draft: dict) -> int:
    m = draft["m"]
    return min(int(m["width"]), int(m["height"]))


def track_of(draft: dict, tt: int) -> dict:
    """The track of type `tt`, added (in video, audio, text order) if the draft has none."""
    for t in draft["t"]:
        if t.get("tt") == tt:
            return t
    t = {"tt": tt, "sg": []}
    draft["t"].append(t)
    draft["t"].sort(key=lambda x: {TRACK_VIDEO: 0, TRACK_AUDIO: 1, TRACK_TEXT: 2}.get(x["tt"], 3))
    return t


def segments(draft: dict, tt: int) -> list[dict]:
    """The segments of the track of type `tt` (a new empty list when there is no such track)."""
    return next((t["sg"] for t in draft["t"] if t.get("tt") == tt), [])


def sound_segments(draft: dict, media: list[dict]) -> list[dict]:
    """The video track's segments that play a video file (and so its own sound): by the
    session's media (`file_type`), else, for a source not among them, by the name's extension.
    Images have no sound."""
    kinds = {m.get("hash"): m.get("file_type") for m in media}
    return [
        s
        for s in segments(draft, TRACK_VIDEO)
        if (kinds.get(s.get("src")) or file_kind(str((s.get("m") or {}).get("name", ""))))
        == "video"
    ]


def will_have_sound(draft: dict, media: list[dict]) -> bool:
    """Whether the timeline has a video with its own sound, or will once a first turn lays the
    session's media out (an empty video track, a video among the media)."""
    if segments(draft, TRACK_VIDEO):
        return bool(sound_segments(draft, media))
    return any(m.get("file_type") == "video" for m in media)


def text_role(seg: dict) -> str:
    return (seg.get("m") or {}).get("role", "title")


# What the last length said measured: "clip", or a text's role after "title 'Sale' for 3 s".
# Kept in the draft (the engine's own key, which nothing renders), so a bare follow-up number
# ("5", "改成5") changes that length, and an undo brings back the one its draft had.
LAST_LENGTH = "last_length"


def last_length(draft: dict) -> str:
    """A text's role when the last length said was that text's and it is still there."""
    said = (draft.get("m") or {}).get(LAST_LENGTH)
    texts = segments(draft, TRACK_TEXT)
    if said in ("title", "caption") and any(text_role(s) == said for s in texts):
        return said
    return "clip"


def next_id(draft: dict) -> str:
    n = 0
    for t in draft["t"]:
        for s in t["sg"]:
            m = re.match(r"s(\d+)$", str(s.get("id", "")))
            if m:
                n = max(n, int(m.group(1)))
    return f"s{n + 1}"


def clamp_ms(ms: float) -> int:
    return int(max(MIN_MS, min(MAX_MS, round(ms))))


def set_duration(draft: dict, ms: int) -> list[dict]:
    """Stretch the timeline to `ms`: video segments share it; music and text that ran to the end
    still do, the rest is clipped. Returns the text segments that no longer fit (removed)."""
    old = int(draft.get("d", 5000))
    draft["d"] = ms
    video = segments(draft, TRACK_VIDEO)
    for i, s in enumerate(video):
        each = ms // len(video)
        s["st"] = i * each
        s["d"] = each if i < len(video) - 1 else ms - i * each
    dropped = []
    for tt in (TRACK_AUDIO, TRACK_TEXT):
        segs = segments(draft, tt)
        for s in segs:
            st, end = int(s["st"]), int(s["st"]) + int(s["d"])
            s["d"] = (ms if end >= old else min(end, ms)) - st
        dropped += [s for s in segs if s["d"] <= 0 and tt == TRACK_TEXT]
        segs[:] = [s for s in segs if s["d"] > 0]
    return dropped


def layout_video(draft: dict, images: list[dict], total_ms: int | None) -> None:
    """Put `images` (media dicts) on the video track in order, keeping the look of what was
    there (motion, focus, fit, transitions), sharing `total_ms` or a sensible length."""
    video = track_of(draft, TRACK_VIDEO)
    old = {s["src"]: s for s in video["sg"]}
    template = dict(video["sg"][0]["m"]) if video["sg"] else {}
    joins = next(
        ({k: s["m"][k] for k in TRANSITION_KEYS if k in s["m"]} for s in video["sg"][1:]), {}
    )
    for k in (*TRANSITION_KEYS, "name"):
        template.pop(k, None)
    if total_ms is None:  # keep the length unless the images would get too little of it
        d, n = int(draft.get("d", 5000)), len(images)
        total_ms = d if d // n >= MIN_PER_IMAGE_MS else PER_IMAGE_MS * n
    segs = []
    for i, img in enumerate(images):
        prev = old.get(img["hash"])
        if prev is not None:
            m = dict(prev["m"])
        elif template:
            m = dict(template)
        else:
            m = {"motion": "zoom_in" if i % 2 == 0 else "zoom_out", "strength": "subtle"}
        m["name"] = img.get("filename") or "image"
        for k in TRANSITION_KEYS:
            m.pop(k, None)
        if i > 0:
            m.update(joins)
        segs.append({"id": prev["id"] if prev else "", "src": img["hash"], "st": 0, "d": 0, "m": m})
    video["sg"] = segs
    for s in segs:
        if not s["id"]:
            s["id"] = next_id(draft)
    set_duration(draft, clamp_ms(total_ms))


def copy_draft(draft: dict) -> dict:
    new = copy.deepcopy(draft) if isinstance(draft, dict) else {}
    new.setdefault("d", 5000)
    new["m"] = {"width": 1920, "height": 1080, "fps": 30, **(new.get("m") or {})}
    new.setdefault("t", [])
    return new
