"""A batch's costs, one session for all (the seed's way) against a session per file (not
collected by pytest; run it directly):

    python tests/bench/bench_batch.py [--images 4]

Against a private local engine: N photos, each "a 1 second 720p clip" at draft quality, the
renders waited on one after another in both ways. Prints the wall time and the requests each
way made (sessions opened, uploads, turns, renders), from the engine's side of the socket.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.media import photo  # noqa: E402
from tui.client import BatchFile, BatchItem, Client  # noqa: E402
from tui.client.state import ClientState  # noqa: E402

PROMPT = "a 1 second 720p clip"


def counted(http: object, calls: list[str]) -> None:
    """Note every request's method and path (httpx's own hook: our code runs as it is)."""

    async def note(request) -> None:  # type: ignore[no-untyped-def]
        calls.append(f"{request.method} {request.url.path}")

    http.event_hooks["request"].append(note)  # type: ignore[attr-defined]


def tally(calls: list[str]) -> str:
    def n(part: str) -> int:
        return sum(part in c for c in calls)

    return (
        f"sessions {n('/with-session/')}, uploads {n('/upload-video/')}, "
        f"turns {n('/run_sse')}, renders {n('POST /api/render/proxy/lambda')}"
    )


async def per_session(c: Client, images: list[Path], out: Path) -> None:
    for img in images:
        await c.new_session(persist=False)
        await c.upload([img])
        [_ async for _ in c.turn(PROMPT)]
        await c.export(out / f"s-{img.stem}.mp4", "draft")


async def one_session(c: Client, images: list[Path], out: Path) -> None:
    await c.open_batch()
    files: list[BatchFile] = []
    for img in images:
        await c.add_to_batch(BatchItem(img, PROMPT), files)
    for f in files:
        [_ async for _ in c.turn(f.message(c.language))]
        rid = await c.start_render("draft", await c.draft())
        dest = out / f"o-{Path(f.item.source).stem}.mp4"
        await c.download(rid, dest, await c.wait_render(rid))


async def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        env = {**os.environ, "I2V_ENGINE_MINT_RATE": "1000", "I2V_ENGINE_ACCOUNT_RATE": "1000"}
        engine = subprocess.Popen(
            [sys.executable, "-m", "tui.engine", "--port", "0", "--data", str(home / "engine")],
            stdout=subprocess.PIPE,
            stdin=subprocess.PIPE,
            env=env,
            cwd=ROOT,
        )
        assert engine.stdout is not None
        url = engine.stdout.readline().decode().strip().rsplit("listening on ", 1)[1]
        images = [photo(home / f"p{i}.jpg", (800, 600), seed=i + 1) for i in range(count)]
        try:
            for name, way in (("a session per file", per_session), ("one session", one_session)):
                calls: list[str] = []
                state = ClientState(home / f"{way.__name__}.json", "local")
                async with Client(url, state, poll_interval=0.2, language="en") as c:
                    await c.connect()  # the person's own session: not the batch's
                    counted(c.http, calls)
                    started = time.perf_counter()
                    await way(c, images, home)
                    took = time.perf_counter() - started
                print(f"{name:>20}: {count} clips in {took:5.2f} s; {tally(calls)}")
        finally:
            assert engine.stdin is not None
            engine.stdin.close()
            engine.terminate()
            engine.wait(10)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=4)
    asyncio.run(main(ap.parse_args().images))
