"""`i2v-flow completion zsh|fish` (bash: test_cli_conventions.py), checked in the real shells:
fish answers `complete -C`; zsh parses the script, loads it under compinit (sourced, and as an
autoloaded _i2v-flow from $fpath), and completes at a real prompt in a pseudo-terminal. A shell
that is not installed skips its tests."""

from __future__ import annotations

import contextlib
import os
import select
import shlex
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.cli import i2v
from tests.media import photo
from tests.terminal import end, spawn

needs_zsh = pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
needs_fish = pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")


def _script(tmp_path: Path, shell: str) -> Path:
    proc = i2v(tmp_path, "completion", shell)
    assert proc.returncode == 0, proc.stderr
    path = tmp_path / f"i2v-flow.{shell}"
    path.write_text(proc.stdout)
    return path


def _here(tmp_path: Path) -> Path:
    here = tmp_path / "here"
    (here / "my pics").mkdir(parents=True)
    photo(here / "photo.jpg", (32, 24))
    return here


def test_an_unknown_shell_is_a_usage_error(tmp_path: Path) -> None:
    proc = i2v(tmp_path, "completion", "tcsh")
    assert proc.returncode == 2 and "invalid choice: 'tcsh'" in proc.stderr
    assert "zsh" in i2v(tmp_path, "completion", "--help").stdout


@needs_fish
def test_fish_offers_commands_flags_choices_and_paths(tmp_path: Path) -> None:
    script = _script(tmp_path, "fish")
    here = _here(tmp_path)

    def complete(line: str) -> list[str]:
        cmd = f"source {shlex.quote(str(script))}; complete -C {shlex.quote(line)}"
        run = subprocess.run(
            ["fish", "--no-config", "-c", cmd],
            capture_output=True,
            text=True,
            cwd=here,
            timeout=10,
            env={**os.environ, "HOME": str(tmp_path)},
        )
        assert run.returncode == 0 and run.stderr == "", run.stderr
        return sorted(w.split("\t")[0] for w in run.stdout.splitlines())

    assert complete("i2v-flow ren") == ["render"]
    assert complete("i2v-flow ") == [
        "completion",
        "config",
        "gc",
        "man",
        "my pics/",
        "render",
        "serve",
        "watch",
        "worker",
    ]
    assert complete("i2v-flow render --qua") == ["--quality"]
    assert complete("i2v-flow render --quality d") == ["draft"]
    assert complete("i2v-flow render ") == ["my pics/", "photo.jpg"]  # images: files
    assert complete("i2v-flow watch ") == ["my pics/"]  # a folder: folders only
    assert complete("i2v-flow watch --out m") == ["my pics/"]
    assert complete("i2v-flow render -p ") == []  # free text: nothing to offer
    assert "--dry-run" in complete("i2v-flow gc --")
    assert complete("i2v-flow completion ") == ["bash", "fish", "zsh"]
    serve = complete("i2v-flow serve --")
    assert "--allow-files" in serve and "--version" in serve
    assert "--watch-stdin" not in serve  # hidden flags stay hidden
    # A flag of another command is not offered here.
    assert "--dry-run" not in complete("i2v-flow render --")


@needs_zsh
def test_zsh_script_parses_and_loads_under_compinit(tmp_path: Path) -> None:
    script = _script(tmp_path, "zsh")
    env = {**os.environ, "HOME": str(tmp_path)}
    check = subprocess.run(["zsh", "-n", str(script)], capture_output=True, text=True, timeout=10)
    assert check.returncode == 0 and check.stderr == "", check.stderr
    # Sourced after compinit, as ~/.zshrc would.
    src = shlex.quote(str(script))
    code = f"autoload -U compinit; compinit -u -D; source {src}; print -r -- $_comps[i2v-flow]"
    run = subprocess.run(
        ["zsh", "-f", "-c", code], capture_output=True, text=True, timeout=20, env=env
    )
    assert (run.returncode, run.stdout, run.stderr) == (0, "_i2v_flow\n", "")
    # Saved as _i2v-flow in a folder of $fpath: compinit finds it by its #compdef line.
    folder = tmp_path / "zfunc"
    folder.mkdir()
    shutil.copy(script, folder / "_i2v-flow")
    code = (
        f"fpath=({shlex.quote(str(folder))} $fpath); autoload -U compinit; compinit -u -D; "
        "print -r -- $_comps[i2v-flow]"
    )
    run = subprocess.run(
        ["zsh", "-f", "-c", code], capture_output=True, text=True, timeout=20, env=env
    )
    assert (run.returncode, run.stdout, run.stderr) == (0, "_i2v-flow\n", "")


class Zsh:
    """An interactive `zsh -f` in a pseudo-terminal, the script loaded under compinit."""

    def __init__(self, script: Path, cwd: Path, home: Path):
        env = {"PATH": os.environ["PATH"], "TERM": "dumb", "HOME": str(home)}
        self.proc, self.fd = spawn(["zsh", "-f", "-i"], env=env, cwd=cwd)
        setup = (
            f"PS1='%% '; autoload -U compinit; compinit -u -D; source {shlex.quote(str(script))}"
        )
        self.send(setup + "; print LOADED\n")
        assert b"LOADED\r\n" in self.until(b"LOADED\r\n")

    def send(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def until(self, want: bytes, seconds: float = 5.0) -> bytes:
        """What the terminal shows until `want` appears (or the time is up)."""
        out, end = b"", time.monotonic() + seconds
        while want not in out and time.monotonic() < end:
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                try:
                    out += os.read(self.fd, 65536)
                except OSError:
                    break
        return out

    def tab(self, line: str, want: bytes) -> bytes:
        self.send("\x15" + line + "\t")  # ctrl+u clears what the last one left
        return self.until(want)

    def close(self) -> None:
        self.send("\x15exit\n")
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)
        end(self.proc, self.fd)


@needs_zsh
def test_zsh_completes_at_a_real_prompt(tmp_path: Path) -> None:
    z = Zsh(_script(tmp_path, "zsh"), _here(tmp_path), tmp_path)
    try:
        assert b"i2v-flow ren\x07der " in z.tab("i2v-flow ren", b"der ")
        assert b"i2v-flow gc --dry-run " in z.tab("i2v-flow gc --dr", b"-run ")
        listed = z.tab("i2v-flow render --quality ", b"standard")
        assert b"draft" in listed and b"high" in listed and b"standard" in listed
        shown = z.tab("i2v-flow watch m", b"pics")
        assert b"my\\ pics/" in shown  # a folder, its space quoted
        shown = z.tab("i2v-flow render ph", b"photo.jpg")
        assert b"photo.jpg" in shown
        listed = z.tab("i2v-flow ", b"watch")
        for word in (b"render", b"gc", b"completion", b"Prune the engine"):
            assert word in listed, listed
    finally:
        z.close()
