"""What the agent did not do, said in the reply (issue 15): each part of a message that was
understood but had nothing to act on (no title, no music, no fifth image, past the 60 s limit)
gets a sentence of why, in the session's language, and a part no reader understood at all is
named; a reply never says a plain "Done" when part of the message was not done.

Most cases are `plan_turn` on a draft; the issue's own sentences also run through the real
engine over HTTP (a photo uploaded, turns streamed), where the reply is what a person reads.
"""

from __future__ import annotations

import copy
import time
from pathlib import Path

import httpx
import pytest

from tests.test_agent import BRIEF, DRAFTS, EMPTY, IMG1, IMG3, ONE, THREE, field
from tests.test_engine_turns import draft_of, session_with_photo, turn
from tui.core.text_colours import TEXT_COLOURS
from tui.engine import agent

EXPORT = 'Say "export" to render the video.'
NO_TITLE_EN = "say the title's words, e.g. title 'Spring Sale'."
NO_TITLE_ZH = "请说出标题的文字，例如：标题「春季促销」。"


def _reply(message: str, start: dict, media: list[dict], lang: str = "en") -> agent.Turn:
    return agent.plan_turn(message, copy.deepcopy(start), media, lang)


def _sentences_after_done(reply: str) -> str:
    """What a reply says beyond the changes it lists (between "Done: …." and the export hint)."""
    body = reply.removesuffix(EXPORT).strip()
    return body.split(". ", 1)[1] if ". " in body else ""


# (start, media, message, the change still made (a field and its value) or None, what it says)
PARTLY = [
    (
        "three",
        "img3",
        "make a 5 second clip, move it to the top and make the music quieter",
        ("d", 5000),
        [
            "There is no title or caption to move to the top: " + NO_TITLE_EN,
            'There is no music to make quieter: say "lo-fi music at 35%" to add some.',
        ],
    ),
    (
        "empty",
        "img1",
        "make the title bigger and yellow",
        ("V", ["h1"]),
        ["There is no title to make bigger and yellow: " + NO_TITLE_EN],
    ),
    (
        "empty",
        "img1",
        "字大一点",
        ("V", ["h1"]),
        ["没有标题或字幕可以调大：" + NO_TITLE_ZH],
    ),
    (
        "three",
        "img3",
        "make it 6 seconds and make the caption red",
        ("d", 6000),
        ["There is no caption to make red: say the caption's words, e.g. caption 'Shop now'."],
    ),
    (
        "three",
        "img3",
        "改成6秒，音乐大声一点",
        ("d", 6000),
        ["没有背景音乐可以调大声；可以说“加上低保真音乐，音量35%”。"],
    ),
    (
        "three",
        "img3",
        "8 seconds and remove the title",
        ("d", 8000),
        ["There is no title to remove."],
    ),
    (
        "three",
        "img3",
        "put the fifth image first and make it 8 s",
        ("d", 8000),
        ["There is no image 5 (the video track has 3)."],
    ),
    (
        "one",
        "img1",
        "a minute and a half",
        ("d", 60000),
        ["The longest clip is 60 s, so it is 60 s (you asked for 90 s)."],
    ),
    ("one", "img1", "一分半", ("d", 60000), ["视频最长 60 秒，已设为 60 秒（你要的是 90 秒）。"]),
    (
        "one",
        "img1",
        "make it 8 seconds and add some sparkles",
        ("d", 8000),
        ["I did not understand “add some sparkles”, so I left it out."],
    ),
    (
        "one",
        "img1",
        "use my song",
        ("A", ["builtin:lofi"]),
        ["No song has been uploaded, so I used lo-fi music: upload an audio file"],
    ),
    ("one", "img1", "用我的歌", ("A", ["builtin:lofi"]), ["还没有上传歌曲，所以先用了低保真音乐"]),
    (  # quoted as written, not as read ("一点" is read as "1点", words in lower case)
        "one",
        "img1",
        "Make it 8 seconds and Add Some Sparkles",
        ("d", 8000),
        ["I did not understand “Add Some Sparkles”, so I left it out."],
    ),
    (
        "one",
        "img1",
        "标题放在上面，好看一点",
        ("T0.position", "top"),
        ["我没有看懂“好看一点”，这部分没有做。"],
    ),
    (
        "empty",
        "img1",
        "make a video with sparkles",
        ("V", ["h1"]),
        ["I did not understand “sparkles”, so I left it out."],
    ),
    (
        "empty",
        "img1",
        "做个视频，加点闪光特效",
        ("V", ["h1"]),
        ["我没有看懂“加点闪光特效”，这部分没有做。"],
    ),
]
MEDIA = {"img1": IMG1, "img3": IMG3}


@pytest.mark.parametrize(
    "start,media,message,done,said", PARTLY, ids=[c[2][:40].replace(" ", "_") for c in PARTLY]
)
def test_what_was_not_done_is_said_with_what_was(
    start: str, media: str, message: str, done: tuple, said: list[str]
) -> None:
    t = _reply(message, DRAFTS[start], MEDIA[media])
    assert t.draft is not None and field(t.draft, done[0]) == done[1], t.reply
    zh = agent.is_chinese(message)
    assert t.reply.startswith("好的，" if zh else "Done: "), t.reply
    for sentence in said:
        assert sentence in t.reply, t.reply
    if zh:
        assert "There is" not in t.reply and "I did not" not in t.reply
    else:
        # Never a plain "Done": after the changes, the reply says what was not done.
        assert _sentences_after_done(t.reply).startswith(said[0].split(":")[0]), t.reply


@pytest.mark.parametrize(
    "start,message,said",
    [
        ("three", "make the music quieter", "There is no music to make quieter"),
        ("three", "音乐小声一点", "没有背景音乐可以调小声"),
        ("three", "remove the music", "There is no music to remove."),
        ("three", "去掉标题", "没有标题可以删除。"),
        ("one", "crossfade between the images", "Transitions go between images"),
        ("one", "交叉淡化", "转场用在图片之间，而视频里只有一张图片。"),
        ("three", "swap the first and fifth images", "There is no image 5"),
        ("three", "make the caption bigger", "There is no caption to make bigger"),
    ],
)
def test_with_nothing_to_act_on_the_reply_is_why_alone(start: str, message: str, said: str) -> None:
    t = _reply(message, DRAFTS[start], IMG3)
    assert t.draft is None and t.calls == [], t.reply
    assert t.reply.startswith(said) and "Done" not in t.reply and "好的" not in t.reply


def test_a_step_past_either_end_changes_nothing_and_says_so() -> None:
    loud = copy.deepcopy(ONE)
    loud["t"][2]["sg"][0]["m"]["size"] = 2.0  # the largest size
    loud["t"][1]["sg"][0]["m"]["volume"] = 1.0  # the loudest music
    for message, said in (
        ("make the title bigger", "The title is already as big as it goes."),
        ("标题大一点", "标题已经是最大的字号了。"),
        ("make the music louder", "The music is already as loud as it goes (100%)."),
        ("音乐大声一点", "音乐音量已经是最大了（100%）。"),
    ):
        t = _reply(message, loud, IMG1)
        assert (t.draft, t.calls, t.reply) == (None, [], said)
    # With something else to do, that is done, and the reply says what was not.
    t = _reply("make the title bigger and red", loud, IMG1)
    assert t.draft and field(t.draft, "T0.color") == TEXT_COLOURS["red"]
    assert t.reply.startswith("Done: set the title") and "already as big as it goes" in t.reply
    t = _reply("make the music quieter", loud, IMG1)
    assert t.draft and field(t.draft, "A0.volume") == 0.85


def test_the_only_text_answers_to_any_name() -> None:
    """ "caption", "text", "字" or "it" for the only text on screen: that text, named as it is."""
    for message in ("make the caption bigger", "make the text bigger", "字大一点", "字幕大一点"):
        t = _reply(message, ONE, IMG1)
        assert t.draft and field(t.draft, "T*.size") == ["large"], (message, t.reply)
        assert '"Hi"' in t.reply or "「Hi」" in t.reply
    # Two texts: a caption word that finds no caption says so; the title stays as it was.
    two = copy.deepcopy(BRIEF)
    two["t"][2]["sg"][1]["m"]["role"] = "title"
    t = _reply("make the caption bigger", two, IMG1)
    assert t.draft is None and t.reply.startswith("There is no caption to make bigger")


def test_a_message_understood_nowhere_gets_the_help_not_a_done() -> None:
    for message, lead in (
        ("sparkles everywhere", "I couldn't find a change to make in that."),
        ("到处都是闪光", "我没有看懂要改什么。"),
    ):
        t = _reply(message, THREE, IMG3)
        assert t.draft is None and t.reply.startswith(lead)
    # Pleasantries and "make a video" ask nothing, and are not named as not understood.
    for message in ("hello, make it 6 s please", "thanks! make it 6 seconds", "好的，改成6秒"):
        t = _reply(message, THREE, IMG3)
        assert t.draft and t.draft["d"] == 6000
        assert "understand" not in t.reply and "没有看懂" not in t.reply, t.reply
    t = _reply("make a video of these photos", EMPTY, IMG3)
    assert t.draft and "understand" not in t.reply


def test_a_bare_number_is_the_last_length_and_only_a_length() -> None:
    t = _reply("a 5-second clip", EMPTY, IMG1)
    assert t.draft and t.draft["d"] == 5000
    for message, ms in (("make it 6", 6000), ("actually 8", 8000), ("改成6", 6000)):
        nxt = _reply(message, t.draft, IMG1)
        assert nxt.draft and nxt.draft["d"] == ms, (message, nxt.reply)
    # Not a length: past the longest clip, or a number inside other words.
    for message in ("make it 1080", "make it 6 and sparkly", "6 images"):
        nxt = _reply(message, t.draft, IMG1)
        assert nxt.draft is None or nxt.draft["d"] == 5000, (message, nxt.reply)


@pytest.mark.parametrize(
    "message",
    [
        "no, actually, " * 150 + "6",
        "sparkles and " * 160,
        "字" * 2000,
        "字大一点" * 500,
        "move it to the top " * 110,
        "one and a half " * 130 + "seconds",
        "一分半" * 700,
        "hard cuts, no crop " * 110,
    ],
)
def test_the_new_readings_stay_quick_on_long_messages(message: str) -> None:
    start = time.perf_counter()
    agent.plan_turn(message, copy.deepcopy(THREE), IMG3, "en")
    assert time.perf_counter() - start < 2.0  # it did not hang (it takes milliseconds)


# ---- through the engine -------------------------------------------------------------------------


def test_the_engine_says_what_it_did_not_do(api: httpx.Client, tmp_path: Path) -> None:
    tok, sid = session_with_photo(api, tmp_path)
    _, reply = turn(
        api, tok, sid, "make a 5 second clip, move it to the top and make the music quieter"
    )
    assert reply.startswith("Done: put p.png on the video track (5 s)"), reply
    assert "There is no title or caption to move to the top" in reply
    assert "There is no music to make quieter" in reply and reply.endswith(EXPORT)
    assert draft_of(api, tok, sid)["d"] == 5000

    # Nothing to act on: nothing is called and nothing changes; the reply is why.
    before = draft_of(api, tok, sid)
    tools, reply = turn(api, tok, sid, "make the title bigger and yellow")
    assert tools == [] and reply == "There is no title to make bigger and yellow: " + NO_TITLE_EN
    assert draft_of(api, tok, sid) == before

    # A follow-up number is the clip's length again; the title said, "it" finds it.
    turn(api, tok, sid, "make it 7")
    assert draft_of(api, tok, sid)["d"] == 7000
    turn(api, tok, sid, "title 'Spring Sale'")
    _, reply = turn(api, tok, sid, "move it to the top")
    texts = [s for t in draft_of(api, tok, sid)["t"] if t["tt"] == 7 for s in t["sg"]]
    assert [(s["m"]["text"], s["m"]["position"]) for s in texts] == [("Spring Sale", "top")]
    assert reply.startswith('Done: set the title "Spring Sale"')


def test_the_engine_says_it_in_chinese(api: httpx.Client, tmp_path: Path) -> None:
    tok, sid = session_with_photo(api, tmp_path)
    _, reply = turn(api, tok, sid, "做个视频，字大一点，音乐小声一点")
    assert reply.startswith("好的，已将 p.png 放到视频轨道"), reply
    assert "没有标题或字幕可以调大：" + NO_TITLE_ZH in reply
    assert "没有背景音乐可以调小声" in reply
    _, reply = turn(api, tok, sid, "一分半")
    assert draft_of(api, tok, sid)["d"] == 60000
    assert "视频最长 60 秒，已设为 60 秒（你要的是 90 秒）。" in reply
    turn(api, tok, sid, "还是8吧")
    assert draft_of(api, tok, sid)["d"] == 8000
