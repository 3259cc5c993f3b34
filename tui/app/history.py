"""The conversation of each session, kept beside the client's state so a restart shows it again.

The backend keeps a session's timeline, not its words; the app resumes the last session at
start, so without this the person would come back to tracks they built and an empty transcript.
One JSON line per entry in I2V_FLOW_HOME/history/<backend>/<session>.jsonl, appended by one
writer thread (in order, never on the UI thread); a damaged line is skipped, never fatal.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from concurrent.futures import Future

KINDS = ("user", "assistant", "tool", "status", "error")
KEEP = 100  # entries shown again at most: the tail of a long session (~130 ms to show)


@dataclass(frozen=True)
class Entry:
    kind: str  # one of KINDS
    text: str = ""
    hint: str = ""  # errors: what to do next
    args: dict[str, Any] = field(default_factory=dict)  # tools: the call's arguments


def _safe(name: str) -> str:
    """A file name for a backend key or session id (a URL, a number) that says what it is."""
    plain = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")[:40] or "x"
    if plain == name:
        return plain
    import hashlib  # only for names that needed changing (a URL)

    return f"{plain}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


class History:
    """Entries per (backend, session); reads are synchronous, appends go to the writer thread."""

    def __init__(self, folder: Path, backend_key: str) -> None:
        self.key = backend_key
        self.folder = Path(folder) / _safe(backend_key)
        from concurrent.futures import ThreadPoolExecutor  # made after the first screen

        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="i2v-history")

    def path(self, session_id: str) -> Path:
        return self.folder / f"{_safe(str(session_id))}.jsonl"

    def append(self, session_id: str, entry: Entry) -> Future[None]:
        path = self.path(session_id)
        try:
            return self._writer.submit(self._write, path, entry)
        except RuntimeError:  # closed: a last answer landing as the app exits is still kept
            from concurrent.futures import Future

            done: Future[None] = Future()
            self._write(path, entry)  # one short line, once, at exit
            done.set_result(None)
            return done

    @staticmethod
    def _write(path: Path, entry: Entry) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(asdict(entry), ensure_ascii=False, default=str)
        with path.open("a", encoding="utf-8") as f:
            f.write(line + "\n")

    def load(self, session_id: str, keep: int = KEEP) -> list[Entry]:
        try:
            lines = self.path(session_id).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        out = []
        for line in lines.splitlines():
            try:
                raw = json.loads(line)
                entry = Entry(
                    kind=str(raw["kind"]),
                    text=str(raw.get("text", "")),
                    hint=str(raw.get("hint", "")),
                    args=dict(raw.get("args") or {}),
                )
            except (ValueError, KeyError, TypeError):
                continue  # a line cut by a crash, or edited by hand
            if entry.kind in KINDS:
                out.append(entry)
        return out[-keep:]

    def close(self) -> None:
        """Let the queued appends land (a handful of lines), then stop the writer."""
        self._writer.shutdown(wait=True)
