"""The protocol's shapes, read as ../shared/protocol.md documents them (pure parsing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.core.gui_words import translate_gui
from tui.core.protocol import (
    FinalText,
    Heartbeat,
    TextChunk,
    ToolCall,
    ToolResult,
    TurnError,
    diff_drafts,
    draft_ready,
    parse_event,
    parse_sse_data,
    read_envelope,
    read_render_status,
    skill_platform,
    summarize_draft,
)

DRAFT = {
    "d": 5000,
    "m": {"title": "project", "width": 1920, "height": 1080, "fps": 30},
    "t": [
        {
            "tt": 0,
            "sg": [
                {
                    "id": "s1",
                    "src": "h",
                    "st": 0,
                    "d": 5000,
                    "m": {"name": "photo.png", "motion": "zoom_in"},
                }
            ],
        },
        {
            "tt": 1,
            "sg": [
                {
                    "id": "s2",
                    "src": "builtin:lofi",
                    "st": 0,
                    "d": 5000,
                    "m": {"name": "Lo-fi", "volume": 0.35},
                }
            ],
        },
        {
            "tt": 7,
            "sg": [
                {
                    "id": "s3",
                    "st": 0,
                    "d": 3000,
                    "m": {"text": "Urban Dreams", "position": "center"},
                }
            ],
        },
    ],
}


def test_the_track_summary_reads_as_the_protocol_page_says() -> None:
    assert summarize_draft(DRAFT) == [
        "1. Video: photo.png (0-5s)",
        "2. BGM: Lo-fi (0-5s, 35%)",
        '3. Title: "Urban Dreams" (0-3s)',
    ]
    assert draft_ready(DRAFT) and not draft_ready({"t": [{"tt": 0, "sg": []}]})
    assert summarize_draft(None) == [] and summarize_draft({"t": "junk"}) == []


@pytest.mark.parametrize(
    ("m", "line"),
    [
        ({}, "1. Video: clip.mp4 (0-5s)"),
        ({"volume": 1}, "1. Video: clip.mp4 (0-5s)"),
        ({"volume": 0.5}, "1. Video: clip.mp4 (0-5s, sound 50%)"),
        ({"volume": 0.333}, "1. Video: clip.mp4 (0-5s, sound 33%)"),
        ({"volume": 2.5}, "1. Video: clip.mp4 (0-5s, sound 250%)"),
        ({"volume": 0}, "1. Video: clip.mp4 (0-5s, sound 0%)"),
        ({"mute": True}, "1. Video: clip.mp4 (0-5s, muted)"),
        ({"mute": True, "volume": 0.5}, "1. Video: clip.mp4 (0-5s, muted)"),
        ({"mute": "true"}, "1. Video: clip.mp4 (0-5s, muted)"),  # as the renderer reads it
        ({"mute": False, "volume": 0.3}, "1. Video: clip.mp4 (0-5s, sound 30%)"),
        ({"volume": "loud"}, "1. Video: clip.mp4 (0-5s)"),
        ({"volume": float("nan")}, "1. Video: clip.mp4 (0-5s)"),
        ({"volume": None}, "1. Video: clip.mp4 (0-5s)"),
    ],
)
def test_the_summary_shows_a_videos_own_sound_when_muted_or_not_full(m: dict, line: str) -> None:
    seg = {"id": "s1", "src": "v", "st": 0, "d": 5000, "m": {"name": "clip.mp4", **m}}
    assert summarize_draft({"t": [{"tt": 0, "sg": [seg]}]}) == [line]


def test_the_summary_reads_bgm_volume_as_before() -> None:
    def bgm(volume: object) -> list[str]:
        seg = {"id": "s2", "st": 0, "d": 5000, "m": {"name": "Lo-fi", "volume": volume}}
        return summarize_draft({"t": [{"tt": 1, "sg": [seg]}]})

    assert bgm(0.35) == ["1. BGM: Lo-fi (0-5s, 35%)"]
    assert bgm(1) == ["1. BGM: Lo-fi (0-5s, 100%)"]  # the music shows its volume always
    assert bgm("x") == bgm(float("inf")) == bgm(None) == ["1. BGM: Lo-fi (0-5s)"]


@pytest.mark.parametrize(
    ("m", "line"),
    [
        ({}, '1. Title: "Sale" (0-3s)'),
        ({"color": "#FFD600"}, '1. Title: "Sale" (0-3s, yellow)'),  # the agent's yellow
        ({"color": "#ffd600"}, '1. Title: "Sale" (0-3s, yellow)'),
        ({"color": "yellow"}, '1. Title: "Sale" (0-3s, yellow)'),
        ({"color": "Gray"}, '1. Title: "Sale" (0-3s, grey)'),
        ({"color": "#123456"}, '1. Title: "Sale" (0-3s, #123456)'),
        ({"color": "#fc0"}, '1. Title: "Sale" (0-3s, #FFCC00)'),
        ({"color": "#FFFFFF"}, '1. Title: "Sale" (0-3s)'),  # white, as every text by default
        ({"color": "#fff"}, '1. Title: "Sale" (0-3s)'),
        ({"color": "white"}, '1. Title: "Sale" (0-3s)'),
        ({"color": "sunset"}, '1. Title: "Sale" (0-3s)'),  # drawn white: no colour to show
        ({"color": 7}, '1. Title: "Sale" (0-3s)'),
        ({"color": "#12345"}, '1. Title: "Sale" (0-3s)'),
        ({"color": "#111111", "role": "caption"}, '1. Caption: "Sale" (0-3s, black)'),
    ],
)
def test_the_summary_shows_a_texts_colour_unless_white(m: dict, line: str) -> None:
    seg = {"id": "s3", "st": 0, "d": 3000, "m": {"text": "Sale", **m}}
    assert summarize_draft({"t": [{"tt": 7, "sg": [seg]}]}) == [line]


def test_the_diff_says_when_a_texts_colour_changed() -> None:
    title = {"id": "s3", "st": 0, "d": 3000, "m": {"text": "Sale"}}
    yellow = {**title, "m": {"text": "Sale", "color": "#FFD600"}}
    before, after = {"t": [{"tt": 7, "sg": [title]}]}, {"t": [{"tt": 7, "sg": [yellow]}]}
    assert diff_drafts(before, after) == ['Changed title "Sale" (0-3s) → (0-3s, yellow)']


def test_the_diff_says_when_a_videos_sound_changed() -> None:
    clip = {"id": "s1", "src": "v", "st": 0, "d": 5000, "m": {"name": "clip.mp4"}}
    muted = {**clip, "m": {"name": "clip.mp4", "mute": True}}
    before, after = {"t": [{"tt": 0, "sg": [clip]}]}, {"t": [{"tt": 0, "sg": [muted]}]}
    assert diff_drafts(before, after) == ["Changed video clip.mp4 (0-5s) → (0-5s, muted)"]


def test_the_diff_says_what_changed_in_plain_words() -> None:
    after = {
        "d": 8000,
        "m": {"title": "project", "width": 1080, "height": 1920, "fps": 30},
        "t": [
            {"tt": 0, "sg": [{**DRAFT["t"][0]["sg"][0], "d": 8000}]},
            {"tt": 1, "sg": [{**DRAFT["t"][1]["sg"][0], "m": {"name": "Lo-fi", "volume": 0.5}}]},
            {"tt": 7, "sg": [{"id": "s4", "st": 0, "d": 3000, "m": {"text": "X"}}]},
        ],
    }
    assert diff_drafts(DRAFT, after) == [
        "Changed video photo.png (0-5s) → (0-8s)",
        "Changed BGM Lo-fi (0-5s, 35%) → (0-5s, 50%)",
        'Added title "X" (0-3s)',
        'Removed title "Urban Dreams" (0-3s)',
        "duration 5s → 8s",
        "size 1920x1080 → 1080x1920",
    ]
    panned = {**DRAFT["t"][0]["sg"][0], "m": {"name": "photo.png", "motion": "pan_left"}}
    moved = {**DRAFT, "t": [{"tt": 0, "sg": [panned]}, *DRAFT["t"][1:]]}
    assert diff_drafts(DRAFT, moved) == ["Changed video photo.png: motion zoom_in → pan_left"]
    assert diff_drafts(DRAFT, DRAFT) == []


@pytest.mark.parametrize(
    ("status", "body", "ok", "code", "message", "data"),
    [
        (200, {"code": 0, "message": "ok", "data": {"a": 1}}, True, None, "ok", {"a": 1}),
        (200, {"code": 0, "msg": "fine", "data": 1}, True, None, "fine", 1),
        (401, {"code": 1001, "message": "expired", "data": None}, False, 1001, "expired", None),
        (404, {"code": 1002, "msg": "no session"}, False, 1002, "no session", None),
        (200, {"success": True, "data": {"b": 2}}, True, None, "", {"b": 2}),
        (
            402,
            {"success": False, "error": {"code": 2001, "message": "no"}},
            False,
            2001,
            "no",
            None,
        ),
        (429, {"success": False, "error": "slow down"}, False, 429, "slow down", None),
        (402, None, False, 402, "", None),  # no JSON: the HTTP status decides
        (200, {"taskId": "r", "status": "completed"}, True, None, "", None),
    ],
)
def test_both_envelopes(status, body, ok, code, message, data) -> None:
    env = read_envelope(status, body)
    assert (env.ok, env.code, env.message) == (ok, code, message)
    if data is not None:
        assert env.data == data


@pytest.mark.parametrize(
    "body",
    [
        {"code": 0, "data": {"id": "r1", "status": "completed", "outputUrl": "http://x/r1.mp4"}},
        {"success": True, "status": "completed", "output": {"url": "http://x/r1.mp4"}, "id": "r1"},
        {"taskId": "r1", "status": "completed", "output": {"url": "http://x/r1.mp4"}},
        {
            "code": 0,
            "data": {"taskId": "r1"},
            "status": "completed",
            "output": {"url": "http://x/r1.mp4"},
        },
    ],
    ids=["data.outputUrl", "top-level output.url", "taskId", "status beside data"],
)
def test_every_render_status_shape(body) -> None:
    s = read_render_status(body, "fallback")
    assert (s.id, s.status, s.output_url, s.done, s.progress) == (
        "r1",
        "completed",
        "http://x/r1.mp4",
        True,
        100.0,
    )


def test_render_status_progress_and_failure() -> None:
    s = read_render_status({"data": {"status": "processing", "progress": 0.5}}, "r")
    assert (s.id, s.status, s.progress, s.done) == ("r", "processing", 0.5, False)
    f = read_render_status({"data": {"status": "failed", "error": {"message": "boom"}}}, "r")
    assert (f.status, f.error, f.done) == ("failed", "boom", True)


def test_events_of_every_documented_form() -> None:
    assert parse_sse_data("") == [Heartbeat()]
    assert parse_sse_data('{"type": "heartbeat"}') == [Heartbeat()]
    ev = {"partial": True, "content": {"role": "model", "parts": [{"text": "Set"}]}}
    assert parse_event(ev) == [TextChunk("Set")]
    assert parse_event({"content": {"parts": [{"text": "Set it"}]}}) == [FinalText("Set it")]
    call = {"functionCall": {"id": "1", "name": "trim", "args": {"s": 2}}}
    resp = {"functionResponse": {"id": "1", "name": "trim", "response": {"ok": True}}}
    assert parse_event({"content": {"parts": [call, resp]}}) == [
        ToolCall("1", "trim", {"s": 2}),
        ToolResult("1", "trim", {"ok": True}),
    ]
    assert parse_event({"errorCode": "E", "errorMessage": "bad"}) == [TurnError("bad", "E")]
    assert parse_event({"error": "bad"}) == [TurnError("bad")]
    assert parse_event({"type": "text", "content": "Hi"}) == [FinalText("Hi")]
    assert parse_event({"type": "text", "partial": True, "text": "H"}) == [TextChunk("H")]
    assert parse_event({"type": "tool_call", "id": "2", "name": "n", "args": {}}) == [
        ToolCall("2", "n", {})
    ]
    thought = {"content": {"parts": [{"text": "hmm", "thought": True}, {"text": "Done"}]}}
    assert parse_event(thought) == [FinalText("Done")]


def test_the_platform_comes_from_the_install_path(tmp_path: Path) -> None:
    home = tmp_path
    assert skill_platform(home, home / ".clawhub/skills/x/tui/protocol.py") == "clawhub"
    assert skill_platform(home, home / ".cursor/skills/x/tui/protocol.py") == "cursor"
    assert skill_platform(home, home / "src/tui/protocol.py") == "unknown"


@pytest.mark.parametrize(
    ("text", "actions"),
    [
        ("Done! Click the Export button to download it.", ["export"]),
        ("Drag your photo onto the timeline.", ["upload"]),
        ("Open the Effects panel to pick a filter.", ["status"]),
        ("Preview it in the timeline.", ["status"]),
        ("Click Apply.", ["status"]),
        ("完成了！点击导出按钮即可下载。", ["export"]),
        ("请把图片拖拽到时间线上。", ["upload"]),
        ("打开素材面板。", ["status"]),
        ("The clip is 5 seconds with a backdrop of lo-fi music.", []),
    ],
)
def test_gui_words_become_actions_here(text, actions) -> None:
    t = translate_gui(text)
    assert t.actions == actions
    assert bool(t.note) == bool(actions)


def test_the_protocol_module_needs_neither_textual_nor_httpx() -> None:
    import subprocess
    import sys

    code = (
        "import sys, tui.core.protocol, tui.core.intents, tui.core.gui_words\n"
        "bad = [m for m in ('textual', 'httpx') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, timeout=60)
