"""The agent's text sizes and colours, read back as the renderer reads them; weight, which the
renderer does not vary (every text is bold), is not read at all."""

from __future__ import annotations

import copy

import pytest

from tests.test_agent import BRIEF, IMG1, field
from tui.core.protocol import summarize_draft
from tui.core.text_colours import COLOUR_ZH, TEXT_COLOURS
from tui.core.text_sizes import TEXT_SIZES, text_scale
from tui.engine import agent
from tui.engine.agent.apply_text import RENDERER_SIZES, SIZES
from tui.engine.render.text import parse_colour


def _title_size(message: str, draft: dict) -> object:
    """The title's size after `message`; at either end of the sizes a step changes nothing
    (no draft), and the reply says the title is already as big (or small) as it goes."""
    turn = agent.plan_turn(message, draft, IMG1, "en")
    if turn.draft is None:
        ends = ("The title is already as big as it goes.", "The title is already as small as")
        assert turn.calls == [] and (turn.reply.startswith(ends) or "已经是最" in turn.reply)
        return field(draft, "T0.size")
    return field(turn.draft, "T0.size")


def test_the_named_sizes_are_the_renderers() -> None:
    assert RENDERER_SIZES == TEXT_SIZES


@pytest.mark.parametrize(
    "message,name",
    [
        ("make the title tiny", "tiny"),
        ("make the title small", "small"),
        ("make the title normal size", "medium"),
        ("make the title large", "large"),
        ("make the title huge", "huge"),
    ],
)
def test_each_size_renders_at_its_scale(message: str, name: str) -> None:
    size = _title_size(message, BRIEF)
    assert text_scale(size, "title", BRIEF) == pytest.approx(SIZES[name])


def test_bigger_and_smaller_step_along_the_sizes_and_stop_at_the_ends() -> None:
    draft = copy.deepcopy(BRIEF)
    seen = []
    for _ in range(4):
        draft["t"][2]["sg"][0]["m"]["size"] = _title_size("make the title bigger", draft)
        seen.append(draft["t"][2]["sg"][0]["m"]["size"])
    assert seen == ["large", 2.0, 2.0, 2.0]
    seen = []
    for _ in range(5):
        draft["t"][2]["sg"][0]["m"]["size"] = _title_size("标题小一点", draft)
        seen.append(draft["t"][2]["sg"][0]["m"]["size"])
    assert seen == ["large", "medium", "small", 0.5, 0.5]


def test_a_size_in_px_past_the_largest_is_kept_by_bigger() -> None:
    draft = copy.deepcopy(BRIEF)
    draft["t"][2]["sg"][0]["m"]["size"] = 300  # px on the 1080 px short side: about 3.3x
    assert _title_size("make the title bigger", draft) == 300
    assert _title_size("make the title smaller", draft) == 2.0


@pytest.mark.parametrize("message", ["make the title bold", "标题加粗", "bold title"])
def test_weight_changes_nothing(message: str) -> None:
    # Titles are drawn bold whatever the draft says, so this is not an edit (nor new text).
    turn = agent.plan_turn(message, BRIEF, IMG1, "en")
    assert turn.draft is None and turn.calls == []


def _title_colour(message: str) -> object:
    turn = agent.plan_turn(message, BRIEF, IMG1, "en")
    assert turn.draft is not None, turn.reply
    assert field(turn.draft, "T*.text") == ["Hi", "Buy"]  # a colour is never the new text
    return field(turn.draft, "T0.color")


@pytest.mark.parametrize("name", sorted(TEXT_COLOURS))
def test_every_colour_name_is_read_in_both_languages_and_drawn_as_the_table_says(
    name: str,
) -> None:
    hexed = TEXT_COLOURS[name]
    assert _title_colour(f"make the title {name}") == hexed
    assert _title_colour(f"a {name} title") == hexed
    assert _title_colour(f"标题改成{COLOUR_ZH[name]}色") == hexed
    assert _title_colour(f"{COLOUR_ZH[name]}色的标题") == hexed
    rgb = parse_colour(hexed)
    assert rgb is not None and "#{:02X}{:02X}{:02X}".format(*rgb) == hexed


@pytest.mark.parametrize(
    "message,hexed",
    [
        ("make the title grey", TEXT_COLOURS["grey"]),
        ("make the title golden", TEXT_COLOURS["gold"]),
        ("标题用金黄色", TEXT_COLOURS["gold"]),
        ("标题用橘色", TEXT_COLOURS["orange"]),
        ("title color #FC0", "#FFCC00"),
        ("change the title colour to #1a2B3c", "#1A2B3C"),
        ("a red-coloured title", TEXT_COLOURS["red"]),
        ("title: red", TEXT_COLOURS["red"]),
        ("the title should be green", TEXT_COLOURS["green"]),
        ("title in orange please", TEXT_COLOURS["orange"]),
        ("yellow font", TEXT_COLOURS["yellow"]),
        ("标题是红色的", TEXT_COLOURS["red"]),
    ],
)
def test_aliases_and_hex(message: str, hexed: str) -> None:
    assert _title_colour(message) == hexed


@pytest.mark.parametrize(
    "message",
    [
        "put the title on a green background",
        "give the title a black outline",
        "put the title in the blue sky",
        "标题加红色描边",
        "标题用黑色背景",
        "title #12345",  # not a colour: five digits
    ],
)
def test_colours_that_are_not_the_texts_fill_are_not_read(message: str) -> None:
    turn = agent.plan_turn(message, BRIEF, IMG1, "en")
    assert turn.draft is None or field(turn.draft, "T*.color") == [None, None], turn.reply


@pytest.mark.parametrize(
    "message,said",
    [
        ("make the title yellow", '"Hi" at 0-2 s (center, in yellow)'),
        ("make the title bigger and pink", '"Hi" at 0-2 s (center, large size, in pink)'),
        ("title colour #123456", '"Hi" at 0-2 s (center, in #123456)'),
        ("title colour #ffd600", "(center, in yellow)"),  # the table's own hex has its name
        ("标题改成黄色", "标题「Hi」：0-2 秒，居中，黄色"),
        ("字幕用灰色", "字幕「Buy」：2-4 秒，底部，灰色"),
        ("标题颜色#123456", "居中，#123456"),
    ],
)
def test_the_reply_names_the_colour(message: str, said: str) -> None:
    turn = agent.plan_turn(message, BRIEF, IMG1, "zh" if agent.is_chinese(message) else "en")
    assert said in turn.reply
    assert turn.calls[0].args["color"].startswith("#")


def test_the_track_summary_shows_the_colour_after_a_turn() -> None:
    turn = agent.plan_turn("make the title yellow and the caption #123456", BRIEF, IMG1, "en")
    assert turn.draft is not None
    assert summarize_draft(turn.draft)[2:] == [
        '3. Title: "Hi" (0-2s, yellow)',
        '4. Caption: "Buy" (2-4s, #123456)',
    ]
    white = agent.plan_turn("make the title white", turn.draft, IMG1, "en").draft
    assert white is not None and summarize_draft(white)[2] == '3. Title: "Hi" (0-2s)'
