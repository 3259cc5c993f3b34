"""The transcript: the person's messages, the streamed Markdown answer, tool and status lines."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

if TYPE_CHECKING:
    from textual.widget import Widget
    from textual.widgets import Markdown

    from tui.history import Entry


def _markdown(text: str = "") -> Markdown:
    # Imported on the first answer, not for the first screen (markdown-it costs ~70 ms).
    from textual.widgets import Markdown

    return Markdown(text)


class ToolCallLine(Static):
    """One compact dim line per tool call; click (or Enter when focused) shows its arguments."""

    DEFAULT_CSS = """
    ToolCallLine { color: $text-muted; text-style: dim; height: 1; text-wrap: nowrap;
                   text-overflow: ellipsis; }
    ToolCallLine.-expanded { text-style: none; height: auto; text-wrap: wrap; }
    """
    can_focus = False

    def __init__(self, name: str, args: dict | None = None) -> None:
        self.tool_name = name
        self.args = args or {}
        super().__init__(self._text(False), markup=False)

    def _text(self, expanded: bool) -> str:
        if not self.args:
            return f"  ↳ {self.tool_name}"
        if expanded:
            return f"  ↳ {self.tool_name}\n" + json.dumps(self.args, ensure_ascii=False, indent=2)
        short = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in self.args.items())
        if len(short) > 60:
            short = short[:59] + "…"
        return f"  ↳ {self.tool_name}({short})"

    def on_click(self) -> None:
        self.expand(not self.has_class("-expanded"))

    def expand(self, on: bool) -> None:
        self.set_class(on, "-expanded")
        self.update(self._text(on))


class Transcript(VerticalScroll):
    BINDINGS = [Binding("t", "toggle_tools", "Tool details")]
    DEFAULT_CSS = """
    Transcript { border: round $primary-darken-1; padding: 0 1; }
    Transcript:focus { border: round $primary; }
    Transcript > .user { color: $text-accent; text-style: bold; margin-top: 1; }
    Transcript > .status { color: $text-muted; }
    Transcript > .error { color: $text-error; }
    Transcript > .hint { color: $text-warning; }
    Transcript > .rule { color: $text-muted; text-style: dim; margin-top: 1; }
    Transcript > Markdown { margin: 0; padding: 0; }
    Transcript > Markdown > * { margin-bottom: 0; }
    """

    def on_mount(self) -> None:
        self.border_title = "Transcript"
        self._answer: Markdown | None = None
        self._stream = None
        self._text = ""

    def action_toggle_tools(self) -> None:
        """Show (or hide again) the arguments of every tool call."""
        lines = list(self.query(ToolCallLine))
        on = not any(line.has_class("-expanded") for line in lines)
        for line in lines:
            line.expand(on)

    def _add(self, widget: Static) -> None:
        self.mount(widget)
        self.scroll_end(animate=False)

    def add_user(self, text: str) -> None:
        self._add(Static(f"› {text}", classes="user", markup=False))

    def add_status(self, text: str, error: bool = False, hint: str = "") -> None:
        self._add(
            Static(
                f"✗ {text}" if error else text, classes="error" if error else "status", markup=False
            )
        )
        if hint:
            self._add(Static(f"  → {hint}", classes="hint", markup=False))

    def add_tool(self, name: str, args: dict | None = None) -> None:
        self._add(ToolCallLine(name, args))

    def add_markdown(self, text: str) -> None:
        self.mount(_markdown(text))
        self.scroll_end(animate=False)

    def add_history(self, entries: Sequence[Entry]) -> None:
        """The resumed session's earlier conversation, mounted at once, between two rules."""
        shown: list[Widget] = [Static("── earlier in this session ──", classes="rule")]
        for e in entries:
            if e.kind == "user":
                shown.append(Static(f"› {e.text}", classes="user", markup=False))
            elif e.kind == "assistant":
                shown.append(_markdown(e.text))
            elif e.kind == "tool":
                shown.append(ToolCallLine(e.text, e.args))
            else:
                error = e.kind == "error"
                text = f"✗ {e.text}" if error else e.text
                shown.append(Static(text, classes="error" if error else "status", markup=False))
                if e.hint:
                    shown.append(Static(f"  → {e.hint}", classes="hint", markup=False))
        shown.append(Static("── now ──", classes="rule"))
        self.mount(*shown)
        self.scroll_end(animate=False)

    def lines(self) -> list[str]:
        """The transcript's text, one entry per line widget (for tests and the benchmark)."""
        out = []
        for child in self.children:
            if hasattr(child, "source"):  # a Markdown answer
                out.append(child.source)
            elif isinstance(child, Static):
                out.append(str(child.render()))
        return out

    async def append_chunk(self, text: str) -> None:
        if self._answer is None:
            from textual.widgets import Markdown

            self._answer = Markdown()
            await self.mount(self._answer)
            self._stream = Markdown.get_stream(self._answer)
            self._text = ""
        self._text += text
        assert self._stream is not None
        await self._stream.write(text)
        self.scroll_end(animate=False)

    async def finish_answer(self, text: str) -> None:
        """The final event repeats the whole text: it replaces the chunks."""
        if self._stream is not None:
            await self._stream.stop()
        if self._answer is None:
            self._answer = _markdown()
            await self.mount(self._answer)
        if text != self._text or self._stream is None:
            await self._answer.update(text)
        self._answer, self._stream, self._text = None, None, ""
        self.scroll_end(animate=False)
