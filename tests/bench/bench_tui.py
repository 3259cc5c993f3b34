"""Benchmark of the terminal app, in tmux at 100x30 on the embedded engine. Prints figures.

    python tests/bench/bench_tui.py [--runs 3]

- first screen: from launching `python -m tui FOLDER` to the panes being drawn (target <= 0.5 s)
- Ready: from launching to "Ready" (engine up, token, session) (target <= 1.0 s)
- RSS of the UI's own process once Ready (target < 100 MB); the engine is another process
- text event on screen: from a chunk of the assistant's answer reaching the UI process to the
  first frame written to the terminal that holds it (in-process probe; target <= 50 ms)
- key echo during a render: from `tmux send-keys` to the key showing at the prompt while a
  high-quality render runs (target <= 50 ms; includes tmux's own latency)

Needs tmux (`apt-get install -y tmux`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
W, H = 100, 30


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=False).stdout


def screen(name: str) -> str:
    return tmux("capture-pane", "-p", "-t", name)


def wait_for(name: str, text: str, timeout: float = 30.0, step: float = 0.005) -> float:
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        if text in screen(name):
            return time.perf_counter()
        time.sleep(step)
    raise TimeoutError(f"{text!r} not on screen in {timeout} s:\n{screen(name)}")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def make_folder() -> Path:
    from PIL import Image

    folder = Path(tempfile.mkdtemp(prefix="i2v-bench-")) / "pics"
    folder.mkdir()
    grad = Image.linear_gradient("L").resize((1200, 800))
    img = Image.merge(
        "RGB", (grad, grad.rotate(90).resize((1200, 800)), Image.new("L", (1200, 800), 128))
    )
    img.save(folder / "photo.jpg")
    return folder


def launch(
    name: str, folder: Path, home: Path, child: str | None = None, bare: bool = False
) -> float:
    env = f"I2V_FLOW_HOME={home} TERM=xterm-256color"
    if bare:
        cmd = f"env {env} {sys.executable} {__file__} --bare"
    elif child:
        cmd = f"env {env} {sys.executable} {__file__} --child {child} {folder}"
    else:
        cmd = f"env {env} {sys.executable} -m tui {folder}"
    t0 = time.perf_counter()
    tmux("new-session", "-d", "-s", name, "-x", str(W), "-y", str(H), "-c", str(ROOT), cmd)
    return t0


def pane_pid(name: str) -> int:
    pid = int(tmux("list-panes", "-t", name, "-F", "#{pane_pid}").split()[0])
    # `env` execs python, so the pane's process is the UI itself.
    return pid


def say(name: str, text: str) -> None:
    tmux("send-keys", "-t", name, "-l", text)
    tmux("send-keys", "-t", name, "Enter")


def startup_run(i: int, folder: Path) -> dict:
    name = f"i2vbench{os.getpid()}_{i}"
    home = Path(tempfile.mkdtemp(prefix="i2v-home-"))
    t0 = launch(name, folder, home)
    try:
        first = wait_for(name, "Transcript") - t0
        ready = wait_for(name, "Ready") - t0
        time.sleep(0.3)
        rss = rss_mb(pane_pid(name))
        return {"first_screen": first, "ready": ready, "rss": rss}
    finally:
        tmux("send-keys", "-t", name, "C-q")
        time.sleep(0.5)
        tmux("kill-session", "-t", name)


def bare_run(i: int) -> float:
    """A bare Textual app showing one word: the floor this machine allows right now."""
    name = f"i2vbench{os.getpid()}_bare{i}"
    t0 = launch(name, Path("."), Path(tempfile.gettempdir()), bare=True)
    try:
        return wait_for(name, "Transcript") - t0
    finally:
        tmux("kill-session", "-t", name)


def bare() -> None:
    from textual.app import App
    from textual.widgets import Static

    class Bare(App):
        def compose(self):
            yield Static("Transcript")

    Bare().run()


def key_echo_run(folder: Path, keys: int = 20) -> list[float]:
    name = f"i2vbench{os.getpid()}_keys"
    home = Path(tempfile.mkdtemp(prefix="i2v-home-"))
    launch(name, folder, home)
    try:
        wait_for(name, "Ready")
        say(name, "/upload photo.jpg")
        wait_for(name, "Uploaded photo.jpg")
        say(name, "a 10 second 1080p clip, slow zoom in, lo-fi music")
        wait_for(name, "1. Video: photo.jpg (0-10s)")
        say(name, "/export high")
        wait_for(name, "Render photo.mp4")
        lat = []
        for n in range(1, keys + 1):
            t = time.perf_counter()
            tmux("send-keys", "-t", name, "-l", "k")
            end = t + 5
            while time.perf_counter() < end:
                lines = screen(name).splitlines()
                prompt_line = lines[-2] if len(lines) >= 2 else ""
                if "k" * n in prompt_line:
                    break
                time.sleep(0.002)
            lat.append(time.perf_counter() - t)
            time.sleep(0.05)
        rendering = "Render photo.mp4" in screen(name) and "✓ photo.mp4" not in screen(name)
        if not rendering:
            print("  (note: the render finished during the key test)")
        return lat
    finally:
        tmux("send-keys", "-t", name, "C-q")
        time.sleep(1.0)
        tmux("kill-session", "-t", name)


def text_event_run(folder: Path) -> list[float]:
    name = f"i2vbench{os.getpid()}_text"
    home = Path(tempfile.mkdtemp(prefix="i2v-home-"))
    log = Path(tempfile.mkdtemp()) / "text.json"
    launch(name, folder, home, child=str(log))
    try:
        wait_for(name, "Ready")
        say(name, "/upload photo.jpg")
        wait_for(name, "Uploaded photo.jpg")
        for text in ("a 5 second clip", "title 'Spring Sale' for 3 s", "lo-fi music at 35%"):
            say(name, text)
            time.sleep(1.5)
        wait_for(name, "Spring Sale")
    finally:
        tmux("send-keys", "-t", name, "C-q")
        time.sleep(1.0)
        tmux("kill-session", "-t", name)
    return json.loads(log.read_text()) if log.exists() else []


def child(log: str, folder: str) -> None:
    """The app, with a probe: when each answer chunk arrives, and the first frame that has it."""
    import atexit

    import textual.app as tapp

    import tui.client as tclient
    from tui.app.app import I2VApp
    from tui.core.protocol import FinalText, TextChunk

    pending: list[tuple[float, str]] = []  # (arrival, text so far)
    seen: list[float] = []
    shown = {"text": ""}
    orig_turn = tclient.Client.turn

    async def turn(self, text):
        so_far = ""
        async for ev in orig_turn(self, text):
            if isinstance(ev, TextChunk):
                so_far += ev.text
                pending.append((time.perf_counter(), so_far))
            elif isinstance(ev, FinalText):
                so_far = ""
            yield ev

    tclient.Client.turn = turn
    from textual.widgets import Markdown

    orig_append = Markdown.append

    def append(self, markdown):
        awaitable = orig_append(self, markdown)

        async def done():
            await awaitable
            shown["text"] = self.source  # the widget holds it: the next frame shows it

        return done()

    Markdown.append = append
    orig_display = tapp.App._display

    def _display(self, screen, renderable):
        orig_display(self, screen, renderable)
        now = time.perf_counter()
        keep = []
        for arrival, text in pending:
            if shown["text"].startswith(text) and renderable is not None:
                seen.append(now - arrival)
            else:
                keep.append((arrival, text))
        pending[:] = keep

    tapp.App._display = _display
    atexit.register(lambda: Path(log).write_text(json.dumps(seen)))
    I2VApp(Path(folder)).run()


def ms(x: float) -> str:
    return f"{x * 1000:.0f} ms"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--child", nargs=2, metavar=("LOG", "FOLDER"), help=argparse.SUPPRESS)
    p.add_argument("--bare", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.bare:
        bare()
        return 0
    if args.child:
        child(*args.child)
        return 0
    if not shutil.which("tmux"):
        print("tmux is needed: apt-get install -y tmux", file=sys.stderr)
        return 2
    folder = make_folder()
    print(f"i2v-flow TUI benchmark, tmux {W}x{H}, {os.cpu_count()} cores, {args.runs} runs")
    load = os.getloadavg()[0]
    base = statistics.median(bare_run(i) for i in range(args.runs))
    print(f"machine: load average {load:.1f}; a bare Textual app's first screen: {ms(base)}")
    runs = [startup_run(i, folder) for i in range(args.runs)]
    first = statistics.median(r["first_screen"] for r in runs)
    ready = statistics.median(r["ready"] for r in runs)
    rss = statistics.median(r["rss"] for r in runs)
    print(
        f"first screen        median {ms(first):>8}  (runs: "
        + ", ".join(ms(r["first_screen"]) for r in runs)
        + ")  target <= 500 ms"
    )
    print(
        f"Ready               median {ms(ready):>8}  (runs: "
        + ", ".join(ms(r["ready"]) for r in runs)
        + ")  target <= 1000 ms"
    )
    print(f"UI process RSS      median {rss:>5.0f} MB  target < 100 MB")
    text = text_event_run(folder)
    if text:
        text.sort()
        print(
            f"text event on screen median {ms(statistics.median(text)):>7}  "
            f"p95 {ms(text[int(len(text) * 0.95) - 1 if len(text) > 1 else 0])}  "
            f"max {ms(text[-1])}  ({len(text)} chunks)  target <= 50 ms"
        )
    else:
        print("text event on screen: no chunks recorded")
    keys = sorted(key_echo_run(folder))
    print(
        f"key echo in render   median {ms(statistics.median(keys)):>7}  "
        f"p95 {ms(keys[int(len(keys) * 0.95) - 1])}  max {ms(keys[-1])}  ({len(keys)} keys)  "
        "target <= 50 ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
