"""Benchmark of the agent on the worst messages we can craft (tests/test_abuse_agent.py's WORST,
each at the 2,000-character limit, and 5,000 digits, which the agent cuts to the limit).
Prints figures.

    python tests/bench/bench_agent.py [--runs 3] [--rev GIT_REV] [--http]

- agent: `plan_turn` in this process, best and median of `--runs`, on an image and a video
- `--rev REV`: the same messages on the agent as it was at REV (its `tui/` from `git archive`,
  in a child process), side by side, to show what the fix bought; a message that takes that
  agent over 60 s is reported as such
- `--http`: each message as one POST /run_sse to a real engine (started here), full stream read

No targets are asserted here; tests/test_abuse_agent.py bounds each at 2 s to catch a hang.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

MEDIA = [
    {"hash": "h1", "file_type": "image", "filename": "a.png", "width": 64, "height": 48},
    {"hash": "h2", "file_type": "video", "filename": "v.mp4", "duration": 3.0},
]

# Run in a child on another checkout's tui/: prints {name: seconds} (best of runs) as JSON.
CHILD = """
import copy, json, sys, time
from tui.engine import agent
msgs, runs, media = json.loads(sys.stdin.read())
draft = {"d": 5000, "m": {"title": "p", "width": 1920, "height": 1080, "fps": 30}, "t": []}
agent.plan_turn("a 5 s clip", copy.deepcopy(draft), media, "en")
out = {}
for name, text in msgs.items():
    best = None
    for _ in range(runs):
        t = time.perf_counter()
        try:
            agent.plan_turn(text, copy.deepcopy(draft), media, "en")
        except Exception as exc:
            out[name] = type(exc).__name__
            break
        dt = time.perf_counter() - t
        best = dt if best is None else min(best, dt)
    else:
        out[name] = best
    print(json.dumps({name: out[name]}), flush=True)
"""


def messages() -> dict[str, str]:
    from tests.test_abuse_agent import WORST

    return {**WORST, "5,000 digits (cut to 2,000)": "1" * 5000}


def ms(x: float | str | None) -> str:
    if isinstance(x, str):
        return x
    return "over 60 s" if x is None else f"{x * 1000:8.1f} ms"


def time_here(msgs: dict[str, str], runs: int) -> dict[str, tuple[float, float]]:
    from tui.engine import agent
    from tui.engine.store import EMPTY_DRAFT

    agent.plan_turn("a 5 s clip", copy.deepcopy(EMPTY_DRAFT), MEDIA, "en")  # tables compiled
    out = {}
    for name, text in msgs.items():
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            agent.plan_turn(text, copy.deepcopy(EMPTY_DRAFT), MEDIA, "en")
            times.append(time.perf_counter() - t)
        out[name] = (min(times), statistics.median(times))
    return out


def time_at(rev: str, msgs: dict[str, str], runs: int) -> dict[str, float | str | None]:
    """Each message on the agent at `rev` (60 s per message at most, then "over 60 s")."""
    out: dict[str, float | str | None] = {}
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(
            ["git", "archive", rev, "tui"], cwd=ROOT, capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        for name, text in msgs.items():
            try:
                r = subprocess.run(
                    [sys.executable, "-c", CHILD],
                    input=json.dumps([{name: text}, runs, MEDIA]),
                    capture_output=True,
                    text=True,
                    cwd=tmp,
                    timeout=60,
                )
                out[name] = json.loads(r.stdout.splitlines()[-1])[name]
            except subprocess.TimeoutExpired:
                out[name] = None
    return out


def time_http(msgs: dict[str, str]) -> dict[str, float | str]:
    import httpx

    from tests.test_engine_lifecycle import EngineProc

    out: dict[str, float | str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        e = EngineProc(Path(tmp) / "data")
        try:
            with httpx.Client(base_url=e.url, timeout=120) as api:
                tok = api.post(
                    "/api/auth/anonymous-token", headers={"X-Client-Id": str(uuid.uuid4())}
                ).json()["data"]
                h = {"Authorization": f"Bearer {tok['token']}"}
                r = api.post("/api/tasks/me/with-session/nemo_agent", headers=h, json={})
                sid = r.json()["data"]["session_id"]
                for name, text in msgs.items():
                    body = {"session_id": sid, "new_message": {"parts": [{"text": text}]}}
                    t = time.perf_counter()
                    r = api.post("/run_sse", headers=h, json=body)
                    dt = time.perf_counter() - t
                    out[name] = dt if r.status_code == 200 else f"HTTP {r.status_code}"
                    time.sleep(0.1)  # the account's 20 requests a second
        finally:
            e.stop()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rev", help="also time the agent as it was at this git revision")
    ap.add_argument("--http", action="store_true", help="also time POST /run_sse on an engine")
    args = ap.parse_args()
    msgs = messages()
    here = time_here(msgs, args.runs)
    old = time_at(args.rev, msgs, 1) if args.rev else {}
    http = time_http(msgs) if args.http else {}
    print(f"agent, best / median of {args.runs} (Python {sys.version.split()[0]})")
    head = f"{'message':34s} {'chars':>6s} {'best':>11s} {'median':>11s}"
    head += f" {'at ' + args.rev:>13s}" if args.rev else ""
    head += f" {'POST /run_sse':>13s}" if args.http else ""
    print(head)
    for name, text in msgs.items():
        best, median = here[name]
        line = f"{name:34s} {len(text):6d} {ms(best):>11s} {ms(median):>11s}"
        line += f" {ms(old.get(name)):>13s}" if args.rev else ""
        line += f" {ms(http.get(name)):>13s}" if args.http else ""
        print(line)
    worst = max(msgs, key=lambda n: here[n][0])
    print(f"worst: {worst} at {ms(here[worst][0]).strip()}")


if __name__ == "__main__":
    main()
