"""The transcript: the person's messages, the assistant's streamed Markdown, status lines."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widgets import Markdown, Static


class Transcript(VerticalScroll):
    DEFAULT_CSS = """
    Transcript { border: round $primary-darken-1; padding: 0 1; }
    Transcript > .user { color: $text-accent; margin-top: 1; }
    Transcript > .status { color: $text-muted; }
    Transcript > .error { color: $text-error; }
    Transcript > .tool { color: $text-muted; text-style: dim; }
    Transcript > Markdown { margin: 0; padding: 0; }
    """

    def on_mount(self) -> None:
        self.border_title = "Transcript"
        self._answer: Markdown | None = None
        self._stream = None
        self._text = ""

    def add_user(self, text: str) -> None:
        self.mount(Static(f"› {text}", classes="user", markup=False))
        self.scroll_end(animate=False)

    def add_status(self, text: str, error: bool = False) -> None:
        self.mount(Static(text, classes="error" if error else "status", markup=False))
        self.scroll_end(animate=False)

    def add_tool(self, name: str) -> None:
        self.mount(Static(f"  ↳ {name}", classes="tool", markup=False))
        self.scroll_end(animate=False)

    async def append_chunk(self, text: str) -> None:
        if self._answer is None:
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
            self._answer = Markdown()
            await self.mount(self._answer)
        if text != self._text:
            await self._answer.update(text)
        self._answer, self._stream, self._text = None, None, ""
        self.scroll_end(animate=False)
