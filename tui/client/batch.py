"""A batch the seed's way: several files uploaded into ONE session, then taken one by one, each
with its own instruction (a turn that names its file), each its own render of the timeline that
turn left.

The caller runs the turns (it shows them as they stream) and starts the renders; this module
opens the batch's session, uploads into it, and words each file's turn so that the cloud's
agent and the local engine's both take that file alone ("Use only the 2nd photo of all 3").
What one turn leaves that the next instruction does not change (a title, music) stays on the
timeline, as in any conversation with the backend.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from tui.client.errors import ClientError
from tui.client.renders import RenderCalls

_ORDINAL_ENDS = {1: "st", 2: "nd", 3: "rd"}


@dataclass(frozen=True)
class BatchItem:
    """One file of a batch and what it should become."""

    source: Path | str  # a local file, or an http(s) URL the backend fetches itself
    instruction: str

    @property
    def is_url(self) -> bool:
        return isinstance(self.source, str) and self.source.startswith(("http://", "https://"))

    @property
    def name(self) -> str:
        if self.is_url:
            return PurePosixPath(urlsplit(str(self.source)).path).name or str(self.source)
        return Path(self.source).name


@dataclass
class BatchFile:
    """A file in the batch's session: its place among the uploaded ones (1-based)."""

    item: BatchItem
    position: int
    count: int = 0  # how many the session holds, once all are uploaded

    def message(self, language: str = "en") -> str:
        """Its turn's words: the file named by its place and its name, then its instruction."""
        n, count, text = self.position, self.count, self.item.instruction.strip()
        if language.startswith("zh"):
            return f"只用第{n}张图片（共{count}张图片：{self.item.name}）：{text}"
        nth = f"{n}{'th' if 10 <= n % 100 <= 20 else _ORDINAL_ENDS.get(n % 10, 'th')}"
        return f"Use only the {nth} photo of all {count} ({self.item.name}): {text}"


def split_instructions(text: str, names: list[str]) -> tuple[str, dict[str, str]]:
    """Per-file instructions typed at once: "beach.jpg: zoom in; city: pan left" (a file by its
    name or stem, parts split by ";" or lines). Returns the words for every file (the parts
    that name none; all of `text` when no part names a file) and each named file's own."""
    by_key = {k.lower(): n for n in names for k in (n, Path(n).stem)}
    own: dict[str, str] = {}
    common: list[str] = []
    for part in re.split(r"[;；\n]", text):
        head, sep, rest = part.partition(":") if ":" in part else part.partition("：")
        name = by_key.get(head.strip().lower()) if sep else None
        if name is not None and rest.strip():
            own[name] = rest.strip()
        elif part.strip():
            common.append(part.strip())
    return ("; ".join(common) if own else text.strip()), own


def own_instruction(path: Path, fallback: str) -> str:
    """A file's own instruction: its sidecar NAME.txt (as the watch folder reads it), else
    `fallback`, the one instruction for the whole batch."""
    for side in (path.with_suffix(".txt"), path.with_suffix(".TXT")):
        try:
            text = side.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            continue
        if text:
            return text
    return fallback


class BatchCalls(RenderCalls):
    async def open_batch(self) -> None:
        """The batch's own session: never saved as the current one (the person's timeline
        stays theirs, and the app resumes it)."""
        await self.new_session(persist=False)

    async def add_to_batch(self, item: BatchItem, files: list[BatchFile]) -> BatchFile:
        """Upload one item into the batch's session: appended to `files` once it is there (a
        refused file takes no place, so the places the turns name stay true)."""
        if item.is_url:
            got = await self.upload_urls([str(item.source)])
        else:
            got = await self.upload([Path(item.source)])
        if not got:
            raise ClientError(f"{item.name}: the backend took nothing from it")
        entry = BatchFile(item, len(files) + 1)
        files.append(entry)
        for f in files:
            f.count = len(files)
        return entry
