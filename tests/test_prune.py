"""Storage pruning (tui/engine/prune.py): old renders and unused uploads go, oldest first under
the size cap; what a render in progress or a live session's draft needs stays; a pruned render's
download says so. On real files and SQLite; `i2v-flow gc` run as a command; the engine's own
prune at start on a real engine. Nothing waits for days: row times are set in the past."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pytest

from tests.cli import i2v
from tests.engine_http import client
from tests.test_engine_lifecycle import EngineProc, engines, start  # noqa: F401
from tui.engine.prune import DAY, Limits, prune
from tui.engine.store import Store

NOW = time.time()
ROOMY = Limits(keep_days=14, keep_upload_days=30, keep_bytes=10**12)


class Data:
    """An engine data folder made through the Store, as the engine makes it."""

    def __init__(self, root: Path):
        self.root = root
        self.store = Store(root / "engine.sqlite3")
        (root / "media").mkdir(parents=True, exist_ok=True)
        (root / "renders").mkdir(parents=True, exist_ok=True)
        self.tok, _ = self.store.new_token("client-1")
        self.user = self.tok.user_id

    def session(self, age_days: float = 0.0) -> int:
        sid = self.store.new_session(self.user, "t", "en")["session_id"]
        self._age("sessions", "created_at", "session_id", sid, age_days)
        return sid

    def upload(self, sid: int, content: bytes, age_days: float = 0.0) -> str:
        h = hashlib.sha256(content).hexdigest()
        path = self.root / "media" / f"{h}.png"
        path.write_bytes(content)
        info = {"hash": h, "file_type": "image", "size": len(content)}
        self.store.add_media(sid, info, path, "a.png")
        with self.store.tx() as db:
            db.execute(
                "UPDATE session_media SET added_at=? WHERE hash=?", (NOW - age_days * DAY, h)
            )
        return h

    def use_in_draft(self, sid: int, h: str, age_days: float = 0.0) -> None:
        """A turn that puts `h` in the draft, `age_days` ago (the schema's trigger records it)."""
        self.store.push_draft(sid, {"d": 1000, "t": [{"tt": 0, "s": [{"src": h}]}]}, "img")
        self._age("session_touched", "at", "session_id", sid, age_days)

    def render(
        self, sid: int, rid: str, age_days: float, size: int = 1000, done: bool = True
    ) -> Path:
        draft = self.store.draft(sid)
        assert self.store.create_render(rid, self.user, sid, draft, "draft", 1) == "ok"
        out = self.root / "renders" / f"{rid}.mp4"
        if done:
            out.write_bytes(b"\0" * size)
            assert self.store.finish_render(rid, "completed", output=str(out))
        with self.store.tx() as db:
            at = NOW - age_days * DAY
            db.execute("UPDATE renders SET created_at=?, completed_at=? WHERE id=?", (at, at, rid))
        return out

    def _age(self, table: str, col: str, key: str, value: object, days: float) -> None:
        with self.store.tx() as db:
            db.execute(f"UPDATE {table} SET {col}=? WHERE {key}=?", (NOW - days * DAY, value))


@pytest.fixture
def data(tmp_path: Path):
    d = Data(tmp_path / "engine")
    yield d
    d.store.close()


def test_old_renders_go_and_their_rows_say_so(data: Data) -> None:
    sid = data.session()
    old = data.render(sid, "r_old", age_days=20)
    new = data.render(sid, "r_new", age_days=1)
    freed = prune(data.store, ROOMY, now=NOW)
    assert freed.renders == ["r_old"] and freed.uploads == [] and freed.bytes == 1000
    assert not old.exists() and new.exists()
    row = data.store.render("r_old")
    assert row["status"] == "completed" and row["output"] is None
    assert row["error"] == "this render was pruned after 20 days; render it again"
    assert data.store.render("r_new")["output"] == str(new)
    assert freed.summary() == "freed 1.0 KB: 1 render, 0 uploads (1.0 KB kept)"
    # Again: nothing more to do.
    assert prune(data.store, ROOMY, now=NOW).bytes == 0


def test_a_dry_run_says_what_would_go_and_removes_nothing(data: Data) -> None:
    sid = data.session(age_days=40)
    h = data.upload(sid, b"old picture" * 100, age_days=40)
    old = data.render(sid, "r_old", age_days=35, size=5000)
    freed = prune(data.store, ROOMY, now=NOW, dry_run=True)
    assert (freed.renders, freed.uploads) == (["r_old"], [h])
    assert freed.summary().startswith("would free 6.1 KB: 1 render, 1 upload")
    assert old.exists() and (data.root / "media" / f"{h}.png").exists()
    assert data.store.render("r_old")["output"] == str(old)
    assert data.store.media_paths([h])


def test_uploads_of_untouched_sessions_go_what_live_work_needs_stays(data: Data) -> None:
    stale = data.session(age_days=40)
    gone = data.upload(stale, b"A" * 300, age_days=40)
    # A render still waiting for a worker, in an old session: its picture stays.
    needed = data.upload(stale, b"B" * 300, age_days=40)
    data.use_in_draft(stale, needed, age_days=40)
    data.render(stale, "r_pending", age_days=40, done=False)
    data.use_in_draft(stale, gone, age_days=40)  # a stale session's draft: not live, no shield
    # A live session's current draft names this one: it stays even at a cap of 0 bytes.
    live = data.session(age_days=1)
    drafted = data.upload(live, b"C" * 300, age_days=1)
    data.use_in_draft(live, drafted, age_days=1)
    freed = prune(data.store, Limits(14, 30, 0), now=NOW)
    assert freed.uploads == [gone]
    assert not (data.root / "media" / f"{gone}.png").exists()
    assert set(data.store.media_paths([gone, needed, drafted])) == {needed, drafted}
    assert [m["hash"] for m in data.store.session_media(stale)] == [needed]
    assert data.store.render("r_pending")["status"] == "pending"
    assert (data.root / "media" / f"{drafted}.png").exists()


def test_a_turn_in_an_old_session_keeps_its_uploads(data: Data) -> None:
    """Made and given its picture 40 days ago, its draft changed today (an agent turn or an
    undo, recorded by the schema's trigger): live, so its picture stays."""
    sid = data.session(age_days=40)
    h = data.upload(sid, b"F" * 300, age_days=40)
    data.use_in_draft(sid, h, age_days=40)
    assert prune(data.store, ROOMY, now=NOW, dry_run=True).uploads == [h]
    data.store.step_draft(sid, -1)  # an undo, now: the trigger stamps the session
    data.store.step_draft(sid, +1)
    touched = data.store.one("SELECT at FROM session_touched WHERE session_id=?", sid)["at"]
    assert abs(touched - time.time()) < 60
    freed = prune(data.store, Limits(14, 30, 0), now=NOW)
    assert freed.uploads == [] and data.store.media_paths([h])


def test_over_the_size_cap_the_oldest_go_first(data: Data) -> None:
    sid = data.session()
    paths = [data.render(sid, f"r{age}", age_days=age, size=1000) for age in (3, 1, 5, 2)]
    freed = prune(data.store, Limits(14, 30, 2500), now=NOW)
    assert freed.renders == ["r5", "r3"] and freed.left_bytes == 2000
    assert [p.exists() for p in paths] == [False, True, False, True]
    assert data.store.render("r3")["error"].startswith("this render was pruned after 3 days")


def test_an_upload_used_again_before_removal_is_kept(data: Data) -> None:
    """The plan is re-checked in the removing transaction: an upload added again since stays."""
    sid = data.session(age_days=40)
    h = data.upload(sid, b"D" * 100, age_days=40)
    from tui.engine import prune as module

    plan_uploads = module._uploads(data.store, module._touches(data.store))
    data.store.add_media(sid, {"hash": h, "file_type": "image"}, Path("x"), "again.png")
    assert not module._remove(data.store, plan_uploads[0], NOW)
    assert (data.root / "media" / f"{h}.png").exists() and data.store.media_paths([h])


def test_gc_command_dry_run_json_and_prune(tmp_path: Path, data: Data) -> None:
    sid = data.session(age_days=40)
    h = data.upload(sid, b"E" * 2000, age_days=40)
    data.render(sid, "r_old", age_days=35, size=3000)
    root = str(data.root)
    proc = i2v(tmp_path, "gc", "--data", root, "--dry-run", "--json")
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert got["dry_run"] is True and got["freed_bytes"] == 5000
    assert (got["renders"], got["uploads"]) == (["r_old"], [h])
    assert (data.root / "renders" / "r_old.mp4").exists()
    proc = i2v(tmp_path, "gc", "--data", root)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "freed 5.0 KB: 1 render, 1 upload (0 bytes kept)"
    assert not (data.root / "renders" / "r_old.mp4").exists()
    # The flags win over the config file's limits, which win over the defaults.
    data.render(sid, "r_week", age_days=7)
    conf = tmp_path / "c.toml"
    conf.write_text("keep_days = 5\n")
    env = {"I2V_FLOW_CONFIG": str(conf)}
    proc = i2v(tmp_path, "gc", "--data", root, "--keep-days", "10", "--json", env=env)
    assert json.loads(proc.stdout)["renders"] == []
    proc = i2v(tmp_path, "gc", "--data", root, "--json", env=env)
    assert json.loads(proc.stdout)["renders"] == ["r_week"]


def test_gc_help_version_and_an_empty_home(tmp_path: Path) -> None:
    helped = i2v(tmp_path, "gc", "--help")
    assert helped.returncode == 0 and "examples:" in helped.stdout
    assert "--dry-run" in helped.stdout and "keep_days" in helped.stdout
    assert i2v(tmp_path, "gc", "--version").stdout.startswith("i2v-flow ")
    proc = i2v(tmp_path, "gc")  # no engine ever ran: nothing to free, and no database made
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("freed 0 bytes: 0 renders, 0 uploads")
    assert not (tmp_path / "home" / "engine" / "engine.sqlite3").exists()
    bad = i2v(tmp_path, "gc", "--keep-gb", "-1")
    assert bad.returncode == 2 and bad.stderr.startswith("error: ")


def _get(e: EngineProc, tok: str, path: str):
    with client(e.url, timeout=10) as api:
        return api.get(path, headers={"Authorization": f"Bearer {tok}"})


def test_the_engine_prunes_at_start_and_a_pruned_download_says_so(
    engines: list[EngineProc],  # noqa: F811
    tmp_path: Path,
    data: Data,
) -> None:
    sid = data.session()
    old = data.render(sid, "r_old", age_days=20)
    new = data.render(sid, "r_new", age_days=1)
    tok = data.tok.token
    data.store.close()
    e = start(engines, data.root)
    deadline = time.monotonic() + 20  # the first prune runs a few seconds after start
    while old.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not old.exists() and new.exists()
    r = _get(e, tok, "/api/render/proxy/r_old/download")
    assert r.status_code == 404
    assert "this render was pruned after 20 days; render it again" in r.json()["message"]
    status = _get(e, tok, "/api/render/proxy/lambda/r_old").json()["data"]
    assert status["status"] == "completed" and status["pruned"] is True
    assert "outputUrl" not in status
    assert _get(e, tok, "/api/render/proxy/r_new/download").status_code == 200
    data.store = Store(data.root / "engine.sqlite3")  # for the fixture's close


def test_gc_beside_a_running_engine(engines: list[EngineProc], tmp_path: Path) -> None:  # noqa: F811
    """The engine keeps renders 1,000 days (its config file); gc, run meanwhile on the same
    folder, prunes to 14, and the engine's answers follow the rows."""
    root = tmp_path / "engine"
    conf = tmp_path / "keep.toml"
    conf.write_text("keep_days = 1000\n")
    e = start(engines, root, I2V_FLOW_CONFIG=str(conf))
    d = Data(root)
    try:
        sid = d.session()
        out = d.render(sid, "r_old", age_days=20)
        tok = d.tok.token
        assert _get(e, tok, "/api/render/proxy/r_old/download").status_code == 200
        proc = i2v(tmp_path, "gc", "--data", str(root), "--json")
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["renders"] == ["r_old"] and not out.exists()
        r = _get(e, tok, "/api/render/proxy/r_old/download")
        assert r.status_code == 404 and "pruned after 20 days" in r.json()["message"]
    finally:
        d.store.close()


def test_files_no_row_names_go_once_a_day_old(data: Data) -> None:
    orphan = data.root / "media" / ("f" * 64 + ".png")
    orphan.write_bytes(b"x")
    fresh = data.root / "media" / ("e" * 64 + ".png")
    fresh.write_bytes(b"x")
    partial = data.root / "media" / ".up-123"
    partial.write_bytes(b"x")
    lost_clip = data.root / "renders" / "r_gone.mp4"
    lost_clip.write_bytes(b"x")
    kept = data.render(data.session(), "r_kept", age_days=2)
    for p in (orphan, partial, lost_clip, kept):
        os.utime(p, (NOW - 2 * DAY, NOW - 2 * DAY))
    prune(data.store, ROOMY, now=NOW)
    assert not orphan.exists() and fresh.exists() and partial.exists()
    assert not lost_clip.exists() and kept.exists()


def test_limits_from_the_settings() -> None:
    from tui.core.config import Settings

    assert Limits.from_settings(Settings()) == Limits(14, 30, 5 * 10**9)
    got = Limits.from_settings(Settings(keep_days=1, keep_upload_days=2, keep_gb=0.5))
    assert got == Limits(1, 2, 5 * 10**8)


def test_the_engine_prunes_again_every_interval(
    engines: list[EngineProc],  # noqa: F811
    tmp_path: Path,
) -> None:
    """I2V_ENGINE_PRUNE_EVERY shortens the 6 hours: a render aged past 14 days while the
    engine runs is pruned by the engine itself, later than its start-up prune."""
    root = tmp_path / "engine"
    start(engines, root, I2V_ENGINE_PRUNE_EVERY="0.5")
    d = Data(root)
    try:
        out = d.render(d.session(), "r_aged", age_days=1)
        time.sleep(4)  # past the first prune (WARM_AFTER) and a few more: it is young, it stays
        assert out.exists()
        d._age("renders", "completed_at", "id", "r_aged", 20)
        deadline = time.monotonic() + 15
        while out.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not out.exists()
        assert "pruned after 20 days" in d.store.render("r_aged")["error"]
    finally:
        d.store.close()
