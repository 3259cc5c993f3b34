"""A draft sent as it renders (GET /api/render/proxy/{rid}/live, tui/engine/server/routes/live.py)
and played as it arrives (tui/preview/frames.py, Growing), against real engines on 127.0.0.1.
"Before the render ends" is a state these tests hold (the worker stopped with SIGSTOP, or a file
written piece by piece by the test), not a race they hope to win."""

from __future__ import annotations

import contextlib
import os
import signal
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import httpx
import numpy as np
import pytest

from tests.decode import probe
from tests.media import photo
from tests.test_abuse_workers import User
from tests.test_engine_api import auth, clip, start_render, token, wait_render
from tests.test_engine_lifecycle import EngineProc
from tests.test_preview import RED, flat
from tui.core.paths import part_path
from tui.core.tiers import DRAFT
from tui.engine.render import render_draft as render_file
from tui.engine.server.routes.live import MAX_LIVE
from tui.preview.frames import decode
from tui.preview.source import render_draft
from tui.session.backend import Backend

AT_DRAFT = {"output": {"format": "mp4", "quality": DRAFT}}
SECONDS = 30  # long enough that the render is still going when a test stops its worker
FRAMES = SECONDS * 30


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


@pytest.fixture(scope="module")
def live_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, Path]]:
    """An engine of this module's own (one worker), a client of it, and its data folder (the
    worker's file, and in its name the worker's pid)."""
    data = tmp_path_factory.mktemp("live") / "data"
    e = EngineProc(data, None, "--workers", "1")
    try:
        with httpx.Client(base_url=e.url, timeout=60) as api:
            yield api, data
    finally:
        e.stop()


@dataclass
class Drafting:
    api: httpx.Client
    data: Path  # the engine's data folder
    u: User
    rid: str  # a 30 s draft of u's photo (900 frames), rendering (or queued)


@pytest.fixture
def drafting(live_engine: tuple[httpx.Client, Path], tmp_path: Path) -> Drafting:
    api, data = live_engine
    u = User(api, tmp_path, "u")
    r = start_render(api, u.tok, u.sid, clip(u.src, SECONDS, (1280, 720), fps=30), **AT_DRAFT)
    assert r.status_code == 200, r.text
    return Drafting(api, data, u, r.json()["data"]["id"])


@contextlib.contextmanager
def worker_held(data: Path, rid: str) -> Iterator[None]:
    """The worker writing `rid`, stopped where it is (SIGSTOP): the render is not over until
    the block ends."""
    [part] = (data / "renders").glob(f".{rid}.mp4.*.part")
    worker = int(part.name.split(".")[-2])
    os.kill(worker, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(worker, signal.SIGCONT)


def test_a_draft_streams_while_it_renders_and_ends_as_the_finished_file(
    drafting: Drafting, tmp_path: Path
) -> None:
    api, data, u, rid = drafting.api, drafting.data, drafting.u, drafting.rid
    with api.stream("GET", f"/api/render/proxy/{rid}/live", headers=auth(u.tok)) as resp:
        assert resp.status_code == 200 and resp.headers["content-type"] == "video/mp4"
        chunks = resp.iter_raw()
        got = read_until_a_fragment(chunks)
        with worker_held(data, rid):
            status = api.get(f"/api/render/proxy/lambda/{rid}", headers=auth(u.tok))
            assert status.json()["data"]["status"] == "processing"
            early = tmp_path / "early.mp4"
            early.write_bytes(got)
            assert 1 <= frames_in(early) < FRAMES  # already playable, from its start
        for chunk in chunks:
            got += chunk
    assert wait_render(api, u.tok, rid)["status"] == "completed"
    whole = api.get(f"/api/render/proxy/{rid}/download", headers=auth(u.tok)).content
    assert got == whole  # what came as it rendered is the finished file, byte for byte
    out = tmp_path / "whole.mp4"
    out.write_bytes(got)
    p = probe(out)
    assert (p.codec, p.width, p.height, p.frames) == ("h264", 960, 540, FRAMES)


def test_a_cancelled_draft_ends_its_stream_and_exports_do_not_stream(
    drafting: Drafting, tmp_path: Path
) -> None:
    api, data, u, rid = drafting.api, drafting.data, drafting.u, drafting.rid
    other = token(api)
    assert api.get(f"/api/render/proxy/{rid}/live", headers=auth(other)).status_code == 404
    with api.stream("GET", f"/api/render/proxy/{rid}/live", headers=auth(u.tok)) as resp:
        chunks = resp.iter_raw()
        got = read_until_a_fragment(chunks)
        with worker_held(data, rid):
            r = api.post(f"/api/render/proxy/lambda/{rid}/cancel", headers=auth(u.tok))
            assert r.json()["data"]["status"] == "cancelled"
            for chunk in chunks:  # the body ends, short and cleanly, with the worker held
                got += chunk
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(got)
    assert 1 <= frames_in(cut) < FRAMES
    r = api.get(f"/api/render/proxy/{rid}/live", headers=auth(u.tok))
    assert r.status_code == 409 and "cancelled" in r.json()["message"]
    # An export is laid out at its end (its index moved before the pictures): it never streams.
    export = u.render_id(1, (320, 180))
    r = api.get(f"/api/render/proxy/{export}/live", headers=auth(u.tok))
    assert r.status_code == 409 and "download it once completed" in r.json()["message"]


def test_a_user_has_at_most_three_drafts_streaming(drafting: Drafting, tmp_path: Path) -> None:
    """Each stream looks at its file every 10 ms: a fourth at once is refused (429, to be
    downloaded once completed instead), and a stream that ends gives its place back."""
    api, data, u, rid = drafting.api, drafting.data, drafting.u, drafting.rid
    url = f"/api/render/proxy/{rid}/live"
    # (Each body's iterator kept: one let go closes its response.)
    with api.stream("GET", url, headers=auth(u.tok)) as first:
        bodies = [first.iter_raw()]
        read_until_a_fragment(bodies[0])
        with worker_held(data, rid), contextlib.ExitStack() as more:
            for _ in range(MAX_LIVE - 1):
                resp = more.enter_context(api.stream("GET", url, headers=auth(u.tok)))
                bodies.append(resp.iter_raw())
                next(bodies[-1])  # under way (a body counts once it is being sent)
            r = api.get(url, headers=auth(u.tok))
            assert r.status_code == 429 and r.headers["retry-after"] == "1"
            assert "download this one once completed" in r.json()["message"]
            other = token(api)  # another user's count is their own: a 404, not a 429
            assert api.get(url, headers=auth(other)).status_code == 404
        # Two of the three closed by the client: their places come back as the engine notices.
        deadline = time.monotonic() + 20
        while True:
            with api.stream("GET", url, headers=auth(u.tok)) as resp:
                if resp.status_code == 200:
                    break
            assert time.monotonic() < deadline, "the closed streams kept their places"
            time.sleep(0.1)
    api.post(f"/api/render/proxy/lambda/{rid}/cancel", headers=auth(u.tok))


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
    assert clip_.done and clip_.duration == 4.0 and clip_.sound and clip_.fps == 30
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


class SlowWriter:
    """Copies `whole` into `dest`'s part file: its first quarter (its first pictures) at once,
    the rest up to `upto` of it a piece at a time once the decoder has shown a picture (not
    before: the file must still be arriving when it is read), then `then` "rename" it into
    place (whole) or "remove" it (the render failed)."""

    def __init__(self, whole: Path, dest: Path, upto: float, then: str) -> None:
        self.data, self.dest, self.then = whole.read_bytes(), dest, then
        self.part, self.end = part_path(dest), int(len(self.data) * upto)
        self.start = len(self.data) // 4
        self.part.write_bytes(self.data[: self.start])
        self.shown = threading.Event()
        self.thread = threading.Thread(target=self._run)
        self.thread.start()

    def on_frame(self, clip) -> None:
        self.shown.set()

    def _run(self) -> None:
        assert self.shown.wait(60), "no picture from the file's first quarter"
        data, end = self.data, self.end
        with open(self.part, "ab") as f:
            for at in range(self.start, end, 4000):
                f.write(data[at : min(at + 4000, end)])
                f.flush()
                time.sleep(0.005)
            if self.then == "rename":
                f.write(data[end:])
        if self.then == "rename":
            os.replace(self.part, self.dest)
        else:
            self.part.unlink()


def test_a_file_decoded_as_it_grows_is_decoded_whole(tmp_path: Path) -> None:
    whole = _draft_file(tmp_path)
    dest = tmp_path / "preview" / "draft.mp4"
    dest.parent.mkdir()
    writer = SlowWriter(whole, dest, 1.0, "rename")
    clip_ = decode(dest, 40, 12, seconds=2.0, on_frame=writer.on_frame)
    writer.thread.join()
    assert clip_.done and clip_.duration == 2.0 and len(clip_.frames) == 60 and clip_.fps == 30
    again = decode(dest, 40, 12)
    assert all(np.array_equal(a, b) for a, b in zip(clip_.frames, again.frames, strict=True))


def test_a_growing_file_removed_midway_ends_the_clip_there(tmp_path: Path) -> None:
    whole = _draft_file(tmp_path)
    dest = tmp_path / "draft.mp4"
    writer = SlowWriter(whole, dest, 0.5, "remove")
    began = time.monotonic()
    clip_ = decode(dest, 40, 12, seconds=2.0, on_frame=writer.on_frame)
    writer.thread.join()
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
