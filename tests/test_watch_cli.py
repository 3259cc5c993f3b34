"""`i2v-flow watch` as a process: kill -9 mid-way and start again; SIGTERM stops it cleanly."""

from __future__ import annotations

import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.cli import i2v
from tests.media import photo

ROOT = Path(__file__).resolve().parents[1]


class Proc:
    """`python -m tui watch …` with its JSON lines read as they come."""

    def __init__(
        self,
        folder: Path,
        url: str,
        home: Path,
        *extra: str,
        prompt: str | None = "a 1 second 720p clip",
        env: dict[str, str] | None = None,
    ):
        self.p = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tui",
                "watch",
                str(folder),
                "--api",
                url,
                "--json",
                "--settle",
                "0.3",
                "--quality",
                "draft",
                *(["--prompt", prompt] if prompt is not None else []),
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "I2V_FLOW_HOME": str(home), **(env or {})},
        )
        self.events: list[dict] = []
        self._q: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.p.stdout is not None
        for line in self.p.stdout:
            self._q.put(json.loads(line))
        self._q.put(None)

    def until(self, pred, timeout: float = 40.0) -> None:
        end = time.monotonic() + timeout
        while not pred(self.events):
            try:
                ev = self._q.get(timeout=max(0.01, end - time.monotonic()))
            except queue.Empty:
                ev = None
                if time.monotonic() < end:
                    continue
            if ev is None:
                err = self.p.stderr.read() if self.p.poll() is not None else ""
                raise AssertionError(f"no match; events: {self.events}\n{err}")
            self.events.append(ev)

    def steps(self, file: str) -> list[str]:
        return [e["step"] for e in self.events if e.get("file") == file]

    def stop(self, sig: int) -> int:
        self.p.send_signal(sig)
        rc = self.p.wait(20)
        self.until(lambda evs: True)  # drain what is left
        while not self._q.empty():
            ev = self._q.get()
            if ev is not None:
                self.events.append(ev)
        return rc


def finished(*files: str):
    return lambda evs: all(
        any(e.get("file") == f and e["step"] in ("done", "failed") for e in evs) for f in files
    )


def test_kill_9_mid_way_then_a_restart_finishes_everything_once(
    tmp_path: Path, engine_url: str
) -> None:
    d, home = tmp_path / "in", tmp_path / "home"
    d.mkdir()
    first = [f"k{i}.png" for i in range(3)]
    for i, name in enumerate(first):
        photo(d / name, (160, 120), seed=30 + i)
    a = Proc(d, engine_url, home)
    a.until(lambda evs: any(e["step"] == "rendering" for e in evs))
    a.p.kill()  # SIGKILL: no chance to tidy up
    a.p.wait(10)
    a.until(lambda evs: True)
    finished_before = {e["file"] for e in a.events if e["step"] == "done"}
    cut = {
        e["file"]: e
        for e in a.events
        if e["step"] == "rendering" and e["file"] not in finished_before
    }
    assert cut  # at least one render was in flight at the kill
    # Files that arrive while it is down are taken on the next start.
    late = ["late0.png"]
    for i, name in enumerate(late):
        photo(d / name, (160, 120), seed=40 + i)
    b = Proc(d, engine_url, home)
    b.until(finished(*first, *late), timeout=60)
    assert b.stop(signal.SIGTERM) == 0
    assert b.events[-1]["step"] == "stopped"

    stems = {Path(n).stem for n in first + late}
    assert {p.name for p in (d / "out").iterdir()} == {f"{s}.mp4" for s in stems}
    assert {p.name for p in (d / "done").iterdir()} == set(first + late)
    assert not (d / "failed").exists()
    # A render in flight at the kill was resumed by its saved id, not requested again.
    for f in cut:
        assert "rendering" not in b.steps(f), b.steps(f)
        assert "resumed" in b.steps(f)
    db = sqlite3.connect(home / "watch.db")
    rows = db.execute("SELECT path, state, render_id FROM jobs").fetchall()
    assert len(rows) == 4 and {r[1] for r in rows} == {"done"}
    for f, ev in cut.items():
        assert (str(d.resolve() / f), "done", ev["detail"]) in rows
    # Nothing done twice: one render per image on the engine's side too.
    renders = json.loads((home / "client.json").read_text())["renders"]
    assert len(renders) == 4


def test_sigterm_stops_cleanly_and_keeps_the_step(tmp_path: Path, engine_url: str) -> None:
    d, home = tmp_path / "in", tmp_path / "home"
    d.mkdir()
    photo(d / "t.png", (160, 120), seed=50)
    a = Proc(d, engine_url, home)
    a.until(lambda evs: "uploaded" in [e["step"] for e in evs])
    assert a.stop(signal.SIGTERM) == 0
    assert a.events[-1]["step"] == "stopped"
    assert a.p.stderr.read() == ""
    state = sqlite3.connect(home / "watch.db").execute("SELECT state FROM jobs").fetchone()[0]
    assert state in ("uploaded", "turned", "rendering", "downloading", "downloaded", "done")
    b = Proc(d, engine_url, home)
    b.until(finished("t.png"))
    assert b.stop(signal.SIGINT) == 0
    assert "uploaded" not in b.steps("t.png") or state == "seen"
    assert (d / "out" / "t.mp4").is_file() and (d / "done" / "t.png").is_file()


def test_a_missing_folder_is_one_line_on_stderr(tmp_path: Path) -> None:
    proc = i2v(tmp_path, "watch", str(tmp_path / "nope"), timeout=30)
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "no such folder" in proc.stderr
