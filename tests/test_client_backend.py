"""Choosing the backend, and the client's saved state (atomic, per backend)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui.client import unique_path
from tui.client.state import ClientState
from tui.core.backend import CLOUD_URL, choose
from tui.core.paths import client_state_file

ROOT = Path(__file__).resolve().parents[1]


def test_neither_api_nor_token_means_the_embedded_engine() -> None:
    c = choose(None)
    assert (c.url, c.token, c.is_cloud) == (None, None, False)


def test_api_flag_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("I2V_FLOW_API", "http://example.test:9/")
    assert choose(None).url == "http://example.test:9"
    assert choose("http://flag.test").url == "http://flag.test"  # the flag wins


def test_nemo_token_selects_the_cloud(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEMO_TOKEN", "nemo-123")
    c = choose(None)
    assert (c.url, c.token, c.is_cloud) == (CLOUD_URL, "nemo-123", True)
    assert choose("http://other.test").token == "nemo-123"


def test_state_lives_under_i2v_flow_home(_home: Path) -> None:
    assert client_state_file() == _home / "client.json"


def test_state_is_written_atomically_and_kept_per_backend(tmp_path: Path) -> None:
    path = tmp_path / "state" / "client.json"
    a = ClientState(path, "local")
    a.update(token="t1", session_id="1")
    a.add_render("r1", state="rendering", target="/x.mp4")
    b = ClientState(path, "https://cloud")
    assert b.client_id == a.client_id and b.backend == {}
    assert b.pending_renders() == {}
    b.update(token="t2")
    again = ClientState(path, "local")
    assert again.backend == {"token": "t1", "session_id": "1"}
    assert list(again.pending_renders()) == ["r1"]
    assert json.loads(path.read_text())["backends"]["https://cloud"] == {"token": "t2"}
    assert sorted(p.name for p in path.parent.iterdir()) == [".client.json.lock", "client.json"]
    for done in ("downloaded", "failed", "cancelled", "lost"):
        again.update_render("r1", state=done)
        assert again.pending_renders() == {}


def test_two_processes_sharing_the_file_never_undo_each_other(tmp_path: Path) -> None:
    path = tmp_path / "client.json"
    app = ClientState(path, "local")
    app.update(token="t1")
    watch = ClientState(path, "local")  # started after: sees the token
    assert watch.backend["token"] == "t1"
    watch.add_render("r-watch", state="rendering")
    app.add_render("r-app", state="rendering")  # app's memory predates r-watch: kept anyway
    cloud = ClientState(path, "https://cloud")
    cloud.update(token="c1")
    app.update(session_id="7")
    final = json.loads(path.read_text())
    assert set(final["renders"]) == {"r-watch", "r-app"}
    assert final["backends"] == {
        "local": {"token": "t1", "session_id": "7"},
        "https://cloud": {"token": "c1"},
    }
    assert len({app.client_id, watch.client_id, cloud.client_id}) == 1


def test_finished_render_jobs_do_not_pile_up(tmp_path: Path) -> None:
    s = ClientState(tmp_path / "client.json", "local")
    for i in range(60):
        s.add_render(f"r{i}", state="downloaded")
    s.add_render("live", state="rendering")
    kept = json.loads((tmp_path / "client.json").read_text())["renders"]
    assert len(kept) == 51 and "live" in kept and "r59" in kept and "r0" not in kept


def test_a_damaged_state_file_starts_afresh(tmp_path: Path) -> None:
    path = tmp_path / "client.json"
    path.write_text("{not json")
    s = ClientState(path, "local")
    assert s.client_id and s.backend == {}
    s.update(token="t")
    assert json.loads(path.read_text())["backends"]["local"]["token"] == "t"


def test_unique_path_never_overwrites(tmp_path: Path) -> None:
    p = tmp_path / "clip.mp4"
    assert unique_path(p) == p
    p.write_bytes(b"x")
    (tmp_path / "clip-2.mp4").write_bytes(b"x")
    assert unique_path(p) == tmp_path / "clip-3.mp4"


def test_two_state_objects_interleaving_merge_key_by_key(tmp_path: Path) -> None:
    """Each write re-reads the file under the lock and changes only its own keys."""
    path = tmp_path / "client.json"
    a = ClientState(path, "local")  # the app
    b = ClientState(path, "local")  # a watcher, in memory since before a's writes
    a.update(token="t1", session_id="app-1")
    b.update(expires_at="2030")  # b never saw a's keys: they stay
    a.add_render("r-a", state="rendering", owner="app", target="/a.mp4")
    b.add_render("r-b", state="rendering", owner="watch:/in")
    b.update_render("r-a", progress=50)  # a render only a knows, updated through b
    a.update_render("r-b", state="rendered")  # …and the other way round
    b.forget("expires_at")
    a.update(task_id="task-1")
    b.save()  # a whole-state save merges too: b's stale memory undoes nothing
    final = json.loads(path.read_text())
    assert final["backends"]["local"] == {"token": "t1", "session_id": "app-1", "task_id": "task-1"}
    assert final["renders"]["r-a"] == {
        "backend": "local",
        "state": "rendering",
        "owner": "app",
        "target": "/a.mp4",
        "progress": 50,
    }
    assert final["renders"]["r-b"]["state"] == "rendered"
    # Each object sees the other's renders when it asks (the file is the truth).
    assert set(a.pending_renders()) == set(b.pending_renders()) == {"r-a", "r-b"}


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "client.json"
    code = (
        "import sys\n"
        "from tui.client.state import ClientState\n"
        "s = ClientState(sys.argv[1], 'local')\n"
        "who = sys.argv[2]\n"
        "for i in range(40):\n"
        "    s.update(**{f'{who}{i}': i})\n"
        "    s.add_render(f'{who}-r{i}', state='rendering', owner=who)\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(path), who], cwd=ROOT)
        for who in ("app", "watch")
    ]
    assert [p.wait(60) for p in procs] == [0, 0]
    final = json.loads(path.read_text())
    assert len(final["backends"]["local"]) == 80
    assert len(final["renders"]) == 80


def test_pending_renders_by_owner(tmp_path: Path) -> None:
    s = ClientState(tmp_path / "client.json", "local")
    s.add_render("r-app", state="rendering", owner="app")
    s.add_render("r-watch", state="rendering", owner="watch:/in")
    s.add_render("r-old", state="rendering")  # saved before owners were recorded: anyone's
    assert set(s.pending_renders("app")) == {"r-app", "r-old"}
    assert set(s.pending_renders("watch:/in")) == {"r-watch", "r-old"}
    assert set(s.pending_renders()) == {"r-app", "r-watch", "r-old"}
