"""What a text segment's `m.size` means: one reading for the agent that writes it and the
renderer that draws it. No imports, so the agent need not load the renderer to share it.

A name (small, medium, large), a factor of the default up to 4, or above that a height in px
of the canvas; the default is 8.5 % of the canvas's short side for titles, 5 % for captions.
"""

from __future__ import annotations

from collections.abc import Mapping

TEXT_SIZES = {"small": 0.7, "medium": 1.0, "large": 1.4}
DEFAULT_SHARE = {"title": 0.085, "caption": 0.05}


def text_scale(size: object, role: str, draft: Mapping) -> float:
    """`m.size` as a factor of the default size; anything unreadable is 1."""
    if isinstance(size, str) and size.strip().lower() in TEXT_SIZES:
        return TEXT_SIZES[size.strip().lower()]
    try:
        v = float(size)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 1.0
    if not v > 0:
        return 1.0
    if v <= 4:
        return v
    meta = draft.get("m") or {}
    short = min(int(meta.get("width", 1920)), int(meta.get("height", 1080)))
    return v / (short * DEFAULT_SHARE.get(role, DEFAULT_SHARE["caption"]))
