"""The draft in words: the track summary's lines and what a turn changed (`diff_drafts`).

Read through the typed view (tui/core/draft.py), so a cloud draft with missing or odd fields
says "?" rather than fail, and never "None".
"""

from __future__ import annotations

from typing import Any

from tui.core.clean_text import clean
from tui.core.draft import TRACK_AUDIO, TRACK_TEXT, TRACK_VIDEO, Draft, Number, Segment
from tui.core.text_colours import WHITE


def _secs(ms: Number) -> str:
    return f"{ms / 1000:g}"


def _shown(value: Any, missing: str) -> str:
    """A field's value as words (cleaned of terminal controls); `missing` when it has none."""
    return missing if value is None else clean(value)


def _name(seg: Segment, other: Any) -> str:
    """A segment's name, else its `other` field (src, id), else "?"."""
    return _shown(seg.meta.name or other or "?", "?")


def parts(seg: Segment) -> tuple[str, str, str]:
    """(kind, what, span) of one segment: ("BGM", "Lo-fi", "0-5s, 35%"); a video's own sound
    when muted or not at 100 %: ("Video", "clip.mp4", "0-5s, sound 50%" or "0-5s, muted"); a
    text's colour when not white: ("Title", '"Sale"', "0-3s, yellow" or "0-3s, #123456")."""
    at = seg.span()
    span = "?s" if at is None else f"{_secs(at[0])}-{_secs(at[0] + at[1])}s"
    if seg.track == TRACK_VIDEO:
        # A video's own sound: muted, or its volume when not 100 % (images have neither).
        pct = seg.percent
        sound = ", muted" if seg.muted else (f", sound {pct}%" if pct not in (None, 100) else "")
        return "Video", _name(seg, seg.src), span + sound
    if seg.track == TRACK_AUDIO:
        vol = f", {seg.percent}%" if seg.percent is not None else ""
        return "BGM", _name(seg, seg.src), span + vol
    if seg.track == TRACK_TEXT:
        # Its colour, when not the white every text has by default: its name, else its hex.
        tint = seg.colour_label if seg.colour != WHITE else None
        text = _shown(seg.meta.text, "")
        return seg.kind.capitalize(), f'"{text}"', span + (f", {tint}" if tint else "")
    return f"Track {_shown(seg.track, '?')}", _name(seg, seg.id), span


def line(seg: Segment) -> str:
    """Its line of the summary: `2. BGM: Lo-fi (0-5s, 35%)`."""
    kind, what, span = parts(seg)
    return f"{seg.order + 1}. {kind}: {what} ({span})"


def summarize_draft(draft: Any) -> list[str]:
    """Numbered lines: `1. Video: photo.png (0-5s)`, `2. BGM: Lo-fi (0-5s, 35%)`, ...; a video
    with its sound muted or turned up or down: `1. Video: clip.mp4 (0-5s, muted)`, `(0-5s,
    sound 50%)`; a coloured text: `3. Title: "Sale" (0-3s, yellow)`."""
    return [line(seg) for seg in Draft.from_wire(draft).segments]


def draft_ready(draft: Any) -> bool:
    return Draft.from_wire(draft).ready


def _lower(kind: str) -> str:
    return kind if kind == "BGM" else kind.lower()


def _dim(value: Number | None) -> str | None:
    """A width, height or fps as words ("1920", "29.97"), None when missing or no number."""
    return None if value is None or value <= 0 else f"{float(value):g}"


def _settings(draft: Draft) -> list[tuple[str, str | None]]:
    """(name, value) of the draft's own settings, None where the draft does not say."""
    m = draft.meta
    w, h = _dim(m.width), _dim(m.height)
    d = draft.duration
    return [
        ("duration", None if d is None else f"{_secs(d)}s"),
        ("size", f"{w}x{h}" if w and h else None),
        ("fps", _dim(m.fps)),
    ]


def diff_drafts(before: Any, after: Any) -> list[str]:
    """What a turn changed, in plain words: `Added title "X" (0-3s)`, `duration 5s → 8s`; a
    setting the draft did not have before: `size 1920x1080`; one it no longer says: nothing."""
    b, a = Draft.from_wire(before), Draft.from_wire(after)
    changes: list[str] = []
    old = {seg.key: seg for seg in b.segments}
    new = {seg.key: seg for seg in a.segments}
    for key, seg in new.items():
        kind, what, span = parts(seg)
        if key not in old:
            changes.append(f"Added {_lower(kind)} {what} ({span})")
            continue
        oseg = old[key]
        if oseg == seg:  # the same wire dict (where it sits is not compared)
            continue
        okind, owhat, ospan = parts(oseg)
        if (okind, owhat, ospan) != (kind, what, span):
            was = f"{owhat} ({ospan})"
            now = f"{what} ({span})" if what != owhat else f"({span})"
            changes.append(f"Changed {_lower(kind)} {was} → {now}")
        else:
            om, nm = _raw_meta(oseg), _raw_meta(seg)
            diffs = [
                clean(f"{k} {_plain(om.get(k))} → {_plain(nm.get(k))}")
                for k in sorted(set(om) | set(nm), key=str)
                if om.get(k) != nm.get(k)
            ]
            changes.append(
                f"Changed {_lower(kind)} {what}" + (f": {', '.join(diffs)}" if diffs else "")
            )
    for key, seg in old.items():
        if key not in new:
            kind, what, span = parts(seg)
            changes.append(f"Removed {_lower(kind)} {what} ({span})")
    if b.to_wire() and a.to_wire():
        for (name, was), (_, now) in zip(_settings(b), _settings(a), strict=True):
            if now is not None and was != now:
                changes.append(f"{name} {was} → {now}" if was is not None else f"{name} {now}")
    return changes


def _raw_meta(seg: Segment) -> dict:
    """Its `m` as the wire had it (every key, read or not): the words of a change name them."""
    m = seg.meta.to_wire() if "m" not in seg.extra else seg.extra["m"]
    return m if isinstance(m, dict) else {}


def _plain(value: Any) -> str:
    """A meta value in a change's words; "-" when absent or not a plain value."""
    return clean(value) if isinstance(value, str | int | float) else "-"
