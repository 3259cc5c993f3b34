"""Which files in a watched folder are inputs, and when they are complete.

Pure filesystem logic: naming rules, the settle tracker, the image check, hashing and moves
that never overwrite. No network, no textual.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tui.client import unique_path
from tui.core.protocol import IMAGE_TYPES

BOOKKEEPING = ("out", "done", "failed")
PARTIAL_SUFFIXES = (".part", ".partial", ".crdownload", ".download", ".tmp")
DEFAULT_PROMPT = "turn this image into a 5-second animated video clip"


def is_partial_name(name: str) -> bool:
    """Names that tools use while a file is still being written or synced."""
    low = name.lower()
    return (
        name.startswith(".")  # dotfiles, including Syncthing's .syncthing.*.tmp
        or name.startswith("~syncthing~")
        or name.endswith("~")
        or low.endswith(PARTIAL_SUFFIXES)
    )


def is_input_name(name: str) -> bool:
    if is_partial_name(name):
        return False
    return Path(name).suffix.lower().lstrip(".") in IMAGE_TYPES


def iter_inputs(folder: Path, recursive: bool, skip: set[Path]) -> Iterator[os.DirEntry]:
    """Candidate images under `folder`, never inside the output and bookkeeping folders."""
    stack = [folder]
    while stack:
        d = stack.pop()
        try:
            with os.scandir(d) as it:
                entries = list(it)
        except OSError:
            continue
        for e in entries:
            try:
                if e.is_dir(follow_symlinks=False):
                    p = Path(e.path)
                    if recursive and not e.name.startswith(".") and p not in skip:
                        stack.append(p)
                elif e.is_file() and is_input_name(e.name):
                    yield e
            except OSError:
                continue


@dataclass
class _Obs:
    sig: tuple[int, int]
    since: float


class Settler:
    """A file is complete once its size and mtime have held still for `settle` seconds."""

    def __init__(self, settle: float):
        self.settle = settle
        self.seen: dict[str, _Obs] = {}

    def observe(self, path: str, size: int, mtime_ns: int, now: float) -> float | None:
        """None when settled; else the time at which it would be, if nothing changes."""
        sig = (size, mtime_ns)
        obs = self.seen.get(path)
        if obs is None or obs.sig != sig:
            self.seen[path] = _Obs(sig, now)
            return now + self.settle
        if size == 0:  # an empty file is a placeholder being created
            return now + self.settle
        if now - obs.since >= self.settle:
            return None
        return obs.since + self.settle

    def restart(self, path: str, now: float) -> float:
        """Make it wait another full settle time (a file that did not open as an image)."""
        obs = self.seen.get(path)
        if obs is not None:
            obs.since = now
        return now + self.settle

    def prune(self, present: set[str]) -> None:
        for p in [p for p in self.seen if p not in present]:
            del self.seen[p]


def check_image(path: Path) -> str | None:
    """None if `path` opens and decodes as an image; else why not."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.verify()
        with Image.open(path) as im:
            if im.format == "JPEG":
                im.draft("RGB", (max(1, im.width // 8), max(1, im.height // 8)))
            im.load()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return None


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def sidecar_of(image: Path) -> Path | None:
    for cand in (image.with_suffix(".txt"), image.with_suffix(".TXT")):
        if cand.is_file():
            return cand
    return None


def folder_instruction(folder: Path, fallback: str | None) -> tuple[str, str]:
    """The instruction for images without a sidecar, and where it comes from."""
    try:
        text = (folder / "prompt.txt").read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        text = ""
    if text:
        return text, "from prompt.txt"
    if fallback:
        return fallback, "from --prompt or the config file"
    return DEFAULT_PROMPT, "by default"


def instruction_for(image: Path, folder: Path, fallback: str | None) -> str:
    """Sidecar NAME.txt, else the folder's prompt.txt, else --prompt, else the default."""
    side = sidecar_of(image)
    cands = [side] if side else []
    cands += [image.parent / "prompt.txt", folder / "prompt.txt"]
    for c in cands:
        try:
            text = c.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            continue
        if text:
            return text
    return fallback or DEFAULT_PROMPT


def move_keeping(src: Path, dest_dir: Path) -> Path:
    """Move `src` into `dest_dir` under a name not yet taken; never overwrites, never deletes."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    for _ in range(100):
        dest = unique_path(dest_dir / src.name)
        try:
            os.link(src, dest)  # fails if `dest` appeared meanwhile: no overwrite
        except FileExistsError:
            continue
        except OSError:
            if dest.exists():
                continue
            shutil.move(src, dest)  # another filesystem, or no hard links there
            return dest
        src.unlink()
        return dest
    raise OSError(f"no free name for {src.name} in {dest_dir}")


def move_with_sidecar(image: Path, dest_dir: Path) -> Path | None:
    """The image (if still there) and its sidecar, unless another image still needs it."""
    dest = move_keeping(image, dest_dir) if image.exists() else None
    side = sidecar_of(image)
    if side is not None:
        others = [
            p
            for p in image.parent.iterdir()
            if p.stem == image.stem and p != image and is_input_name(p.name)
        ]
        if not others:
            move_keeping(side, dest_dir)
    return dest
