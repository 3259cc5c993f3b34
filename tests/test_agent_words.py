"""The local agent's words (issue 15, item 10): a bare follow-up number changes the last length
said, a title's included ("title 'Sale' for 3 s", then "5"), and how to export is said once, on
the turn that first lays the clip out, not at the end of every reply. Both languages, by
`plan_turn` and through the engine."""

from __future__ import annotations

import copy
from pathlib import Path

import httpx
import pytest

from tests.test_agent import EMPTY, IMG1, IMG3, THREE
from tests.test_engine_api import auth
from tests.test_engine_turns import draft_of, session_with_photo, turn
from tui.core.protocol import skill_headers
from tui.engine import agent

EXPORT_EN = 'Say "export" to render the video.'
EXPORT_ZH = "可以说“导出”生成视频。"


def _plan(message: str, start: dict, media: list[dict], lang: str = "en") -> agent.Turn:
    return agent.plan_turn(message, copy.deepcopy(start), media, lang)


def _texts(draft: dict) -> list[tuple[str, int, int]]:
    return [(s["m"]["text"], s["st"], s["d"]) for t in draft["t"] if t["tt"] == 7 for s in t["sg"]]


@pytest.mark.parametrize(
    ("first", "follow_up", "lang"),
    [
        ("a 6-second clip, title 'Sale' for 3 s", "5", "en"),
        ("a 6-second clip, title 'Sale' for 3 s", "make it 5", "en"),
        ("a 6-second clip, title 'Sale' for 3 s", "actually 5?", "en"),
        ("做一个6秒的视频，标题「Sale」显示3秒", "5", "zh"),
        ("做一个6秒的视频，标题「Sale」显示3秒", "改成5", "zh"),
        ("做一个6秒的视频，标题「Sale」显示3秒", "还是5吧", "zh"),
    ],
)
def test_a_bare_number_after_a_title_length_is_the_titles(
    first: str, follow_up: str, lang: str
) -> None:
    t = _plan(first, EMPTY, IMG1, lang)
    assert t.draft and t.draft["d"] == 6000 and _texts(t.draft) == [("Sale", 0, 3000)]
    nxt = _plan(follow_up, t.draft, IMG1, lang)
    assert nxt.draft is not None, nxt.reply
    assert nxt.draft["d"] == 6000, nxt.reply  # the clip keeps its length
    assert _texts(nxt.draft) == [("Sale", 0, 5000)], nxt.reply
    assert ("0-5 秒" if lang == "zh" else 'set the title "Sale" at 0-5 s') in nxt.reply


def test_the_last_length_said_is_the_one_a_number_changes() -> None:
    t = _plan("a 6-second clip, caption 'Shop now' for 2 s", EMPTY, IMG1)
    assert t.draft and _texts(t.draft) == [("Shop now", 0, 2000)]
    t = _plan("4", t.draft, IMG1)  # the caption's
    assert t.draft and t.draft["d"] == 6000 and _texts(t.draft) == [("Shop now", 0, 4000)]
    # The clip's length said again: a number is the clip's from then on.
    t = _plan("make the clip 8 seconds", t.draft, IMG1)
    assert t.draft and t.draft["d"] == 8000
    t = _plan("7", t.draft, IMG1)
    assert t.draft and t.draft["d"] == 7000 and _texts(t.draft) == [("Shop now", 0, 4000)]
    # A number past the clip's end keeps the text inside the clip.
    t = _plan("title 'Sale' for 2 seconds", t.draft, IMG1)
    assert t.draft
    t = _plan("9", t.draft, IMG1)
    assert t.draft and t.draft["d"] == 7000 and ("Sale", 0, 7000) in _texts(t.draft)


def test_with_the_title_gone_a_bare_number_is_the_clips_again() -> None:
    t = _plan("a 6-second clip, title 'Sale' for 3 s", EMPTY, IMG1)
    assert t.draft
    t = _plan("remove the title", t.draft, IMG1)
    assert t.draft and _texts(t.draft) == []
    t = _plan("5", t.draft, IMG1)
    assert t.draft and t.draft["d"] == 5000, t.reply
    # A title with no length said leaves the clip's length the one a number changes.
    t = _plan("title 'Hi'", t.draft, IMG1)
    assert t.draft
    t = _plan("改成4", t.draft, IMG1, "zh")
    assert t.draft and t.draft["d"] == 4000 and _texts(t.draft) == [("Hi", 0, 4000)]


@pytest.mark.parametrize(("lang", "hint"), [("en", EXPORT_EN), ("zh", EXPORT_ZH)])
def test_how_to_export_is_said_once_when_the_clip_is_first_laid_out(lang: str, hint: str) -> None:
    first = "a 5-second clip" if lang == "en" else "做一个5秒的视频"
    t = _plan(first, EMPTY, IMG3, lang)
    assert t.draft and t.reply.endswith(hint), t.reply
    for message in (
        ("make it 6", "title 'Sale'", "make the title yellow")
        if lang == "en"
        else ("改成6秒", "标题「Sale」", "标题改成黄色")
    ):
        t = _plan(message, t.draft, IMG3, lang)
        assert t.draft, t.reply
        assert hint not in t.reply, t.reply
        assert "export" not in t.reply.lower() and "导出" not in t.reply
    # A Chinese reply is Chinese throughout: no English sentence after it.
    if lang == "zh":
        assert not any("a" <= ch.lower() <= "z" for ch in t.reply.replace("Sale", ""))
    # An edit of a timeline already laid out does not say it either.
    t = _plan("make it 8 seconds", THREE, IMG3, lang)
    assert t.draft and hint not in t.reply


def test_through_the_engine(api: httpx.Client, tmp_path: Path) -> None:
    tok, sid = session_with_photo(api, tmp_path)
    _, reply = turn(api, tok, sid, "a 6-second clip, title 'Spring Sale' for 3 s")
    assert reply.endswith(EXPORT_EN), reply
    _, reply = turn(api, tok, sid, "5")
    assert reply == 'Done: set the title "Spring Sale" at 0-5 s (center).', reply
    draft = draft_of(api, tok, sid)
    assert draft["d"] == 6000 and _texts(draft) == [("Spring Sale", 0, 5000)]
    # An undo brings back the draft, and with it what a number measures there.
    turn(api, tok, sid, "undo")
    turn(api, tok, sid, "4")
    assert _texts(draft_of(api, tok, sid)) == [("Spring Sale", 0, 4000)]
    # The engine renders a draft that carries the marker (it checks and prices it).
    r = api.post(
        "/api/render/proxy/lambda",
        headers={**auth(tok), **skill_headers()},
        json={"id": "render_words_1", "sessionId": sid, "output": {"quality": "draft"}},
    )
    assert r.json()["code"] == 0, r.text


def test_through_the_engine_in_chinese(api: httpx.Client, tmp_path: Path) -> None:
    tok, sid = session_with_photo(api, tmp_path)
    _, reply = turn(api, tok, sid, "做一个6秒的视频，标题「春季促销」显示3秒")
    assert reply.endswith(EXPORT_ZH), reply
    _, reply = turn(api, tok, sid, "改成5")
    assert reply == "好的，标题「春季促销」：0-5 秒，居中。", reply
    assert draft_of(api, tok, sid)["d"] == 6000
