"""What a text segment's `m.color` means: one reading for the agent that writes it, the renderer
that draws it and the track summary that names it. No imports, so that none of them need load
another to share it.

The agent writes `#RRGGBB`. Read back are `#RRGGBB`, `#RGB` and the colour names below (English
or Chinese, any case); anything else is no colour (the renderer draws it white). The names are
bright, saturated tones that read on video with the renderer's dark outline (black and the dark
ones get a light outline there), rather than the pure primaries.
"""

from __future__ import annotations

import re

TEXT_COLOURS = {  # name: sRGB
    "white": "#FFFFFF",
    "black": "#111111",
    "grey": "#9E9E9E",
    "red": "#F44336",
    "orange": "#FF9800",
    "yellow": "#FFD600",
    "gold": "#D4AF37",
    "green": "#4CAF50",
    "blue": "#2196F3",
    "purple": "#A855F7",
    "pink": "#F06292",
}
COLOUR_ZH = {  # name: its Chinese (without 色)
    "white": "白",
    "black": "黑",
    "grey": "灰",
    "red": "红",
    "orange": "橙",
    "yellow": "黄",
    "gold": "金",
    "green": "绿",
    "blue": "蓝",
    "purple": "紫",
    "pink": "粉",
}
ALIASES = {"gray": "grey", "golden": "gold", "橘": "orange", "粉红": "pink", "金黄": "gold"}
WHITE = TEXT_COLOURS["white"]
_HEX = re.compile(r"#([0-9a-f]{3}|[0-9a-f]{6})", re.I)


def colour_name(word: str) -> str | None:
    """The table's name for a colour word ("Gray", "黄色", "golden"), else None."""
    w = word.strip().lower()
    if w.endswith("色"):
        w = w[:-1]
    w = ALIASES.get(w, w)
    if w in TEXT_COLOURS:
        return w
    return next((k for k, zh in COLOUR_ZH.items() if zh == w), None)


def colour_hex(value: object) -> str | None:
    """`value` (a name, `#RGB` or `#RRGGBB`) as `#RRGGBB` in upper case, else None."""
    if not isinstance(value, str):
        return None
    name = colour_name(value)
    if name:
        return TEXT_COLOURS[name]
    m = _HEX.fullmatch(value.strip())
    if not m:
        return None
    digits = m.group(1).upper()
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return "#" + digits


def colour_label(value: object) -> str | None:
    """How to say a colour: the table's name when it is one, else its `#RRGGBB`; None when it
    is no colour."""
    hexed = colour_hex(value)
    if hexed is None:
        return None
    return next((k for k, v in TEXT_COLOURS.items() if v == hexed), hexed)
