"""A draft sent as it renders (GET /api/render/proxy/{rid}/live, tui/engine/server/routes/live.py)
and played as it arrives (tui/preview/frames.py, Growing), against real engines on 127.0.0.1.
"Before the render ends" is a state these tests hold (the worker stopped with SIGSTOP, or a file
written piece by piece by the test), not a race they hope to win."""

from __future__ import annotations

import os
import signal
import struct
import threading
import time
from pathlib import Path

import av
import httpx
import numpy as np

from tests.decode import probe
from tests.media import photo
from tests.test_abuse_workers import User, engines  # noqa: F401  (a fixture)
from tests.test_engine_api import auth, clip, start_render, token, wait_render
from tests.test_engine_lifecycle import EngineProc, start
from tests.test_preview import RED, flat
from tui.core.paths import part_path
from tui.core.tiers import DRAFT
from tui.engine.render import render_draft as render_file
from tui.preview.frames import decode
from tui.preview.source import render_draft
from tui.session.backend import Backend

AT_DRAFT = {"output": {"format": "mp4", "quality": DRAFT}}


def boxes(data: bytes) -> list[str]:
    """The MP4's top-level boxes that are whole in `data`, by type."""
    out, at = [], 0
    while at + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        if size < 8 or at + size > len(data):
            break
        out.append(kind.decode("latin-1"))
        at += size
    return out


def frames_in(path: Path) -> int:
    """How many pictures a player gets out of `path` (as far as it goes, if it is cut)."""
    n = 0
    try:
        with av.open(str(path)) as c:
            for _ in c.decode(c.streams.video[0]):
                n += 1
    except av.error.FFmpegError:
        pass
    return n


def read_until_a_fragment(chunks) -> bytes:
    got = b""
    while "mdat" not in boxes(got):
        got += next(chunks)
    return got


def test_a_draft_streams_while_it_renders_and_ends_as_the_finished_file(
    engines: list[EngineProc],  # noqa: F811
    tmp_path: Path,
) -> None:
    e = start(engines, tmp_path / "data", "--workers", "1")
    with httpx.Client(base_url=e.url, timeout=60) as api:
        u = User(api, tmp_path, "u")
        r = start_render(api, u.tok, u.sid, clip(u.src, 10, (1280, 720), fps=30), **AT_DRAFT)
        rid = r.json()["data"]["id"]
        with api.stream("GET", f"/api/render/proxy/{rid}/live", headers=auth(u.tok)) as resp:
            assert resp.status_code == 200 and resp.headers["content-type"] == "video/mp4"
            chunks = resp.iter_raw()
            got = read_until_a_fragment(chunks)
            # The worker writing it, stopped where it is: the render is not over.
            [part] = (tmp_path / "data" / "renders").glob(f".{rid}.mp4.*.part")
            worker = int(part.name.split(".")[-2])
            os.kill(worker, signal.SIGSTOP)
            try:
                status = api.get(f"/api/render/proxy/lambda/{rid}", headers=auth(u.tok))
                assert status.json()["data"]["status"] == "processing"
                early = tmp_path / "early.mp4"
                early.write_bytes(got)
                assert 1 <= frames_in(early) < 300  # already playable, from its start
            finally:
                os.kill(worker, signal.SIGCONT)
            for chunk in chunks:
                got += chunk
        assert wait_render(api, u.tok, rid)["status"] == "completed"
        whole = api.get(f"/api/render/proxy/{rid}/download", headers=auth(u.tok)).content
    assert got == whole  # what came as it rendered is the finished file, byte for byte
    out = tmp_path / "whole.mp4"
    out.write_bytes(got)
    p = probe(out)
    assert (p.codec, p.width, p.height, p.frames) == ("h264", 960, 540, 300)


def test_a_cancelled_draft_ends_its_stream_and_exports_do_not_stream(
    api: httpx.Client, tmp_path: Path
) -> None:
    u = User(api, tmp_path, "u")
    rid = start_render(api, u.tok, u.sid, clip(u.src, 30, (1280, 720), fps=30), **AT_DRAFT)
    rid = rid.json()["data"]["id"]
    other = token(api)
    assert api.get(f"/api/render/proxy/{rid}/live", headers=auth(other)).status_code == 404
    with api.stream("GET", f"/api/render/proxy/{rid}/live", headers=auth(u.tok)) as resp:
        chunks = resp.iter_raw()
        got = read_until_a_fragment(chunks)
        r = api.post(f"/api/render/proxy/lambda/{rid}/cancel", headers=auth(u.tok))
        assert r.json()["data"]["status"] == "cancelled"
        for chunk in chunks:  # the body ends (short, cleanly) soon after the cancel
            got += chunk
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(got)
    assert 1 <= frames_in(cut) < 900
    r = api.get(f"/api/render/proxy/{rid}/live", headers=auth(u.tok))
    assert r.status_code == 409 and "cancelled" in r.json()["message"]
    # An export is laid out at its end (its index moved before the pictures): it never streams.
    export = u.render_id(1, (320, 180))
    r = api.get(f"/api/render/proxy/{export}/live", headers=auth(u.tok))
    assert r.status_code == 409 and "download it once completed" in r.json()["message"]


async def test_the_preview_plays_a_draft_from_its_first_bytes(engine_url, tmp_path, _home) -> None:
    """render_draft hands the file over at its first bytes, with the length the timeline says;
    decoded as it grows, it is the very clip the finished file is."""
    img = flat(tmp_path / "red.png", RED)
    seen: list[tuple] = []
    growing: list = []

    def started(source) -> None:
        part = part_path(source.path)
        seen.append((source, part.exists(), source.path.exists()))
        t = threading.Thread(
            target=lambda: growing.append(decode(source.path, 80, 22, seconds=source.seconds))
        )
        t.start()
        seen.append(t)

    async with Backend(engine_url, poll_interval=0.2) as backend:
        await backend.connect()
        await backend.upload([img])
        [ev async for ev in backend.turn("a 4 second clip, lo-fi music at 35%")]
        source = await render_draft(backend, await backend.draft(), started)
    (first, part_was_there, whole_was_there), t = seen
    assert first.path == source.path and source.seconds == 4.0 and source.streamed
    assert part_was_there and not whole_was_there  # handed over before the file was whole
    t.join(60)
    [clip_] = growing
    assert clip_.done and clip_.duration == 4.0 and clip_.sound
    whole = decode(source.path, 80, 22)
    assert len(clip_.frames) == len(whole.frames) == 120
    assert all(np.array_equal(a, b) for a, b in zip(clip_.frames, whole.frames, strict=True))
    assert not part_path(source.path).exists()


def _draft_file(tmp_path: Path) -> Path:
    """2 s of a photo zooming in (every frame another picture), at the draft tier."""
    src = photo(tmp_path / "p.png", (640, 360))
    out = tmp_path / "whole.mp4"
    render_file(clip("img", 2, (640, 360), fps=30), {"img": src}, out, quality=DRAFT)
    return out


def _write_slowly(whole: Path, dest: Path, upto: float, then: str) -> threading.Thread:
    """Copy `whole` into `dest`'s part file a piece at a time, up to `upto` of it; `then`
    "rename" it into place (whole) or "remove" it (the render failed)."""
    data = whole.read_bytes()
    part, end = part_path(dest), int(len(data) * upto)
    part.write_bytes(data[:1000])

    def run() -> None:
        with open(part, "ab") as f:
            for at in range(1000, end, 4000):
                f.write(data[at : min(at + 4000, end)])
                f.flush()
                time.sleep(0.005)
            if then == "rename":
                f.write(data[end:])
        if then == "rename":
            os.replace(part, dest)
        else:
            part.unlink()

    t = threading.Thread(target=run)
    t.start()
    return t


def test_a_file_decoded_as_it_grows_is_decoded_whole(tmp_path: Path) -> None:
    whole = _draft_file(tmp_path)
    dest = tmp_path / "preview" / "draft.mp4"
    dest.parent.mkdir()
    writer = _write_slowly(whole, dest, 1.0, "rename")
    clip_ = decode(dest, 40, 12, seconds=2.0)
    writer.join()
    assert clip_.done and clip_.duration == 2.0 and len(clip_.frames) == 60
    again = decode(dest, 40, 12)
    assert all(np.array_equal(a, b) for a, b in zip(clip_.frames, again.frames, strict=True))


def test_a_growing_file_removed_midway_ends_the_clip_there(tmp_path: Path) -> None:
    whole = _draft_file(tmp_path)
    dest = tmp_path / "draft.mp4"
    writer = _write_slowly(whole, dest, 0.5, "remove")
    began = time.monotonic()
    clip_ = decode(dest, 40, 12, seconds=2.0)
    writer.join()
    assert 0 < len(clip_.frames) < 60
    assert time.monotonic() - began < 20  # not the 60 s a stalled file is waited


def test_a_finished_draft_is_its_fragments_in_order(tmp_path: Path) -> None:
    """The layout that lets it stream: the index first, then fragments of a quarter second,
    each with its own index."""
    whole = _draft_file(tmp_path)
    kinds = boxes(whole.read_bytes())
    assert kinds[:2] == ["ftyp", "moov"] and kinds.count("moof") == kinds.count("mdat") >= 8
    assert probe(whole).frames == 60


async def test_a_backend_that_does_not_stream_drafts_gives_them_whole(fb, tmp_path, _home) -> None:
    """An engine from before live drafts (any backend without the route): nothing is handed
    over early, no part file is left, and the download brings the file whole."""
    started: list = []
    async with Backend(fb.url, poll_interval=0.01) as backend:
        await backend.connect()
        draft = clip("photo-hash", 2, (640, 360), fps=30)
        source = await render_draft(backend, draft, started.append)
    assert not started and not source.streamed
    assert source.path.read_bytes() == fb.video
    assert not part_path(source.path).exists()


async def test_a_live_draft_cut_midway_is_played_again_whole(fb, tmp_path, _home) -> None:
    """The stream drops after its first bytes: what came is let go (it may be the start of an
    attempt that died, not of the finished file), the file is downloaded whole, and the Source
    says it was not all streamed, so the app plays it again whole."""
    fb.then("live", fb.cut_download(50_000, length=False))
    started: list = []
    async with Backend(fb.url, poll_interval=0.01) as backend:
        await backend.connect()
        draft = clip("photo-hash", 2, (640, 360), fps=30)
        source = await render_draft(backend, draft, started.append)
    assert [s.path for s in started] == [source.path] and not source.streamed
    assert source.path.read_bytes() == fb.video
    assert not part_path(source.path).exists()
    ranges = [s.headers.get("range") for s in fb.seen if s.name == "download"]
    assert ranges == [None]  # whole, not resumed from the bytes that came
