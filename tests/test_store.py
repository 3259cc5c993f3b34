"""The engine's store interface (tui/engine/stores.py) on both of its implementations: SQLite,
the default, and PostgreSQL on a private cluster (tests/pg_cluster.py; skipped with its reason
where no server can be started). Each PostgreSQL test has a database of its own."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui.engine.accounts import START_CREDITS
from tui.engine.prune import Limits, prune
from tui.engine.store import Store
from tui.engine.stores import EngineStore, open_store, redact


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EngineStore]:
    if request.param == "sqlite":
        s: EngineStore = Store(tmp_path / "engine.sqlite3")
    else:
        s = open_store(request.getfixturevalue("pg_url"), tmp_path / "data")
    try:
        yield s
    finally:
        s.close()


def again(store: EngineStore) -> EngineStore:
    """A second connection to the same state, as another process or node has."""
    return open_store(store.locator, store.data_dir)


def account(store: EngineStore, client: str = "c1") -> str:
    info, credits = store.new_token(client)
    assert credits == START_CREDITS
    return info.user_id


def ledger(store: EngineStore, rid: str) -> list[tuple[str, int]]:
    rows = store.all("SELECT kind, amount FROM ledger WHERE render_id=? ORDER BY seq", rid)
    return [(r["kind"], r["amount"]) for r in rows]


def test_tokens_and_accounts(store: EngineStore) -> None:
    info, credits = store.new_token("client-a")
    assert credits == START_CREDITS and info.token.startswith("nmv_")
    assert store.token(info.token) == info
    assert store.token("nmv_nothing") is None
    # A renewal keeps the account only with a token of it, shown by the client it was made for.
    assert store.account_for("client-a", info.token) == info.user_id
    assert store.account_for("client-b", info.token) is None
    assert store.account_for("client-a", "") is None
    renewed, credits = store.new_token("client-a", info.user_id)
    assert renewed.user_id == info.user_id and renewed.token != info.token
    store.set_credits(info.user_id, 7)
    assert store.credits(info.user_id) == (7, 0)
    assert store.credits("u_nobody") == (0, 0)


def test_drafts_undo_and_redo(store: EngineStore) -> None:
    user = account(store)
    s = store.new_session(user, "task", "en")
    sid = s["session_id"]
    assert isinstance(sid, int) and s["version"] == 0 and s["language"] == "en"
    assert store.session(sid, user)["task_id"] == s["task_id"]
    assert store.session(str(sid), "u_other") is None
    assert store.session("nonsense", user) is None
    assert store.draft(sid)["t"] == []
    assert store.push_draft(sid, {"d": 1}, "one") == 1
    assert store.push_draft(sid, {"d": 2}, "two") == 2
    assert store.step_draft(sid, -1) == ({"d": 1}, "two")
    assert store.draft(sid) == {"d": 1}
    assert store.step_draft(sid, +1) == ({"d": 2}, "two")
    assert store.step_draft(sid, +1) is None
    store.step_draft(sid, -1)
    assert store.push_draft(sid, {"d": 3}, "three") == 2  # the redo past it is dropped
    assert store.step_draft(sid, +1) is None
    # The draft's change is recorded for pruning (a trigger on both).
    touched = store.one("SELECT at FROM session_touched WHERE session_id=?", sid)
    assert touched is not None and abs(touched["at"] - time.time()) < 60


def test_media_in_the_order_added(store: EngineStore, tmp_path: Path) -> None:
    user = account(store)
    sid = store.new_session(user, "task", "en")["session_id"]
    for h, name in (("a" * 64, "a.png"), ("b" * 64, "b.png"), ("a" * 64, "a2.png")):
        info = {"hash": h, "file_type": "image", "width": 4, "height": 3, "size": 10}
        store.add_media(sid, info, tmp_path / f"{h[:1]}.png", name)
    rows = store.session_media(sid)
    assert [(r["hash"][:1], r["filename"]) for r in rows] == [("b", "b.png"), ("a", "a2.png")]
    assert dict(rows[0])["width"] == 4
    paths = store.media_paths(["a" * 64, "c" * 64])
    assert paths == {"a" * 64: tmp_path / "a.png"}


def test_a_render_freezes_then_spends_once(store: EngineStore) -> None:
    user = account(store)
    sid = store.new_session(user, "task", "en")["session_id"]
    assert store.create_render("r1", user, sid, {"d": 1}, "standard", 5) == "ok"
    assert store.credits(user) == (95, 5)
    assert store.render("r1")["status"] == "pending"
    store.set_progress("r1", 40.0)
    assert store.render("r1")["status"] == "processing"
    assert store.finish_render("r1", "completed", output="/x.mp4")
    assert not store.finish_render("r1", "completed", output="/x.mp4")
    assert not store.finish_render("r1", "failed", error="late")
    row = store.render("r1")
    assert (row["status"], row["progress"], row["output"]) == ("completed", 100, "/x.mp4")
    assert store.credits(user) == (95, 0)
    assert ledger(store, "r1") == [("freeze", 5), ("spend", 5)]
    store.set_progress("r1", 10.0)  # a late progress line changes nothing settled
    assert store.render("r1")["progress"] == 100


def test_cap_credits_cancel_and_requeue(store: EngineStore) -> None:
    user = account(store)
    sid = store.new_session(user, "task", "en")["session_id"]
    assert store.create_render("r1", user, sid, {}, "draft", 60, max_running=1) == "ok"
    assert store.create_render("r2", user, sid, {}, "draft", 1, max_running=1) == "busy"
    assert store.create_render("r3", user, sid, {}, "draft", 41) == "credits"
    assert store.create_render("r4", "u_nobody", sid, {}, "draft", 1) == "credits"
    assert store.credits(user) == (40, 60)
    store.set_progress("r1", 50.0)
    assert [r["id"] for r in store.requeue_unfinished()] == ["r1"]
    assert (store.render("r1")["status"], store.render("r1")["progress"]) == ("pending", 0)
    assert store.finish_render("r1", "cancelled")
    store.requeue("r1")  # a settled job stays settled
    assert store.render("r1")["status"] == "cancelled"
    assert store.credits(user) == (100, 0)
    assert ledger(store, "r1") == [("freeze", 60), ("release", 60)]
    assert store.unfinished_renders() == []


def test_money_moves_once_when_many_settle_at_once(store: EngineStore) -> None:
    """Eight connections (as workers, a reaper and a cancel would) settle one render together:
    exactly one wins, one ledger entry, and the balance moves once."""
    user = account(store)
    sid = store.new_session(user, "task", "en")["session_id"]
    assert store.create_render("r1", user, sid, {}, "standard", 10) == "ok"
    others = [again(store) for _ in range(8)]
    start = threading.Barrier(len(others))
    won: list[bool] = []

    def settle(s: EngineStore, i: int) -> None:
        start.wait(10)
        won.append(s.finish_render("r1", "completed" if i % 2 else "failed", output="/o"))

    threads = [threading.Thread(target=settle, args=(s, i)) for i, s in enumerate(others)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for s in others:
        s.close()
    assert sorted(won) == [False] * 7 + [True]
    kinds = [k for k, _ in ledger(store, "r1")]
    assert kinds[0] == "freeze" and len(kinds) == 2
    available, frozen = store.credits(user)
    assert frozen == 0 and available == (90 if kinds[1] == "spend" else 100)


def test_the_ledger_refuses_a_second_entry_of_a_kind(store: EngineStore) -> None:
    user = account(store)
    sid = store.new_session(user, "task", "en")["session_id"]
    store.create_render("r1", user, sid, {}, "standard", 3)
    with pytest.raises(Exception, match=r"(?i)unique"), store.tx() as db:
        db.execute(
            "INSERT INTO ledger (user_id, render_id, kind, amount, at) VALUES (?,?,?,?,?)",
            (user, "r1", "freeze", 3, time.time()),
        )
    assert ledger(store, "r1") == [("freeze", 3)]


def test_prune_runs_on_either_store(store: EngineStore) -> None:
    """tui/engine/prune.py's queries, written once, on both: an old render's MP4 goes."""
    user = account(store)
    sid = store.new_session(user, "task", "en")["session_id"]
    out = store.data_dir / "renders" / "r1.mp4"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(b"x" * 100)
    store.create_render("r1", user, sid, {}, "standard", 1)
    store.finish_render("r1", "completed", output=str(out))
    freed = prune(store, Limits(keep_days=1), now=time.time() + 3 * 86400)
    assert freed.renders == ["r1"] and not out.exists()
    assert "pruned after 3 days" in store.render("r1")["error"]


def test_a_newer_postgres_schema_is_refused(pg_url: str, tmp_path: Path) -> None:
    from tui.core.sqlite_schema import SchemaTooNew
    from tui.engine.store_pg import SCHEMA_VERSION

    open_store(pg_url, tmp_path).close()
    s = open_store(pg_url, tmp_path)  # a second open finds it in place, at this version
    with s.tx() as db:
        db.execute("UPDATE i2v_schema SET version=?", (SCHEMA_VERSION + 1,))
    s.close()
    with pytest.raises(SchemaTooNew, match="newer i2v-flow"):
        open_store(pg_url, tmp_path)


def test_redact_hides_a_password() -> None:
    assert redact("postgresql://u:secret@db:5432/i2v") == "postgresql://u:***@db:5432/i2v"
    assert redact("postgresql://u@/i2v?host=/run") == "postgresql://u@/i2v?host=/run"


def test_gc_prunes_a_postgres_store(pg_url: str, tmp_path: Path) -> None:
    """`i2v-flow gc --database URL --data SHARED`: the command on the nodes' state."""
    import json

    from tests.cli import i2v

    data = tmp_path / "shared"
    store = open_store(pg_url, data)
    try:
        user = account(store)
        sid = store.new_session(user, "task", "en")["session_id"]
        out = data / "renders" / "r1.mp4"
        out.parent.mkdir(parents=True)
        out.write_bytes(b"x" * 100)
        store.create_render("r1", user, sid, {}, "standard", 1)
        store.finish_render("r1", "completed", output=str(out))
    finally:
        store.close()
    dry = i2v(tmp_path, "gc", "--data", str(data), "--dry-run", "--json", "--database", pg_url)
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["renders"] == [] and out.exists()  # 14 days not yet past
    env = {"I2V_FLOW_DATABASE": pg_url}
    done = i2v(tmp_path, "gc", "--data", str(data), "--keep-days", "0", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["renders"] == ["r1"] and not out.exists()
    bad = i2v(tmp_path, "gc", "--data", str(data), "--database", "mysql://u:pw@h/x")
    assert bad.returncode == 2 and "pw" not in bad.stderr
