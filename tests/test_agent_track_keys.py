"""The sentences the Tracks pane's keys say (widgets/track_edits.py), read by the real local agent:
each one is understood and makes the timeline the key meant. The drafts and the field paths are
tests/test_agent.py's."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest

from tests.test_agent import BRIEF, CLIP, IMG1, MEDIA, MUTED, ONE, THREE, VID, field
from tui.engine import agent
from widgets import track_edits
from widgets.track_edits import Said, Segment, segments_of


def seg(draft: dict, kind: str, nth: int = 1) -> Segment:
    return [s for s in segments_of(draft) if s.kind == kind][nth - 1]


KEYS: list[tuple[dict, list, Callable[[dict], Said], str, dict]] = [
    # (draft, media, the key on a segment, its sentence, the fields after the turn)
    (
        BRIEF,
        IMG1,
        lambda d: track_edits.longer(seg(d, "title"), 1000),
        "make the title 1 second longer",
        {"T0.st": 0, "T0.d": 3000, "T1.d": 2000},
    ),
    (
        BRIEF,
        IMG1,
        lambda d: track_edits.longer(seg(d, "caption"), -500),
        "make the caption 0.5 seconds shorter",
        {"T1.st": 2000, "T1.d": 1500, "T0.d": 2000},
    ),
    (
        BRIEF,
        IMG1,
        lambda d: track_edits.move(seg(d, "title"), 500),
        "move the title 0.5 seconds later",
        {"T0.st": 500, "T0.d": 2000, "T0.text": "Hi"},
    ),
    (
        BRIEF,
        IMG1,
        lambda d: track_edits.move(seg(d, "caption"), -1000),
        "move the caption 1 second earlier",
        {"T1.st": 1000, "T1.d": 2000, "T0.st": 0},
    ),
    (
        BRIEF,
        IMG1,
        lambda d: track_edits.delete(seg(d, "title")),
        "delete the title",
        {"T*.text": ["Buy"]},
    ),
    (
        BRIEF,
        IMG1,
        lambda d: track_edits.retitle(seg(d, "caption"), "Buy now"),
        "change the caption text to 'Buy now'",
        {"T*.text": ["Hi", "Buy now"]},
    ),
    (
        BRIEF,
        IMG1,
        lambda d: track_edits.retitle(seg(d, "title"), "Don't miss it"),
        'change the title text to "Don\'t miss it"',
        {"T*.text": ["Don't miss it", "Buy"]},
    ),
    (
        ONE,
        IMG1,
        lambda d: track_edits.volume(seg(d, "music"), -10),
        "set the music volume to 40%",
        {"A0.volume": 0.4},
    ),
    (
        ONE,
        IMG1,
        lambda d: track_edits.volume(seg(d, "music"), 0),
        "set the music volume to 0%",
        {"A0.volume": 0.0},
    ),
    (ONE, IMG1, lambda d: track_edits.delete(seg(d, "music")), "remove the music", {"A": []}),
    (
        ONE,
        IMG1,
        lambda d: track_edits.longer(seg(d, "video"), 1000),
        "make the clip 1 second longer",
        {"d": 6000, "V0.d": 6000},
    ),
    (
        ONE,
        IMG1,
        lambda d: track_edits.longer(seg(d, "video"), -500),
        "make the clip 0.5 seconds shorter",
        {"d": 4500},
    ),
    (
        THREE,
        MEDIA["img3"],
        lambda d: track_edits.move(seg(d, "video", 2), -500),
        "swap the second image and the first",
        {"V": ["h2", "h1", "h3"]},
    ),
    (
        THREE,
        MEDIA["img3"],
        lambda d: track_edits.move(seg(d, "video", 2), 500),
        "swap the second image and the third",
        {"V": ["h1", "h3", "h2"]},
    ),
    (
        THREE,
        MEDIA["img3"],
        lambda d: track_edits.delete(seg(d, "video", 3)),
        "remove the third image",
        {"V": ["h1", "h2"]},
    ),
    (
        CLIP,
        [VID],
        lambda d: track_edits.volume(seg(d, "video"), 0),
        "mute the video's sound",
        {"V0.mute": True},
    ),
    (
        MUTED,
        [VID],
        lambda d: track_edits.volume(seg(d, "video"), 0),
        "unmute the video's sound",
        {"V0.mute": None},
    ),
]


@pytest.mark.parametrize("start,media,key,sentence,want", KEYS, ids=[k[3] for k in KEYS])
def test_each_key_says_a_sentence_the_agent_does(
    start: dict, media: list, key: Callable[[dict], Said], sentence: str, want: dict
) -> None:
    said = key(start)
    assert said.text == sentence and not said.why_not
    turn = agent.plan_turn(sentence, copy.deepcopy(start), media, "en")
    assert turn.draft is not None and turn.calls, turn.reply
    assert turn.reply.startswith("Done:"), turn.reply
    assert {path: field(turn.draft, path) for path in want} == want, turn.reply


@pytest.mark.parametrize(
    "message,want",
    [
        ("标题往后移1秒", {"T0.st": 1000, "T0.d": 2000}),
        ("字幕提前0.5秒", {"T1.st": 1500, "T1.d": 2000}),
        ("shift the caption later", {"T1.st": 2000 + 1000, "T1.d": 2000}),
        ("move the title 0.5 s later and make it yellow", {"T0.st": 500, "T0.d": 2000}),
    ],
)
def test_a_text_moves_in_time_keeping_its_length(message: str, want: dict) -> None:
    turn = agent.plan_turn(message, copy.deepcopy(BRIEF), IMG1, "en")
    assert turn.draft is not None, turn.reply
    assert {path: field(turn.draft, path) for path in want} == want, turn.reply


def test_a_text_at_the_edge_does_not_move_and_says_so() -> None:
    turn = agent.plan_turn("move the title 1 second earlier", copy.deepcopy(BRIEF), IMG1, "en")
    assert turn.draft is None and turn.reply == "The title already starts at 0 s."
    turn = agent.plan_turn("move the caption 1 second later", copy.deepcopy(BRIEF), IMG1, "en")
    assert turn.draft is not None and field(turn.draft, "T1.st") == 3000
    turn = agent.plan_turn("move the caption 1 second later", turn.draft, IMG1, "en")
    assert turn.draft is None and turn.reply == "The caption already ends with the clip."


def test_without_the_verb_a_time_after_the_title_is_not_a_move() -> None:
    """'title for 2 s' is a length, 'the title 2 s later' alone no move of it."""
    turn = agent.plan_turn("title 'Sale' for 2 s", copy.deepcopy(ONE), IMG1, "en")
    assert turn.draft is not None and field(turn.draft, "T0.st") == 0
    assert field(turn.draft, "T0.d") == 2000


def test_keys_that_mean_nothing_on_a_segment_say_why() -> None:
    music, image = seg(ONE, "music"), seg(ONE, "video")
    for said in (
        track_edits.longer(music, 500),
        track_edits.move(music, 500),
        track_edits.delete(image),  # the only image
        track_edits.move(image, -500),
        track_edits.retitle(music, "x"),
        track_edits.volume(image, 10),
    ):
        assert said.text == "" and said.why_not, said
    loud = Segment("music", 0, 5000, 1, 1, volume=100)
    assert track_edits.volume(loud, 10).why_not == "The music is already at 100%"
    muted = Segment("music", 0, 5000, 1, 1, volume=0)
    said = track_edits.volume(muted, 0, before_mute=35)
    assert said == Said("set the music volume to 35%", volume=35)


@pytest.mark.parametrize(
    "message,volume",
    [
        ("make the music 10% louder", 0.6),
        ("turn the music up by 10%", 0.6),
        ("turn the music down 20%", 0.3),
        ("音乐调小20%", 0.3),
        ("make the music louder", 0.65),  # the step with no amount
        ("music at 30%", 0.3),
    ],
)
def test_a_volume_step_by_an_amount_is_that_many_points(message: str, volume: float) -> None:
    """ "10% louder" was read as a volume of 10% plus a step (25%)."""
    turn = agent.plan_turn(message, copy.deepcopy(ONE), IMG1, "en")
    assert turn.draft is not None, turn.reply
    assert field(turn.draft, "A0.volume") == pytest.approx(volume)
