"""The agent on hostile messages: every reader is linear in the message, so the worst messages
we can craft at the 2,000-character limit are answered well under a second (bounded here at a
generous 2 s wall each, to prove there is no hang), and longer messages are refused with a 400
that says the limit, before the agent runs. Against the real engine for the HTTP side.

`WORST` is also what tests/bench/bench_agent.py times.
"""

from __future__ import annotations

import copy
import json
import time

import httpx
import pytest

from tests.test_engine_api import auth, new_session, token
from tui.engine import agent
from tui.engine.server.routes.turn import MAX_TEXT
from tui.engine.store import EMPTY_DRAFT

LIMIT = MAX_TEXT


def _fill(unit: str, head: str = "", tail: str = "") -> str:
    """`head`, `unit` repeated, `tail`: exactly LIMIT characters."""
    body = unit * (LIMIT // len(unit) + 1)
    return (head + body)[: LIMIT - len(tail)] + tail


# name -> a message at the limit, each made to be slow: runs of digits or numerals were read
# in quadratic time (seconds each), keywords, quotes and white space in quadratic or cubic.
WORST = {
    "2,000 digits": _fill("1"),
    "digits and Chinese hundreds": _fill("1百"),
    "Chinese numerals": _fill("一"),
    "mixed Chinese numerals": _fill("一十百两三"),
    "Chinese seconds": _fill("字幕秒"),
    "title keywords": _fill("title "),
    "Chinese title keywords": _fill("标题"),
    "original sound, named": _fill("原声"),
    "unclosed quotes": _fill("“"),
    "unclosed corner quotes": _fill("「"),
    "quoted words and colours": _fill('"yellow '),
    "one long word": _fill("a"),
    "filler after a title": _fill(" a bit", head="make the title", tail=" bigger"),
    "spaces after a number": _fill(" ", head="1", tail="x"),
    "bare title text": _fill(" ", head="title: a", tail="b"),
    "numbers and units": _fill("1.5 s "),
    "percentages": _fill("百分之"),
    "every kind at once": _fill("标题“1百 a bit 原声 title 'x' 三秒 "),
    # Long runs of blanked words between two quantifiers of white space (cubic: a minute).
    "digits after 'video'": _fill("1", head="video ", tail=" video"),
    "digits after 'each'": _fill("1", head="each ", tail=" each"),
    "quotes past 20, after 'video'": _fill("'a' ", head="video ", tail="x"),
    # Unquoted title text that never ends, keyword after keyword (quadratic).
    "bare title text, unending": _fill("title: '", tail="'x'"),
}
IMAGE = [{"hash": "h1", "file_type": "image", "filename": "a.png", "width": 64, "height": 48}]
VIDEO = [{"hash": "h2", "file_type": "video", "filename": "v.mp4", "duration": 3.0}]


def turn_body(sid: str, text: str) -> dict:
    return {"session_id": sid, "new_message": {"parts": [{"text": text}]}, "streaming": True}


@pytest.mark.parametrize("name", list(WORST))
def test_the_worst_messages_are_answered_quickly(name: str) -> None:
    message = WORST[name]
    assert len(message) == LIMIT
    for media in (IMAGE, IMAGE + VIDEO):
        start = time.perf_counter()
        turn = agent.plan_turn(message, copy.deepcopy(EMPTY_DRAFT), media, "en")
        assert time.perf_counter() - start < 2.0, name  # generous: it did not hang
        assert turn.reply


def test_longer_numbers_are_cut_and_never_break_a_turn() -> None:
    for message in ("1" * 5000, "一" * 5000, "1" * 400 + " seconds", "九" * 30 + "秒"):
        start = time.perf_counter()
        turn = agent.plan_turn(message, copy.deepcopy(EMPTY_DRAFT), IMAGE, "en")
        assert time.perf_counter() - start < 2.0
        assert turn.reply and (turn.draft is None or turn.draft["d"] == EMPTY_DRAFT["d"])


@pytest.mark.parametrize("name", ["2,000 digits", "Chinese title keywords", "every kind at once"])
def test_the_engine_answers_the_worst_messages(api: httpx.Client, name: str) -> None:
    tok = token(api)
    sid = new_session(api, tok)
    start = time.monotonic()
    r = api.post("/run_sse", headers=auth(tok), json=turn_body(sid, WORST[name]))
    took = time.monotonic() - start
    assert r.status_code == 200, r.text
    events = [json.loads(line[5:]) for line in r.text.splitlines() if line.startswith("data: {")]
    finals = [e for e in events if not e.get("partial") and "content" in e]
    assert finals and "text" in finals[-1]["content"]["parts"][0]
    assert took < 5.0  # generous, with the stream: it did not hang


def test_longer_messages_are_refused_before_the_agent_runs(api: httpx.Client) -> None:
    tok = token(api)
    sid = new_session(api, tok)
    ok = api.post("/run_sse", headers=auth(tok), json=turn_body(sid, "a" * LIMIT))
    assert ok.status_code == 200
    for text in ("1" * 5000, "一" * (LIMIT + 1), "x" * 100_000):
        r = api.post("/run_sse", headers=auth(tok), json=turn_body(sid, text))
        body = r.json()
        assert (r.status_code, body["code"]) == (400, 400), text[:10]
        assert f"{len(text):,} characters" in body["message"] and "2,000" in body["message"]
    # Parts count together.
    parts = [{"text": "a" * 1500}, {"text": "b" * 501}]
    body = {"session_id": sid, "new_message": {"parts": parts}}
    r = api.post("/run_sse", headers=auth(tok), json=body)
    assert r.status_code == 400 and "2,001 characters" in r.json()["message"]
    # Nothing was planned for the refused ones: the draft is as the one turn left it.
    state = api.get(f"/api/state/nemo_agent/me/{sid}/latest", headers=auth(tok)).json()
    assert state["data"]["state"]["draft"]["d"] == EMPTY_DRAFT["d"]


def test_what_bounds_the_readers_leaves_ordinary_messages_alone() -> None:
    # Runs of white space over MAX_SPACES become one; up to it a quote keeps them.
    turn = agent.plan_turn(
        "a 5        second clip,\n\n\n\n   title   'Hi   there'", EMPTY_DRAFT, IMAGE, "en"
    )
    assert turn.draft and turn.draft["d"] == 5000
    assert [s["m"]["text"] for s in _texts(turn.draft)] == ["Hi   there"]
    # 15 digits are a number (the clip's length is then capped); 16 are none.
    assert agent.plan_turn("9" * 15 + " seconds", EMPTY_DRAFT, IMAGE, "en").draft["d"] == 60_000
    assert agent.plan_turn("9" * 16 + " seconds", EMPTY_DRAFT, IMAGE, "en").draft is None
    # Filler words between a title and its size: a few are read through, not a page of them.
    near = agent.plan_turn("make the title 'X' a little bit bigger", EMPTY_DRAFT, IMAGE, "en")
    far = agent.plan_turn("make the title 'X'" + " a" * 40 + " bigger", EMPTY_DRAFT, IMAGE, "en")
    assert [s["m"].get("size") for s in _texts(near.draft)] == ["large"]  # a step up
    assert [s["m"].get("size") for s in _texts(far.draft)] == [None]


def _texts(draft: dict) -> list[dict]:
    return [s for t in draft["t"] for s in t["sg"] if "text" in s.get("m", {})]
