"""`i2v-flow watch` as a service: --once for cron, the systemd unit it prints, SIGHUP reloads.

The real command in its own process against the real engine, as cron or systemd would run it.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.cli import i2v
from tests.decode import probe
from tests.media import photo
from tests.test_watch_cli import Proc, finished

ONCE = ("--settle", "0.3", "--quality", "draft", "--prompt", "a 1 second 720p clip", "--once")


def tiny(path: Path, seed: int) -> Path:
    return photo(path, (160, 120), seed=seed)


def names(d: Path) -> set[str]:
    return {p.name for p in d.iterdir()} if d.is_dir() else set()


def summary(proc: subprocess.CompletedProcess[str]) -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr  # one line, nothing else
    return lines[0]


# ---- --once ---------------------------------------------------------------------------------


def test_once_takes_the_folder_and_exits_0_when_every_image_made_its_clip(
    tmp_path: Path, engine_url: str
) -> None:
    d = tmp_path / "in"
    d.mkdir()
    tiny(d / "a.png", 1)
    tiny(d / "b.png", 2)
    (d / "b.txt").write_text("a 2 second 720p clip")
    proc = i2v(tmp_path, "watch", str(d), "--api", engine_url, *ONCE, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert summary(proc) == "watch --once: 2 done, 0 failed"
    assert names(d / "out") == {"a.mp4", "b.mp4"}
    assert names(d / "done") == {"a.png", "b.png", "b.txt"}
    assert round(probe(d / "out" / "b.mp4").video_seconds) == 2  # the sidecar was its instruction
    assert names(d) == {"out", "done"}


def test_once_exits_1_when_an_image_failed_and_moves_it_to_failed(
    tmp_path: Path, engine_url: str
) -> None:
    d = tmp_path / "in"
    d.mkdir()
    tiny(d / "good.png", 3)
    (d / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really" * 50)
    proc = i2v(tmp_path, "watch", str(d), "--api", engine_url, *ONCE, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert summary(proc) == f"watch --once: 1 done, 1 failed (see {d.resolve() / 'failed'}/)"
    assert names(d / "out") == {"good.mp4"}
    assert names(d / "failed") == {"broken.png", "broken.png.error.txt"}


def test_once_on_an_empty_folder_exits_0_at_once(tmp_path: Path, engine_url: str) -> None:
    d = tmp_path / "in"
    d.mkdir()
    proc = i2v(tmp_path, "watch", str(d), "--api", engine_url, *ONCE, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert summary(proc) == "watch --once: 0 done, 0 failed"


def test_once_out_of_credits_stops_and_leaves_the_image_for_the_next_run(
    tmp_path: Path, engine_url: str
) -> None:
    d = tmp_path / "in"
    d.mkdir()
    tiny(d / "big.png", 4)
    (d / "big.txt").write_text("a 60 second 4k clip")  # 120 credits of the 100 it has
    priced = ("--quality", "standard")  # the last flag wins; a draft would be free
    proc = i2v(tmp_path, "watch", str(d), "--api", engine_url, *ONCE, *priced, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert summary(proc) == "watch --once: 0 done, 0 failed, 1 left for the next run"
    assert {"big.png", "big.txt"} <= names(d) and not (d / "failed").exists()
    state = sqlite3.connect(tmp_path / "home" / "watch.db").execute("SELECT state FROM jobs")
    assert [r[0] for r in state] == ["turned"]  # journaled: the next run goes on from there


def test_once_leaves_what_arrives_after_its_first_look(tmp_path: Path, engine_url: str) -> None:
    d, home = tmp_path / "in", tmp_path / "home"
    d.mkdir()
    tiny(d / "early.png", 5)
    run = Proc(d, engine_url, home, "--once")
    run.until(lambda evs: any(e["step"] == "seen" for e in evs))  # after the first look
    tiny(d / "late.png", 6)
    assert run.p.wait(60) == 0
    run.until(lambda evs: evs and evs[-1]["step"] == "stopped")
    assert run.steps("early.png")[-1] == "done"
    assert run.steps("late.png") == []
    assert (d / "late.png").is_file() and names(d / "done") == {"early.png"}


# ---- the systemd unit -----------------------------------------------------------------------


def unit_of(text: str) -> dict[str, dict[str, list[str]]]:
    """Sections of key=value lines, a key's values in order (Environment= repeats)."""
    unit: dict[str, dict[str, list[str]]] = {}
    section: dict[str, list[str]] | None = None
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = unit.setdefault(line[1:-1], {})
            continue
        assert section is not None, line
        key, value = line.split("=", 1)
        section.setdefault(key, []).append(value)
    return unit


def exec_args(line: str) -> list[str]:
    """An ExecStart= line as systemd splits it (our quoting: "…" with \\ escapes, %%, $$)."""
    return [a.replace("%%", "%").replace("$$", "$") for a in shlex.split(line)]


def test_print_systemd_unit_runs_this_watcher_with_the_options_given(
    tmp_path: Path, engine_url: str
) -> None:
    d = tmp_path / "my drop"
    d.mkdir()
    tiny(d / "u.png", 7)
    prompt = 'a 1 second 720p clip, title "100% $HOME"'
    proc = i2v(
        tmp_path,
        "watch",
        str(d),
        "--api",
        engine_url,
        "-j",
        "1",
        "--settle",
        "0.3",
        "--quality",
        "draft",
        "-p",
        prompt,
        "--print-systemd-unit",
        timeout=30,
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    unit = unit_of(proc.stdout)
    svc = {k: v[-1] for k, v in unit["Service"].items()}
    assert svc["Restart"] == "on-failure"
    assert svc["KillSignal"] == "SIGTERM"
    assert svc["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert unit["Install"]["WantedBy"] == ["default.target"]
    environment = dict(e.split("=", 1) for e in unit["Service"]["Environment"])
    assert environment["I2V_FLOW_HOME"] == str(tmp_path / "home")
    args = exec_args(svc["ExecStart"])
    # The same i2v-flow: here `python -m tui` by absolute paths (the test runs it that way).
    assert Path(args[0]).is_absolute() and os.access(args[0], os.X_OK)
    assert args[1:4] == ["-m", "tui", "watch"]
    assert args[4] == str(d.resolve())
    opts = args[5:]
    assert dict(zip(opts[::2], opts[1::2], strict=True)) == {
        "--api": engine_url,
        "--jobs": "1",
        "--settle": "0.3",
        "--quality": "draft",
        "--prompt": prompt,
    }
    # The command line as systemd would start it works: with --once it makes the clip.
    env = {**os.environ, **environment}
    ran = subprocess.run(
        [*args, "--once"], capture_output=True, text=True, timeout=120, cwd="/", env=env
    )
    assert ran.returncode == 0, ran.stderr
    assert names(d / "out") == {"u.mp4"}


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_the_printed_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    d = tmp_path / "drop"
    d.mkdir()
    proc = i2v(tmp_path, "watch", str(d), "--recursive", "--print-systemd-unit", timeout=30)
    assert proc.returncode == 0, proc.stderr
    unit = tmp_path / "i2v-flow-watch-drop.service"
    assert "systemctl --user enable --now i2v-flow-watch-drop.service" in proc.stdout
    unit.write_text(proc.stdout)
    check = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    # verify reports a unit's problems (bad keys, a command that is not executable) on stderr.
    problems = [ln for ln in check.stderr.splitlines() if unit.name in ln]
    assert problems == [], check.stderr
    assert exec_args(unit_of(proc.stdout)["Service"]["ExecStart"][0])[-1] == "--recursive"


def test_print_systemd_unit_of_a_missing_folder_is_one_error_line(tmp_path: Path) -> None:
    proc = i2v(tmp_path, "watch", str(tmp_path / "nope"), "--print-systemd-unit", timeout=30)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.strip().count("\n") == 0 and "no such folder" in proc.stderr


def test_once_and_the_unit_do_not_mix(tmp_path: Path) -> None:
    proc = i2v(tmp_path, "watch", str(tmp_path), "--once", "--print-systemd-unit", timeout=30)
    assert proc.returncode == 2 and "not allowed with" in proc.stderr


def test_only_the_options_on_the_command_line_count_as_given() -> None:
    from tui.cli.watch import watch_parser
    from tui.core.config import Settings
    from tui.watch.service import given_options, unit_command

    parser = watch_parser(Settings(prompt="from the file", quality="draft", out=Path("/o")))
    argv = ["drop", "-j", "3", "--poll", "--settle=0.5"]
    given = given_options(parser, argv)
    assert given == {"folder", "jobs", "poll", "settle"}
    args = parser.parse_args(argv)  # defaults are intact after given_options
    assert (args.prompt, args.quality, args.jobs, args.recursive) == (
        "from the file",
        "draft",
        3,
        False,
    )
    cmd = unit_command(parser, args, given)
    assert cmd[cmd.index("watch") :] == [
        "watch",
        os.path.abspath("drop"),
        "--jobs",
        "3",
        "--poll",
        "--settle",
        "0.5",
    ]


# ---- SIGHUP ---------------------------------------------------------------------------------


def test_sighup_rereads_the_settings_and_keeps_every_job(tmp_path: Path, engine_url: str) -> None:
    d, home = tmp_path / "in", tmp_path / "home"
    d.mkdir()
    config = tmp_path / "config.toml"
    config.write_text('prompt = "a 1 second 720p clip"\n')
    for i in range(2):
        tiny(d / f"before{i}.png", 10 + i)
    run = Proc(
        d, engine_url, home, "--jobs", "1", prompt=None, env={"I2V_FLOW_CONFIG": str(config)}
    )
    # One image renders, the other waits in the queue, when the reload comes.
    run.until(lambda evs: any(e["step"] == "rendering" for e in evs))
    config.write_text('prompt = "a 2 second 720p clip"\nquality = "high"\n')
    run.p.send_signal(signal.SIGHUP)
    run.until(lambda evs: any(e["step"] == "reloaded" for e in evs))
    reloaded = [e for e in run.events if e["step"] == "reloaded"]
    assert len(reloaded) == 1
    assert reloaded[0]["detail"].startswith(
        "instruction from --prompt or the config file: 'a 2 second 720p clip'; quality draft,"
    )  # the file's prompt now; its quality not: --quality on the command line wins
    tiny(d / "after.png", 12)
    run.until(finished("before0.png", "before1.png", "after.png"), timeout=90)

    # A prompt.txt now wins; a broken config file changes nothing and says so in one line.
    (d / "prompt.txt").write_text("a 3 second 720p clip\n")
    config.write_text("prompt = \n")
    run.p.send_signal(signal.SIGHUP)
    run.until(lambda evs: sum(e["step"] == "reloaded" for e in evs) == 2)
    warn = [e for e in run.events if e["step"] == "warning" and "reload" in e["detail"]]
    assert len(warn) == 1 and warn[0]["detail"].startswith(f"reload: {config} line 1: ")
    assert warn[0]["detail"].endswith("keeping the settings in use")
    last = [e for e in run.events if e["step"] == "reloaded"][-1]
    assert last["detail"].startswith("instruction from prompt.txt: 'a 3 second 720p clip'")
    assert run.p.poll() is None  # still watching
    assert run.stop(signal.SIGTERM) == 0

    for name in ("before0", "before1", "after"):
        assert "done" in run.steps(f"{name}.png") and "failed" not in run.steps(f"{name}.png")
    # Seen before the reload: the old instruction; seen after: the new one.
    seconds = {n: round(probe(d / "out" / f"{n}.mp4").video_seconds) for n in ("before0", "after")}
    assert seconds == {"before0": 1, "after": 2}
    rows = dict(sqlite3.connect(home / "watch.db").execute("SELECT path, prompt FROM jobs"))
    assert rows[str(d.resolve() / "before1.png")] == "a 1 second 720p clip"
    assert rows[str(d.resolve() / "after.png")] == "a 2 second 720p clip"
