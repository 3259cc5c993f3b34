"""The settings file: where it is, what it may say, who wins (flag > env > file > default), and
one clear line with exit status 2 when it is wrong. `i2v-flow config` shows the outcome."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli import i2v
from tui.core.backend import CLOUD_URL
from tui.core.config import EXAMPLE, ConfigError, Settings, load

FULL = """\
# every setting
prompt = "a 1-second clip, title 'Hi'"
quality = "draft"
out = "~/clips"
api = "http://127.0.0.1:9"
preview = "blocks"
notifications = true
keep_days = 7
keep_upload_days = 10.5
keep_gb = 0.5
preview_auto = false
"""


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_without_a_file_the_defaults_hold_and_the_path_is_the_user_config_folder(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    loaded = load({})
    assert loaded.path == tmp_path / "xdg" / "image-to-video-in-flow" / "config.toml"
    assert not loaded.found
    assert loaded.settings == Settings()
    assert set(loaded.sources.values()) == {"default"}
    # Written there, it is read.
    loaded.path.parent.mkdir(parents=True)
    loaded.path.write_text('quality = "standard"\n')
    again = load({})
    assert again.found and again.settings.quality == "standard"
    assert again.sources["quality"] == "file" and again.sources["prompt"] == "default"


def test_every_setting_comes_from_the_file(tmp_path):
    loaded = load({"I2V_FLOW_CONFIG": str(write(tmp_path, FULL))})
    assert loaded.settings == Settings(
        prompt="a 1-second clip, title 'Hi'",
        quality="draft",
        out=Path("~/clips").expanduser(),
        api="http://127.0.0.1:9",
        preview="blocks",
        notifications=True,
        keep_days=7,
        keep_upload_days=10.5,
        keep_gb=0.5,
        preview_auto=False,
    )
    assert set(loaded.sources.values()) == {"file"}


def test_the_documented_example_is_a_valid_file(tmp_path):
    loaded = load({"I2V_FLOW_CONFIG": str(write(tmp_path, EXAMPLE))})
    assert loaded.settings.quality == "standard" and loaded.settings.notifications is True


def test_the_old_environment_variables_win_over_the_file(tmp_path):
    path = str(write(tmp_path, FULL))
    env = {
        "I2V_FLOW_CONFIG": path,
        "I2V_FLOW_API": "http://10.0.0.2:1",
        "I2V_FLOW_PREVIEW": "pixels",
    }
    loaded = load(env)
    assert loaded.settings.api == "http://10.0.0.2:1"
    assert loaded.settings.preview == "pixels"
    assert loaded.sources["api"] == "env I2V_FLOW_API"
    assert loaded.sources["preview"] == "env I2V_FLOW_PREVIEW"
    assert loaded.sources["quality"] == "file"
    # NEMO_TOKEN still means the cloud, over the file's api; I2V_FLOW_API over both.
    cloud = load({"I2V_FLOW_CONFIG": path, "NEMO_TOKEN": "t"})
    assert cloud.settings.api == CLOUD_URL and cloud.sources["api"] == "env NEMO_TOKEN"
    both = load({"I2V_FLOW_CONFIG": path, "NEMO_TOKEN": "t", "I2V_FLOW_API": "http://x:2"})
    assert both.settings.api == "http://x:2"


def test_api_cloud_in_the_file_means_the_service(tmp_path):
    from tui.core.backend import choose

    loaded = load({"I2V_FLOW_CONFIG": str(write(tmp_path, 'api = "cloud"\n'))})
    assert loaded.settings.api == "cloud" and loaded.sources["api"] == "file"
    assert choose(loaded.settings.api).url == CLOUD_URL


BAD = [
    ('prompt = "ok"\nqualty = "draft"\n', 2, "unknown key 'qualty' (known: prompt, quality"),
    ('prompt = "ok"\n\nquality = "ultra"\n', 3, "quality: must be one of high, standard, draft"),
    ("quality = 3\n", 1, "quality: must be one of high, standard, draft, not 3"),
    ('notifications = "yes"\n', 1, "notifications: must be true or false, not 'yes'"),
    ("prompt = 5\n", 1, "prompt: must be a string in quotes, not 5"),
    ('api = "localhost:8765"\n', 1, "api: must be an http:// or https:// URL"),
    ('# hi\n\n[render]\nquality = "draft"\n', 3, "unknown key 'render'"),
    ('prompt = "a\nquality = "draft"\n', 1, "TOML syntax: illegal character"),
    ('quality = "draft"\nprompt = [1,\n', 2, "TOML syntax: invalid value"),
    ('quality = "draft"\nquality = "high"\n', 2, "TOML syntax: cannot overwrite a value"),
    ("keep_days = -1\n", 1, "keep_days: must be a number, 0 or more, not -1"),
    ('keep_gb = "5GB"\n', 1, "keep_gb: must be a number, 0 or more, not '5GB'"),
    ("keep_upload_days = true\n", 1, "keep_upload_days: must be a number, 0 or more, not true"),
    ("keep_days = nan\n", 1, "keep_days: must be a number, 0 or more, not nan"),
]


@pytest.mark.parametrize(("text", "line", "words"), BAD)
def test_a_bad_file_names_its_line(tmp_path, text, line, words):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load({"I2V_FLOW_CONFIG": str(path)})
    assert err.value.line == line
    assert str(err.value).startswith(f"{path} line {line}: {words}")


def test_a_file_that_is_not_utf8_names_its_line(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes(b'quality = "draft"\nprompt = "caf\xe9"\n')
    with pytest.raises(ConfigError, match=r"line 2: not UTF-8 text"):
        load({"I2V_FLOW_CONFIG": str(path)})


@pytest.mark.parametrize("command", [[], ["config"], ["render", "x.png"], ["watch", "."]])
def test_the_command_says_what_is_wrong_in_one_line_and_exits_2(tmp_path, command):
    path = write(tmp_path, 'prompt = "ok"\n\nquality = "ultra"\n')
    proc = i2v(tmp_path, *command, env={"I2V_FLOW_CONFIG": str(path)})
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == (
        f"error: {path} line 3: quality: must be one of high, standard, draft, not 'ultra'\n"
    )


def test_a_named_file_that_is_missing_is_an_error_but_serve_reads_no_file(tmp_path):
    missing = tmp_path / "nope.toml"
    proc = i2v(tmp_path, "config", env={"I2V_FLOW_CONFIG": str(missing)})
    assert proc.returncode == 2
    assert proc.stderr == f"error: {missing}: no such file (named by I2V_FLOW_CONFIG)\n"
    # The engine alone has no user settings: a broken file never stops it.
    proc = i2v(tmp_path, "serve", "--version", env={"I2V_FLOW_CONFIG": str(missing)})
    assert proc.returncode == 0 and proc.stdout.startswith("i2v-flow ")


def test_config_shows_each_setting_and_where_it_came_from(tmp_path):
    path = write(tmp_path, 'prompt = "from the file"\nquality = "draft"\n')
    env = {"I2V_FLOW_CONFIG": str(path), "I2V_FLOW_PREVIEW": "blocks"}
    proc = i2v(tmp_path, "config", "--quality", "high", env=env)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f"config file: {path} (found)"
    rows = {line.split()[0]: line.split()[-1] for line in lines[1:]}
    assert rows == {
        "prompt": "file",
        "quality": "flag",
        "out": "default",
        "api": "default",
        "preview": "I2V_FLOW_PREVIEW",
        "notifications": "default",
        "keep_days": "default",
        "keep_upload_days": "default",
        "keep_gb": "default",
        "preview_auto": "default",
    }
    assert (
        '"from the file"' in lines[1]
        and '"high"' in lines[2]
        and "env I2V_FLOW_PREVIEW" in lines[5]
        and lines[7].split()[:2] == ["keep_days", "14"]
    )
    # The same as one JSON object, for scripts.
    proc = i2v(tmp_path, "config", "--json", "--no-notifications", env=env)
    got = json.loads(proc.stdout)
    assert got["file"] == str(path) and got["found"] is True
    assert got["settings"]["quality"] == "draft" and got["sources"]["quality"] == "file"
    assert got["settings"]["notifications"] is False and got["sources"]["notifications"] == "flag"


def test_the_files_settings_are_the_commands_defaults_and_flags_win(tmp_path):
    path = write(tmp_path, 'prompt = "eight seconds please"\nquality = "standard"\n')
    env = {"I2V_FLOW_CONFIG": str(path)}
    render = i2v(tmp_path, "render", "--help", env=env).stdout
    assert "(default: 'eight seconds please')" in render
    assert "(default: standard;" in render
    watch = i2v(tmp_path, "watch", "--help", env=env).stdout
    assert "(default: standard;" in watch
    # A flag wins over the file: --quality draft at render time is seen in the JSON answer
    # (the JSON render itself is in test_cli_conventions.py); here, the parser's outcome.
    from tui.cli.main import render_parser

    settings = load(env).settings
    args = render_parser(settings).parse_args(["x.png", "--quality", "draft"])
    assert (args.quality, args.prompt) == ("draft", "eight seconds please")
    args = render_parser(settings).parse_args(["x.png", "-p", "two seconds"])
    assert (args.quality, args.prompt) == ("standard", "two seconds")
