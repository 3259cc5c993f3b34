"""`i2v-flow render`: the scripting face of the app. Words to stdout, progress to stderr.

Exit 0 on success; on any failure, 1 and one line `error: …` on stderr (no traceback). With
`--json`, stdout holds one JSON object and nothing else: the clip's facts, or `{"error": …}`.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import re
import sys
import time
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from tui.cli.progress import Progress
from tui.core.backend import EngineStartError
from tui.core.intents import language_of
from tui.core.protocol import FinalText, Heartbeat, RenderStatus, TextChunk, ToolCall, TurnError
from tui.core.session_state import Media
from tui.session.backend import Backend, check_uploads

# TurnError codes the client gives a turn it could still see through (the state was fetched).
_RECOVERED = ("broken", "deadline")
STILL_WORKING_EVERY = 120.0  # seconds of heartbeats, no words, between "⏳ Still working…" lines


class _Run:
    """One run's output: stdout for people, or the facts gathered for one JSON object."""

    def __init__(self, args: argparse.Namespace):
        self.as_json = bool(getattr(args, "json", False))
        self.stderr = Progress(quiet=bool(getattr(args, "quiet", False)))
        self.words: list[str] = []
        self.tracks: list[str] = []
        self.note = ""
        self.made: list[dict] = []  # what the cloud's own tools made (generated_media)
        self.made_media: list[Media] = []  # the same, to fetch with --save-made

    def out(self, text: str) -> None:
        """stdout for people; with --json, nothing (the facts go in the object at the end)."""
        if not self.as_json:
            sys.stdout.write(text)
            sys.stdout.flush()

    def fail(self, msg: str, **extra: Any) -> int:
        """Exit status 1: one `error:` line on stderr; with --json, `{"error": …}` on stdout."""
        msg = " ".join(msg.split())
        self.stderr.error("error: " + msg)
        if self.as_json:
            _emit({"error": msg, **{k: v for k, v in extra.items() if v is not None}})
        return 1


def run_render(args: argparse.Namespace) -> int:
    run = _Run(args)
    try:
        return asyncio.run(_render(args, run))
    except KeyboardInterrupt:
        if run.as_json:
            _emit({"error": "interrupted"})
        run.stderr.error("interrupted")
        return 130
    except Exception as exc:  # the scripting face: one line, never a traceback
        from tui.client import ClientError  # loaded by now (see _render)

        if isinstance(exc, ClientError):
            return run.fail(str(exc), code=exc.code)
        if isinstance(exc, EngineStartError):
            return run.fail(str(exc))
        if isinstance(exc, OSError):
            name = f"{exc.filename}: " if exc.filename else ""
            return run.fail(f"{name}{exc.strerror or exc}")
        return run.fail(f"{type(exc).__name__}: {exc}")


def _emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _url_of(image: Path | str) -> str | None:
    """`image` as an http(s) URL when it is one (a Path argument folds `https://` to
    `https:/`: unfolded), else None: a local file."""
    text = str(image)
    if not re.match(r"https?:/", text, re.I):
        return None
    return re.sub(r"^(https?):/+", r"\1://", text, count=1, flags=re.I)


def _stem(image: Path | str) -> str:
    """The clip's default name: a file's stem, a URL's last path part's (no query)."""
    url = _url_of(image)
    return PurePosixPath(urlsplit(url).path).stem if url else Path(image).stem


async def _render(args: argparse.Namespace, run: _Run) -> int:
    # persist_session=False: a headless run never replaces the app's saved session.
    language = language_of(args.prompt or "")
    backend = Backend(args.api, on_status=run.stderr.say, persist_session=False, language=language)
    started = time.perf_counter()
    async with backend:
        # The engine's process starts first: its start-up (~0.15 s) overlaps this process
        # loading the client (httpx, ~0.08 s) instead of following it (one turn of the loop
        # spawns it). A refused input below stops it again (in ~0.03 s).
        backend.prestart()
        await asyncio.sleep(0)
        return await _render_on(backend, args, run, started)


async def _render_on(backend: Backend, args: argparse.Namespace, run: _Run, started: float) -> int:
    from tui.client import ClientError, unique_path

    urls = [u for u in map(_url_of, args.images) if u is not None]
    files = [img for img in args.images if _url_of(img) is None]
    check_uploads(files)
    each = bool(getattr(args, "each", False))
    if each:  # a folder for the clips, not one file
        out = Path(args.out or getattr(args, "out_dir", None) or Path.cwd()).expanduser()
        if out.suffix.lower() == ".mp4":
            raise ClientError(f"{out}: with --each, -o names a folder (one clip per image)")
    elif args.out:
        out = Path(args.out)
    else:  # the config file's `out` folder, else here
        folder = Path(getattr(args, "out_dir", None) or Path.cwd()).expanduser()
        out = folder / f"{_stem(args.images[0]) or 'clip'}.mp4"
    if not each and out.suffix.lower() != ".mp4":
        raise ClientError(f"{out}: the output must be an .mp4 file")
    out = out if each else unique_path(out)
    say = run.stderr.say
    if not backend.is_cloud:
        say("Starting the local engine…")
    resumed = (await backend.connect()).resumed
    if each:  # one session for all the images, a turn and a clip each
        from tui.cli.render_each import render_each

        return await render_each(backend, args, run, out)
    if resumed:  # a fresh session per headless run: its timeline holds just these images
        await backend.new_session()
    say(f"Uploading {len(args.images)} file(s)…")
    if files:
        await backend.upload(files)
    if urls:  # the backend fetches these itself (the local engine refuses, in words)
        await backend.fetch_urls(urls)
    await _turn(backend, args.prompt, run)

    def progress(status: RenderStatus) -> None:
        run.stderr.update("Rendering…", status.progress)

    run.stderr.update("Rendering…", 0.0)  # at once: the engine's first answer may be held
    result = await backend.export(out, args.quality, progress)
    run.stderr.end()
    if getattr(args, "save_made", False):  # beside the clip, never with our token
        for facts, media in zip(run.made, run.made_media, strict=True):
            saved = await backend.save_media(media, out.parent)
            facts["path"] = str(saved.resolve())
            run.out(f"Saved {saved} (made by the cloud)\n")
    credits = await backend.credits()
    elapsed = time.perf_counter() - started
    if run.as_json:
        _emit(
            {
                "path": str(result.path.resolve()),
                **_facts(result.path),
                "size": result.size,
                "quality": args.quality,
                "render_id": result.render_id,
                "credits": dataclasses.asdict(credits),
                "tracks": run.tracks,
                "words": "\n".join(run.words),
                "note": run.note,
                "made": run.made,
                "seconds": round(elapsed, 2),
            }
        )
        return 0
    print(f"Saved {result.path} ({result.size / 1e6:.1f} MB) in {elapsed:.1f} s")
    print(f"Credits: {credits.available} available, {credits.frozen} frozen")
    return 0


def _facts(path: Path) -> dict[str, Any]:
    """What the MP4 itself says: length in seconds and frame size (None where it cannot)."""
    facts: dict[str, Any] = {"duration": None, "width": None, "height": None}
    try:
        import av

        with av.open(str(path)) as box:
            video = box.streams.video[0]
            seconds = box.duration / 1e6 if box.duration else None
            if seconds is None and video.duration is not None and video.time_base is not None:
                seconds = float(video.duration * video.time_base)
            facts["duration"] = round(seconds, 3) if seconds is not None else None
            facts["width"] = video.codec_context.width
            facts["height"] = video.codec_context.height
    except Exception:  # not a video we can read (a backend's odd file): the size still holds
        pass
    return facts


async def _turn(backend: Backend, prompt: str, run: _Run) -> None:
    """The agent's words stream to stdout; the final text replaces the chunks, never doubles."""
    from tui.client import ClientError, StateUpdate

    shown = ""
    failure = ""
    quiet_since, notices = time.monotonic(), 0  # a long turn says it works on, on stderr
    async for ev in backend.turn(prompt):
        if isinstance(ev, TextChunk | FinalText):
            quiet_since, notices = time.monotonic(), 0
        if isinstance(ev, Heartbeat):
            quiet = time.monotonic() - quiet_since
            if quiet >= STILL_WORKING_EVERY * (notices + 1):
                notices += 1
                run.stderr.say(f"⏳ Still working… no words for {quiet / 60:.0f} min")
        elif isinstance(ev, TextChunk):
            run.out(ev.text)
            shown += ev.text
        elif isinstance(ev, FinalText):
            if ev.text != shown:
                # The chunks were not the whole text: show the final one in full.
                run.out(("\n" if shown else "") + ev.text)
            run.out("\n")
            run.words.append(ev.text)
            shown = ""
        elif isinstance(ev, ToolCall):
            run.stderr.say(f"  ↳ {ev.name}")
        elif isinstance(ev, TurnError):
            if ev.code in _RECOVERED:
                run.stderr.error(f"warning: {ev.message}")
            else:
                failure = failure or ev.message
        elif isinstance(ev, StateUpdate):
            if shown:
                run.out("\n")
                run.words.append(shown)
            shown = ""
            # GUI words are not acted on here: the run exports anyway, once ("click Export").
            if ev.note and not ev.actions:
                run.out(ev.note + "\n")
                run.note = ev.note
            for m in ev.made:  # a clip the cloud's own tool made: its address, as it is
                run.out(f"The cloud made {m.describe()}" + (f": {m.url}\n" if m.url else "\n"))
                run.made.append({"name": m.name, "url": m.url, "kind": m.kind})
                run.made_media.append(m)
            run.tracks = list(ev.summary)
            run.out("Tracks:\n" + "".join(f"  {line}\n" for line in ev.summary))
    if failure:
        raise ClientError(f"the assistant could not do it: {failure}")
