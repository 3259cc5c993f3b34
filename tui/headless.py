"""`i2v-flow render`: the scripting face of the app. Words to stdout, progress to stderr."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from tui.backend import EmbeddedEngine, EngineStartError, choose
from tui.client import Client, ClientError, StateUpdate, unique_path
from tui.client_state import ClientState
from tui.paths import client_state_file
from tui.protocol import FinalText, TextChunk, ToolCall, TurnError


def run_render(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_render(args))
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except (ClientError, EngineStartError) as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 1


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


async def _render(args: argparse.Namespace) -> int:
    for img in args.images:
        Client.check_upload(img)
    out = Path(args.out) if args.out else Path.cwd() / f"{Path(args.images[0]).stem}.mp4"
    out = unique_path(out)
    choice = choose(args.api)
    engine: EmbeddedEngine | None = None
    started = time.perf_counter()
    try:
        if choice.is_cloud:
            url = choice.url
            key = url
        else:
            _err("Starting the local engine…")
            engine = EmbeddedEngine()
            url = await engine.start()
            key = "local"
        assert url is not None
        state = ClientState(client_state_file(), key)
        async with Client(url, state, token=choice.token, cloud=choice.is_cloud) as client:
            _err("Connecting…")
            await client.connect()
            # A fresh session per headless run: its timeline holds just these images.
            await client.new_session()
            _err(f"Uploading {len(args.images)} file(s)…")
            await client.upload(args.images)
            shown = ""
            async for ev in client.turn(args.prompt):
                if isinstance(ev, TextChunk):
                    sys.stdout.write(ev.text)
                    sys.stdout.flush()
                    shown += ev.text
                elif isinstance(ev, FinalText):
                    if ev.text != shown:  # the final text replaces the chunks
                        sys.stdout.write(("\n" if shown else "") + ev.text)
                    sys.stdout.write("\n")
                    shown = ""
                elif isinstance(ev, ToolCall):
                    _err(f"  ↳ {ev.name}")
                elif isinstance(ev, TurnError):
                    _err(f"warning: {ev.message}")
                elif isinstance(ev, StateUpdate):
                    if ev.note:
                        print(ev.note)
                    print("Tracks:")
                    for line in ev.summary:
                        print(f"  {line}")
            last = [-1]

            def progress(status) -> None:
                pct = int(status.progress)
                if pct != last[0]:
                    last[0] = pct
                    sys.stderr.write(f"\rRendering… {pct:3d}%")
                    sys.stderr.flush()

            result = await client.export(out, args.quality, progress)
            sys.stderr.write("\n")
            credits = await client.credits()
            print(
                f"Saved {result.path} ({result.size / 1e6:.1f} MB) in "
                f"{time.perf_counter() - started:.1f} s"
            )
            print(f"Credits: {credits['available']} available, {credits['frozen']} frozen")
            return 0
    finally:
        if engine is not None:
            await engine.stop()
