"""The quality tiers are named once (tui/core/tiers.py): the parsers offer them, the settings
file, the engine and the renderer accept them and only them, the renderer encodes each."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.test_engine_api import auth, clip, new_session, start_render, token, upload_photo
from tui.cli.main import parsers
from tui.core.config import ConfigError, load
from tui.core.tiers import DEFAULT_TIER, TIERS, tier_list
from tui.engine.render import pipeline
from tui.engine.render.errors import RenderError
from tui.watch import WatchConfig


def test_the_tiers_read_as_a_list_best_first() -> None:
    assert TIERS == ("high", "standard", "draft") and DEFAULT_TIER in TIERS
    assert tier_list() == "high, standard or draft"
    assert tier_list(" | ", " | ") == "high | standard | draft"


def test_the_renderer_has_settings_for_each_tier_and_no_other() -> None:
    assert tuple(pipeline.QUALITY) == TIERS


def test_every_quality_flag_offers_exactly_the_tiers() -> None:
    offered = {}
    for name, parser in parsers().items():
        for action in parser._actions:
            if "--quality" in action.option_strings:
                offered[name] = action.choices
    assert {"render", "watch"} <= set(offered)
    assert all(tuple(choices) == TIERS for choices in offered.values()), offered
    args = parsers()["render"].parse_args(["x.png"])
    assert args.quality == DEFAULT_TIER == WatchConfig(Path(".")).quality


def test_a_quality_flag_refuses_another_word(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parsers()["render"].parse_args(["x.png", "--quality", "ultra"])
    assert exit_.value.code == 2
    assert "choose from 'high', 'standard', 'draft'" in capsys.readouterr().err


def test_the_settings_file_takes_each_tier_and_no_other(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    env = {"I2V_FLOW_CONFIG": str(path)}
    for tier in TIERS:
        path.write_text(f'quality = "{tier}"\n', encoding="utf-8")
        assert load(env).settings.quality == tier
    path.write_text('quality = "ultra"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="must be one of high, standard, draft"):
        load(env)


def test_the_renderer_refuses_an_unknown_tier_naming_the_tiers(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match=r"unknown quality 'ultra' \(use high, standard or draft"):
        pipeline.render_draft({}, {}, tmp_path / "x.mp4", quality="ultra")
    assert not (tmp_path / "x.mp4").exists()


def test_the_engine_takes_each_tier_and_refuses_another(api: httpx.Client, tmp_path: Path) -> None:
    tok = token(api)
    sid = new_session(api, tok)
    src = upload_photo(api, tok, sid, tmp_path / "p.png", (64, 48))["hash"]
    draft = clip(src, 1, size=(160, 90))
    refused = start_render(api, tok, sid, draft, output={"format": "mp4", "quality": "ultra"})
    assert refused.status_code == 400
    assert refused.json()["message"] == "output.quality must be high, standard or draft"
    for tier in TIERS:
        r = start_render(api, tok, sid, draft, output={"format": "mp4", "quality": tier})
        assert r.status_code == 200, r.text
        api.post(f"/api/render/proxy/lambda/{r.json()['data']['id']}/cancel", headers=auth(tok))


async def test_the_apps_export_refuses_another_word_naming_the_tiers(tmp_path: Path) -> None:
    from tests.test_app import lines, ready, say, until
    from tui.app.app import I2VApp

    app = I2VApp(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await say(pilot, "/export ultra")
        await until(pilot, lambda: "unknown quality 'ultra'" in lines(app), what="refused")
        assert "use /export high, standard or draft" in lines(app)
        assert not (tmp_path / "exports").exists()
