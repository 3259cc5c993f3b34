"""The tracks pane: the timeline from the state, one numbered line per segment and a time bar."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tui.core.protocol import TRACK_AUDIO, TRACK_TEXT, TRACK_VIDEO

BAR = 20
COLOURS = {TRACK_VIDEO: "green", TRACK_AUDIO: "magenta", TRACK_TEXT: "cyan"}


def time_bar(start: int, dur: int, total: int, width: int = BAR) -> tuple[str, str, str]:
    """Before, during and after a segment, in cells of a `width`-cell bar over `total` ms."""
    total = max(total, start + dur, 1)
    a = min(width - 1, round(start / total * width))
    b = max(a + 1, min(width, round((start + dur) / total * width)))
    return "·" * a, "█" * (b - a), "·" * (width - b)


def render_tracks(draft: dict, summary: list[str]) -> Text:
    if not summary:
        return Text("(empty: upload an image, then say what you want)", style="dim")
    total = int(draft.get("d", 0) or 0)
    segs = [
        (t.get("tt"), s)
        for t in draft.get("t") or []
        if isinstance(t, dict)
        for s in t.get("sg") or []
        if isinstance(s, dict)
    ]
    out = Text()
    for i, line in enumerate(summary):
        if i:
            out.append("\n")
        out.append(line)
        if i < len(segs):
            tt, seg = segs[i]
            before, during, after = time_bar(
                int(seg.get("st", 0) or 0), int(seg.get("d", 0) or 0), total
            )
            out.append("\n   ")
            out.append(before, style="dim")
            out.append(during, style=COLOURS.get(tt, "yellow"))
            out.append(after, style="dim")
    return out


class Tracks(Static):
    DEFAULT_CSS = """
    Tracks { border: round $primary-darken-1; padding: 0 1; height: auto; min-height: 4; }
    Tracks:focus { border: heavy $primary; }
    """
    can_focus = True

    def on_mount(self) -> None:
        self.border_title = "Tracks"
        self.show({}, [])

    def show(self, draft: dict, summary: list[str]) -> None:
        self.summary = list(summary)
        m = draft.get("m") or {}
        if summary and m.get("width") and m.get("height"):
            secs = int(draft.get("d", 0) or 0) / 1000
            self.border_subtitle = f"{secs:g}s · {m['width']}×{m['height']}"
        else:
            self.border_subtitle = ""
        self.update(render_tracks(draft, summary))
