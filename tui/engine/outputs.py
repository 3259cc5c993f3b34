"""A render's MP4 in the engine's output folder: its finished name, and the name a worker writes
it under meanwhile (its own pid in it: two attempts of one job never write one file, and the
jobs table removes a dead worker's by that pid)."""

from __future__ import annotations

import os
from pathlib import Path


def output_path(out_dir: Path, render_id: str) -> Path:
    return Path(out_dir) / f"{render_id}.mp4"


def writing_path(out: Path, pid: int | None = None) -> Path:
    """Where this process (or `pid`) writes `out` before renaming it into place."""
    return out.with_name(f".{out.name}.{os.getpid() if pid is None else pid}.part")


def being_written(out: Path) -> Path | None:
    """The file a worker is writing `out` under now, if any (the newest, should two be)."""
    found: list[tuple[float, Path]] = []
    for p in out.parent.glob(f".{out.name}.*.part"):
        try:
            found.append((p.stat().st_mtime, p))
        except FileNotFoundError:  # renamed into place or removed just now
            continue
    return max(found)[1] if found else None
