"""The agent's text sizes, read back as the renderer reads them; colour and weight, which the
renderer does not draw, are not read at all."""

from __future__ import annotations

import copy

import pytest

from tests.test_agent import BRIEF, IMG1, field
from tui.engine import agent
from tui.engine.agent.apply_text import RENDERER_SIZES, SIZES
from tui.engine.text_sizes import TEXT_SIZES, text_scale


def _title_size(message: str, draft: dict) -> object:
    turn = agent.plan_turn(message, draft, IMG1, "en")
    assert turn.draft is not None, turn.reply
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


@pytest.mark.parametrize(
    "message",
    ["make the title yellow", "标题改成黄色", "change the title to red", "make the title bold"],
)
def test_colour_and_weight_change_nothing(message: str) -> None:
    # Titles are drawn white and bold whatever the draft says, so these are not edits (and
    # "标题改成黄色" is not a new title text "黄色").
    turn = agent.plan_turn(message, BRIEF, IMG1, "en")
    assert turn.draft is None and turn.calls == []
