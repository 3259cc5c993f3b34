"""The Files pane: folders and accepted media only, the highlighted file's facts and a preview.

Enter uploads the highlighted file (DirectoryTree.FileSelected); space marks files for a batch.
The folder and its open subfolders are watched (watchfiles): files made while the app runs, and
new exports, show as they come, the cursor staying on the file it was on.
The facts and the picture come from widgets/media_facts.py (images, a video's first frame, audio
lengths), in a thread. The preview is real pixels where the terminal draws them
(tui/terminal/graphics.py decides before the app starts; widgets/pixels.py draws) and coloured
half-blocks elsewhere, as over plain SSH.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from rich.color import Color
from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DirectoryTree, Static, Tree
from textual.widgets._directory_tree import DirEntry
from textual.widgets._tree import TreeNode
from textual.worker import get_current_worker

from tui.core.protocol import file_kind

# widgets/pixels.py and media_facts.py load when a preview needs them: the first screen (every
# millisecond of it counted) has no use for them.
if TYPE_CHECKING:
    from tui.terminal.graphics import Graphics
    from widgets.pixels import Picture

MARK = "● "
SETTLE_MS = 300  # changes in a burst (a copy, an export landing) make one reload


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"  # pragma: no cover


class FileBrowser(DirectoryTree):
    """A DirectoryTree of folders and accepted types; space marks files for a batch."""

    DEFAULT_CSS = """
    FileBrowser { background: $surface; }
    """
    BINDINGS = [
        Binding("enter", "select_cursor", "Upload", show=True),
        Binding("space", "mark", "Mark", show=True),
    ]

    @dataclass
    class MarksChanged(Message):
        """The set of marked files changed (in marking order)."""

        browser: FileBrowser
        paths: list[Path]

    def __init__(self, path: str | Path, *, id: str | None = None) -> None:
        super().__init__(path, id=id)
        self.marked: list[Path] = []
        # The folder's own name, not its absolute path: stable and short (never "" for ".").
        self.root_name = Path(path).resolve().name or str(Path(path).resolve())
        self.root.set_label(self.root_name)
        self._watched: list[Path] = []  # the folders the watch worker looks at
        self._watch_failures = 0  # watches that failed to start, in a row

    def reset_node(
        self, node: TreeNode[DirEntry], label: str | Text, data: DirEntry | None = None
    ) -> FileBrowser:
        # DirectoryTree relabels the root with its path's name on every reload: "" for ".".
        return super().reset_node(node, self.root_name if node is self.root else label, data)

    def on_mount(self) -> None:
        self.follow_folders()

    async def _on_tree_node_expanded(self, event: Tree.NodeExpanded[DirEntry]) -> None:
        # A folder removed while open is re-expanded by the next reload, and DirectoryTree
        # takes a node that is no folder for a file chosen: FileSelected, an upload of a folder
        # that is gone. Nothing to load, nothing chosen: its own handler is skipped.
        entry = event.node.data
        if entry is not None and not await asyncio.to_thread(entry.path.is_dir):
            event.stop()
            event.prevent_default()

    @on(Tree.NodeExpanded)
    @on(Tree.NodeCollapsed)
    def _opened(self, event: Tree.NodeExpanded | Tree.NodeCollapsed) -> None:
        if sorted(self.open_folders()) != self._watched:  # a reload re-expands: no restart
            self.follow_folders()

    def _open_nodes(self) -> list[TreeNode[DirEntry]]:
        found, todo = [], [self.root]
        while todo:
            node = todo.pop()
            if node.data is not None and (node is self.root or node.is_expanded):
                found.append(node)
                todo.extend(n for n in node.children if n.allow_expand)
        return found

    def open_folders(self) -> list[Path]:
        """The root and every expanded folder under it: what the tree shows, so what to watch."""
        return [node.data.path for node in self._open_nodes() if node.data is not None]

    @work(exclusive=True, group="files-watch", exit_on_error=False)
    async def follow_folders(self) -> None:
        """Reload the tree when a shown folder changes (Posting's way: watchfiles.awatch in an
        exclusive worker, restarted when a folder opens or closes). Not recursive: a big
        folder's hidden depths cost nothing."""
        from watchfiles import awatch

        self._watched = sorted(self.open_folders())
        folders = [p for p in self._watched if p.is_dir()]
        if not folders:
            return
        await asyncio.sleep(0.05)  # a burst of expands restarts this once, not once each
        caught_up = False
        try:
            async for changes in awatch(
                *folders,
                recursive=False,
                debounce=SETTLE_MS,
                step=50,
                rust_timeout=1000,
                yield_on_timeout=True,  # an empty set: the watch is up (and idle)
                ignore_permission_denied=True,
            ):
                self._watch_failures = 0
                if not changes:
                    if caught_up:
                        continue
                    caught_up = True  # once the watch is up: what changed before it started
                    if not await self._stale():
                        continue
                names = {Path(p).name for _, p in changes}
                if changes and all(n.startswith(".") for n in names):  # .part files, swap files
                    continue
                await self.reload()
                if any(not p.exists() for p in self.marked):
                    self.marked = [p for p in self.marked if p.exists()]
                    self.post_message(self.MarksChanged(self, list(self.marked)))
                if sorted(self.open_folders()) != self._watched:  # an open folder went away
                    self.follow_folders()
                    return
        except (OSError, RuntimeError):
            # A folder gone as the watch started, or the system's watch limit: look again a
            # few times, then go on without (the tree still works, as it did before).
            self._watch_failures += 1
            if self._watch_failures <= 3:
                await asyncio.sleep(1.0)
                self.follow_folders()

    async def _stale(self) -> bool:
        """Whether an open folder holds other files than the tree shows (listed in a thread)."""
        shown = {
            node.data.path: {c.data.path for c in node.children if c.data is not None}
            for node in self._open_nodes()
            if node.data is not None
        }

        def differs() -> bool:
            for folder, paths in shown.items():
                try:
                    now = set(self.filter_paths(folder.expanduser().resolve().iterdir()))
                except OSError:
                    return True
                if now != paths:
                    return True
            return False

        return await asyncio.to_thread(differs)

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [
            p
            for p in paths
            if not p.name.startswith(".") and (p.is_dir() or file_kind(p.name) is not None)
        ]

    def render_label(self, node: TreeNode, base_style: Style, style: Style) -> Text:
        label = super().render_label(node, base_style, style)
        if node.data is not None and node.data.path in self.marked:
            label = Text.assemble((MARK, "bold"), label)
        return label

    def action_mark(self) -> None:
        node = self.cursor_node
        if node is None or node.data is None:
            return
        path = node.data.path
        if path.is_dir():
            node.toggle()
            return
        if path in self.marked:
            self.marked.remove(path)
        else:
            self.marked.append(path)
        node.refresh()
        self.post_message(self.MarksChanged(self, list(self.marked)))

    def clear_marks(self) -> None:
        self.marked.clear()
        self._invalidate()
        self.refresh()
        self.post_message(self.MarksChanged(self, []))


Preview: TypeAlias = "Text | Picture | None"  # half-blocks, real pixels, or nothing


class FileInfo(Vertical):
    """Size and pixel dimensions of the highlighted file, and its preview."""

    DEFAULT_CSS = """
    FileInfo { height: auto; }
    FileInfo > #facts { color: $text-muted; height: auto; padding: 0 1; }
    FileInfo > #preview { height: auto; max-height: 12; padding: 0 1; }
    FileInfo > PixelPreview { margin: 0 1; }
    """

    def __init__(self, *, graphics: Graphics | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.graphics = graphics

    def compose(self) -> ComposeResult:
        yield Static("", id="facts", markup=False)
        if self.graphics is not None:
            from widgets.pixels import PixelPreview

            yield PixelPreview(id="pixels")
        else:
            yield Static("", id="preview")

    def show(self, path: Path | None) -> None:
        facts = self.query_one("#facts", Static)
        if path is None or path.is_dir():
            facts.update("Folder: Enter opens it" if path is not None else "")
            self._set_preview(None)
            return
        facts.update(path.name)
        preview = self.query_one("#preview, #pixels")
        cols = max(0, self.content_size.width - 2)
        rows = 8 if preview.display and self.display else 0
        _, bg = self.background_colors
        self._load(path, cols, rows, bg.rgb)

    @work(thread=True, exclusive=True, group="preview", exit_on_error=False)
    def _load(self, path: Path, cols: int, rows: int, bg: tuple[int, int, int]) -> None:
        worker = get_current_worker()
        facts, preview = _describe(path, cols, rows, self.graphics, bg)
        if not worker.is_cancelled:
            self.app.call_from_thread(self._set, facts, preview)

    def _set(self, facts: str, preview: Preview) -> None:
        self.query_one("#facts", Static).update(facts)
        self._set_preview(preview)

    def _set_preview(self, preview: Preview) -> None:
        if self.graphics is not None:
            from widgets.pixels import Picture, PixelPreview

            self.query_one(PixelPreview).show(preview if isinstance(preview, Picture) else None)
        else:
            self.query_one("#preview", Static).update(preview or "")


def _describe(
    path: Path,
    cols: int,
    rows: int,
    graphics: Graphics | None = None,
    bg: tuple[int, int, int] = (0, 0, 0),
) -> tuple[str, Preview]:
    """In a thread: '<name> · <size> · <facts>' and its preview (None: nothing to show)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        return f"{path.name}: {exc.strerror}", None
    facts = f"{path.name} · {human_size(size)}"
    box = None  # the preview's size in pixels: the cells, or two pixels a half-block
    if cols > 0 and rows > 0 and graphics is not None:
        box = (cols * graphics.cell_width, rows * graphics.cell_height)
    elif cols > 0 and rows > 0:
        box = (cols * 2, rows * 4)
    try:
        from widgets.media_facts import read_facts

        found = read_facts(path, box)
    except Exception as exc:  # a broken file must not break the pane
        return f"{facts} · unreadable ({type(exc).__name__})", None
    facts = " · ".join([facts, *found.words])
    if found.picture is None:
        return facts, None
    if graphics is not None:
        from widgets.pixels import encode

        return facts, encode(found.picture, graphics, cols, rows, bg)
    from PIL import Image

    pic = found.picture
    pic.thumbnail((cols, rows * 2))
    rgb = Image.new("RGB", pic.size, bg)  # transparency shows the pane behind it
    rgb.paste(pic, (0, 0), pic if pic.mode == "RGBA" else None)
    return facts, half_blocks(rgb)


def half_blocks(img) -> Text:
    """Two pixels per cell: the upper as foreground of '▀', the lower as its background."""
    w, h = img.size
    px = img.load()
    text = Text()
    for y in range(0, h, 2):
        for x in range(w):
            top = px[x, y]
            bottom = px[x, y + 1] if y + 1 < h else top
            text.append("▀", Style(color=Color.from_rgb(*top), bgcolor=Color.from_rgb(*bottom)))
        if y + 2 < h:
            text.append("\n")
    return text


class FilesPane(Vertical):
    """The tree over the facts and preview of the highlighted file."""

    DEFAULT_CSS = """
    FilesPane { border: round $primary-darken-1; }
    FilesPane:focus-within { border: round $primary; }
    FilesPane > FileBrowser { height: 1fr; }
    """

    def __init__(
        self, folder: Path, *, graphics: Graphics | None = None, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.folder = folder
        self.graphics = graphics

    def compose(self) -> ComposeResult:
        yield FileBrowser(self.folder, id="tree")
        yield FileInfo(graphics=self.graphics, id="info")

    def on_mount(self) -> None:
        self.border_title = "Files"

    @property
    def browser(self) -> FileBrowser:
        return self.query_one(FileBrowser)

    @on(Tree.NodeHighlighted)
    def _highlighted(self, event: Tree.NodeHighlighted) -> None:
        data = event.node.data
        self.query_one(FileInfo).show(data.path if data is not None else None)

    @on(FileBrowser.MarksChanged)
    def _marks(self, event: FileBrowser.MarksChanged) -> None:
        n = len(event.paths)
        self.border_subtitle = f"{n} marked" if n else ""
