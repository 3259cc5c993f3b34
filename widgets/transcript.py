"""The transcript: the person's messages, the streamed Markdown answer, tool and status lines.

Tool calls are the backend's business: hidden until `t` shows them, with their arguments."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from textual import events
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

if TYPE_CHECKING:
    from textual.widgets import Markdown

    from tui.app.history import Entry


def _markdown(text: str = "") -> Markdown:
    # Imported on the first answer, not for the first screen (markdown-it costs ~70 ms).
    from textual.widgets import Markdown

    return Markdown(text)


class AnswerStream:
    """Streamed text appended to a Markdown widget, fragments that arrive while one is drawn
    joined into the next append. Textual's MarkdownStream does the same, but its stop() cancels
    the drawing task mid-append and then appends what was pending while the cancelled append goes
    on under its shield: under load the two raced and an answer's last words went missing."""

    def __init__(self, markdown: Markdown) -> None:
        self.markdown = markdown
        self._pending: list[str] = []
        self._task: asyncio.Task[None] | None = None

    def write(self, fragment: str) -> None:
        if not fragment:
            return
        self._pending.append(fragment)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        while self._pending:  # one append at a time, in order
            text = "".join(self._pending)
            self._pending.clear()
            await self.markdown.append(text)

    async def finish(self) -> None:
        """Every fragment written is drawn when this returns."""
        while self._task is not None and not self._task.done():
            await self._task


class ToolCallLine(Static):
    """One compact dim line per tool call (shown by `t`); a click shows or hides its arguments."""

    DEFAULT_CSS = """
    ToolCallLine { color: $text-muted; text-style: dim; height: 1; text-wrap: nowrap;
                   text-overflow: ellipsis; display: none; }
    ToolCallLine.-expanded { text-style: none; height: auto; text-wrap: wrap; }
    """
    can_focus = False

    def __init__(self, name: str, args: dict | None = None) -> None:
        self.tool_name = name
        self.args = args or {}
        super().__init__(self._text(False), markup=False)

    def _text(self, expanded: bool) -> str:
        if expanded and self.args:
            return f"  ↳ {self.tool_name}\n" + json.dumps(self.args, ensure_ascii=False, indent=2)
        return self.one_line(self.tool_name, self.args)

    @staticmethod
    def one_line(name: str, args: dict) -> str:
        if not args:
            return f"  ↳ {name}"
        short = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in args.items())
        if len(short) > 60:
            short = short[:59] + "…"
        return f"  ↳ {name}({short})"

    def on_click(self) -> None:
        self.expand(not self.has_class("-expanded"))

    def expand(self, on: bool) -> None:
        self.set_class(on, "-expanded")
        self.update(self._text(on))


class HistoryBlock(Static):
    """Earlier lines of a resumed session in one widget: a widget per line cost ~2 ms each to
    mount, and a long session's history would have held "Ready" back by most of a second."""

    DEFAULT_CSS = """
    HistoryBlock { color: $text-muted; }
    """

    def __init__(self, entries: Sequence[Entry]) -> None:
        self.entries = list(entries)
        self.plain_lines: list[str] = []  # the same lines as text (lines(), tests)
        super().__init__(self._group(False))

    def show_tools(self, on: bool) -> None:
        self.update(self._group(on))

    def _group(self, tools: bool) -> Any:
        from rich.console import Group
        from rich.markdown import Markdown as RichMarkdown
        from rich.text import Text

        parts: list[Any] = []
        self.plain_lines = []

        def line(text: str, style: str = "", one_row: bool = False) -> None:
            if one_row:  # as the live tool lines: cut, not wrapped
                parts.append(Text(text, style=style, no_wrap=True, overflow="ellipsis"))
            else:
                parts.append(Text(text, style=style))
            self.plain_lines.append(text)

        for e in self.entries:
            if e.kind == "user":
                parts.append(Text(""))
                line(f"› {e.text}", "bold")
            elif e.kind == "assistant":
                parts.append(RichMarkdown(e.text))
                self.plain_lines.append(e.text)
            elif e.kind == "tool":
                if tools:  # as the live ones: hidden until `t`
                    line(ToolCallLine.one_line(e.text, e.args), "dim", one_row=True)
            elif e.kind == "error":
                line(f"✗ {e.text}", "bold red")
                if e.hint:
                    line(f"  → {e.hint}", "yellow")
            else:
                line(e.text)
        return Group(*parts)


class Transcript(VerticalScroll):
    """The conversation. A view at its end stays there when the lines or the pane change size (a
    new line, a resize, `t`, the history); one scrolled up stays put. (Not Textual's anchor(): it
    pushes a transcript shorter than its pane down to the pane's bottom.)"""

    _follow = True  # the view is at the end (set by each move of it)
    BINDINGS = [Binding("t", "toggle_tools", "Tool details")]
    DEFAULT_CSS = """
    Transcript { border: round $primary-darken-1; padding: 0 1; }
    Transcript:focus { border: heavy $primary; }
    Transcript > .user { color: $text-accent; text-style: bold; margin-top: 1; }
    Transcript > .status { color: $text-muted; }
    Transcript > .error { color: $text-error; text-style: bold; }
    Transcript > .hint { color: $text-warning; }
    /* NO_COLOR greys every colour (an error was 1.6:1): full contrast, reversed, instead. */
    Transcript:nocolor > .error { color: $foreground; text-style: bold reverse; }
    Transcript:nocolor > .hint { color: $foreground; }
    Transcript > .rule { color: $text-muted; text-style: dim; margin-top: 1; }
    Transcript > Markdown { margin: 0; padding: 0; }
    Transcript > Markdown > * { margin-bottom: 0; }
    Transcript.-tools > ToolCallLine { display: block; }
    """

    def on_mount(self) -> None:
        self.border_title = "Transcript"
        self._answer: Markdown | None = None
        self._stream: AnswerStream | None = None
        self._text = ""
        self._still: Static | None = None  # "⏳ Still working…", updated in place

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        # Only a move of the view changes this: growth under it leaves scroll_y as it was.
        self._follow = new_value >= self.max_scroll_y

    def watch_virtual_size(self) -> None:  # the lines grew or shrank
        self.call_after_refresh(self._keep_end)

    def on_resize(self, event: events.Resize) -> None:  # the pane changed size
        self.call_after_refresh(self._keep_end)

    def _keep_end(self) -> None:
        if self._follow and self.scroll_y < self.max_scroll_y:
            self.scroll_end(animate=False, immediate=True)

    def action_toggle_tools(self) -> None:
        """Show every tool call with its arguments, or hide them again."""
        on = not self.has_class("-tools")
        self.set_class(on, "-tools")
        for line in self.query(ToolCallLine):
            line.expand(on)
        for block in self.query(HistoryBlock):
            block.show_tools(on)

    def _add(self, widget: Static) -> None:
        self._still = None  # a later "still working" is a line of its own, under this one
        self.mount(widget)  # the view follows it, unless it was scrolled up

    def still_working(self, text: str) -> None:
        """One line for a long quiet turn, updated in place: never one per heartbeat."""
        if self._still is not None and self._still.is_attached:
            self._still.update(text)
            return
        self._add(Static(text, classes="status", markup=False))
        self._still = self.children[-1] if self.children else None

    def add_user(self, text: str) -> None:
        self._add(Static(f"› {text}", classes="user", markup=False))
        self.scroll_end(animate=False)  # what the person just said, and what follows it

    def add_status(self, text: str, error: bool = False, hint: str = "") -> None:
        self._add(
            Static(
                f"✗ {text}" if error else text, classes="error" if error else "status", markup=False
            )
        )
        if hint:
            self._add(Static(f"  → {hint}", classes="hint", markup=False))

    def add_tool(self, name: str, args: dict | None = None) -> None:
        line = ToolCallLine(name, args)
        if self.has_class("-tools"):
            line.expand(True)
        self.mount(line)  # hidden: not a line that ends a "still working" one

    def add_markdown(self, text: str) -> None:
        self.mount(_markdown(text))

    def add_history(self, entries: Sequence[Entry]) -> None:
        """The resumed session's earlier conversation, between two rules, as one widget."""
        self._still = None
        block = HistoryBlock(entries)
        if self.has_class("-tools"):
            block.show_tools(True)
        self.mount(
            Static("── earlier in this session ──", classes="rule"),
            block,
            Static("── now ──", classes="rule"),
        )

    def lines(self) -> list[str]:
        """The transcript's text as shown, one entry per line widget (tests, the benchmark)."""
        out = []
        for child in self.children:
            if isinstance(child, ToolCallLine) and not self.has_class("-tools"):
                continue
            if isinstance(child, HistoryBlock):
                out.extend(child.plain_lines)
            elif hasattr(child, "source"):  # a Markdown answer
                out.append(child.source)
            elif isinstance(child, Static):
                out.append(str(child.render()))
        return out

    async def append_chunk(self, text: str) -> None:
        self._still = None
        if self._answer is None:
            from textual.widgets import Markdown

            self._answer = Markdown()
            await self.mount(self._answer)
            self._stream = AnswerStream(self._answer)
            self._text = ""
        self._text += text
        assert self._stream is not None
        self._stream.write(text)
        await asyncio.sleep(0)  # let the drawing task take it up

    async def finish_answer(self, text: str) -> None:
        """The final event repeats the whole text: it replaces the chunks."""
        if self._stream is not None:
            await self._stream.finish()
        if self._answer is None:
            self._answer = _markdown()
            await self.mount(self._answer)
        # Drawn afresh from the whole text, even when the chunks said the same: a paragraph that
        # grew by appends kept the height of its first chunk under load (its last line cut).
        await self._answer.update(text)
        self._answer, self._stream, self._text = None, None, ""
