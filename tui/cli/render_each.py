"""`i2v-flow render --each`: a batch the seed's way (tui/client/batch.py). Every image uploaded
into one session, then each taken in turn with its own instruction (its part of --prompt,
"a.jpg: zoom in; b.jpg: pan left", else its sidecar NAME.txt, else --prompt's words for all),
rendered and downloaded into the output folder before the next; a failed image is named and the
others go on."""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path
from typing import Any

from tui.cli.render import _emit, _facts, _Run, _stem, _turn, _url_of
from tui.client import (
    BatchFile,
    BatchItem,
    ClientError,
    own_instruction,
    split_instructions,
    unique_path,
)
from tui.core.protocol import RenderStatus
from tui.session.backend import Backend


async def render_each(backend: Backend, args: argparse.Namespace, run: _Run, folder: Path) -> int:
    started = time.perf_counter()
    say = run.stderr.say
    await backend.open_batch()
    files: list[BatchFile] = []
    failed: list[dict[str, str]] = []
    sources = [_url_of(image) or image for image in args.images]
    common, typed = split_instructions(args.prompt, [BatchItem(s, "").name for s in sources])
    for source in sources:
        name = BatchItem(source, "").name
        if isinstance(source, str):  # a URL: no sidecar beside it
            item = BatchItem(source, typed.get(name) or common)
        else:
            item = BatchItem(source, typed.get(name) or own_instruction(source, common))
        say(f"Uploading {item.name}…")
        try:
            await backend.add_to_batch(item, files)
        except ClientError as exc:
            failed.append({"image": item.name, "error": str(exc)})
            run.stderr.error(f"warning: {item.name}: {exc}")
    clips: list[dict[str, Any]] = []
    for f in files:
        name = f.item.name
        run.out(f"[{f.position}/{f.count}] {name}\n")
        words = len(run.words)
        try:
            await _turn(backend, f.message(backend.language), run)
            draft = await backend.draft()
            dest = unique_path(folder / f"{_stem(f.item.source) or 'clip'}.mp4")
            rid = await backend.start_render(args.quality, draft, dest)

            def progress(status: RenderStatus, name: str = name) -> None:
                run.stderr.update(f"Rendering {name}…", status.progress)

            status = await backend.wait_render(rid, progress)
            path = await backend.download(rid, dest, status)
            run.stderr.end()
        except ClientError as exc:
            run.stderr.end()
            failed.append({"image": name, "error": str(exc)})
            run.stderr.error(f"warning: {name}: {exc}")
            continue
        clips.append(
            {
                "image": name,
                "path": str(path.resolve()),
                **_facts(path),
                "size": path.stat().st_size,
                "render_id": status.id or rid,
                "session_id": backend.where().session_id,
                "tracks": run.tracks,
                "words": "\n".join(run.words[words:]),
            }
        )
        run.out(f"Saved {path} ({path.stat().st_size / 1e6:.1f} MB)\n")
    credits = await backend.credits()
    summary = f"{len(clips)} of {len(args.images)} clips saved to {folder}"
    if run.as_json:
        _emit(
            {
                "clips": clips,
                "failed": failed,
                "credits": dataclasses.asdict(credits),
                "seconds": round(time.perf_counter() - started, 2),
                **({"error": summary} if failed else {}),
            }
        )
    else:
        print(f"{summary} in {time.perf_counter() - started:.1f} s")
        print(f"Credits: {credits.available} available, {credits.frozen} frozen")
    if failed:
        names = ", ".join(f["image"] for f in failed)
        run.stderr.error(f"error: {summary}; failed: {names}")
        return 1
    return 0
