"""Which drafts the engine renders, and what one costs: checked before a render is queued, so a
bad timeline is a 400 that says what is wrong, not a failed job."""

from __future__ import annotations

import math
import re
from typing import Any

from tui.engine.server.envelope import bad

MAX_SECONDS = 60  # longest clip the engine renders


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
    w = _number(m.get("width"), "draft.m.width")
    h = _number(m.get("height"), "draft.m.height")
    fps = _number(m.get("fps", 30), "draft.m.fps")
    d = _number(draft.get("d"), "draft.d (duration, ms)")
    if not (16 <= w <= 3840 and 16 <= h <= 3840):
        raise bad(f"canvas {w:g}x{h:g} is out of range (16 to 3840 pixels a side)")
    if fps not in (24, 25, 30, 60):
        raise bad(f"fps {fps:g} is not supported (24, 25, 30 or 60)")
    if not (1000 <= d <= MAX_SECONDS * 1000):
        raise bad(f"duration {d:g} ms is out of range (1 to {MAX_SECONDS} s)")
    if len(tracks) > 50:
        raise bad("at most 50 tracks")
    filled = False
    for t in tracks:
        if not isinstance(t, dict) or not isinstance(t.get("sg", []), list):
            raise bad("each track must be an object with a 'sg' list")
        tt = t.get("tt")
        if tt not in (0, 1, 7) or isinstance(tt, bool):
            raise bad(f"track type {str(tt)[:20]} is unknown (0 video, 1 audio, 7 text)")
        segments = t.get("sg", [])
        if len(segments) > 200:
            raise bad("at most 200 segments a track")
        for s in segments:
            if not isinstance(s, dict):
                raise bad("each segment must be an object")
            sid = str(s.get("id", "?"))[:40]
            st = _number(s.get("st", 0), f"segment {sid}: st")
            sd = _number(s.get("d"), f"segment {sid}: d")
            if st < 0 or sd <= 0 or st + sd > 600_000:
                raise bad(f"segment {sid}: bad timing ({st:g} ms + {sd:g} ms)")
            if s.get("m") is not None and not isinstance(s.get("m"), dict):
                raise bad(f"segment {sid}: m must be an object")
            src = s.get("src")
            builtin = tt == 1 and isinstance(src, str) and re.fullmatch(r"builtin:\w{1,32}", src)
            if tt in (0, 1) and not (builtin or (isinstance(src, str) and src in known)):
                raise bad(f"segment {sid}: unknown source {str(src)[:80]!r}")
            filled = True
    if not filled:
        raise bad("the timeline is empty: upload an image first")
    return math.ceil(d / 1000 - 1e-9), int(min(w, h))


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad(f"{what} must be a number, not {type(value).__name__}")
    if not math.isfinite(value):
        raise bad(f"{what} must be a finite number")
    return float(value)
