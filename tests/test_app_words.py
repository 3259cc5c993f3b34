"""What the app says (issue 15, items 9 and 10), driven with a Pilot against the real engine at
the sizes the newcomer used: a batch that says its cost first, asks above a share of the credits,
sums up at its end and leaves the person on their own timeline; what a render costs, said
before it starts; the error lines' true reasons; /redo, a near-miss command, the help; the footer
at 80x24; Ready alone; the first launch's how-to, once; the theme kept; /open over SSH."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
import pytest_textual_snapshot
from textual.widgets._footer import FooterKey

from tests.media import photo
from tests.test_app import lines, pics, ready, say, until
from tests.test_app_snapshots import _screenshot
from tui.app import state as app_state
from tui.app.app import HOW_TO, I2VApp
from tui.client.errors import error_for
from tui.core.protocol import OUT_OF_CREDITS, UNSUPPORTED_TYPE
from widgets.confirm import Confirm
from widgets.credits import Credits
from widgets.prompt import Prompt
from widgets.tracks import Tracks

EXPORT_HINT = 'Say "export"'


@pytest.fixture(autouse=True)
def _no_desktop(monkeypatch: pytest.MonkeyPatch) -> None:
    """As over SSH: no display, so /open says where the file is."""
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)


def engine_db() -> sqlite3.Connection:
    return sqlite3.connect(Path(os.environ["I2V_FLOW_HOME"]) / "engine" / "engine.sqlite3")


def set_credits(available: int) -> None:
    db = engine_db()
    with db:
        db.execute("UPDATE users SET available=?", (available,))
    db.close()


def tracks_text(app: I2VApp) -> str:
    return str(app.query_one(Tracks).render())


async def mark(pilot, names: list[str]) -> None:
    """Space on each named file in Files (its rows: the root, sub, then the files by name)."""
    app: I2VApp = pilot.app
    tree = app.browser
    await until(pilot, lambda: len(tree.root.children) >= 1 + len(names), what="tree")
    tree.focus()
    rows = [n.data.path.name for n in tree.root.children]
    for name in names:
        tree.cursor_line = 1 + rows.index(name)
        await pilot.pause()
        await pilot.press("space")
    assert [p.name for p in tree.marked] == names
    app.query_one(Prompt).focus()


# ---- item 9: the batch ------------------------------------------------------------------------


async def test_a_batch_says_its_cost_sums_up_and_returns_to_the_timeline_on_screen(
    tmp_path: Path,
) -> None:
    folder = pics(tmp_path)
    photo(folder / "dune.png", (320, 240), seed=3)
    (folder / "fake.png").write_text("a text file named like a picture")
    app = I2VApp(folder, export_quality="standard")  # priced: the draft tier is free
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        # The person's own timeline, on screen before the batch.
        await say(pilot, "/upload city.png")
        await until(pilot, lambda: "Uploaded city.png" in lines(app), what="own upload")
        await say(pilot, "make it 4 seconds")
        await until(pilot, lambda: "city.png (0-4s)" in tracks_text(app), what="own timeline")
        await until(pilot, lambda: not app.busy, what="idle")
        assert app.client is not None
        own = app.client.session.session_id
        await mark(pilot, ["beach.jpg", "dune.png", "fake.png"])
        await say(pilot, "a 1 second 720p clip")
        await until(pilot, lambda: "Batch: " in lines(app) and " saved to " in lines(app), 90)
        text = lines(app)
        # The cost of the clips that will render, said against the balance before any starts.
        assert "2 clips will cost 2 credits; you have 100" in text
        rendering = "Rendering beach.mp4 (standard, 1 credit)"
        assert text.index("2 clips will cost") < text.index(rendering)
        # No 'Say "export"' in the replies of clips the batch renders by itself.
        batch_part = text.split("› a 1 second 720p clip", 1)[1]
        assert EXPORT_HINT not in batch_part and "Done: put beach.jpg" in batch_part
        # The summary, with the failure named.
        assert "✗ Batch: 2 of 3 saved to exports/; failed: fake.png (fake.png: not a" in text
        assert (folder / "exports" / "beach.mp4").exists()
        assert (folder / "exports" / "dune.mp4").exists()
        # Afterwards: the timeline on screen is the person's own, and the transcript says the
        # next instruction goes there; it does.
        assert "Back to your own timeline (in Tracks): the next instruction goes there" in text
        await until(pilot, lambda: "city.png (0-4s)" in tracks_text(app), what="own again")
        assert app.client.session.session_id == own
        await say(pilot, "make it 3 seconds")
        await until(pilot, lambda: "city.png (0-3s)" in tracks_text(app), 30, "own changed")
        assert (await app.client.draft())["d"] == 3000
        await until(pilot, lambda: app.query_one(Credits).available == 98, 10, "2 spent")


async def test_a_batch_above_the_share_asks_first_and_no_is_nothing_spent(
    snapshot, tmp_path: Path
) -> None:
    """You should see, over the main screen at 80x24, a box asking "Spend 2 credits of your 3
    on 2 clips?", with "more than 50% of your credits (ask_above in config.toml)" under it
    and "y / Enter: yes    n / Esc: no"."""
    svg = snapshot.use_extension(pytest_textual_snapshot.SVGImageExtension)
    folder = pics(tmp_path)
    app = I2VApp(folder, export_quality="standard")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        set_credits(3)
        await mark(pilot, ["beach.jpg", "city.png"])
        app.query_one(Prompt).cursor_blink = False
        await say(pilot, "a 1 second clip")
        await until(pilot, lambda: isinstance(app.screen, Confirm), 60, "the question")
        assert svg == await _screenshot(pilot)
        await pilot.press("n")
        await until(pilot, lambda: "Not rendered: 2 clips (nothing spent)" in lines(app), 10)
        await until(pilot, lambda: not app.busy, what="idle")
        assert not (folder / "exports").exists()
        assert "Rendering" not in lines(app)
        # Yes renders both.
        await mark(pilot, ["beach.jpg", "city.png"])
        await say(pilot, "a 1 second clip")
        await until(pilot, lambda: isinstance(app.screen, Confirm), 60, "asked again")
        await pilot.press("y")
        await until(pilot, lambda: "Batch: 2 of 2 saved to exports/" in lines(app), 60)
        await until(pilot, lambda: app.query_one(Credits).available == 1, 10, "2 spent")


# ---- item 10: words ---------------------------------------------------------------------------


async def test_our_engine_at_an_address_says_its_price_too(engine_url, tmp_path: Path) -> None:
    """`--api http://127.0.0.1:…` (`i2v-flow serve`): our engine by its /health, so its price
    is said as the embedded one's is (an address alone no longer counts as the cloud)."""
    app = I2VApp(pics(tmp_path), api=engine_url, export_quality="standard")
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await say(pilot, "/upload beach.jpg")
        await until(pilot, lambda: "Uploaded beach.jpg" in lines(app))
        await until(pilot, lambda: app.query_one(Credits).available == 100, what="credits")
        await say(pilot, "a 60 second 4k clip")
        await until(pilot, lambda: not app.busy and "Done:" in lines(app), 30, "turn")
        assert "Exporting this clip will cost 120 credits; you have 100" in lines(app)


async def test_what_a_render_costs_is_said_before_it_starts(tmp_path: Path) -> None:
    app = I2VApp(pics(tmp_path), export_quality="standard")
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        await say(pilot, "/upload beach.jpg")
        await until(pilot, lambda: "Uploaded beach.jpg" in lines(app))
        await until(pilot, lambda: app.query_one(Credits).available == 100, what="credits")
        # 60 s at 4K: 120 credits, more than there are: said after the turn, before /export.
        await say(pilot, "a 60 second 4k clip")
        await until(pilot, lambda: not app.busy and "Done:" in lines(app), 30, "turn")
        assert "Exporting this clip will cost 120 credits; you have 100" in lines(app)
        cheaper = (
            "→ a shorter or smaller clip costs less: 1 credit a second, 2 at 4K; a draft is free"
        )
        assert cheaper in lines(app)
        # A change that does not change the cost does not say it again.
        await say(pilot, "title 'Sale'")
        await until(pilot, lambda: not app.busy and "Sale" in tracks_text(app), 30, "title")
        assert lines(app).count("Exporting this clip will cost") == 1
        # The export is refused before a render starts, with the true reason.
        await say(pilot, "/export")
        await until(pilot, lambda: "not enough credits" in lines(app), 10, "refused")
        assert "✗ not enough credits: beach.mp4 costs 120 credits, you have 100" in lines(app)
        assert "used up" not in lines(app) and "Rendering" not in lines(app)
        # 40 s at 4K: 80 of 100, more than half: said, then asked; no renders nothing.
        await say(pilot, "make it 40 seconds")
        await until(pilot, lambda: "cost 80 credits of your 100" in lines(app), 30, "80")
        await say(pilot, "/export")
        await until(pilot, lambda: isinstance(app.screen, Confirm), 10, "asked")
        assert "Spend 80 credits of your 100 on beach.mp4?" in str(
            app.screen.query_one("#question").render()
        )
        await pilot.press("escape")
        await until(pilot, lambda: "Not rendered: beach.mp4 (nothing spent)" in lines(app), 10)
        # A cheap clip: its cost on the line that says it renders, and no question; a draft
        # of it is free, and said so.
        await say(pilot, "make it 1 second in 720p")
        await until(pilot, lambda: "(0-1s)" in tracks_text(app), 30, "1 s")
        await say(pilot, "/export")
        await until(pilot, lambda: "Rendering beach.mp4 (standard, 1 credit)…" in lines(app), 10)
        await until(pilot, lambda: "Saved exports/beach.mp4" in lines(app), 60, "saved")
        await until(pilot, lambda: app.query_one(Credits).available == 99, 10, "1 spent")
        await say(pilot, "/export draft")
        await until(pilot, lambda: "Rendering beach-2.mp4 (draft, free)…" in lines(app), 10)
        await until(pilot, lambda: "Saved exports/beach-2.mp4" in lines(app), 60, "saved")
        await say(pilot, "/credits")
        await until(pilot, lambda: "Credits: 99 available" in lines(app), 10, "nothing spent")
        # /open over SSH: the whole path, and why nothing opens.
        await say(pilot, "/open")
        path = (app.folder / "exports" / "beach-2.mp4").resolve()
        assert f"The last export is {path}" in lines(app)
        assert "→ no desktop here to open it in a player" in lines(app)


def test_the_error_words_say_the_true_reason() -> None:
    # Credits left, just not enough: not "used up".
    exc = error_for(
        OUT_OF_CREDITS,
        "out of credits: this render needs 120, you have 55",
        None,
        anonymous=True,
        cloud=False,
        client_id="c",
    )
    assert exc.message == "not enough credits: this render needs 120, you have 55"
    assert (
        exc.hint
        == "a shorter or smaller clip costs less: 1 credit a second, 2 at 4K; a draft is free"
    )
    exc = error_for(
        OUT_OF_CREDITS,
        "out of credits: this render needs 5, you have 0",
        None,
        anonymous=True,
        cloud=False,
        client_id="c",
    )
    assert exc.message.startswith("out of credits") and "used up" in exc.hint
    # The engine's words list the accepted types: the hint does not list them again.
    listed = "fake.png: not a supported image, video or audio file; accepted: jpg, png, gif"
    exc = error_for(UNSUPPORTED_TYPE, listed, None, anonymous=True, cloud=False, client_id="c")
    assert exc.hint == "" and str(exc).count("accepted") == 1
    exc = error_for(UNSUPPORTED_TYPE, "bad file", None, anonymous=True, cloud=False, client_id="c")
    assert exc.hint.startswith("accepted: jpg, jpeg, png")


async def test_a_fake_png_a_near_miss_command_redo_and_the_help(tmp_path: Path) -> None:
    folder = pics(tmp_path)
    (folder / "fake.png").write_text("not a picture")
    app = I2VApp(folder)
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await say(pilot, "/upload fake.png")
        await until(pilot, lambda: "fake.png: not a supported" in lines(app), 10, "refused")
        assert lines(app).count("accepted") == 1, lines(app)
        # A near miss: one line with the guess, not the whole help.
        await say(pilot, "/exprot")
        assert "✗ unknown command /exprot: did you mean /export? (/help lists them)" in lines(app)
        await say(pilot, "/zzz")
        assert "✗ unknown command /zzz (/help lists them)" in lines(app)
        assert "Say what you want" not in lines(app)
        # /redo, as "redo" works.
        await say(pilot, "/upload beach.jpg")
        await say(pilot, "make it 3 seconds")
        await say(pilot, "make it 6 seconds")
        await say(pilot, "/undo")
        await until(pilot, lambda: "(0-3s)" in tracks_text(app) and not app.busy, 30, "undo")
        await say(pilot, "/redo")
        await until(pilot, lambda: "Redid: " in lines(app), 30, "redo")
        await until(pilot, lambda: "(0-6s)" in tracks_text(app), 10, "6 s again")
        # The help names redo, t, the themes and ctrl+o.
        await say(pilot, "/help")
        await until(pilot, lambda: "Say what you want" in lines(app), 10, "help")
        help_text = lines(app).split("› /help", 1)[1]
        for words in ("/redo", "**t**", "themes", "ctrl+o"):
            assert words in help_text, words


async def test_a_chinese_reply_has_no_english_line_after_it(tmp_path: Path) -> None:
    app = I2VApp(pics(tmp_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await say(pilot, "/upload beach.jpg")
        await until(pilot, lambda: "Uploaded beach.jpg" in lines(app))
        for message in ("做一个3秒的视频，标题「春季促销」", "标题改成黄色"):
            await say(pilot, message)
            await until(pilot, lambda m=message: not app.busy and f"› {m}" in lines(app), 30)
            await until(pilot, lambda m=message: lines(app).split(f"› {m}")[1].strip(), 30)
            await until(pilot, lambda: "⏳ Working" not in lines(app), 10, "the turn's end")
            after = app.transcript.lines()
            reply = after[after.index(f"› {message}") + 1 :]
            assert len(reply) == 1 and reply[0].startswith("好的，"), reply
        # How to export was said once, on the first reply only.
        assert lines(app).count("可以说“导出”生成视频") == 1


@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
async def test_the_footer_shows_f1_help_whatever_has_the_focus(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    app = I2VApp(pics(tmp_path))
    async with app.run_test(size=size) as pilot:
        await ready(pilot)
        for _ in range(4):  # Files, Transcript, Tracks, the prompt
            await pilot.press("tab")
            await pilot.pause(0.2)
            # The footer recomposes its keys as the focus moves: read them once mounted.
            await until(pilot, lambda: app.query(FooterKey), 10, "the footer's keys")
            keys = {k.key: k.region for k in app.query(FooterKey)}
            palette = keys["ctrl+p"]
            f1 = keys["f1"]
            assert f1.width > 0 and f1.right <= palette.x, (type(app.focused).__name__, keys)
            strip = app.screen._compositor.render_strips()[-1].text
            assert "f1 Help" in strip, strip


async def test_the_first_launch_says_how_to_begin_once_and_the_theme_is_kept(
    snapshot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """You should see, at 80x24, the transcript with "Ready" (no "Connecting…" above it) and the
    three-line how-to under it: pick an image, say what you want, say "export" (f1 for help);
    the footer ends with "f1 Help" before "^p palette"."""
    monkeypatch.setattr(app_state, "HOW_TO_ON_FIRST_LAUNCH", True)
    svg = snapshot.use_extension(pytest_textual_snapshot.SVGImageExtension)
    folder = tmp_path / "pics"
    folder.mkdir()
    photo(folder / "beach.jpg", (400, 300))
    app = I2VApp(folder)
    async with app.run_test(size=(80, 24)) as pilot:
        app.query_one(Prompt).cursor_blink = False
        await ready(pilot)
        shown = app.transcript.lines()
        assert shown[:4] == ["Ready", *(line.format(out="exports") for line in HOW_TO)]
        assert "Connecting…" not in shown
        await until(pilot, lambda: app_state.load_state().welcomed, 5, "remembered")
        assert svg == await _screenshot(pilot)
        app.theme = "nord"  # what picking it in the palette does
        await until(pilot, lambda: app_state.load_state().theme == "nord", 5, "theme kept")
    # The next launch: the theme is back, the how-to is not said again.
    app = I2VApp(folder)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        assert app.theme == "nord"
        assert app.transcript.lines() == ["Ready: resumed your last session"] or (
            app.transcript.lines() == ["Ready"]
        )
        # /reconnect: "Connecting…" again, and again gone once Ready.
        await say(pilot, "/reconnect")
        await until(pilot, lambda: lines(app).count("Ready") == 2, 30, "ready again")
        assert "Connecting…" not in lines(app)
    saved = json.loads((Path(os.environ["I2V_FLOW_HOME"]) / "app.json").read_text())
    assert saved == {"theme": "nord", "welcomed": True}


def test_what_the_app_does_about_gui_words_is_said_in_the_answers_language() -> None:
    from tui.core.gui_words import translate_gui

    zh = translate_gui("完成了！点击导出按钮即可下载。如果不满意，可以点击撤销。")
    assert zh.actions == ["export"]
    assert zh.note == "它说的“导出”按钮：已在这里导出（/export）；它说的“撤销”按钮在这里是 /undo。"
    en = translate_gui("Done! Click the Export button to download your video.")
    assert en.note == "Its Export button: exporting here (/export)."
    drag = translate_gui("把标题拖到顶部。")
    assert len(drag.actions) == 1 and drag.actions[0].startswith("say:")
    assert drag.note.startswith("它说的拖拽，已作为文字发送：“")
