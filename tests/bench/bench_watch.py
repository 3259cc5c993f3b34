"""Watch mode's costs, measured (not collected by pytest; run it directly):

    python tests/bench/bench_watch.py [--images 20] [--rss-files 200] [--settle 2]

1. 20 images dropped at once into a watched folder: the time until all 20 clips are in OUT,
   against the sum of rendering each alone through the engine (target: at most 1.1x).
2. Pickup latency of a complete file: from its rename into place to the watcher's `seen`
   (target: at most settle + 0.5 s).
3. The watcher's own RSS (the `i2v-flow watch` process, not the engine) across N files, in
   batches (target: flat).

Each image asks for "a 1 second 720p clip" at draft quality: small renders, so that the watch
machinery's own cost shows. Everything runs under a temporary I2V_FLOW_HOME.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.media import photo  # noqa: E402

PROMPT = "a 1 second 720p clip"


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class WatchProc:
    def __init__(self, folder: Path, url: str, settle: float, jobs: int):
        self.p = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tui.cli.watch",
                str(folder),
                "--api",
                url,
                "--json",
                "--quality",
                "draft",
                "--prompt",
                PROMPT,
                "--settle",
                str(settle),
                "--jobs",
                str(jobs),
            ],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        self.events: list[dict] = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.p.stdout is not None
        for line in self.p.stdout:
            ev = json.loads(line)
            with self.cond:
                self.events.append(ev)
                self.cond.notify_all()

    def wait(self, pred, timeout: float = 900.0) -> None:
        end = time.monotonic() + timeout
        with self.cond:
            while not pred(self.events):
                left = end - time.monotonic()
                if left <= 0 or self.p.poll() is not None:
                    raise RuntimeError(f"gave up; last events: {self.events[-5:]}")
                self.cond.wait(min(left, 1.0))

    def count(self, step: str) -> int:
        with self.cond:
            return sum(1 for e in self.events if e["step"] == step)

    def stop(self) -> None:
        self.p.terminate()
        self.p.wait(30)


def drop(folder: Path, staging: Path, names: list[str], seed0: int) -> None:
    """Complete files, renamed into place at once (as a sync tool or `mv` would)."""
    for i, n in enumerate(names):
        photo(staging / n, (160, 120), seed=seed0 + i)
    for n in names:
        os.rename(staging / n, folder / n)


async def alone(url: str, images: list[Path], out: Path) -> float:
    """Each image on its own through the client and engine: upload, turn, render, download."""
    from tui.client import Client
    from tui.client.state import ClientState
    from tui.core.paths import client_state_file

    state = ClientState(client_state_file(), url)
    total = 0.0
    async with Client(url, state) as c:
        await c.connect()
        for img in images:
            t0 = time.perf_counter()
            await c.new_session()
            await c.upload([img])
            async for _ in c.turn(PROMPT):
                pass
            rid = await c.start_render("draft")
            status = await c.wait_render(rid)
            await c.download(rid, out / f"{img.stem}.mp4", status)
            total += time.perf_counter() - t0
    return total


async def give_credits(url: str, data: Path) -> None:
    from tui.client import Client
    from tui.client.state import ClientState
    from tui.core.paths import client_state_file
    from tui.engine.store import Store

    state = ClientState(client_state_file(), url)
    async with Client(url, state) as c:
        await c.connect()
    store = Store(data / "engine.sqlite3")
    store.set_credits(state.backend["user_id"], 1_000_000)
    store.close()


async def main(args: argparse.Namespace) -> None:
    from tui.core.backend import EmbeddedEngine

    tmp = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    os.environ["I2V_FLOW_HOME"] = str(tmp / "home")
    engine = EmbeddedEngine(data_dir=tmp / "engine")
    url = await engine.start()
    await give_credits(url, tmp / "engine")
    staging = tmp / "staging"
    staging.mkdir()
    try:
        # 1. Throughput.
        n = args.images
        base = tmp / "alone"
        base.mkdir()
        imgs = [photo(base / f"a{i:03d}.png", (160, 120), seed=1000 + i) for i in range(n)]
        t_alone = await alone(url, imgs, base)
        print(f"[1] {n} images rendered alone, one after another: sum {t_alone:.2f} s")
        folder = tmp / "drop"
        folder.mkdir()
        w = WatchProc(folder, url, args.settle, args.jobs)
        w.wait(lambda evs: any(e["step"] == "started" for e in evs), 60)
        t0 = time.perf_counter()
        drop(folder, staging, [f"d{i:03d}.png" for i in range(n)], 1000)
        w.wait(lambda evs: sum(e["step"] == "done" for e in evs) >= n)
        t_watch = time.perf_counter() - t0
        ratio = t_watch / t_alone
        print(
            f"[1] {n} images dropped at once into the watched folder (--jobs {args.jobs}, "
            f"--settle {args.settle:g}): all clips in {t_watch:.2f} s = {ratio:.2f}x the sum "
            f"(target <= 1.10x) {'OK' if ratio <= 1.1 else 'OVER'}"
        )

        # 2. Pickup latency: one complete file at a time, the queue idle.
        lat = []
        for i in range(args.pickups):
            name = f"p{i:03d}.png"
            photo(staging / name, (160, 120), seed=5000 + i)
            t_drop = time.time()
            os.rename(staging / name, folder / name)
            w.wait(lambda evs, name=name: any(e.get("file") == name for e in evs), 60)
            seen = next(e for e in w.events if e.get("file") == name and e["step"] == "seen")
            lat.append(seen["at"] - t_drop)
            w.wait(
                lambda evs, name=name: any(
                    e.get("file") == name and e["step"] == "done" for e in evs
                )
            )
        worst = max(lat)
        print(
            f"[2] pickup latency over {len(lat)} files: mean {sum(lat) / len(lat):.2f} s, "
            f"worst {worst:.2f} s (target <= settle + 0.5 = {args.settle + 0.5:.2f} s) "
            f"{'OK' if worst <= args.settle + 0.5 else 'OVER'}"
        )

        # 3. RSS across many files, in batches.
        total = args.rss_files
        batch = 20
        base_done = w.count("done")
        samples = [(0, rss_kb(w.p.pid))]
        for b in range(0, total, batch):
            k = min(batch, total - b)
            drop(folder, staging, [f"m{b + i:04d}.png" for i in range(k)], 20000 + b)
            target = base_done + b + k
            w.wait(lambda evs, target=target: sum(e["step"] == "done" for e in evs) >= target)
            samples.append((b + k, rss_kb(w.p.pid)))
            print(
                f"    after {b + k:4d} files: watcher RSS {samples[-1][1] / 1024:.1f} MB",
                flush=True,
            )
        first = samples[1][1] if len(samples) > 1 else samples[0][1]
        last = samples[-1][1]
        print(
            f"[3] watcher RSS across {total} files: start {samples[0][1] / 1024:.1f} MB, "
            f"after the first batch {first / 1024:.1f} MB, at the end {last / 1024:.1f} MB "
            f"(growth after the first batch {(last - first) / 1024:+.1f} MB)"
        )
        w.stop()
    finally:
        await engine.stop()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=20)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--settle", type=float, default=2.0)
    ap.add_argument("--pickups", type=int, default=5)
    ap.add_argument("--rss-files", type=int, default=200)
    asyncio.run(main(ap.parse_args()))
