"""Benchmark of start-up, from `i2v-flow` launch to "Ready", piece by piece. Prints figures.

    python tests/bench/bench_startup.py [--runs 5] [--no-tmux]

- engine: launching `python -m tui.engine --port 0 --watch-stdin` -> its "listening on" line ->
  the first HTTP answer (GET /health) -> a token -> a session (the two round trips of Ready),
  whether the render worker pool had spawned a process by then (it competes for the cores), and
  one request's round trip on a kept-alive connection (~44 ms while Nagle meets delayed ACK)
- UI imports: `python -c "import tui.cli.main, tui.app.app"` (what the first screen needs) and
  the client the connect worker imports after it, against a bare `python -c pass`
- UI -> Ready, headless: a child process runs the app under `App.run_test`: launch -> tui.app
  imported -> engine launched -> the connect worker importing the client -> first screen
  mounted -> engine listening -> "Ready" in the transcript
- UI -> Ready in tmux (100x30), the real terminal path, when tmux is installed (bench_tui.py's)

Targets (issue 5): first screen <= 0.5 s, Ready <= 1.0 s. Figures depend on the machine's load,
printed with them; a bare Textual app's first screen in tmux is the floor.
"""

from __future__ import annotations

import argparse
import http.client
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
sys.path.insert(0, str(Path(__file__).resolve().parent))


def ms(x: float) -> str:
    return f"{x * 1000:.0f} ms"


def children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with open(task / "children") as f:
            out += [int(c) for c in f.read().split()]
    return out


def engine_run(data: Path) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.engine", "--port", "0", "--watch-stdin", "--data", str(data)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        t_listen = time.perf_counter()
        host, port = line.rsplit("http://", 1)[1].strip().rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        conn.request("GET", "/health")
        conn.getresponse().read()
        t_first = time.perf_counter()
        conn.request("POST", "/api/auth/anonymous-token", headers={"X-Client-Id": "bench"})
        token = json.loads(conn.getresponse().read())["data"]["token"]
        t_token = time.perf_counter()
        body = json.dumps({"task_name": "project", "language": "en"})
        conn.request(
            "POST",
            "/api/tasks/me/with-session/nemo_agent",
            body=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        json.loads(conn.getresponse().read())["data"]["session_id"]
        t_session = time.perf_counter()
        kids = len(children(proc.pid))
        rtt = []
        for _ in range(5):
            t = time.perf_counter()
            conn.request("GET", "/health")
            conn.getresponse().read()
            rtt.append(time.perf_counter() - t)
        conn.close()
        return {
            "listening": t_listen - t0,
            "first_answer": t_first - t0,
            "token": t_token - t0,
            "session": t_session - t0,
            "children": kids,
            "rtt": statistics.median(rtt),
        }
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wall(code: str) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    return time.perf_counter() - t


def ui_child(folder: str) -> None:
    """In a child process: the app headless, as `i2v-flow FOLDER` starts it; prints its marks on
    the clock (perf_counter is the system's monotonic clock, shared with the parent)."""
    import asyncio
    import importlib.abc

    marks = {"start": time.perf_counter()}

    class Spy(importlib.abc.MetaPathFinder):  # when the connect worker starts importing httpx
        def find_spec(self, name, path, target=None):
            if name == "tui.client":
                marks.setdefault("client_import", time.perf_counter())
            return None

    sys.meta_path.insert(0, Spy())
    import tui.core.backend as backend
    from tui.app.app import I2VApp

    marks["imported"] = time.perf_counter()
    start = backend.EmbeddedEngine.start

    async def timed_start(self, *a, **kw):
        marks["engine_launch"] = time.perf_counter()
        url = await start(self, *a, **kw)
        marks["engine_listening"] = time.perf_counter()
        return url

    backend.EmbeddedEngine.start = timed_start

    async def go() -> None:
        app = I2VApp(Path(folder))
        async with app.run_test(size=(100, 30)) as pilot:
            marks["first_screen"] = time.perf_counter()
            end = time.perf_counter() + 60
            while time.perf_counter() < end:
                if "Ready" in "\n".join(app.transcript.lines()):
                    marks["ready"] = time.perf_counter()
                    break
                await pilot.pause(0.002)
            await pilot.press("ctrl+q")

    asyncio.run(go())
    print(json.dumps(marks), flush=True)


def ui_run(folder: Path) -> dict:
    home = Path(tempfile.mkdtemp(prefix="i2v-home-"))
    env = dict(os.environ, I2V_FLOW_HOME=str(home))
    cmd = [sys.executable, __file__, "--ui-child", str(folder)]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    marks = json.loads(out.stdout.strip().splitlines()[-1])
    return {k: v - t0 for k, v in marks.items()}


def row(name: str, values: list[float], note: str = "") -> None:
    runs = ", ".join(ms(v) for v in values)
    print(f"  {name:<26} median {ms(statistics.median(values)):>8}   (runs: {runs}){note}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--no-tmux", action="store_true", help="skip the tmux runs")
    p.add_argument("--ui-child", metavar="FOLDER", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.ui_child:
        ui_child(args.ui_child)
        return 0

    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"i2v-flow start-up benchmark, {os.cpu_count()} cores, {args.runs} runs")
    print(f"machine: load average {' '.join(load)}")

    tmp = Path(tempfile.mkdtemp(prefix="i2v-startup-"))
    print("engine (python -m tui.engine --port 0 --watch-stdin, fresh data folder):")
    runs = [engine_run(tmp / f"engine{i}") for i in range(args.runs)]
    for key, label in (
        ("listening", "launch -> listening line"),
        ("first_answer", "-> first HTTP answer"),
        ("token", "-> token"),
        ("session", "-> session"),
        ("rtt", "then a request (keep-alive)"),
    ):
        row(label, [r[key] for r in runs])
    print(
        "  worker processes at the session: "
        + ", ".join(str(r["children"]) for r in runs)
        + "  (0: the pool's warm-up waits; it spawns a process importing av/cv2/numpy)"
    )

    print("UI process imports (wall time of a fresh interpreter):")
    base = [wall("pass") for _ in range(args.runs)]
    first = [wall("import tui.cli.main, tui.app.app") for _ in range(args.runs)]
    client = [
        wall("import tui.cli.main, tui.app.app, tui.client, tui.client.state")
        for _ in range(args.runs)
    ]
    row("python -c pass", base)
    row("+ tui.cli.main, tui.app.app", first)
    row("+ tui.client (httpx)", client)
    heavy = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, tui.cli.main, tui.app.app, tui.client; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'av', 'cv2', 'numpy', 'PIL', 'starlette', 'uvicorn'}))",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout.strip()
    print(f"  heavy modules in the UI process: {heavy}")

    folder = tmp / "pics"
    folder.mkdir()
    print("UI -> Ready, headless (App.run_test, 100x30), from the launch of the process:")
    ui = [ui_run(folder) for _ in range(args.runs)]
    nan = float("nan")
    for key, label, note in (
        ("imported", "tui.app imported", ""),
        ("engine_launch", "engine launched (on_load)", ""),
        ("client_import", "connect: imports tui.client", "  (httpx; blocks the loop)"),
        ("first_screen", "first screen", "  target <= 500 ms"),
        ("engine_listening", "engine listening", ""),
        ("ready", "Ready", "  target <= 1000 ms"),
    ):
        row(label, [r.get(key, nan) for r in ui], note)

    if not args.no_tmux and shutil.which("tmux"):
        import bench_tui

        print(f"UI -> Ready in tmux {bench_tui.W}x{bench_tui.H} (python -m tui FOLDER):")
        bare = [bench_tui.bare_run(i) for i in range(args.runs)]
        row("bare Textual app", bare, "  (the floor right now)")
        tm = [bench_tui.startup_run(i, folder) for i in range(args.runs)]
        row("first screen", [r["first_screen"] for r in tm], "  target <= 500 ms")
        row("Ready", [r["ready"] for r in tm], "  target <= 1000 ms")
        print(f"  UI process RSS median {statistics.median(r['rss'] for r in tm):.0f} MB")
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"machine: load average {' '.join(load)} (at the end)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
