"""`i2v-flow render`: the scripting face of the app. Words to stdout, progress to stderr.

Exit 0 on success; on any failure, 1 and one line `error: …` on stderr (no traceback).
"""

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
from tui.protocol import FinalText, RenderStatus, TextChunk, ToolCall, TurnError

# TurnError codes the client gives a turn it could still see through (the state was fetched).
_RECOVERED = ("broken", "deadline")


class _Stderr:
    """Progress on stderr; remembers an unfinished `\\r` line so an error starts on its own."""

    open_line = False

    @classmethod
    def say(cls, msg: str) -> None:
        cls.end()
        print(msg, file=sys.stderr, flush=True)

    @classmethod
    def progress(cls, msg: str) -> None:
        sys.stderr.write("\r" + msg)
        sys.stderr.flush()
        cls.open_line = True

    @classmethod
    def end(cls) -> None:
        if cls.open_line:
            sys.stderr.write("\n")
            cls.open_line = False


def run_render(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_render(args))
    except KeyboardInterrupt:
        _Stderr.say("interrupted")
        return 130
    except (ClientError, EngineStartError) as exc:
        return _fail(str(exc))
    except OSError as exc:
        name = f"{exc.filename}: " if exc.filename else ""
        return _fail(f"{name}{exc.strerror or exc}")
    except Exception as exc:  # the scripting face: one line, never a traceback
        return _fail(f"{type(exc).__name__}: {exc}")


def _fail(msg: str) -> int:
    _Stderr.say("error: " + " ".join(msg.split()))
    return 1


async def _render(args: argparse.Namespace) -> int:
    for img in args.images:
        Client.check_upload(img)
    out = Path(args.out) if args.out else Path.cwd() / f"{Path(args.images[0]).stem}.mp4"
    if out.suffix.lower() != ".mp4":
        raise ClientError(f"{out}: the output must be an .mp4 file")
    out = unique_path(out)
    choice = choose(args.api)
    engine: EmbeddedEngine | None = None
    started = time.perf_counter()
    try:
        if choice.is_cloud:
            url = choice.url
            key = url
        else:
            _Stderr.say("Starting the local engine…")
            engine = EmbeddedEngine()
            url = await engine.start()
            key = "local"
        assert url is not None
        state = ClientState(client_state_file(), key)
        # persist_session=False: a headless run never replaces the app's saved session.
        async with Client(
            url,
            state,
            token=choice.token,
            cloud=choice.is_cloud,
            on_status=_Stderr.say,
            persist_session=False,
        ) as client:
            reused = bool(state.backend.get("session_id"))
            await client.connect()
            if reused:  # a fresh session per headless run: its timeline holds just these images
                await client.new_session()
            _Stderr.say(f"Uploading {len(args.images)} file(s)…")
            await client.upload(args.images)
            await _turn(client, args.prompt)

            last = [-1]

            def progress(status: RenderStatus) -> None:
                pct = int(status.progress)
                if pct != last[0]:
                    last[0] = pct
                    _Stderr.progress(f"Rendering… {pct:3d}%")

            result = await client.export(out, args.quality, progress)
            _Stderr.end()
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


async def _turn(client: Client, prompt: str) -> None:
    """The agent's words stream to stdout; the final text replaces the chunks, never doubles."""
    shown = ""
    failure = ""
    async for ev in client.turn(prompt):
        if isinstance(ev, TextChunk):
            sys.stdout.write(ev.text)
            sys.stdout.flush()
            shown += ev.text
        elif isinstance(ev, FinalText):
            if ev.text != shown:
                # The chunks were not the whole text: show the final one in full.
                sys.stdout.write(("\n" if shown else "") + ev.text)
            sys.stdout.write("\n")
            sys.stdout.flush()
            shown = ""
        elif isinstance(ev, ToolCall):
            _Stderr.say(f"  ↳ {ev.name}")
        elif isinstance(ev, TurnError):
            if ev.code in _RECOVERED:
                _Stderr.say(f"warning: {ev.message}")
            else:
                failure = failure or ev.message
        elif isinstance(ev, StateUpdate):
            if shown:
                sys.stdout.write("\n")
            if ev.note and not ev.actions:  # GUI hints ("click Export") do not apply here
                print(ev.note)
            print("Tracks:")
            for line in ev.summary:
                print(f"  {line}")
            sys.stdout.flush()
    if failure:
        raise ClientError(f"the assistant could not do it: {failure}")
