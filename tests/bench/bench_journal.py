"""The watch journal after a year of images, measured (not collected by pytest; run it directly):

    python tests/bench/bench_journal.py [--rows 500000] [--repeat 2000]

Fills a journal (tui/watch/journal.py, the real class, its real file settings: WAL,
synchronous=FULL) with ROWS finished images of one folder plus a few under way, then times what
the watcher does per file (look up by hash, add, each step, the clip name check) and once per
run (the list of unfinished images at start, the counts at stop, opening it), median and 99th
percentile. Also: the forward migration of such a journal from schema 1 (it builds the partial
index of unfinished images) and the start-up list as schema 1 asked it, for comparison.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tui.watch.journal import (  # noqa: E402
    DONE,
    DOWNLOADED,
    DOWNLOADING,
    FAILED,
    FINAL,
    GONE,
    RENDERING,
    TURNED,
    UPLOADED,
    Journal,
)

UNDER_WAY = 20


def key(i: int) -> str:
    return hashlib.sha256(str(i).encode()).hexdigest()


def fill(j: Journal, folder: Path, rows: int) -> None:
    """A year of images: mostly done, some failed or gone, UNDER_WAY still in flight."""
    t0 = 1.7e9

    def row(i: int) -> tuple:
        state = DONE if i % 50 else (FAILED if i % 100 else GONE)
        if i >= rows - UNDER_WAY:
            state = RENDERING
        out = str(folder / "out" / f"img{i}.mp4") if state == DONE else ""
        at = t0 + i * 60.0
        return (
            j.folder,
            key(i),
            str(folder / f"img{i}.jpg"),
            state,
            "a 5-second clip",
            str(i),
            f"task_{i}",
            f"r_{i}",
            out,
            at,
            at,
        )

    j.db.execute("BEGIN")
    j.db.executemany(
        "INSERT INTO jobs (folder, hash, path, state, prompt, session_id, task_id, render_id,"
        " out, created, updated) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (row(i) for i in range(rows)),
    )
    j.db.execute("COMMIT")


def timed(fn: Callable[[int], object], n: int) -> tuple[float, float]:
    """Median and 99th percentile of `fn(i)` for i in range(n), in microseconds."""
    took = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        took.append((time.perf_counter() - t) * 1e6)
    took.sort()
    return statistics.median(took), took[min(len(took) - 1, int(len(took) * 0.99))]


def show(name: str, med: float, p99: float) -> None:
    print(f"  {name:<44} median {med:9.1f} µs   p99 {p99:9.1f} µs")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=500_000)
    ap.add_argument("--repeat", type=int, default=2000)
    a = ap.parse_args()
    n = a.repeat
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "drop"
        folder.mkdir()
        path = Path(tmp) / "watch.db"
        j = Journal(path, folder)
        t = time.perf_counter()
        fill(j, folder, a.rows)
        print(
            f"{a.rows} rows filled in {time.perf_counter() - t:.1f} s; "
            f"file {path.stat().st_size / 1e6:.0f} MB"
        )
        j.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        j.close()

        t = time.perf_counter()
        j = Journal(path, folder)
        print(f"open (already at its version): {(time.perf_counter() - t) * 1e3:.1f} ms")
        print("per run:")
        runs = max(5, n // 100)
        show(f"unfinished (start; {UNDER_WAY} under way)", *timed(lambda i: j.unfinished(), runs))
        old = "SELECT * FROM jobs WHERE folder=? AND state NOT IN (?, ?, ?) ORDER BY created"
        show(
            "  the same as schema 1 asked it",
            *timed(lambda i: j.db.execute(old, (j.folder, *FINAL)).fetchall(), runs),
        )
        show("counts (stop)", *timed(lambda i: j.counts(), runs))
        print("per file:")
        show("get, a known image (by hash)", *timed(lambda i: j.get(key(i * 97 % a.rows)), n))
        show("get, a new image", *timed(lambda i: j.get(key(a.rows + i)), n))
        show("add, a new image", *timed(lambda i: j.add(key(a.rows + i), folder / "n.jpg", "p"), n))
        steps = (UPLOADED, TURNED, RENDERING, DOWNLOADING, DOWNLOADED, DONE)
        show(
            "step (each of 6, committed)",
            *timed(lambda i: j.step(key(a.rows + i // 6), steps[i % 6], render_id="r"), n),
        )
        show(
            "out_taken, a name in use",
            *timed(lambda i: j.out_taken(str(folder / "out" / f"img{i * 50 + 1}.mp4")), n),
        )
        show(
            "out_taken, a free name",
            *timed(lambda i: j.out_taken(str(folder / "out" / f"new{i}.mp4")), n),
        )
        j.close()

        # The forward migration of a year of journal: back to schema 1, then open.
        db = Journal(path, folder).db
        db.execute("DROP INDEX jobs_open")
        db.execute("PRAGMA user_version=1")
        db.close()
        t = time.perf_counter()
        Journal(path, folder).close()
        print(
            f"migration 1 -> 2 of {a.rows} rows on open: {(time.perf_counter() - t) * 1e3:.0f} ms"
        )


if __name__ == "__main__":
    main()
