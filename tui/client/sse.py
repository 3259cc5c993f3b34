"""Server-Sent Events, read as the HTML standard's event-stream rules say, comments included.

Our own reader rather than httpx-sse's: its public `aiter_sse` drops `: ping` comment lines,
which are the backend's heartbeats, and its line decoder is private API.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class LineSplitter:
    """Text chunks in, whole lines out: a line ends at CRLF, LF or CR, even split across chunks."""

    def __init__(self) -> None:
        self._buf = ""
        self._cr = False  # the last chunk ended with CR: an LF opening the next one belongs to it

    def feed(self, chunk: str) -> list[str]:
        if not chunk:
            return []
        if self._cr and chunk.startswith("\n"):
            chunk = chunk[1:]
        self._cr = chunk.endswith("\r")
        text = self._buf + chunk
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self._buf = lines.pop()  # the unfinished rest (or "" after a line end)
        return lines

    def flush(self) -> list[str]:
        """What is left when the stream ends (a last line without its line end)."""
        rest, self._buf = self._buf, ""
        return [rest] if rest else []


@dataclass
class EventReader:
    """Lines in, `data` payloads out: one per event, at the blank line that ends it."""

    _data: list[str] = field(default_factory=list)
    event: str = ""  # the current event's type, for servers that name them

    def line(self, line: str) -> str | None:
        """The event's data when `line` ends one (a blank line after data), else None."""
        if not line:
            if not self._data:
                self.event = ""
                return None
            data, self._data, self.event = "\n".join(self._data), [], ""
            return data
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self.event = value
        return None  # id and retry mean nothing to one turn's stream; unknown fields are skipped
