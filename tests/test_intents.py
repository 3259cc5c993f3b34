"""Typed text: short requests go straight to their endpoint, the rest is an agent turn."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.core.intents import Intent, route


@pytest.mark.parametrize(
    "text",
    [
        "export",
        "Export it",
        "export the video",
        "please export",
        "download the clip",
        "render it",
        "save it!",
        "导出",
        "导出视频",
        "帮我导出",
        "请导出一下视频",
        "下载",
        "渲染吧",
        "send me the video",
        "Give me the video",
        "please send me the clip",
        "can you give me the video?",
        "send the video to me",
        "把视频发给我",
        "视频发给我",
        "请把视频发给我吧",
    ],
)
def test_export(text: str) -> None:
    assert route(text) == Intent("export")


@pytest.mark.parametrize(
    "text",
    [
        "credits",
        "my credits",
        "how many credits do I have?",
        "balance",
        "check my credits",
        "credits left",
        "积分",
        "我的积分",
        "查询积分",
        "余额",
        "还有多少积分",
        "余额多少？",
    ],
)
def test_credits(text: str) -> None:
    assert route(text) == Intent("credits")


@pytest.mark.parametrize(
    "text",
    [
        "status",
        "show tracks",
        "show the tracks",
        "show me the timeline",
        "tracks",
        "状态",
        "查看状态",
        "显示轨道",
        "时间线",
    ],
)
def test_status(text: str) -> None:
    assert route(text) == Intent("status")


@pytest.mark.parametrize(
    ("text", "arg"),
    [
        ("upload ~/a.png", "~/a.png"),
        ("上传 photo.jpg", "photo.jpg"),
        ("上传：a.png", "a.png"),
        ("upload 'my photo.png'", "my photo.png"),
        ('/upload "my file.png"', "my file.png"),
    ],
)
def test_upload(text: str, arg: str) -> None:
    assert route(text) == Intent("upload", arg)


def test_a_sent_file_is_an_upload(tmp_path: Path) -> None:
    img = tmp_path / "my photo.png"
    img.write_bytes(b"x")
    for sent in (
        str(img),
        f"'{img}'",
        str(img).replace(" ", "\\ "),
        f"file://{img}".replace(" ", "%20"),
    ):
        assert route(sent) == Intent("upload", str(img)), sent
    assert route("my photo.png", cwd=tmp_path) == Intent("upload", str(img))
    assert route(str(tmp_path / "missing.png")).action != "upload"
    notes = tmp_path / "notes.txt"
    notes.write_text("x")
    assert route(str(notes)).action != "upload"


@pytest.mark.parametrize(
    "text",
    [
        "export it as a vertical 1080p clip",
        "make it 8 seconds",
        "add a title 'Spring Sale'",
        "credits are great, make a video",
        "balance the colours",
        "download music",
        "what is the status of my export",
        "导出为竖屏1080p",
        "把时长改成8秒",
        "加一个标题「春季促销」",
        "send me a video of the beach at sunset",
        "give me the video with louder music",
        "把视频发给我的同事之前先加个标题",
    ],
)
def test_the_rest_is_an_agent_turn(text: str) -> None:
    assert route(text) == Intent("agent", text)


def test_slash_commands() -> None:
    assert route("/export") == Intent("export")
    assert route("/credits") == Intent("credits")
    assert route("/undo") == Intent("undo")
    assert route("/frobnicate") == Intent("help", "frobnicate")
