"""Benchmark of reading the draft (tui/core/draft.py): `Draft.from_wire`, the summary and the diff
of a turn, on the engine's draft of three images, music and two texts, and on the largest draft
the engine renders (400 segments). Prints figures (µs a call, the median of runs).

    python tests/bench/bench_draft.py [--runs 7]

The app reads each new timeline a few times (summary, diff, the tracks pane): at these figures a
turn's reading stays far under a frame.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import timeit

from tui.core.draft import Draft
from tui.core.draft_words import diff_drafts, summarize_draft


def engine_draft() -> dict:
    video = [
        {"id": f"s{i}", "src": f"h{i}", "st": i * 2000, "d": 2000, "m": {"name": f"p{i}.jpg"}}
        for i in range(3)
    ]
    music = {"id": "m", "src": "builtin:lofi", "st": 0, "d": 6000, "m": {"name": "Lo-fi"}}
    music["m"]["volume"] = 0.35
    texts = [
        {
            "id": "t1",
            "st": 0,
            "d": 3000,
            "m": {"text": "Sale", "role": "title", "color": "#FFD600"},
        },
        {"id": "t2", "st": 3000, "d": 3000, "m": {"text": "Now", "role": "caption", "size": 1.4}},
    ]
    return {
        "d": 6000,
        "m": {"title": "project", "width": 1920, "height": 1080, "fps": 30},
        "t": [{"tt": 0, "sg": video}, {"tt": 1, "sg": [music]}, {"tt": 7, "sg": texts}],
    }


def largest_draft() -> dict:
    draft = engine_draft()
    seg = draft["t"][0]["sg"][0]
    draft["t"] = [
        {"tt": 0, "sg": [{**copy.deepcopy(seg), "id": f"v{t}-{i}"} for i in range(200)]}
        for t in range(2)
    ]
    return draft


def per_call_us(fn, runs: int) -> float:
    timer = timeit.Timer(fn)
    n, _ = timer.autorange()
    return statistics.median(timer.repeat(runs, n)) / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    runs = ap.parse_args().runs
    for name, draft in (
        ("engine draft, 6 segments", engine_draft()),
        ("400 segments", largest_draft()),
    ):
        after = copy.deepcopy(draft)
        after["t"][0]["sg"][0]["d"] += 500
        print(f"{name}:")
        print(
            f"  Draft.from_wire   {per_call_us(lambda d=draft: Draft.from_wire(d), runs):9.1f} µs"
        )
        print(f"  to_wire           {per_call_us(Draft.from_wire(draft).to_wire, runs):9.1f} µs")
        print(
            f"  summarize_draft   {per_call_us(lambda d=draft: summarize_draft(d), runs):9.1f} µs"
        )
        diff = per_call_us(lambda d=draft, a=after: diff_drafts(d, a), runs)
        print(f"  diff_drafts       {diff:9.1f} µs")


if __name__ == "__main__":
    main()
