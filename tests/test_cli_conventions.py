"""What people expect of a command-line tool, from the real `i2v-flow` on the real engine:
`render --json` for scripts, progress that suits where stderr goes, `--quiet`, examples in every
`--help`, `--version` everywhere, and the app's exit status."""

from __future__ import annotations

import io
import json
import os
import pty
import queue
import re
import select
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from itertools import pairwise
from pathlib import Path

import pytest

from tests.cli import ROOT, i2v, i2v_env
from tests.decode import probe
from tests.media import photo
from tui import __version__
from tui.cli.main import main
from tui.cli.progress import Progress

PROMPT = "a 1-second 720p clip"


def write_config(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return {"I2V_FLOW_CONFIG": str(path)}


# ---- render --json ------------------------------------------------------------------------


def test_render_json_is_one_object_that_describes_the_mp4(tmp_path, engine_url):
    """The file's settings are the defaults (prompt, folder), a flag wins (--quality over the
    file's); stdout is the one JSON object; stderr, a pipe here, has plain progress lines."""
    img = photo(tmp_path / "beach.jpg", (400, 300))
    clips = tmp_path / "clips"
    env = write_config(tmp_path, f'prompt = "{PROMPT}"\nquality = "standard"\nout = "{clips}"\n')
    proc = i2v(
        tmp_path,
        "render",
        str(img),
        "--quality",
        "draft",
        "--api",
        engine_url,
        "--json",
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("\n") == 1
    got = json.loads(proc.stdout)
    path = Path(got["path"])
    assert path == clips / "beach.mp4" and path.is_file()
    assert got["size"] == path.stat().st_size > 0
    p = probe(path)
    assert (got["width"], got["height"]) == (p.width, p.height) == (960, 540)  # draft: 540p
    assert got["duration"] == pytest.approx(p.frames / p.fps, abs=0.05)
    assert got["duration"] == pytest.approx(1.0, abs=0.05)
    assert got["quality"] == "draft"
    assert got["render_id"].startswith("render_")
    assert got["tracks"] == ["1. Video: beach.jpg (0-1s)"]
    assert "beach.jpg" in got["words"]
    assert got["credits"]["available"] == got["credits"]["total"] == 100  # a draft is free
    # Progress to a pipe: plain lines, at least 5 points apart, no \r, no escape codes.
    assert "\r" not in proc.stderr and "\x1b" not in proc.stderr
    shown = [int(n) for n in re.findall(r"^Rendering… (\d+)%$", proc.stderr, re.M)]
    assert shown and shown[-1] == 100
    assert all(b - a >= 5 for a, b in pairwise(shown[:-1]))
    assert all(b > a for a, b in pairwise(shown))


def test_quiet_render_says_nothing_on_stderr(tmp_path, engine_url):
    img = photo(tmp_path / "city.png", (300, 200))
    out = tmp_path / "c.mp4"
    proc = i2v(
        tmp_path,
        "render",
        str(img),
        "-q",
        "-p",
        PROMPT,
        "--quality",
        "draft",
        "-o",
        str(out),
        "--api",
        engine_url,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert f"Saved {out}" in proc.stdout and out.is_file()


@pytest.mark.parametrize("quiet", [False, True])
def test_render_json_errors_are_a_json_object_too(tmp_path, quiet):
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    proc = i2v(tmp_path, "render", str(bad), "--json", *(["-q"] if quiet else []))
    assert proc.returncode == 1
    got = json.loads(proc.stdout)
    assert got["error"].startswith("notes.txt: unsupported file type")
    assert proc.stdout.count("\n") == 1
    # People still get the one line on stderr, quiet or not.
    assert proc.stderr.splitlines() == [f"error: {got['error']}"]


def test_an_unreachable_backend_is_a_json_error(tmp_path):
    img = photo(tmp_path / "a.jpg", (64, 48))
    proc = i2v(tmp_path, "render", str(img), "--json", "-q", "--api", "http://127.0.0.1:9")
    assert proc.returncode == 1
    got = json.loads(proc.stdout)
    assert got["error"].startswith("cannot reach the backend at http://127.0.0.1:9")
    assert "Traceback" not in proc.stderr


# ---- progress ------------------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_is_one_bar_redrawn_in_place():
    term = Terminal()
    bar = Progress(term)
    bar.say("Uploading…")
    for pct in (0, 0, 10, 55.5, 100):
        bar.update("Rendering…", pct)
    bar.end()
    bar.say("done")
    text = term.getvalue()
    assert text.startswith("Uploading…\n\rRendering… [")
    assert text.count("\r") == 4  # the repeated 0 % is not drawn again
    assert "]  55%\r" in text and text.endswith("] 100%\ndone\n")
    assert "\n" not in text.split("Uploading…\n", 1)[1].split("100%")[0]


def test_progress_to_a_pipe_is_a_line_every_five_percent_and_the_last():
    pipe = io.StringIO()
    bar = Progress(pipe)
    for pct in [*range(0, 100), 100, 100]:
        bar.update("Rendering…", pct)
    bar.end()
    assert pipe.getvalue() == "".join(f"Rendering… {p}%\n" for p in range(0, 101, 5))
    pipe = io.StringIO()
    bar = Progress(pipe)
    for pct in (0, 3, 4, 7, 8, 50, 99, 100):
        bar.update("Rendering…", pct)
    assert pipe.getvalue().split() == [
        "Rendering…",
        "0%",
        "Rendering…",
        "7%",
        "Rendering…",
        "50%",
        "Rendering…",
        "99%",
        "Rendering…",
        "100%",
    ]


def test_quiet_progress_prints_errors_only():
    term = Terminal()
    bar = Progress(term, quiet=True)
    bar.say("Uploading…")
    bar.update("Rendering…", 50)
    bar.error("error: no")
    assert term.getvalue() == "error: no\n"


def _pty_run(
    args: list[str], env: dict[str, str], *, stdout_too: bool, answer: tuple[bytes, bytes] | None
) -> tuple[int, bytes, str]:
    """Run the command with stderr (and stdin, and stdout when `stdout_too`) on a terminal;
    when the terminal shows answer[0], type answer[1]. Returns the exit status, what the
    terminal got, and stdout when it was a pipe."""
    master, slave = pty.openpty()
    env = {**env, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", *args],
        stdin=slave,
        stdout=slave if stdout_too else subprocess.PIPE,
        stderr=slave,
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: every end of the terminal closed
                    break
                if not chunk:
                    break
                seen += chunk
                if answer is not None and answer[0] in seen:
                    os.write(master, answer[1])
                    answer = None
            elif proc.poll() is not None:
                break
        code = proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        os.close(master)
    out = proc.stdout.read().decode() if proc.stdout is not None else ""
    if proc.stdout is not None:
        proc.stdout.close()
    return code, seen, out


def test_render_progress_on_a_terminal_is_a_bar_redrawn_with_cr(tmp_path, engine_url):
    img = photo(tmp_path / "beach.jpg", (400, 300))
    out = tmp_path / "beach.mp4"
    code, term, stdout = _pty_run(
        [
            "render",
            str(img),
            "-p",
            PROMPT,
            "--quality",
            "draft",
            "-o",
            str(out),
            "--api",
            engine_url,
        ],
        i2v_env(tmp_path),
        stdout_too=False,
        answer=None,
    )
    assert code == 0, term.decode(errors="replace")
    text = term.decode()
    assert "\rRendering… [" in text and "] 100%" in text
    assert "Rendering… 100%\r\n" not in text  # no plain lines on a terminal
    assert f"Saved {out}" in stdout and out.is_file()


# ---- watch --quiet ----------------------------------------------------------------------


def test_quiet_watch_logs_only_where_each_image_ended_up(tmp_path, engine_url):
    folder = tmp_path / "in"
    folder.mkdir()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tui",
            "watch",
            str(folder),
            "--api",
            engine_url,
            "--json",
            "-q",
            "--settle",
            "0.3",
            "--quality",
            "draft",
            "--prompt",
            PROMPT,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=i2v_env(tmp_path),
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    events: list[dict] = []

    def until(step: str) -> None:
        deadline = time.monotonic() + 60
        while not any(e["step"] == step for e in events):
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            assert line is not None, f"ended before {step!r}: {events}"
            events.append(json.loads(line))

    try:
        until("started")
        photo(folder / "beach.jpg", (320, 240))
        until("done")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        until("stopped")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert [e["step"] for e in events] == ["started", "done", "stopped"]
    assert (folder / "out" / "beach.mp4").is_file()


def test_watch_quiet_and_progress_do_not_go_together(tmp_path):
    proc = i2v(tmp_path, "watch", str(tmp_path), "-q", "--progress")
    assert proc.returncode == 2
    assert "not allowed with argument" in proc.stderr


# ---- --help and --version ------------------------------------------------------------------


@pytest.mark.parametrize(
    "command", [[], ["render"], ["watch"], ["serve"], ["config"], ["gc"], ["completion"], ["man"]]
)
def test_every_command_has_examples_and_a_version(capsys, command):
    with pytest.raises(SystemExit) as done:
        main([*command, "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert "--version" in text
    examples = text.split("examples:", 1)[1]
    assert f"i2v-flow {command[0] if command else ''}" in examples
    with pytest.raises(SystemExit) as done:
        main([*command, "--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"i2v-flow {__version__}\n"


def test_the_real_command_prints_its_version(tmp_path):
    proc = i2v(tmp_path, "watch", "--version")
    assert (proc.returncode, proc.stdout) == (0, f"i2v-flow {__version__}\n")


# ---- the app's exit status ------------------------------------------------------------------

# The app asks the terminal what it draws when the environment names a pixel terminal; this
# one never answers: half-blocks, so nothing waits on it.
NO_PROBE = {"I2V_FLOW_PREVIEW": "blocks"}


def test_the_app_exits_1_with_the_reason_when_it_ends_unable_to_connect(tmp_path):
    code, term, _ = _pty_run(
        [str(tmp_path), "--api", "http://127.0.0.1:9"],
        i2v_env(tmp_path, NO_PROBE),
        stdout_too=True,
        answer=(b"Could not connect", b"\x11"),  # ctrl+q once it says so
    )
    assert code == 1
    assert b"error: could not connect: cannot reach the backend at http://127.0.0.1:9" in term
    assert b"Traceback" not in term


def test_the_app_exits_0_on_a_normal_quit(tmp_path, engine_url):
    code, term, _ = _pty_run(
        [str(tmp_path), "--api", engine_url],
        i2v_env(tmp_path, NO_PROBE),
        stdout_too=True,
        answer=(b"Ready", b"\x11"),
    )
    assert code == 0, term[-2000:]
    assert b"error:" not in term


async def test_the_app_exits_non_zero_when_it_crashes(tmp_path):
    """A fault put in on purpose (the app has no known crash): Textual's code is passed on."""
    from tui.app.app import I2VApp, exit_status

    class Crashing(I2VApp):
        CSS_PATH = str(ROOT / "tui" / "app" / "app.tcss")

        def on_mount(self) -> None:
            super().on_mount()
            raise RuntimeError("a bug")

    app = Crashing(tmp_path, api="http://127.0.0.1:9")
    with pytest.raises(RuntimeError, match="a bug"):
        async with app.run_test() as pilot:
            await pilot.pause(0.1)
    assert exit_status(app) == 1
    assert exit_status(I2VApp(tmp_path)) == 0  # one that never ran ended on nothing


# ---- shell completion -----------------------------------------------------------------------


def test_bash_completion_offers_commands_flags_choices_and_paths(tmp_path):
    proc = i2v(tmp_path, "completion", "bash")
    assert proc.returncode == 0, proc.stderr
    script = tmp_path / "i2v-flow.bash"
    script.write_text(proc.stdout)
    here = tmp_path / "here"
    (here / "my pics").mkdir(parents=True)
    photo(here / "photo.jpg", (32, 24))

    def complete(*words: str) -> list[str]:
        line = " ".join(shlex.quote(w) for w in ("i2v-flow", *words))
        run = subprocess.run(
            [
                "bash",
                "--norc",
                "--noprofile",
                "-c",
                f"source {shlex.quote(str(script))}; COMP_WORDS=({line}); "
                f'COMP_CWORD={len(words)}; _i2v_flow; printf "%s\\n" "${{COMPREPLY[@]}}"',
            ],
            capture_output=True,
            text=True,
            cwd=here,
            timeout=10,
        )
        assert run.returncode == 0, run.stderr
        return sorted(filter(None, run.stdout.split("\n")))

    assert complete("wa") == ["watch"]
    assert complete("") == [
        "completion",
        "config",
        "gc",
        "man",
        "my pics",
        "render",
        "serve",
        "watch",
        "worker",
    ]
    assert complete("render", "--qua") == ["--quality"]
    assert complete("render", "--quality", "d") == ["draft"]
    assert complete("render", "") == ["my pics", "photo.jpg"]  # images: files
    assert complete("watch", "") == ["my pics"]  # a folder: folders only
    assert complete("watch", "--out", "m") == ["my pics"]
    assert complete("render", "-p", "") == []  # free text: nothing to offer
    assert complete("config", "--no-") == ["--no-notifications"]
    serve = complete("serve", "--")
    assert "--allow-files" in serve and "--version" in serve
    assert "--watch-stdin" not in serve  # hidden flags stay hidden


# ---- the manual page ------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("groff") is None, reason="needs groff to read the page")
def test_the_man_page_is_clean_roff_with_every_command(tmp_path):
    proc = i2v(tmp_path, "man")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(".TH I2V-FLOW 1 ")
    shown = subprocess.run(
        ["groff", "-man", "-Tutf8", "-P-cbou", "-ww"],
        input=proc.stdout.encode(),
        capture_output=True,
        timeout=30,
    )
    assert shown.returncode == 0 and shown.stderr == b"", shown.stderr  # not one warning
    text = shown.stdout.decode()
    for heading in (
        "NAME",
        "SYNOPSIS",
        "THE APP",
        "RENDER",
        "WATCH",
        "SERVE",
        "CONFIG",
        "FILES",
        "ENVIRONMENT",
        "EXIT STATUS",
    ):
        assert f"\n{heading}\n" in text, heading
    for words in ("--json", "--allow-files DIR", "I2V_FLOW_CONFIG", "config.toml", "「春季促销」"):
        assert words in text, words
