"""The engine as a process: `i2v-flow serve`, restarts (a kill -9 mid-render included), expired
tokens, heartbeats of a long turn, a >200 MB upload refused without filling memory, its render
workers (small pages, started first, one BLAS thread), and photos decoded ahead of their drafts.

Each test starts its own engine on its own data folder (so it may edit its SQLite or kill it).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from tests.test_engine_api import (
    auth,
    balance,
    clip,
    new_session,
    start_render,
    token,
    upload_photo,
)
from tui import __version__
from tui.core.protocol import ENGINE_NAME

ROOT = Path(__file__).resolve().parents[1]
HIGH = {"format": "mp4", "quality": "high"}  # renders that last seconds: caught mid-way


class EngineProc:
    """`python -m tui serve --port 0 --data DIR`, read until it prints its URL (`python`: another
    interpreter with the project installed, default this one)."""

    def __init__(self, data: Path, env: dict[str, str] | None = None, *args: str, python: str = ""):
        self.data = data
        cmd = [python or sys.executable, "-m", "tui", "serve", "--port", "0", "--data", str(data)]
        self.proc = subprocess.Popen(
            [*cmd, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode()
        if "listening on " not in line:
            self.proc.kill()
            raise RuntimeError(f"engine did not start: {line!r} {self.proc.stderr.read()!r}")
        self.url = line.strip().rsplit("listening on ", 1)[1]
        self.pid = self.proc.pid

    def children(self) -> list[int]:
        return _children(self.pid)

    def descendants(self) -> list[int]:
        out, todo = [], [self.pid]
        while todo:
            kids = _children(todo.pop())
            out += kids
            todo += kids
        return out

    def workers(self) -> list[int]:
        """Its live render worker processes."""
        return [
            pid for pid in self.children() if _alive(pid) and b"tui.engine.worker" in _cmdline(pid)
        ]

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill9(self) -> list[int]:
        """kill -9 the engine; the processes it had started that outlive it by 5 s (then
        killed too, so that no test leaves any behind)."""
        kids = self.descendants()
        self.proc.kill()
        self.proc.wait()
        deadline = time.monotonic() + 5
        while kids and time.monotonic() < deadline:
            kids = [k for k in kids if _alive(k)]
            time.sleep(0.05)
        kids = [k for k in kids if _alive(k)]
        for k in kids:
            os.kill(k, signal.SIGKILL)
        return kids


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def engines() -> Iterator[list[EngineProc]]:
    started: list[EngineProc] = []
    yield started
    for e in started:
        e.stop()


def start(engines: list[EngineProc], data: Path, *args: str, **env: str) -> EngineProc:
    e = EngineProc(data, env, *args)
    engines.append(e)
    return e


def test_serve_prints_its_url_and_stays_on_loopback(tmp_path: Path) -> None:
    e = EngineProc(tmp_path / "data")
    try:
        assert e.url.startswith("http://127.0.0.1:")
        r = httpx.get(e.url + "/health")
        health = {"status": "ok", "engine": ENGINE_NAME, "version": __version__}
        assert r.json() == {"code": 0, "message": "ok", "data": health}
        # A page whose DNS name was rebound to 127.0.0.1 is refused by its Host header.
        r = httpx.get(e.url + "/health", headers={"Host": "evil.example:80"})
        assert (r.status_code, r.json()["code"]) == (400, 400)
        assert (tmp_path / "data" / "engine.sqlite3").exists()
    finally:
        e.stop()
    assert e.proc.returncode == 0
    cmd = [sys.executable, "-m", "tui", "serve", "--port", "0", "--data", str(tmp_path / "d")]
    r = subprocess.run([*cmd, "--host", "0.0.0.0"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "--allow-remote" in r.stderr and not r.stdout
    # With the flag: a warning first (192.0.2.1 is a documentation address: binding fails).
    r = subprocess.run(
        [*cmd, "--host", "192.0.2.1", "--allow-remote"], capture_output=True, text=True, cwd=ROOT
    )
    assert r.returncode == 1 and "warning: listening on 192.0.2.1" in r.stderr
    assert "cannot listen" in r.stderr
    r = subprocess.run([*cmd, "--help"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and "--host" in r.stdout and "--data" in r.stdout


def test_expired_token_gets_1001(engines: list[EngineProc], tmp_path: Path) -> None:
    e = start(engines, tmp_path / "data")
    with httpx.Client(base_url=e.url, timeout=30) as api:
        tok = token(api)
        sid = new_session(api, tok)
        with sqlite3.connect(tmp_path / "data" / "engine.sqlite3") as db:
            db.execute(
                "UPDATE tokens SET expires_at=? WHERE token=?", (time.time() - 1, tok["token"])
            )
        for method, path in [
            ("GET", "/api/credits/balance/simple"),
            ("GET", f"/api/state/nemo_agent/me/{sid}/latest"),
            ("POST", "/run_sse"),
        ]:
            r = api.request(method, path, headers=auth(tok), json={"session_id": sid})
            assert (r.status_code, r.json()["code"]) == (401, 1001), r.text
        # The same client, showing the expired token, gets a new one of its account: it finds
        # its session and credits again.
        fresh = api.post(
            "/api/auth/anonymous-token",
            headers={"X-Client-Id": _client_id(tmp_path, tok), **auth(tok)},
        ).json()["data"]
        assert fresh["user_id"] == tok["user_id"] and fresh["credits"] == 100
        r = api.get(f"/api/state/nemo_agent/me/{sid}/latest", headers=auth(fresh))
        assert r.status_code == 200


def _client_id(tmp_path: Path, tok: dict) -> str:
    with sqlite3.connect(tmp_path / "data" / "engine.sqlite3") as db:
        return db.execute(
            "SELECT client_id FROM users WHERE user_id=?", (tok["user_id"],)
        ).fetchone()[0]


def test_long_turn_sends_heartbeats_while_it_works(
    engines: list[EngineProc], tmp_path: Path
) -> None:
    e = start(engines, tmp_path / "data", I2V_ENGINE_HEARTBEAT="0.2", I2V_ENGINE_TURN_DELAY="1.5")
    with httpx.Client(base_url=e.url, timeout=30) as api:
        tok = token(api)
        sid = new_session(api, tok)
        upload_photo(api, tok, sid, tmp_path / "p.png", (64, 48))
        body = {
            "app_name": "nemo_agent",
            "user_id": "me",
            "session_id": sid,
            "streaming": True,
            "new_message": {"role": "user", "parts": [{"text": "a 3 second clip"}]},
        }
        lines: list[tuple[float, str]] = []
        health: list[float] = []
        t0 = time.monotonic()
        with api.stream("POST", "/run_sse", headers=auth(tok), json=body) as resp:
            assert resp.status_code == 200
            for line in resp.iter_lines():
                if line:
                    lines.append((time.monotonic() - t0, line))
                if len(lines) == 2 and not health:  # the loop is free while the agent works
                    with httpx.Client(base_url=e.url) as other:
                        assert other.get("/health").status_code == 200
                    health.append(time.monotonic() - t0)
        beats = [t for t, line in lines if line == 'data: {"type": "heartbeat"}']
        events = [(t, line) for t, line in lines if '"invocationId"' in line]
        assert len(beats) >= 3, lines
        assert events and beats[-1] < events[0][0]
        assert all(line.startswith("data: ") for _, line in lines)
        assert '"partial"' not in events[-1][1] and health[0] < events[0][0]
        draft = api.get(f"/api/state/nemo_agent/me/{sid}/latest", headers=auth(tok)).json()
        assert draft["data"]["state"]["draft"]["d"] == 3000


def render_status(api: httpx.Client, tok: dict, rid: str) -> dict:
    """A render's status; a 429 (the polling shares its token's 20 requests a second with the
    test's other calls) is waited out as its Retry-After says, a bounded number of times."""
    for _ in range(5):
        r = api.get(f"/api/render/proxy/lambda/{rid}", headers=auth(tok))
        if r.status_code != 429:
            return r.json()["data"]
        time.sleep(float(r.headers.get("Retry-After", "1")))
    raise AssertionError(f"render {rid}: still 429 after 5 waits")


def poll_render(api: httpx.Client, tok: dict, rid: str, done, seconds: float = 60) -> dict:
    """Poll every 0.25 s (4 requests a second) until `done(status)`, at most `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        st = render_status(api, tok, rid)
        if done(st) or time.monotonic() > deadline:
            return st
        time.sleep(0.25)


def wait_finished(api: httpx.Client, tok: dict, rid: str, seconds: float = 60) -> dict:
    return poll_render(
        api, tok, rid, lambda st: st["status"] in ("completed", "failed", "cancelled"), seconds
    )


def _wait_processing(api: httpx.Client, tok: dict, rid: str, or_done: bool = False) -> dict:
    st = poll_render(
        api,
        tok,
        rid,
        lambda st: (
            (st["status"] == "processing" and st["progress"] > 0)
            or (or_done and st["status"] == "completed")
        ),
        30,
    )
    assert st["status"] == "processing" or (or_done and st["status"] == "completed"), st
    return st


def test_kill_9_or_stop_mid_render_loses_nothing(engines: list[EngineProc], tmp_path: Path) -> None:
    data = tmp_path / "data"
    e = start(engines, data)
    api = httpx.Client(base_url=e.url, timeout=30)
    tok = token(api)
    sid = new_session(api, tok)
    media = upload_photo(api, tok, sid, tmp_path / "p.png", (64, 48))
    r = start_render(api, tok, sid, clip(media["hash"], 6, size=(1280, 720)), output=HIGH)
    rid = r.json()["data"]["id"]
    _wait_processing(api, tok, rid)
    assert balance(api, tok) == {"available": 94, "frozen": 6, "total": 100}
    api.close()
    assert e.kill9() == []  # its worker died with it

    # Started again: the token, the session, its media and the frozen credits are all there,
    # and the job runs again from the queue. Then a clean stop, mid-render again.
    e2 = start(engines, data)
    with httpx.Client(base_url=e2.url, timeout=30) as api:
        assert balance(api, tok) == {"available": 94, "frozen": 6, "total": 100}
        state = api.get(f"/api/state/nemo_agent/me/{sid}/latest", headers=auth(tok)).json()
        assert [m["hash"] for m in state["data"]["state"]["video_infos"]] == [media["hash"]]
        _wait_processing(api, tok, rid, or_done=True)
    e2.stop()
    assert e2.proc.returncode == 0

    e3 = start(engines, data)
    with httpx.Client(base_url=e3.url, timeout=30) as api:
        st = wait_finished(api, tok, rid)
        assert st["status"] == "completed" and st["outputUrl"].startswith(e3.url)
        assert balance(api, tok) == {"available": 94, "frozen": 0, "total": 94}
        r = api.get(f"/api/render/proxy/{rid}/download", headers=auth(tok))
        assert r.status_code == 200 and r.content[4:8] == b"ftyp"
    assert not list((data / "renders").glob(".*.part"))
    with sqlite3.connect(data / "engine.sqlite3") as db:
        kinds = db.execute(
            "SELECT kind, amount FROM ledger WHERE render_id=? ORDER BY seq", (rid,)
        ).fetchall()
    assert kinds == [("freeze", 6), ("spend", 6)]


def _read_reply(s: socket.socket) -> bytes:
    """One HTTP response with a Content-Length, read off a raw socket."""
    s.settimeout(30)
    reply = b""
    while b"\r\n\r\n" not in reply:
        got = s.recv(65536)
        if not got:
            return reply
        reply += got
    head, _, body = reply.partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
    while len(body) < length:
        got = s.recv(65536)
        if not got:
            break
        body += got
    return head + b"\r\n\r\n" + body


def test_upload_over_200_mb_is_refused_without_filling_memory(
    engines: list[EngineProc], tmp_path: Path
) -> None:
    e = start(engines, tmp_path / "data")
    with httpx.Client(base_url=e.url, timeout=30) as api:
        tok = token(api)
        sid = new_session(api, tok)
        # Warm up: the first upload imports Pillow in the server.
        upload_photo(api, tok, sid, tmp_path / "p.png", (64, 48))
    host, port = e.url.removeprefix("http://").split(":")
    path = f"/api/upload-video/nemo_agent/me/{sid}"
    base = e.rss_kb()

    # A chunked body (no Content-Length): the limit is found while streaming.
    chunk = b"\x89PNG\r\n\x1a\n" + b"\x00" * ((1 << 20) - 8)
    head = (
        b"--B0UND\r\n"
        b'Content-Disposition: form-data; name="files"; filename="big.png"\r\n'
        b"Content-Type: image/png\r\n\r\n"
    )
    sent, peak = 0, base
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {tok['token']}\r\n"
            "Content-Type: multipart/form-data; boundary=B0UND\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        s.sendall(b"%x\r\n%s\r\n" % (len(head), head))
        import select

        for i in range(260):  # up to 260 MB, produced as it goes
            if select.select([s], [], [], 0)[0]:
                break  # the server answered: it stopped reading
            try:
                s.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
            if i % 16 == 0:
                peak = max(peak, e.rss_kb())
        peak = max(peak, e.rss_kb())
        reply = _read_reply(s)
    status = reply.split(b"\r\n", 1)[0]
    assert b" 413 " in status, reply[:300]
    assert b'"code":4002' in reply and b"200 MB" in reply
    assert 200 << 20 <= sent < 230 << 20, sent  # refused once past the limit, not at the end
    assert peak - base < 60_000, (base, peak)  # kB: nowhere near 200 MB
    assert not list((tmp_path / "data" / "media").glob(".up-*"))  # the partial file is gone

    # A declared Content-Length far over the limit is refused before a byte of the body.
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {tok['token']}\r\n"
            "Content-Type: multipart/form-data; boundary=B0UND\r\n"
            f"Content-Length: {50 << 30}\r\n\r\n".encode()
        )
        reply = _read_reply(s)
    assert b" 413 " in reply.split(b"\r\n", 1)[0] and b'"code":4002' in reply
    with httpx.Client(base_url=e.url, timeout=30) as api:
        assert balance(api, tok)["total"] == 100  # the server is fine


def test_a_killed_render_worker_is_survived(engines: list[EngineProc], tmp_path: Path) -> None:
    e = start(engines, tmp_path / "data", "--workers", "1")

    def kill_worker() -> int:
        workers = e.workers()
        assert len(workers) == 1, workers
        os.kill(workers[0], signal.SIGKILL)
        return workers[0]

    def rerun_by_new_worker(killed: int) -> None:
        # A new worker is started once the job is back in the queue (pending, progress 0), so
        # progress seen with a new worker there is the second run's.
        def rerun(st: dict) -> bool:
            return st["progress"] > 0 and e.workers() not in ([], [killed])

        st = poll_render(api, tok, rid, rerun, 30)
        assert st["status"] == "processing" and rerun(st), (st, e.workers())

    with httpx.Client(base_url=e.url, timeout=30) as api:
        tok = token(api)
        sid = new_session(api, tok)
        src = upload_photo(api, tok, sid, tmp_path / "p.png", (64, 48))["hash"]
        r = start_render(api, tok, sid, clip(src, 6, size=(1280, 720)), output=HIGH)
        rid = r.json()["data"]["id"]
        # Once: the job runs again on a fresh worker. Twice: it fails and releases its credits.
        _wait_processing(api, tok, rid)
        rerun_by_new_worker(kill_worker())
        assert balance(api, tok) == {"available": 94, "frozen": 6, "total": 100}
        kill_worker()
        st = wait_finished(api, tok, rid)
        assert st["status"] == "failed" and "worker" in st["error"]
        assert balance(api, tok) == {"available": 100, "frozen": 0, "total": 100}
        nxt = start_render(api, tok, sid, clip(src, 1, size=(320, 180))).json()["data"]["id"]
        assert wait_finished(api, tok, nxt)["status"] == "completed"
        assert balance(api, tok) == {"available": 99, "frozen": 0, "total": 99}
        assert len(e.workers()) == 1  # replaced, not multiplied


def _thp_enabled(pid: int) -> str | None:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("THP_enabled:"):
            return line.split()[1]
    return None


@contextlib.contextmanager
def _session(e: EngineProc) -> Iterator[tuple[httpx.Client, dict, str]]:
    """A client of `e`, a new account's token and a session of it."""
    with httpx.Client(base_url=e.url, timeout=30) as api:
        tok = token(api)
        yield api, tok, new_session(api, tok)


def _one_small_render(e: EngineProc, tmp_path: Path) -> None:
    """A new account renders 1 s of 320x180 from a small photo, to the end."""
    with _session(e) as (api, tok, sid):
        src = upload_photo(api, tok, sid, tmp_path / "p.png", (64, 48))["hash"]
        rid = start_render(api, tok, sid, clip(src, 1, size=(320, 180))).json()["data"]["id"]
        assert wait_finished(api, tok, rid)["status"] == "completed"


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or _thp_enabled(os.getpid()) is None,
    reason="reads THP_enabled in /proc/PID/status (Linux)",
)
def test_a_render_worker_keeps_to_small_pages(engines: list[EngineProc], tmp_path: Path) -> None:
    # Huge pages made a fresh worker's first 1080p render 1.3-2 s slower (bench_render
    # --command): the worker turns them off for itself, and only for itself.
    e = start(engines, tmp_path / "data", "--workers", "1")
    _one_small_render(e, tmp_path)
    [worker] = e.workers()
    assert _thp_enabled(worker) == "0"
    assert _thp_enabled(e.pid) == _thp_enabled(os.getpid())


def test_a_one_shot_engine_starts_its_worker_first(
    engines: list[EngineProc], tmp_path: Path
) -> None:
    # --warm-now (a one-shot `render` or `watch`): the worker is started before the server's
    # imports, so that it is ready sooner; the pool adopts it rather than starting another.
    e = start(engines, tmp_path / "data", "--workers", "1", "--warm-now")
    first = e.workers()
    assert len(first) == 1, first  # there by the time the engine listens
    _one_small_render(e, tmp_path)
    assert e.workers() == first


def test_a_worker_imports_numpy_with_one_blas_thread() -> None:
    # OpenBLAS's idle threads spin at numpy's import: 0.17 s of CPU taken from the engine and
    # the command starting beside the worker. The worker asks for one before numpy loads.
    code = (
        "import os, sys; from tui.engine import worker; assert 'numpy' not in sys.modules; "
        "worker._one_blas_thread(); import numpy; print(len(os.listdir('/proc/self/task')))"
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True)
    assert out.returncode == 0, out.stderr.decode()
    assert out.stdout.decode().split() == ["1"]


def _log(e: EngineProc) -> str:
    return "".join(p.read_text(errors="replace") for p in sorted(e.data.glob("engine.log*")))


def wait_for(what, seconds: float = 10):
    """`what()` once truthy, polled every 0.05 s for at most `seconds`; else its last value."""
    deadline = time.monotonic() + seconds
    while not (got := what()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return got


def test_an_uploaded_photo_is_decoded_ahead_of_its_drafts(
    engines: list[EngineProc], tmp_path: Path
) -> None:
    # While the user types the turn, an idle worker decodes the photo just uploaded (and finds
    # its subject), so the first draft preview skips that (render/kept_stills.py). Not a photo
    # over 30 MP: its decode alone could hold the worker a second.
    e = start(engines, tmp_path / "data", "--workers", "1", I2V_ENGINE_PREPARE_AFTER="0")
    with _session(e) as (api, tok, sid):
        huge = tmp_path / "huge.png"
        Image.new("RGB", (6000, 5001), (90, 120, 150)).save(huge)  # 30.006 MP
        with huge.open("rb") as f:
            r = api.post(
                f"/api/upload-video/nemo_agent/me/{sid}",
                headers=auth(tok),
                files=[("files", (huge.name, f))],
            )
        big = r.json()["data"]["files"][0]["hash"]
        photo = tmp_path / "p.png"
        src = upload_photo(api, tok, sid, photo, (640, 360))["hash"]
        assert wait_for(lambda: f"image decoded ahead of its drafts: {src}" in _log(e), 20), _log(e)
        assert big not in _log(e)
        upload_photo(api, tok, sid, photo, (640, 360))  # the same photo: kept, not decoded again
        assert wait_for(lambda: "image kept ahead of its drafts" in _log(e), 20), _log(e)
        draft = clip(src, 1, size=(320, 180))
        rid = start_render(api, tok, sid, draft, output={"format": "mp4", "quality": "draft"})
        assert wait_finished(api, tok, rid.json()["data"]["id"])["status"] == "completed"
        assert _log(e).count("ahead of its drafts") == 2


def test_a_render_right_after_an_upload_does_not_wait_for_decoding_ahead(
    engines: list[EngineProc], tmp_path: Path
) -> None:
    # A one-shot command asks for its render ~0.1 s after the upload: the hint, due later, is
    # dropped when the render starts (the render decodes the photo itself), so the worker never
    # decodes it twice nor makes the render wait.
    e = start(engines, tmp_path / "data", "--workers", "1", I2V_ENGINE_PREPARE_AFTER="2")
    with _session(e) as (api, tok, sid):
        started = time.monotonic()
        src = upload_photo(api, tok, sid, tmp_path / "p.png", (640, 360))["hash"]
        rid = start_render(api, tok, sid, clip(src, 1, size=(320, 180))).json()["data"]["id"]
        assert time.monotonic() - started < 2  # asked for before the hint was due
        assert wait_finished(api, tok, rid)["status"] == "completed"
        time.sleep(max(0.0, started + 3 - time.monotonic()))  # past when the hint was due
        assert "ahead of its drafts" not in _log(e)
