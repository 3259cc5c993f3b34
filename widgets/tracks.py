"""The tracks pane: the timeline from the state, one numbered line per segment and a time bar.

With the focus, a segment is selected (up/down, j/k or a click; shown reversed, its bar marked
`▶`) and keys edit it. A key never changes the timeline here: it posts `Tracks.Say` with the
sentence a person could have typed (widgets/track_edits.py), which the app sends as an ordinary
agent turn. Enter or `e` on a title opens `TextEditor` under the pane, filled with its words.
`show_playhead` marks a time on every bar (the preview's position).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.text import Text
from textual import events, on
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input, Static

from tui.core.draft import TRACK_AUDIO, TRACK_TEXT, TRACK_VIDEO, Draft
from tui.core.draft import Segment as DraftSegment
from tui.core.draft_words import line
from widgets import track_edits
from widgets.track_edits import Said, Segment

BAR = 20
COLOURS = {TRACK_VIDEO: "green", TRACK_AUDIO: "magenta", TRACK_TEXT: "cyan"}
SELECTED = "▶"  # before the selected line's bar (the line reversed): seen without colour too
PLAYHEAD = "┃"


def time_bar(start: int, dur: int, total: int, width: int = BAR) -> tuple[str, str, str]:
    """Before, during and after a segment, in cells of a `width`-cell bar over `total` ms."""
    total = max(total, start + dur, 1)
    a = min(width - 1, round(start / total * width))
    b = max(a + 1, min(width, round((start + dur) / total * width)))
    return "·" * a, "█" * (b - a), "·" * (width - b)


def playhead_cell(at: int, total: int, width: int = BAR) -> int:
    """The cell of a `width`-cell bar over `total` ms that time `at` (ms) falls in."""
    return max(0, min(width - 1, int(at / max(total, 1) * width)))


def rows_of(draft: dict | Draft) -> list[tuple[DraftSegment, str]]:
    """Each segment with its own summary line: a bar is drawn from the segment its line says."""
    return [(seg, line(seg)) for seg in Draft.from_wire(draft).segments]


def render_tracks(
    draft: dict | Draft,
    summary: list[str],
    selected: int | None = None,
    playhead: int | None = None,
) -> Text:
    """The lines and bars; `summary`: the timeline's lines (summarize_draft's: each is drawn
    here from its own segment, with its bar; none: the empty timeline's words); `selected`: the
    index of the selected line; `playhead`: ms."""
    if not summary:
        return Text("(empty: upload an image, then say what you want)", style="dim")
    view = Draft.from_wire(draft)
    total = int(view.duration or 0)
    head = None if playhead is None else playhead_cell(playhead, total)
    out = Text()
    for i, (seg, said) in enumerate(rows_of(view)):
        if i:
            out.append("\n")
        out.append(said, style="reverse bold" if i == selected else "")
        st, dur = int(seg.start or 0), int(seg.dur or 0)
        # The marker goes in the bar's indent: a selected line is no wider (nor wraps).
        bar = Text("\n" + (f" {SELECTED} " if i == selected else "   "))
        colour = COLOURS.get(seg.track, "yellow")  # type: ignore[arg-type]
        for part, style in zip(time_bar(st, dur, total), ("dim", colour, "dim"), strict=True):
            bar.append(part, style=style)
        if head is not None:  # one cell of the bar becomes the playhead
            bar = Text.assemble(bar[: 4 + head], (PLAYHEAD, "bold"), bar[5 + head :])
        out.append_text(bar)
    return out


class TextEditor(Input):
    """A title's or caption's words, edited in place under the pane: Enter says the change,
    Escape leaves it as it was. Either way the focus goes back to the Tracks pane."""

    DEFAULT_CSS = """
    TextEditor { border: heavy $accent; height: 3; }
    """

    def __init__(self, tracks: Tracks, seg: Segment) -> None:
        super().__init__(seg.text, id="text-editor")
        self.tracks, self.seg = tracks, seg
        self.border_title = f"{seg.kind.capitalize()} text (Enter: change, Esc: keep)"

    def on_mount(self) -> None:
        self.focus()
        self.cursor_position = len(self.value)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip() != self.seg.text.strip():
            self.tracks.say(track_edits.retitle(self.seg, event.value))
        self._close()

    def key_escape(self, event: events.Key) -> None:
        event.stop()
        self._close()

    def on_blur(self) -> None:
        self.remove()  # Enter, Esc, or the focus gone elsewhere (Tab, a click)

    def _close(self) -> None:
        self.tracks.focus()


class Tracks(Static):
    DEFAULT_CSS = """
    Tracks { border: round $primary-darken-1; padding: 0 1; height: auto; min-height: 4; }
    Tracks:focus { border: heavy $primary; }
    """
    can_focus = True
    # Free keys: ctrl+r (credits) and ctrl+s (export) are the app's, `t` the transcript's.
    BINDINGS = [
        Binding("up,k", "select(-1)", "Select", show=False),
        Binding("down,j", "select(1)", "Select", show=False),
        Binding("right_square_bracket", "longer(500)", "Longer", key_display="]"),
        Binding("left_square_bracket", "longer(-500)", "Shorter", key_display="["),
        Binding("right_curly_bracket", "longer(1000)", "Longer 1s", show=False),
        Binding("left_curly_bracket", "longer(-1000)", "Shorter 1s", show=False),
        Binding("right", "move(500)", "Later", key_display="→"),
        Binding("left", "move(-500)", "Earlier", key_display="←"),
        Binding("shift+right", "move(1000)", "Later 1s", show=False),
        Binding("shift+left", "move(-1000)", "Earlier 1s", show=False),
        Binding("delete,x", "delete", "Delete", key_display="del"),
        Binding("enter,e", "edit", "Edit text"),
        Binding("m", "volume(0)", "Mute"),
        Binding("plus,equals_sign", "volume(10)", "Louder", key_display="+"),
        Binding("minus", "volume(-10)", "Quieter", key_display="-"),
        Binding("u", "say('undo')", "Undo"),
        Binding("r", "say('redo')", "Redo"),
    ]
    # The same keys in words, for /help.
    HELP = (
        "**In Tracks** (Tab to it): **↑/↓** or **j/k** select a segment, **]**/**[** make it "
        "0.5 s longer/shorter (**}**/**{**: 1 s), **→/←** move it 0.5 s later/earlier "
        "(**shift**: 1 s), **del** or **x** delete it, **Enter** or **e** edit a title's text, "
        "**m** mute or unmute, **+/-** music volume, **u** undo, **r** redo. Each key sends "
        "the sentence you could have typed; any other letter goes to the prompt."
    )

    @dataclass
    class Say(Message):
        """A key's sentence, to send as an agent turn ("make the title 1 second longer")."""

        tracks: Tracks
        text: str

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.draft: dict = {}
        self.view = Draft()  # the draft read once, drawn on each playhead move
        self.summary: list[str] = []
        self.rows: list[tuple[DraftSegment, str]] = []  # each segment with its line
        self.segments: list[Segment] = []  # the same, as the keys need them
        self.selected = 0
        self.playhead: int | None = None  # ms
        self._before_mute: int | None = None  # the music's volume when `m` muted it
        # The volume the last key asked for, until the timeline comes back: a second `+`
        # pressed before the first turn's answer goes on from it, not from the old volume.
        self._asked_volume: int | None = None

    def on_mount(self) -> None:
        self.border_title = "Tracks"
        self.show({}, [])

    def show(self, draft: dict, summary: list[str]) -> None:
        self.draft = draft
        self.summary = list(summary)
        self.view = view = Draft.from_wire(draft)
        self.rows = rows_of(view) if summary else []
        self.segments = [track_edits.segment(seg) for seg, _ in self.rows]
        self._asked_volume = None
        self.selected = max(0, min(self.selected, len(self.segments) - 1))
        w, h = view.meta.width, view.meta.height
        if summary and w and h:
            secs = int(view.duration or 0) / 1000
            self.border_subtitle = f"{secs:g}s · {w}×{h}"
        else:
            self.border_subtitle = ""
        self._draw()

    def show_playhead(self, seconds: float | None) -> None:
        """Mark `seconds` on every time bar (None: no mark)."""
        playhead = None if seconds is None else max(0, round(seconds * 1000))
        if playhead != self.playhead:
            self.playhead = playhead
            self._draw()

    def _draw(self, focused: bool | None = None) -> None:
        # The selection shows only with the focus: elsewhere the pane is a plain summary.
        focused = self.has_focus if focused is None else focused
        selected = self.selected if focused and self.segments else None
        self.update(render_tracks(self.view, self.summary, selected, self.playhead))

    def on_focus(self) -> None:
        self._draw(True)  # (has_focus is set after this handler)

    def on_blur(self) -> None:
        self._draw(False)

    @property
    def segment(self) -> Segment | None:
        return self.segments[self.selected] if self.segments else None

    # ---- keys ------------------------------------------------------------------------------

    def say(self, said: Said) -> None:
        if said.text:
            self.post_message(self.Say(self, said.text))
        elif said.why_not:
            self.notify(said.why_not, title="Tracks", severity="warning", timeout=4)

    def _on_segment(self, what: str) -> Segment | None:
        seg = self.segment
        if seg is None:
            self.notify(f"Nothing to {what}: the timeline is empty", severity="warning")
        return seg

    def on_click(self, event: events.Click) -> None:
        """A click on a segment's line or bar selects it (the click also gives the focus)."""
        y, width = event.y - 1, self.content_size.width  # under the top border
        if not self.segments or width <= 0 or y < 0:
            return
        row = 0
        for i, (_, said) in enumerate(self.rows):
            row += len(Text(said).wrap(self.app.console, width)) + 1  # its bar under it
            if y < row:
                self.selected = i
                self._draw(True)
                return

    def action_select(self, step: int) -> None:
        if self.segments:
            self.selected = (self.selected + step) % len(self.segments)
            self._draw()

    def action_longer(self, ms: int) -> None:
        if seg := self._on_segment("lengthen"):
            self.say(track_edits.longer(seg, ms))

    def action_move(self, ms: int) -> None:
        if seg := self._on_segment("move"):
            self.say(track_edits.move(seg, ms))

    def action_delete(self) -> None:
        if seg := self._on_segment("delete"):
            self.say(track_edits.delete(seg))

    def action_volume(self, step: int) -> None:
        if seg := self._on_segment("change"):
            if seg.kind == "music" and self._asked_volume is not None:
                seg = replace(seg, volume=self._asked_volume)
            if step == 0 and seg.kind == "music" and seg.volume:
                self._before_mute = seg.volume
            said = track_edits.volume(seg, step, self._before_mute)
            self._asked_volume = said.volume if said.volume is not None else self._asked_volume
            self.say(said)

    def action_say(self, text: str) -> None:
        self.say(Said(text))

    async def action_edit(self) -> None:
        seg = self._on_segment("edit")
        if seg is None:
            return
        if seg.kind not in ("title", "caption"):
            self.say(track_edits.retitle(seg, ""))
            return
        if self.parent is not None:
            await self.parent.mount(TextEditor(self, seg), after=self)
