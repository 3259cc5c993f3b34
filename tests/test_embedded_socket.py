"""The embedded engine as the app, `render` and `watch` start it: on a Unix socket of its own in
I2V_FLOW_HOME/run (or a fresh 0700 folder when that path is too long), reached by the client at
its `http+unix://` URL, the socket gone when the engine stops; and `i2v-flow serve --socket`."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.decode import probe
from tests.engine_http import client
from tests.media import photo
from tui.client import Client
from tui.client.state import ClientState
from tui.core.backend import EmbeddedEngine
from tui.core.paths import new_socket_path, socket_of, socket_url
from tui.core.protocol import ENGINE_NAME

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def short_home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An I2V_FLOW_HOME short enough for HOME/run/<socket> (pytest's own tmp paths may not be)."""
    home = Path(tempfile.mkdtemp(prefix="i2v-home-"))
    monkeypatch.setenv("I2V_FLOW_HOME", str(home))
    yield home
    shutil.rmtree(home, ignore_errors=True)


def test_the_url_form_round_trips() -> None:
    path = "/tmp/i2v-x/engine 1%.sock"
    url = socket_url(path)
    assert url == "http+unix://%2Ftmp%2Fi2v-x%2Fengine%201%25.sock"
    assert socket_of(url) == socket_of(url + "/") == path
    assert socket_of("http://127.0.0.1:8765") is None


async def test_upload_turn_render_and_download_over_the_socket(tmp_path: Path, _home: Path) -> None:
    engine = EmbeddedEngine(data_dir=tmp_path / "data")
    url = await engine.start()
    sock = Path(socket_of(url) or "")
    try:
        assert url.startswith("http+unix://") and stat.S_ISSOCK(sock.lstat().st_mode)
        img = photo(tmp_path / "photo.jpg", (160, 120))
        out = tmp_path / "exports" / "clip.mp4"
        state = ClientState(_home / "client.json", "local")
        async with Client(url, state, poll_interval=0.2) as c:
            assert (c.url, c.base_url) == (url, "http://localhost")
            await c.connect()
            files = await c.upload([img])
            assert files[0]["filename"] == "photo.jpg"
            events = [ev async for ev in c.turn("a 1 second clip")]
            assert (await c.draft())["d"] == 1000, events
            result = await c.export(out, "draft")
            # The engine's own link (built from Host: localhost) is one the client trusts with
            # its token: the download went there.
            assert result.status.output_url.startswith("http://localhost/api/render/proxy/")
            assert (await c.credits())["available"] == 100  # the draft tier is free
        p = probe(out)
        assert (p.codec, p.frames) == ("h264", 30) and result.size == out.stat().st_size
        assert not list(out.parent.glob(".*.part"))
    finally:
        await engine.stop()
    assert not sock.exists()


async def test_two_launches_at_once_get_sockets_of_their_own(
    tmp_path: Path, short_home: Path
) -> None:
    # The app and a watch robot on one data folder, started together.
    a, b = EmbeddedEngine(data_dir=tmp_path / "data"), EmbeddedEngine(data_dir=tmp_path / "data")
    try:
        url_a, url_b = await asyncio.gather(a.start(), b.start())
        assert url_a != url_b
        for url in (url_a, url_b):
            assert Path(socket_of(url) or "").parent == short_home / "run"
            with client(url, timeout=10) as api:
                assert api.get("/health").status_code == 200
    finally:
        await asyncio.gather(a.stop(), b.stop())
    assert not list((short_home / "run").iterdir())


async def test_a_killed_engine_leaves_no_socket_and_a_long_home_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / ("h" * 50) / ("o" * 50)
    monkeypatch.setenv("I2V_FLOW_HOME", str(home))
    engine = EmbeddedEngine(data_dir=tmp_path / "data")
    url = await engine.start()
    sock = Path(socket_of(url) or "")
    assert sock.parent.name.startswith("i2v-") and sock.parent != home / "run"
    assert stat.S_IMODE(sock.parent.stat().st_mode) == 0o700
    assert engine.proc is not None
    engine.proc.send_signal(signal.SIGKILL)  # no chance to remove its socket itself
    await engine.proc.wait()
    assert sock.exists()
    await engine.stop()
    assert not sock.exists() and not sock.parent.exists()


def test_a_dead_launchers_socket_is_cleared_from_the_run_folder(short_home: Path) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    dead_pid = int(gone.stdout)
    path, own = new_socket_path()
    assert not own
    stale = path.parent / f"engine-{dead_pid}-00000000.sock"
    ours = path.parent / f"engine-{os.getpid()}-11111111.sock"
    stale.touch()
    ours.touch()
    new_socket_path()
    assert not stale.exists() and ours.exists()


def test_serve_socket_listens_there_and_refuses_a_taken_path(
    tmp_path: Path, short_home: Path
) -> None:
    path, own = new_socket_path()
    assert not own
    cmd = [sys.executable, "-m", "tui", "serve", "--data", str(tmp_path / "data")]
    proc = subprocess.Popen(
        [*cmd, "--socket", str(path), "--watch-stdin"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        assert line.strip() == f"i2v-flow engine listening on {socket_url(path)}"
        assert stat.S_IMODE(path.lstat().st_mode) == 0o600
        with client(socket_url(path), timeout=10) as api:
            data = api.get("/health").json()["data"]
            assert data["status"] == "ok" and data["engine"] == ENGINE_NAME
        # A second engine on a live socket: refused, the first one untouched.
        r = subprocess.run(
            [*cmd, "--socket", str(path)], capture_output=True, text=True, cwd=ROOT, timeout=60
        )
        assert r.returncode == 1 and "cannot listen on" in r.stderr and not r.stdout
        with client(socket_url(path), timeout=10) as api:
            assert api.get("/health").status_code == 200
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(10)
    assert proc.returncode == 0 and not path.exists()
    # A file that is not a socket is never replaced.
    path.write_text("keep me")
    r = subprocess.run(
        [*cmd, "--socket", str(path)], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert r.returncode == 1 and "cannot listen on" in r.stderr
    assert path.read_text() == "keep me"
