"""The typed view of the draft (tui/core/draft.py): it reads any JSON without raising, gives back
the very dict it read, types the engine's drafts as the agent wrote them, and reads the cloud
stand-in's partial drafts (no size yet, URLs for sources) as the client fetches them."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_agent import IMG3, ONE, SONG
from tests.test_cloud_standin import client_for, png, turn
from tui.core.draft import (
    TRACK_AUDIO,
    TRACK_TEXT,
    TRACK_VIDEO,
    Draft,
    DraftMeta,
    Segment,
    SegmentMeta,
)
from tui.core.draft_words import summarize_draft
from tui.core.text_colours import TEXT_COLOURS
from tui.engine import agent
from widgets.track_edits import segments_of
from widgets.tracks import render_tracks, rows_of

_SCALAR = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(["0", "1000", "yes", "caption", "yellow", "#abc", "large", "x", ""])
)
_JSON = st.recursive(
    _SCALAR,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(["t", "tt", "sg", "m", "d", "st", "id", "zz"]), inner)
    ),
    max_leaves=20,
)
_ODD = (  # what a field may hold: a scalar, or a small list or dict where a scalar goes
    _SCALAR
    | st.lists(_SCALAR, max_size=2)
    | st.dictionaries(st.sampled_from(["zz", "t", "m", "sg"]), _SCALAR, max_size=2)
)
_META_KEYS = ["name", "text", "role", "position", "color", "size", "volume", "mute", "motion"]
_META_KEYS += ["strength", "width", "height", "fps", "title", "fade_in", "zz"]
_META = st.dictionaries(st.sampled_from(_META_KEYS), _ODD, max_size=6)
_SEG = st.fixed_dictionaries(
    {}, optional={k: _ODD for k in ("id", "src", "st", "d", "zz")} | {"m": _META | _ODD}
)
_MOSTLY_SEG = st.one_of(_SEG, _SEG, _SEG, _SCALAR)  # (one_of picks a branch evenly)
_TT = st.sampled_from([0, 1, 7, 3, "0", 0.0, True, None]) | _ODD
_TRACK = st.fixed_dictionaries(
    {"sg": st.lists(_MOSTLY_SEG, min_size=1, max_size=4)}, optional={"tt": _TT, "zz": _ODD}
) | st.fixed_dictionaries({}, optional={"tt": _TT, "sg": _ODD, "zz": _ODD})
# A draft's shape with odd values anywhere; its parts odd; or any JSON at all.
_ANY = st.one_of(
    st.fixed_dictionaries(
        {"t": st.lists(st.one_of(_TRACK, _TRACK, _SCALAR), min_size=1, max_size=4)},
        optional={"d": _ODD, "m": _META | _ODD, "zz": _ODD},
    ),
    st.fixed_dictionaries({}, optional={"d": _ODD, "m": _ODD, "t": _ODD, "zz": _ODD}),
    _JSON,
)


def _touch(draft: Draft) -> None:
    """Every typed reading a caller makes: none may raise."""
    assert isinstance(draft.ready, bool)
    for seg in draft.segments:
        assert seg.kind in ("video", "music", "title", "caption", "other")
        seg.span(), seg.key, seg.muted, seg.percent, seg.colour, seg.colour_label
        assert math.isfinite(draft.text_scale(seg))


@settings(max_examples=400, deadline=None)
@given(_ANY)
def test_any_json_reads_without_raising_and_dicts_come_back_as_they_were(value: object) -> None:
    draft = Draft.from_wire(value)
    _touch(draft)
    if isinstance(value, dict):
        assert draft.to_wire() == value
        assert Draft.from_wire(draft.to_wire()) == draft
    else:
        assert draft == Draft()


# Sentences the local agent understands; a run of them builds one of the engine's drafts.
_SAID = [
    "add a title 'Spring Sale'",
    "add a caption 'shot on film' at the bottom",
    "make it 8 seconds",
    "add lo-fi music at 35%",
    "make the title yellow",
    "make the title large",
    "make the caption #123456",
    "zoom in slowly",
    "mute the video's sound",
    "remove the music",
    "make the title 1 second longer",
    "swap the first image and the second",
    "fade in 1 second",
]


def _engine_draft(said: list[str], media: list[dict]) -> dict:
    draft = copy.deepcopy(ONE)
    for text in said:
        planned = agent.plan_turn(text, draft, media, "en")
        draft = planned.draft if planned.draft is not None else draft
    return draft


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(_SAID), max_size=6), st.sampled_from([IMG3, [*IMG3, SONG]]))
def test_the_engines_drafts_round_trip_and_read_as_written(said: list[str], media) -> None:
    wire = _engine_draft(said, media)
    draft = Draft.from_wire(wire)
    assert draft.to_wire() == wire
    assert draft.duration == wire["d"]
    for name, (key, _) in DraftMeta.READERS.items():
        assert getattr(draft.meta, name) == wire["m"].get(key), key
    wrote = [(t["tt"], s) for t in wire["t"] for s in t["sg"]]
    assert [(s.track, s.id, s.src, s.start, s.dur) for s in draft.segments] == [
        (tt, s["id"], s.get("src"), s["st"], s["d"]) for tt, s in wrote
    ]
    for seg, (_, s) in zip(draft.segments, wrote, strict=True):
        # Each field the view types holds what the engine wrote, with its type.
        for name, (key, _) in SegmentMeta.READERS.items():
            got, put = getattr(seg.meta, name), s["m"].get(key)
            assert got == put and type(got) is type(put), (key, got, put)
        assert set(seg.meta.extra).isdisjoint(k for k, _ in SegmentMeta.READERS.values())
    assert len(summarize_draft(wire)) == len(wrote)


def test_a_text_style_reads_as_the_tables_say() -> None:
    wire = _engine_draft(["make the title yellow", "make the title large"], IMG3)
    (title,) = [s for s in Draft.from_wire(wire).segments if s.kind == "title"]
    assert title.colour == TEXT_COLOURS["yellow"] and title.colour_label == "yellow"
    draft = Draft.from_wire(wire)
    assert draft.text_scale(title) == pytest.approx(1.4)
    odd = Segment.from_wire({"m": {"color": "#abc", "size": "3000", "role": "caption"}})
    assert (odd.kind, odd.colour, odd.colour_label) == ("other", "#AABBCC", "#AABBCC")
    # A size in px (over 4) as a string: kept as it came; the scale reads it as text_sizes does.
    assert odd.meta.size == "3000"
    assert Draft().text_scale(odd) == pytest.approx(3000 / (1080 * 0.05))


def test_segments_know_their_place_and_identity() -> None:
    draft = Draft.from_wire(ONE)
    assert [s.kind for s in draft.segments] == ["video", "music", "title"]
    assert [(s.order, s.nth, s.count) for s in draft.segments] == [(0, 1, 1), (1, 1, 1), (2, 1, 1)]
    assert [s.key for s in draft.segments] == ["s1", "s2", "s3"]
    anon = Draft.from_wire({"t": [{"tt": 7, "sg": [{"m": {"role": "caption"}}, 5]}]})
    (seg,) = anon.segments
    assert seg.key == ("#", "7", 0) and seg.kind == "caption"
    assert anon.to_wire() == {"t": [{"tt": 7, "sg": [{"m": {"role": "caption"}}, 5]}]}


def test_odd_fields_read_as_none_or_their_number_and_are_kept() -> None:
    seg = Segment.from_wire({"st": "1000", "d": "x", "m": {"mute": "yes", "volume": True}})
    assert (seg.start, seg.dur, seg.span()) == (1000.0, None, None)
    assert (seg.muted, seg.meta.volume, seg.percent) == (True, None, None)
    assert seg.extra == {"st": "1000", "d": "x"}
    assert seg.meta.extra == {"mute": "yes", "volume": True}
    missing = Segment.from_wire({"d": None})
    assert missing.span() == (0, 0)  # nothing said is no time, as the summary has it


async def test_the_stand_ins_partial_drafts_read_as_the_cloud_sent_them(_standin, tmp_path: Path):
    cloud = _standin
    cloud.reset()
    async with client_for(cloud, tmp_path) as c:
        await c.connect()
        first = (await c.session_state()).timeline
        # A new cloud session: no size yet, nothing on it.
        assert (first.meta.width, first.meta.height, first.ready) == (None, None, False)
        assert first.meta.title == "project" and first.duration == 5000
        await c.upload([png(tmp_path)])
        await turn(c, "generate a clip of the sea")
        state = await c.session_state()
    draft = state.timeline
    assert draft.to_wire() == state.draft and draft.ready
    assert (draft.meta.width, draft.meta.height) == (1920, 1080)  # sized by the upload
    kinds = [(s.track, s.kind) for s in draft.segments]
    assert kinds == [(TRACK_VIDEO, "video"), (TRACK_VIDEO, "video"), (TRACK_AUDIO, "music")]
    made = draft.segments[1]
    assert made.src is not None and made.src.startswith("http")  # the cloud's file, a URL
    assert made.meta.name is not None and made.meta.name.endswith(".mp4")
    assert draft.segments[2].percent == 35
    assert all(s.count == 1 and s.nth == 1 for s in draft.segments)  # one track a segment
    assert not [t for t in draft.tracks if t.type == TRACK_TEXT]


def test_the_tracks_pane_draws_each_bar_from_its_own_segment() -> None:
    # Odd entries (a number for a segment, a string for a track) shift nothing.
    draft = {
        "d": 4000,
        "t": [
            {"tt": 0, "sg": [5, {"id": "v", "st": 0, "d": 4000, "m": {"name": "a.jpg"}}]},
            "junk",
            {"tt": 7, "sg": [{"id": "t", "st": 2000, "d": 2000, "m": {"text": "Hi"}}]},
        ],
    }
    rows = rows_of(draft)
    assert [(seg.key, said) for seg, said in rows] == [
        ("v", "1. Video: a.jpg (0-4s)"),
        ("t", '2. Title: "Hi" (2-4s)'),
    ]
    assert [said for _, said in rows] == summarize_draft(draft)
    drawn = render_tracks(draft, summarize_draft(draft)).plain.splitlines()
    assert drawn == [rows[0][1], "   " + "█" * 20, rows[1][1], "   " + "·" * 10 + "█" * 10]
    assert [s.text for s in segments_of(draft)] == ["", "Hi"]
    assert [(s.kind, s.name, s.start, s.dur) for s in segments_of(draft)] == [
        ("video", "a.jpg", 0, 4000),
        ("title", "", 2000, 2000),
    ]
