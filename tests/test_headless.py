"""`i2v-flow render`: stdout gets the words, the tracks, the path and the credits; any failure is
exit 1 with one `error:` line. Against the programmable fake backend (the real engine's run is in
test_end_to_end.py)."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse

from tests.cli import i2v
from tests.test_client_fakes import adk, env, fail, sse
from tui.cli.main import main


@pytest.fixture(autouse=True)
def _no_user_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """main() reads the settings file: an empty one, never the developer's own."""
    monkeypatch.setenv("I2V_FLOW_CONFIG", os.devnull)


def image(tmp_path: Path) -> Path:
    p = tmp_path / "photo.png"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    return p


def render(capsys, *args: str) -> tuple[int, str, list[str]]:
    code = main(["render", *args])
    out, err = capsys.readouterr()
    return code, out, [line for line in err.splitlines() if line.strip()]


def test_a_render_streams_the_words_then_prints_tracks_path_and_credits(fb, tmp_path, capsys):
    out_file = tmp_path / "out" / "clip.mp4"
    code, out, err = render(
        capsys,
        str(image(tmp_path)),
        "-p",
        "title Spring Sale",
        "-o",
        str(out_file),
        "--api",
        fb.url,
    )
    assert code == 0, err
    assert out.count(fb.reply) == 1  # the final text replaced the chunks, not appended
    assert out.startswith(fb.reply + "\n")
    assert 'Tracks:\n  1. Video: photo.png (0-5s)\n  2. Title: "Spring Sale" (0-3s)\n' in out
    assert f"Saved {out_file}" in out
    assert "Credits: 100 available, 0 frozen" in out
    assert out_file.read_bytes() == fb.video
    assert "Connecting…" in err and "  ↳ add_title" in err
    assert fb.names()[:3] == ["token", "session", "upload"]
    # A second run continues with the saved token, in a fresh session of its own.
    fb.draft["t"].clear()
    code, out, _ = render(capsys, str(image(tmp_path)), "-o", str(out_file), "--api", fb.url)
    assert code == 0 and f"Saved {out_file.with_name('clip-2.mp4')}" in out
    assert fb.count("token") == 1 and fb.count("session") == 2


def test_final_text_that_differs_from_the_chunks_is_shown_in_full(fb, tmp_path, capsys):
    fb.then("run_sse", sse(adk("Work", partial=True), adk("Done: 5 s.")))
    code, out, _ = render(
        capsys, str(image(tmp_path)), "-o", str(tmp_path / "c.mp4"), "--api", fb.url
    )
    assert code == 0
    assert out.startswith("Work\nDone: 5 s.\n")


def test_a_silent_turn_prints_what_changed(fb, tmp_path, capsys):
    def silent(request: Request):
        fb.draft["d"] = 8000
        return sse(": ping\n\n")

    fb.then("run_sse", silent)
    code, out, _ = render(
        capsys, str(image(tmp_path)), "-o", str(tmp_path / "c.mp4"), "--api", fb.url
    )
    assert code == 0
    assert "The assistant finished without words. Changed: duration 5s → 8s" in out


def test_out_of_credits_is_one_line_with_the_bind_link(fb, tmp_path, capsys):
    fb.then("render", fail(402, 2001, "out of credits: this render needs 5, you have 0"))
    code, _, err = render(
        capsys, str(image(tmp_path)), "--api", fb.url, "-o", str(tmp_path / "c.mp4")
    )
    assert code == 1
    assert err[-1].startswith("error: out of credits: this render needs 5, you have 0 — register")
    assert "?bind=" in err[-1]
    assert not (tmp_path / "c.mp4").exists()


def test_a_failed_render_is_one_line(fb, tmp_path, capsys):
    rid = lambda r: r.url.path.rsplit("/", 1)[1]  # noqa: E731
    fb.then(
        "render_status",
        lambda r: JSONResponse(
            env({"id": rid(r), "status": "failed", "progress": 10, "error": "no frames"})
        ),
    )
    code, _, err = render(
        capsys, str(image(tmp_path)), "--api", fb.url, "-o", str(tmp_path / "c.mp4")
    )
    assert code == 1
    assert err[-1] == "error: render failed: no frames"


def test_an_agent_error_is_one_line(fb, tmp_path, capsys):
    fb.then("run_sse", sse({"error": "the agent is down"}))
    code, _, err = render(
        capsys, str(image(tmp_path)), "--api", fb.url, "-o", str(tmp_path / "c.mp4")
    )
    assert code == 1
    assert err[-1] == "error: the assistant could not do it: the agent is down"
    assert fb.count("render") == 0


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", "hi", "error: notes.txt: unsupported file type — accepted: jpg"),
        ("missing.png", None, "error: "),
    ],
)
def test_a_bad_file_is_one_line_before_any_request(tmp_path, capsys, name, content, message):
    p = tmp_path / name
    if content is not None:
        p.write_text(content)
    code, out, err = render(capsys, str(p), "--api", "http://127.0.0.1:9")
    assert code == 1 and out == ""
    assert len(err) == 1 and err[0].startswith(message)


def test_an_unreachable_api_is_one_line_without_a_traceback(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    proc = i2v(tmp_path, "render", str(image(tmp_path)), "--api", f"http://127.0.0.1:{port}")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: cannot reach the backend at http://127.0.0.1:{port}")


def test_help_explains_the_command(capsys):
    with pytest.raises(SystemExit) as done:
        main(["render", "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    for words in (
        "--prompt",
        "-o OUT.mp4",
        "--api URL",
        "I2V_FLOW_API",
        "NEMO_TOKEN",
        "examples:",
        "Exit status 0",
    ):
        assert words in text, words


def test_json_is_the_only_thing_on_stdout(fb, tmp_path, capsys):
    out_file = tmp_path / "clip.mp4"
    code, out, err = render(
        capsys,
        str(image(tmp_path)),
        "-p",
        "title Spring Sale",
        "-o",
        str(out_file),
        "--api",
        fb.url,
        "--json",
    )
    assert code == 0, err
    got = json.loads(out)  # the whole of stdout is one object
    assert got["path"] == str(out_file.resolve())
    assert got["size"] == len(fb.video) == out_file.stat().st_size
    assert got["words"] == fb.reply
    assert got["tracks"] == ["1. Video: photo.png (0-5s)", '2. Title: "Spring Sale" (0-3s)']
    assert got["credits"] == {"available": 100, "frozen": 0, "total": 100}
    # The fake's bytes are no MP4: what only the file can say is null, the rest still holds.
    assert (got["duration"], got["width"], got["height"]) == (None, None, None)
    assert "Connecting…" in err and "  ↳ add_title" in err


def test_a_json_failure_is_an_object_with_the_code(fb, tmp_path, capsys):
    fb.then("render", fail(402, 2001, "out of credits: this render needs 5, you have 0"))
    code, out, err = render(
        capsys, str(image(tmp_path)), "--api", fb.url, "-o", str(tmp_path / "c.mp4"), "--json"
    )
    assert code == 1
    got = json.loads(out)
    assert got["code"] == 2001
    assert got["error"].startswith("out of credits: this render needs 5, you have 0")
    assert err[-1] == "error: " + got["error"]
