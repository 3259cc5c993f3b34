"""Benchmark of the Preview pane (f2): how soon a change shows, how steadily it plays, what it
costs the UI process. Prints figures.

    python tests/bench/bench_play.py [--runs 5]

- change -> first frame: the app on the real engine (`i2v-flow serve` on loopback, as the tests
  start it) at 100x30 with the preview shown; an agent turn changes the timeline ("make it N
  seconds"), timed from the app receiving the new timeline (TrackReady) to the new clip's
  first frame handed to the frame view, with its parts: the draft render (start, poll,
  download) and the first decoded frame. Goal <= 1 s.
- frames per second sustained, in half-blocks: frames drawn per second of wall time over 5 s of
  playing a 5 s 30 fps draft, (a) the app at 100x30, the pane in its column, (b) the pane alone
  filling 100x30; and the UI thread's cost per frame (cells made from pixels). The pane draws at
  most 15 frames a second (widgets/preview.py MAX_FPS) and keeps to the clip's clock. Goal >= 12.
- the UI process's memory while playing (VmRSS; the engine is another process). Goal <= 100 MB.

Headless (Textual's test driver): the compositor runs, the bytes go nowhere, so the figures leave
out the terminal's own drawing time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

HOME = Path(tempfile.mkdtemp(prefix="bench-play-"))
os.environ["I2V_FLOW_HOME"] = str(HOME / "home")
os.environ["I2V_FLOW_CONFIG"] = os.devnull

from textual.app import App, ComposeResult  # noqa: E402

from tests.media import photo  # noqa: E402
from tui.app.app import I2VApp  # noqa: E402
from tui.preview import frames as frames_mod  # noqa: E402
from tui.preview import source as source_mod  # noqa: E402
from widgets.preview import FrameView, PreviewPane  # noqa: E402
from widgets.prompt import Prompt  # noqa: E402
from widgets.tracks import Tracks  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_engine(data: Path) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "I2V_ENGINE_MINT_RATE": "100000", "I2V_ENGINE_ACCOUNT_RATE": "100000"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.engine", "--port", "0", "--data", str(data), "--watch-stdin"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    if "listening on " not in line:
        proc.kill()
        raise SystemExit(f"engine did not start: {line!r}")
    return proc, line.strip().rsplit("listening on ", 1)[1]


async def until(pilot, cond, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise SystemExit("timed out:\n" + "\n".join(pilot.app.transcript.lines()))
        await pilot.pause(0.01)


class Counter:
    """Counts FrameView.show calls (frames handed to the view) and their cost."""

    def __init__(self) -> None:
        self.shown = 0
        self.cost = 0.0
        original = FrameView.show

        def show(view, frame) -> None:
            t = time.thread_time()  # CPU time: the machine's load leaves it be
            original(view, frame)
            self.cost += time.thread_time() - t
            self.shown += 1

        FrameView.show = show  # type: ignore[method-assign]


async def sustained(pilot, pane: PreviewPane, counter: Counter, seconds: float = 5.0):
    """Frames drawn a second over `seconds` of playing; the CPU time of each, for its cells
    and for all the UI process did (cells, compositing, the driver); the peak RSS."""
    if not pane.playing:
        await pilot.press("space")
    counter.shown, counter.cost, peak = 0, 0.0, 0.0
    t, cpu = time.monotonic(), time.process_time()
    while time.monotonic() - t < seconds:
        await pilot.pause(0.1)
        peak = max(peak, rss_mb())
    took, cpu = time.monotonic() - t, time.process_time() - cpu
    n = max(1, counter.shown)
    return counter.shown / took, counter.cost / n, cpu / n, peak


async def in_the_app(url: str, folder: Path, runs: int, counter: Counter) -> None:
    changed: list[float] = []
    first: list[float] = []
    render: list[float] = []
    decoded: list[float] = []
    app = I2VApp(folder, api=url)

    original_changed = app._timeline_changed

    def timeline_changed(draft: dict) -> None:
        changed.append(time.perf_counter())
        original_changed(draft)

    app._timeline_changed = timeline_changed  # type: ignore[method-assign]

    original_render = source_mod.render_draft

    async def timed_render(client, draft):
        t = time.perf_counter()
        try:
            return await original_render(client, draft)
        finally:
            render.append(time.perf_counter() - t)

    source_mod.render_draft = timed_render
    original_decode = frames_mod.decode

    def timed_decode(path, cols, rows, **kw):
        t, on_frame = time.perf_counter(), kw.pop("on_frame", None)

        def once(clip):
            if len(clip.frames) == 1:
                decoded.append(time.perf_counter() - t)
            if on_frame is not None:
                on_frame(clip)

        return original_decode(path, cols, rows, on_frame=once, **kw)

    frames_mod.decode = timed_decode

    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(PreviewPane)
        original_arrived = pane._arrived

        def arrived(clip, keep_place):
            if clip is not pane.clip:
                first.append(time.perf_counter())
            original_arrived(clip, keep_place)

        pane._arrived = arrived  # type: ignore[method-assign]
        await until(pilot, lambda: "Ready" in app.transcript.lines())
        prompt = app.query_one(Prompt)

        async def say(text: str) -> None:
            prompt.value = text
            prompt.focus()
            await pilot.press("enter")

        await say("/upload photo.jpg")
        await say("a 5 second clip, lo-fi music at 35%")
        await until(pilot, lambda: "Video" in str(app.query_one(Tracks).render()))
        await until(pilot, lambda: not app.busy)
        await pilot.press("f2")
        await until(pilot, lambda: pane.clip is not None and pane.clip.done)
        changes = []
        for i in range(runs):
            changed.clear()
            before = len(first)
            await say(f"make it {4 if i % 2 == 0 else 5} seconds")
            await until(pilot, lambda b=before: len(first) > b and pane.clip.done)
            changes.append(first[-1] - changed[-1])
            await pilot.pause(0.6)  # past the settling time: each change is a lone one
        size = pane.query_one(FrameView).size
        print(f"app at 100x30: the preview is {size.width}x{size.height} cells")
        print(
            f"  change -> first frame: median {statistics.median(changes) * 1000:.0f} ms, "
            f"best {min(changes) * 1000:.0f} ms, worst {max(changes) * 1000:.0f} ms "
            f"({runs} turns; goal <= 1000 ms)"
        )
        print(
            f"    of which the draft render (start, poll, download): median "
            f"{statistics.median(render[-runs:]) * 1000:.0f} ms; the first frame decoded: "
            f"median {statistics.median(decoded[-runs:]) * 1000:.0f} ms"
        )
        clip = pane.clip
        assert clip is not None
        print(
            f"  the clip: {len(clip.frames)} frames of {clip.width}x{clip.height} px "
            f"({clip.nbytes / 1e6:.1f} MB)"
        )
        fps, cost, cpu, peak = await sustained(pilot, pane, counter)
        print(
            f"  playing: {fps:.1f} frames/s drawn (goal >= 12); CPU a frame: {cost * 1000:.1f} "
            f"ms for its cells, {cpu * 1000:.1f} ms in all (so up to {1 / cpu:.0f} frames/s on "
            f"one free core); UI process RSS peak {peak:.0f} MB (goal <= 100)"
        )


class PaneAlone(App):
    CSS = "PreviewPane { height: 1fr; }"

    def compose(self) -> ComposeResult:
        yield PreviewPane(id="player")


async def pane_alone(path: Path, counter: Counter) -> None:
    app = PaneAlone()
    async with app.run_test(size=(100, 30)) as pilot:
        pane = app.query_one(PreviewPane)
        await pilot.pause()
        pane.play(path)
        await until(pilot, lambda: pane.clip is not None and pane.clip.done)
        size = pane.query_one(FrameView).size
        clip = pane.clip
        fps, cost, cpu, peak = await sustained(pilot, pane, counter)
        print(
            f"the pane alone at 100x30 ({size.width}x{size.height} cells, "
            f"{clip.width}x{clip.height} px, {len(clip.frames)} frames, "
            f"{clip.nbytes / 1e6:.1f} MB): {fps:.1f} frames/s drawn; CPU a frame: "
            f"{cost * 1000:.1f} ms for its cells, {cpu * 1000:.1f} ms in all (up to "
            f"{1 / cpu:.0f} frames/s); UI process RSS peak {peak:.0f} MB"
        )


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    folder = HOME / "pics"
    folder.mkdir()
    photo(folder / "photo.jpg", (1280, 720))
    proc, url = start_engine(HOME / "engine")
    counter = Counter()
    print(f"load average {load()} on {os.cpu_count()} cores (wall-clock figures suffer)")
    print(f"UI process RSS before the app: {rss_mb():.0f} MB")
    try:
        asyncio.run(in_the_app(url, folder, args.runs, counter))
        drafts = sorted((HOME / "home" / "preview").glob("draft-*.mp4"))
        if drafts:
            asyncio.run(pane_alone(drafts[-1], counter))
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(10)


if __name__ == "__main__":
    main()
