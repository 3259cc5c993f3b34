"""Scaling out, measured (not collected by pytest; run it directly):

    python tests/bench/bench_scale.py [--images 20] [--seconds 2] [--quality standard]

20 images (10 users, 2 each: the per-user cap) asked for at once of one `serve --database`
node, rendered by 1 and then 2 `i2v-flow worker` processes on this machine, against the
embedded engine (SQLite, its own pool of 1 and 2 workers) on the same requests. Prints the
time from the first request to the last clip and clips a minute. The database is a private
PostgreSQL cluster (tests/pg_cluster.py: initdb into a temporary folder, a Unix socket only).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests import pg_cluster  # noqa: E402
from tests.test_engine_api import (  # noqa: E402
    auth,
    clip,
    new_session,
    start_render,
    token,
    upload_photo,
)

USERS = 10


def start(cmd: list[str], env: dict[str, str], word: str) -> subprocess.Popen:
    p = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, **env},
    )
    assert p.stdout is not None
    line = p.stdout.readline().decode()
    if word not in line:
        p.kill()
        raise SystemExit(f"did not start: {cmd} {line!r}")
    p.first_line = line  # type: ignore[attr-defined]
    return p


def run_batch(url: str, folder: Path, images: int, seconds: float, quality: str) -> float:
    """Seconds from the first render request to the last clip completed."""
    with httpx.Client(base_url=url, timeout=60) as api:
        users = []
        for i in range(USERS):
            tok = token(api)
            sid = new_session(api, tok)
            src = upload_photo(api, tok, sid, folder / f"u{i}.png", (1600, 1200))["hash"]
            users.append((tok, sid, src))
        draft_of = {i: clip(users[i][2], seconds, (1280, 720)) for i in range(USERS)}
        out = {"format": "mp4", "quality": quality}
        t0 = time.monotonic()
        rids = []
        for n in range(images):
            tok, sid, _ = users[n % USERS]
            r = start_render(api, tok, sid, draft_of[n % USERS], output=out)
            assert r.status_code == 200, r.text
            rids.append((tok, r.json()["data"]["id"]))
        left = set(range(len(rids)))
        while left and time.monotonic() - t0 < 900:
            for i in list(left):
                tok, rid = rids[i]
                st = api.get(f"/api/render/proxy/lambda/{rid}", headers=auth(tok)).json()["data"]
                if st["status"] in ("completed", "failed", "cancelled"):
                    assert st["status"] == "completed", st
                    left.discard(i)
            time.sleep(0.2)
        assert not left, f"{len(left)} renders unfinished"
        return time.monotonic() - t0


def engine_cmd(data: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "tui", "serve", "--port", "0", "--data", str(data), *extra]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=2)
    ap.add_argument("--quality", default="standard", choices=["high", "standard", "draft"])
    args = ap.parse_args()
    rate = {"I2V_ENGINE_MINT_RATE": "100000", "I2V_ENGINE_ACCOUNT_RATE": "100000"}
    print(f"{args.images} images, {args.seconds:g} s 720p {args.quality}, {os.cpu_count()} cores")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (1, 2):  # the embedded engine, for reference
            data = Path(tmp) / f"sqlite{workers}"
            node = start(engine_cmd(data, "--workers", str(workers)), rate, "listening on ")
            url = node.first_line.strip().rsplit("listening on ", 1)[1]  # type: ignore[attr-defined]
            try:
                took = run_batch(url, Path(tmp), args.images, args.seconds, args.quality)
            finally:
                node.kill()
                node.wait()
            results.append((f"embedded, {workers} pool worker(s)", took))
        with pg_cluster.cluster() as admin:
            for workers in (1, 2):
                with pg_cluster.database(admin) as db:
                    storage = Path(tmp) / f"pg{workers}"
                    env = {**rate, "I2V_FLOW_DATABASE": db}
                    node = start(engine_cmd(storage), env, "listening on ")
                    line = node.first_line  # type: ignore[attr-defined]
                    url = line.strip().rsplit("listening on ", 1)[1]
                    wcmd = [sys.executable, "-m", "tui", "worker", "--storage", str(storage)]
                    procs = [start(wcmd, env, "ready") for _ in range(workers)]
                    try:
                        took = run_batch(url, Path(tmp), args.images, args.seconds, args.quality)
                    finally:
                        for p in [*procs, node]:
                            p.kill()
                            p.wait()
                    results.append((f"PostgreSQL queue, {workers} worker process(es)", took))
    for what, took in results:
        print(f"{what:42s} {took:6.1f} s   {args.images / took * 60:5.1f} clips/min")


if __name__ == "__main__":
    main()
