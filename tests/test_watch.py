"""Watch mode, in process: the real filesystem, real watchfiles events, the real engine."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.decode import probe
from tests.media import photo
from tui.client import Client
from tui.client.state import ClientState
from tui.core.paths import client_state_file, home
from tui.watch import WatchConfig, Watcher, WatchError, WatchEvent
from tui.watch.scan import Settler, instruction_for, is_input_name

PROMPT = "a 1 second 720p clip"
SETTLE = 0.3


def tiny(path: Path, seed: int = 1) -> Path:
    return photo(path, (160, 120), seed=seed)


class Running:
    """A Watcher on `folder` in this loop, with every event it reported."""

    def __init__(self, folder: Path, url: str, **kw: object):
        cfg = {"prompt": PROMPT, "quality": "draft", "settle": SETTLE, "rescan": 5.0, **kw}
        self.config = WatchConfig(folder, **cfg)  # type: ignore[arg-type]
        self.url = url
        self.events: list[WatchEvent] = []
        self.task: asyncio.Task | None = None
        state = ClientState(client_state_file(), url)
        # As the app and `i2v-flow watch` do: every job a sibling of one client (one pool).
        self.pool = Client(url, state)
        self.made: list[Client] = []
        self.watcher = Watcher(self.config, self._sibling, self.events.append)

    def _sibling(self) -> Client:
        c = self.pool.sibling()
        self.made.append(c)
        return c

    def steps(self, file: str) -> list[str]:
        return [e.step for e in self.events if e.file == file and e.step != "progress"]

    def first(self, file: str, step: str) -> WatchEvent:
        return next(e for e in self.events if e.file == file and e.step == step)

    async def until(self, pred: Callable[[], bool], timeout: float = 30.0) -> None:
        end = time.monotonic() + timeout
        while not pred():
            if self.task is not None and self.task.done():
                self.task.result()
                raise AssertionError("the watcher stopped")
            if time.monotonic() > end:
                seen = "\n".join(e.line() for e in self.events if e.step != "progress")
                raise AssertionError(f"timed out; events:\n{seen}")
            await asyncio.sleep(0.05)

    async def __aenter__(self) -> Running:
        self.task = asyncio.create_task(self.watcher.run())
        await self.until(lambda: any(e.step == "started" for e in self.events))
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.watcher.stop()
        assert self.task is not None
        await asyncio.wait_for(self.task, 15)
        await self.pool.aclose()


def names(d: Path) -> set[str]:
    return {p.name for p in d.iterdir()} if d.is_dir() else set()


def done(r: Running, *files: str) -> Callable[[], bool]:
    return lambda: all("done" in r.steps(f) or "failed" in r.steps(f) for f in files)


# ---- pure rules ---------------------------------------------------------------------------


def test_partial_and_temporary_names_are_not_inputs() -> None:
    for name in (
        "a.png.part",
        "a.png.partial",
        "a.jpg.crdownload",
        "a.jpg.download",
        "a.png.tmp",
        "a.png~",
        ".a.png",
        ".syncthing.a.png.tmp",
        "~syncthing~a.png.tmp",
        "a.txt",
        "prompt.txt",
        "a.mp4",
    ):
        assert not is_input_name(name), name
    for name in ("a.png", "B.JPG", "c.jpeg", "d.webp", "e.gif"):
        assert is_input_name(name), name


def test_settler_waits_for_size_and_mtime_to_hold_still() -> None:
    s = Settler(2.0)
    assert s.observe("f", 10, 1, now=0.0) == 2.0
    assert s.observe("f", 20, 2, now=1.0) == 3.0  # grew: the clock starts again
    assert s.observe("f", 20, 2, now=2.5) == 3.0
    assert s.observe("f", 20, 2, now=3.0) is None
    assert s.observe("e", 0, 1, now=0.0) is not None
    assert s.observe("e", 0, 1, now=9.0) is not None  # empty: a placeholder, never taken


def test_instruction_sidecar_then_prompt_txt_then_option(tmp_path: Path) -> None:
    img = tmp_path / "a.png"
    assert "5-second" in instruction_for(img, tmp_path, None)
    assert instruction_for(img, tmp_path, "from the option") == "from the option"
    (tmp_path / "prompt.txt").write_text("from the folder\n")
    assert instruction_for(img, tmp_path, "from the option") == "from the folder"
    (tmp_path / "a.txt").write_text("from the sidecar")
    assert instruction_for(img, tmp_path, "from the option") == "from the sidecar"


# ---- the watcher on the real engine --------------------------------------------------------


async def test_files_already_there_with_a_sidecar_and_the_folder_prompt(
    tmp_path: Path, engine_url: str
) -> None:
    d = tmp_path / "in"
    d.mkdir()
    tiny(d / "a.png", 1)
    (d / "a.txt").write_text("a 2 second 720p clip")
    tiny(d / "b.jpg", 2)
    (d / "prompt.txt").write_text("a 1 second 720p clip")
    async with Running(d, engine_url) as r:
        await r.until(done(r, "a.png", "b.jpg"))
    assert r.steps("a.png") == ["seen", "uploaded", "turned", "rendering", "downloaded", "done"]
    assert "'a 2 second 720p clip'" in r.first("a.png", "seen").detail
    assert names(d / "out") == {"a.mp4", "b.mp4"}  # no temporary file left behind
    assert names(d / "done") == {"a.png", "a.txt", "b.jpg"}
    assert names(d) == {"out", "done", "prompt.txt"}
    assert probe(d / "out" / "a.mp4").frames == 60  # 2 s at 30 fps: the sidecar's words
    assert probe(d / "out" / "b.mp4").frames == 30
    # One connection pool under every job, each job its own session; closed with the pool only.
    assert len(r.made) >= 2 and all(c.http is r.pool.http for c in r.made)
    assert len({c.session.session_id for c in r.made if c.session.session_id}) >= 2
    assert r.pool.http.is_closed


async def test_a_file_written_slowly_or_renamed_from_part_is_taken_only_when_complete(
    tmp_path: Path, engine_url: str
) -> None:
    d = tmp_path / "in"
    d.mkdir()
    src = tiny(tmp_path / "src.png", 3).read_bytes()
    other = tiny(tmp_path / "other.png", 4).read_bytes()
    async with Running(d, engine_url) as r:
        # Written in slow pieces: each pause shorter than the settle time.
        with open(d / "slow.png", "wb") as f:
            for i in range(0, len(src), len(src) // 6 + 1):
                f.write(src[i : i + len(src) // 6 + 1])
                f.flush()
                finished = time.time()
                await asyncio.sleep(SETTLE / 2)
                assert "seen" not in r.steps("slow.png")
        # Downloaded under a temporary name: ignored until renamed into place.
        for name in ("dl.png.part", "dl.png.crdownload", ".dl.png", "~syncthing~dl.png.tmp"):
            (d / name).write_bytes(other)
        await asyncio.sleep(SETTLE * 3)
        assert not any(e.file.startswith(("dl", ".", "~")) for e in r.events)
        os.rename(d / "dl.png.part", d / "dl.png")
        renamed = time.time()
        await r.until(done(r, "slow.png", "dl.png"))
    assert r.first("slow.png", "seen").at >= finished + SETTLE - 0.05
    assert r.first("dl.png", "seen").at - renamed <= SETTLE + 0.5
    assert (d / "out" / "slow.mp4").read_bytes()[4:8] == b"ftyp"
    assert names(d / "out") == {"slow.mp4", "dl.mp4"}
    assert names(d / "done") == {"slow.png", "dl.png"}


async def test_a_corrupt_file_goes_to_failed_with_words_and_is_retried_when_moved_back(
    tmp_path: Path, engine_url: str
) -> None:
    d = tmp_path / "in"
    d.mkdir()
    (d / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(3000))
    async with Running(d, engine_url) as r:
        await r.until(lambda: "failed" in r.steps("bad.png"))
        assert names(d / "failed") == {"bad.png", "bad.png.error.txt"}
        text = (d / "failed" / "bad.png.error.txt").read_text()
        assert "does not open as an image" in text
        assert "What to do" in text and "move bad.png back into" in text
        # The person fixes it and moves it back: taken again.
        (d / "failed" / "bad.png").unlink()
        (d / "failed" / "bad.png.error.txt").unlink()
        tiny(d / "fixed.png", 5).rename(d / "bad.png")
        await r.until(lambda: "done" in r.steps("bad.png"))
    assert names(d / "out") == {"bad.mp4"}
    assert not (d / "failed" / "bad.png").exists()


async def test_the_same_image_under_another_name_is_not_done_twice(
    tmp_path: Path, engine_url: str
) -> None:
    d = tmp_path / "in"
    d.mkdir()
    tiny(d / "x.png", 6)
    async with Running(d, engine_url) as r:
        await r.until(done(r, "x.png"))
        shutil.copy(d / "done" / "x.png", d / "copy-of-x.png")  # same bytes, new name
        tiny(d / "x.jpg", 7)  # another image, same stem
        await r.until(lambda: "duplicate" in r.steps("copy-of-x.png"))
        await r.until(done(r, "x.jpg"))
    assert r.steps("copy-of-x.png") == ["duplicate"]
    assert names(d / "out") == {"x.mp4", "x-2.mp4"}  # never an overwrite
    assert names(d / "done") == {"x.png", "copy-of-x.png", "x.jpg"}


async def test_a_restart_resumes_where_it_stopped_and_never_redoes_a_step(
    tmp_path: Path, engine_url: str
) -> None:
    d = tmp_path / "in"
    d.mkdir()
    tiny(d / "r.png", 8)
    async with Running(d, engine_url) as r1:
        await r1.until(lambda: "rendering" in r1.steps("r.png"))
    rid = r1.first("r.png", "rendering").detail
    assert "done" not in r1.steps("r.png")
    # A second watcher on the same folder while the first runs is refused.
    async with Running(d, engine_url) as r2:
        other = Running(d, engine_url)
        with pytest.raises(WatchError, match="already watching"):
            await other.watcher.run()
        await r2.until(done(r2, "r.png"))
    assert r2.steps("r.png") == ["resumed", "downloaded", "done"]  # polled by its saved id
    db = sqlite3.connect(home() / "watch.db")
    assert db.execute("SELECT state, render_id FROM jobs").fetchall() == [("done", rid)]
    assert names(d / "out") == {"r.mp4"}


async def test_the_polling_path_finds_files_without_events(tmp_path: Path, engine_url: str) -> None:
    d = tmp_path / "in"
    d.mkdir()
    # rescan 60 s: only watchfiles' poller can notice the new file in time.
    async with Running(d, engine_url, poll=True, rescan=60.0, poll_delay=0.1) as r:
        await asyncio.sleep(0.3)
        tiny(d / "p.png", 9)
        made = time.time()
        await r.until(done(r, "p.png"), timeout=20)
    assert r.first("p.png", "seen").at - made <= SETTLE + 0.5 + 0.2  # + one poll
    assert names(d / "out") == {"p.mp4"}


async def test_out_of_credits_pauses_the_queue_with_one_message(
    tmp_path: Path, engine_url: str
) -> None:
    d = tmp_path / "in"
    d.mkdir()
    for i in range(3):
        tiny(d / f"c{i}.png", 20 + i)
    # A 60-second 4K clip costs 120 credits of the 100 a new token has (a draft would be free).
    clip = {"prompt": "a 60 second 4k clip", "quality": "standard"}
    async with Running(d, engine_url, credit_check=0.3, **clip) as r:
        await r.until(lambda: any(e.step == "paused" for e in r.events))
        # Every image waits in the queue, none in flight, none failed.
        await r.until(lambda: r.watcher.queued == 3 and r.watcher.active == 0)
        await asyncio.sleep(1.0)
        assert r.watcher.paused and r.watcher.queued == 3
    paused = [e for e in r.events if e.step == "paused"]
    assert len(paused) == 1  # not one per file
    # The true reason: credits are left, not enough for this clip (issue 15, item 10).
    assert "not enough credits: this render needs 120, you have 100" in paused[0].detail
    assert "resumes by itself" in paused[0].detail
    assert not any(e.step in ("failed", "resumed") for e in r.events)
    assert names(d / "out") == set()
    assert names(d) == {"c0.png", "c1.png", "c2.png"}  # waiting in place, not failed


async def test_recursive_takes_subfolders_but_never_the_bookkeeping_ones(
    tmp_path: Path, engine_url: str
) -> None:
    d, out = tmp_path / "in", tmp_path / "clips"
    (d / "sub").mkdir(parents=True)
    (d / "done").mkdir()
    (d / "out").mkdir()
    tiny(d / "sub" / "s.png", 11)
    tiny(d / "done" / "old.png", 12)
    tiny(d / "out" / "o.png", 13)
    async with Running(d, engine_url, recursive=True, out=out) as r:
        await r.until(done(r, "sub/s.png"))
        await asyncio.sleep(SETTLE * 2)
    assert names(out) == {"s.mp4"}
    assert names(d / "done") == {"old.png", "s.png"}
    assert names(d / "out") == {"o.png"}
    assert {e.file for e in r.events if e.file} == {"sub/s.png"}


async def test_a_429_slows_the_queue_down_and_success_speeds_it_up(tmp_path: Path) -> None:
    from tui.client import ClientError

    events: list[WatchEvent] = []
    w = Watcher(WatchConfig(tmp_path, jobs=3), lambda: None, events.append)  # type: ignore[arg-type]
    w._enqueue("other")
    w._slow_down("k", ClientError("the backend is rate limiting us", code=429))
    assert list(w._queue) == ["k", "other"]  # retried first, not failed
    assert w._limit == 2 and w._slow_until > time.monotonic() + 4
    assert events[-1].step == "slowed" and "waiting 5 s, 2 at a time" in events[-1].detail
    w._slow_down("k", ClientError("the backend is rate limiting us", code=429))
    assert w._limit == 1 and w._backoff == 10


async def test_the_queue_resumes_by_itself_when_credits_come_back(tmp_path: Path) -> None:
    from tui.core.backend import EmbeddedEngine
    from tui.engine.store import Store

    engine = EmbeddedEngine(data_dir=tmp_path / "engine", workers=1)
    url = await engine.start()
    try:
        state = ClientState(client_state_file(), url)
        async with Client(url, state) as c:
            await c.connect()
        store = Store(tmp_path / "engine" / "engine.sqlite3")
        store.set_credits(state.backend["user_id"], 0)
        d = tmp_path / "in"
        d.mkdir()
        tiny(d / "z.png", 60)
        async with Running(d, url, credit_check=0.2, quality="standard") as r:  # priced
            await r.until(lambda: any(e.step == "paused" for e in r.events))
            await asyncio.sleep(0.5)
            assert not (d / "out").exists()
            store.set_credits(state.backend["user_id"], 5)  # topped up
            await r.until(done(r, "z.png"))
        store.close()
    finally:
        await engine.stop()
    assert [e.step for e in r.events if not e.file] == ["started", "paused", "resumed", "stopped"]
    assert names(d / "out") == {"z.mp4"}


async def test_a_transient_failure_slows_the_queue_whatever_its_words(tmp_path: Path) -> None:
    from tui.client import ClientError, Unreachable
    from tui.watch.journal import Journal
    from tui.watch.scan import file_hash

    class Failing:
        def __init__(self, exc: ClientError):
            self.exc = exc

        async def new_session(self, *args: object, **kw: object) -> None:
            raise self.exc

    events: list[WatchEvent] = []
    w = Watcher(WatchConfig(tmp_path, settle=SETTLE), lambda: None, events.append)  # type: ignore[arg-type]
    w.journal = Journal(tmp_path / "watch.db", tmp_path)
    try:
        for i, exc in enumerate(
            [
                Unreachable("cannot reach the backend at http://x (refused)"),
                ClientError("the line went quiet", transient=True),  # no telltale words
            ]
        ):
            img = tiny(tmp_path / f"t{i}.png", 70 + i)
            key = file_hash(img)
            w.journal.add(key, img, PROMPT)
            await w._run(Failing(exc), key)  # type: ignore[arg-type]
            assert events[-1].step == "slowed", events[-1]
            assert w.journal.get(key).state == "seen" and img.exists()  # kept for later
        img = tiny(tmp_path / "bad.png", 80)
        key = file_hash(img)
        w.journal.add(key, img, PROMPT)
        await w._run(Failing(ClientError("cannot reach the moon", code=4001)), key)  # type: ignore[arg-type]
        assert events[-1].step == "failed" and (tmp_path / "failed" / "bad.png").exists()
    finally:
        w.journal.close()


async def test_the_apps_saved_session_survives_a_watcher_run(
    tmp_path: Path, engine_url: str
) -> None:
    state = ClientState(client_state_file(), engine_url)
    async with Client(engine_url, state, owner="app") as app:
        mine = (await app.connect()).session_id
    d = tmp_path / "in"
    d.mkdir()
    tiny(d / "s.png", 90)
    async with Running(d, engine_url) as r:
        await r.until(done(r, "s.png"))
    assert names(d / "out") == {"s.mp4"}
    after = ClientState(client_state_file(), engine_url)
    assert after.backend["session_id"] == mine  # resumed by the app's next start
    ((rid, render),) = after.data["renders"].items()
    assert render["owner"] == f"watch:{d.resolve()}"
    assert render["session_id"] != mine
    # Killed mid-render: the app's start-up resume never picks up (or downloads) it.
    after.update_render(rid, state="rendering", target=str(tmp_path / "not-yours.mp4"))
    async with Client(engine_url, after, owner="app") as app:
        assert await app.resume_renders() == []
    assert not (tmp_path / "not-yours.mp4").exists()
    assert list(after.pending_renders(f"watch:{d.resolve()}")) == [rid]


async def test_jobs_side_by_side_each_get_their_own_clip(tmp_path: Path, engine_url: str) -> None:
    """Three jobs at once, one user: each output is its own image's instruction, never a
    neighbour's (render ids started in one millisecond once made two jobs one)."""
    d = tmp_path / "in"
    d.mkdir()
    seconds = {"a": 1, "b": 2, "c": 3, "d": 1, "e": 2, "f": 3}
    for n, (stem, s) in enumerate(seconds.items()):
        tiny(d / f"{stem}.png", n + 10)
        (d / f"{stem}.txt").write_text(f"a {s} second 720p clip")
    async with Running(d, engine_url, jobs=3) as r:
        await r.until(done(r, *(f"{stem}.png" for stem in seconds)), timeout=120)
    sessions = {r.first(f"{stem}.png", "uploaded").detail for stem in seconds}
    assert len(sessions) == len(seconds)  # a session each
    for stem, s in seconds.items():
        assert probe(d / "out" / f"{stem}.mp4").frames == 30 * s, stem


async def test_a_chinese_instruction_opens_a_chinese_session(tmp_path: Path, fb) -> None:
    """Against the cloud stand-in, which records what each session was opened with."""
    d = tmp_path / "in"
    d.mkdir()
    tiny(d / "a.png", 3)
    (d / "a.txt").write_text("做一个2秒的720p视频", encoding="utf-8")
    tiny(d / "b.png", 4)
    (d / "b.txt").write_text("a 2 second clip")
    async with Running(d, fb.url) as r:
        await r.until(lambda: all("uploaded" in r.steps(f) for f in ("a.png", "b.png")))
    languages = [body.get("language") for body in fb.session_bodies]
    assert languages.count("zh") == 1 and "en" in languages, languages  # a's session, b's
