"""file:// imports on a shared machine: off unless the engine's owner names folders, and then
nothing outside them (symlinks resolved), never the engine's own data (its SQLite least of all),
one answer for every refusal (no telling whether a path exists) and no absolute path in any
answer, 415s from the media sniffer included.

Against real engines on 127.0.0.1: the shared one (imports off) and one started here with
`--allow-files` on its own data folder.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.media import photo
from tests.test_engine_api import (
    auth,
    clip,
    new_session,
    paced,
    start_render,
    token,
    upload_photo,
    wait_render,
)
from tests.test_engine_lifecycle import ROOT, EngineProc


def envelope(r: httpx.Response) -> dict:
    body = r.json()
    assert set(body) == {"code", "message", "data"}, body
    return body


class Importer:
    """A session on an engine; `imp(url)` asks it to import `url`, waiting when told to (a
    user may send 20 requests a second, however many tokens it has)."""

    def __init__(self, base: str):
        self.api = httpx.Client(base_url=base, timeout=30)
        self.tok = token(self.api)
        self.sid = new_session(self.api, self.tok)
        self.answers: list[str] = []  # every answer's text, to look for paths in

    def imp(self, *urls: str) -> httpx.Response:
        r = paced(  # the user's 20 requests a second hold for all its tokens
            lambda: self.api.post(
                f"/api/upload-video/nemo_agent/me/{self.sid}",
                headers={**auth(self.tok), "Content-Type": "application/json"},
                # ASCII JSON: a lone surrogate goes as a \ud800 escape, as a client may send it
                content=json.dumps({"urls": list(urls), "source_type": "url"}),
            )
        )
        self.answers.append(r.text)
        return r

    def refused(self, url: str, status: int = 400, code: int = 400) -> str:
        r = self.imp(url)
        body = envelope(r)
        assert (r.status_code, body["code"]) == (status, code), (url, r.status_code, body)
        return body["message"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """An engine whose owner allowed `allowed/` and, unwisely, the folder its data is in."""
    top = tmp_path_factory.mktemp("abuse")
    allowed, outside, home = top / "allowed", top / "outside", top / "home"
    for d in (allowed, outside, home):
        d.mkdir()
    data = home / "engine"
    engine = EngineProc(data, None, "--allow-files", str(allowed), "--allow-files", str(home))
    try:
        yield {"url": engine.url, "allowed": allowed, "outside": outside, "data": data, "top": top}
    finally:
        engine.stop()


def no_paths(texts: list[str], *paths: Path) -> None:
    """No answer names a server path: not the folders given, not any absolute path at all."""
    for text in texts:
        for p in paths:
            assert str(p) not in text, text
        assert not re.search(r"(?<![\w/:])/(?:tmp|root|home|etc|proc|var)\b", text), text


def test_file_imports_are_off_by_default(engine_url: str, tmp_path: Path) -> None:
    imp = Importer(engine_url)
    img = photo(tmp_path / "mine.png", (48, 32))
    said = {imp.refused(u) for u in (img.as_uri(), (tmp_path / "no.png").as_uri())}
    assert len(said) == 1 and "--allow-files" in said.pop()  # exists or not: the same words
    # http(s) keeps its own sentence; other schemes are named, not echoed whole.
    assert "offline" in imp.refused("https://example.com/a.png")
    assert "scheme 'ftp'" in imp.refused("ftp://example.com/a.png")
    no_paths(imp.answers, tmp_path)


def test_allowed_folder_imports_by_base_name(site: dict) -> None:
    imp = Importer(site["url"])
    sub = site["allowed"] / "a b"
    sub.mkdir(exist_ok=True)
    img = photo(sub / "local photo.png", (48, 32))
    r = imp.imp(img.as_uri())
    assert r.status_code == 200, r.text
    f = r.json()["data"]["files"][0]
    assert (f["filename"], f["file_type"], f["width"]) == ("local photo.png", "image", 48)
    # A symlink inside the allowed folder to a file that is also inside it is fine.
    link = site["allowed"] / "link.png"
    link.unlink(missing_ok=True)
    link.symlink_to(img)
    assert imp.imp(link.as_uri()).status_code == 200
    no_paths(imp.answers, site["top"])


def test_one_answer_for_every_refusal(site: dict) -> None:
    """Missing, outside, another user's 0600 file, a folder, a FIFO, a device, a symlink out,
    `..` out, the engine's data and database (by path, symlink and hard link): one message."""
    allowed, outside, data = site["allowed"], site["outside"], site["data"]
    imp = Importer(site["url"])
    secret = outside / "x.png"
    photo(secret, (40, 30))
    os.chmod(secret, 0o600)
    theirs = outside / "theirs"
    theirs.mkdir(exist_ok=True)
    photo(theirs / "x.png", (40, 30))
    os.chmod(theirs / "x.png", 0o600)
    if os.geteuid() == 0:
        os.chown(theirs / "x.png", 65534, 65534)  # nobody's: the engine's owner could read it
    cases = {
        "missing": allowed / "missing" / "x.png",
        "outside 0600": secret,
        "another user's": theirs / "x.png",
        "dotdot": Path(f"{allowed}/../outside/x.png"),
    }
    folder = allowed / "folder" / "x.png"
    folder.mkdir(parents=True, exist_ok=True)
    cases["folder"] = folder
    fifo = allowed / "fifo" / "x.png"
    fifo.parent.mkdir(exist_ok=True)
    if not fifo.exists():
        os.mkfifo(fifo)
    cases["fifo"] = fifo
    dev = allowed / "dev"
    dev.mkdir(exist_ok=True)
    (dev / "x.png").unlink(missing_ok=True)
    (dev / "x.png").symlink_to("/dev/zero")
    cases["device link"] = dev / "x.png"
    out_link = allowed / "out" / "x.png"
    out_link.parent.mkdir(exist_ok=True)
    out_link.unlink(missing_ok=True)
    out_link.symlink_to(secret)
    cases["symlink out"] = out_link
    dir_link = allowed / "dirlink"
    dir_link.unlink(missing_ok=True)
    dir_link.symlink_to(theirs, target_is_directory=True)
    cases["folder symlink out"] = dir_link / "x.png"
    # The engine's own files, though the owner allowed the folder they are in.
    db = data / "engine.sqlite3"
    for label, p in (("db", db), ("log", data / "engine.log")):
        cases[label] = p
        shown = allowed / label / "x.png"
        shown.parent.mkdir(exist_ok=True)
        shown.unlink(missing_ok=True)
        shown.symlink_to(p)
        cases[f"{label} via symlink"] = shown
    hard = allowed / "hard" / "x.png"
    hard.parent.mkdir(exist_ok=True)
    hard.unlink(missing_ok=True)
    os.link(db, hard)
    cases["db via hard link"] = hard
    said = {}
    for label, p in cases.items():
        msg = imp.refused(p.as_uri())
        said[label] = msg.replace(p.name, "NAME")
    assert len(set(said.values())) == 1, said
    assert "--allow-files" in said["missing"]
    # Names past the system's limits, NUL bytes, relative and remote forms: 400s, never 500s.
    for url in (
        (allowed / ("a" * 300 + ".png")).as_uri(),
        "file://" + str(allowed) + "/x" * 1500,
        "file://" + str(allowed) + "/x%00.png",
        "file:x.png",
        "file:///",
        "file://" + str(allowed) + "/%ff%fe.png",
        "file://" + str(allowed) + "/x\ud800.png",  # sent as JSON's \ud800 escape
    ):
        assert imp.refused(url)
    assert "4096" in imp.refused("file://" + "/x" * 3000)
    assert "this machine" in imp.refused("file://elsewhere/x.png")
    assert "offline" in imp.refused("http://127.0.0.1/x.png")
    no_paths(imp.answers, site["top"])


def test_database_untouched_and_renders_still_work(site: dict, tmp_path: Path) -> None:
    """Asking for the database (every way) disturbs nothing: a render completes after it and
    SQLite's integrity check passes."""
    imp = Importer(site["url"])
    db = site["data"] / "engine.sqlite3"
    for _ in range(3):
        imp.refused(db.as_uri())
        imp.refused((site["allowed"] / "hard" / "x.png").as_uri())
    api, tok, sid = imp.api, imp.tok, imp.sid
    src = upload_photo(api, tok, sid, tmp_path / "p.png", (64, 48))["hash"]
    rid = start_render(api, tok, sid, clip(src, 1, size=(320, 180))).json()["data"]["id"]
    assert wait_render(api, tok, rid)["status"] == "completed"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
    # The engine still answers reads and writes from its database.
    assert new_session(api, tok)


def test_media_refusals_name_the_file_only(site: dict) -> None:
    """415s carry the base name and the reason, never the file's path or the engine's media
    folder (PyAV and Pillow name the file they read)."""
    allowed = site["allowed"]
    imp = Importer(site["url"])
    (allowed / "t.png").write_text("not an image " * 20)
    fake = allowed / "fake.mp4"
    fake.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00garbage" * 64)
    cut = allowed / "cut.png"
    cut.write_bytes(photo(allowed / "whole.png", (300, 200)).read_bytes()[:200])
    for p in (allowed / "t.png", fake, cut):
        msg = imp.refused(p.as_uri(), 415, 4001)
        assert msg.startswith(p.name + ": not a supported"), msg
    # The same through a multipart upload: no temporary or media path either.
    r = imp.api.post(
        f"/api/upload-video/nemo_agent/me/{imp.sid}",
        headers=auth(imp.tok),
        files=[("files", ("fake.mp4", fake.read_bytes()))],
    )
    imp.answers.append(r.text)
    assert (r.status_code, r.json()["code"]) == (415, 4001)
    assert "not readable media" in r.json()["message"]
    no_paths(imp.answers, site["top"], site["data"])


def test_allow_files_names_folders_only(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "tui", "serve", "--port", "0", "--data", str(tmp_path / "d")]
    r = subprocess.run(
        [*cmd, "--allow-files", str(tmp_path / "nowhere")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert r.returncode == 2 and "is not a folder" in r.stderr and not r.stdout
    r = subprocess.run([*cmd, "--help"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert "--allow-files DIR" in r.stdout


PATH_PART = st.one_of(
    st.text(st.characters(exclude_categories=(), include_characters="\ud800/%."), max_size=40),
    st.sampled_from(["..", "%2e%2e", "%00", "%ff", "a" * 300, "x.png/", "//", "\ud800"]),
)


def test_any_file_url_gets_an_answer_without_paths(site: dict) -> None:
    """Any path under the allowed folder, odd bytes, escapes and lengths included: a 4xx (or
    an import, for a real file) and never a server path in the answer."""
    imp = Importer(site["url"])

    @settings(max_examples=60, deadline=None, database=None, derandomize=True)
    @given(
        parts=st.lists(PATH_PART, min_size=1, max_size=4), host=st.sampled_from(["", "localhost"])
    )
    def one(parts: list, host: str) -> None:
        r = imp.imp(f"file://{host}{site['allowed']}/" + "/".join(parts))
        assert r.status_code in (200, 400, 413, 415), r.text[:300]
        if r.status_code != 200:
            assert set(envelope(r)) == {"code", "message", "data"}

    one()
    no_paths(imp.answers, site["top"])
