"""Where the focus goes, driven with a Pilot against the real engine the app starts: to the
prompt after Enter uploads a file, and with a printable key typed in a pane that has no use for
it (as in chat apps); a pane's own keys keep their meaning. Where it is shows without colour.
And a job that ends while the terminal is not looked at is told (tui/app/notify.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual import events

from tests.media import photo
from tests.test_app import cursor_name, lines, pics, ready, say, until
from tui.app.app import I2VApp
from tui.app.notify import terminal_notification
from widgets.files import FileBrowser
from widgets.prompt import Prompt
from widgets.tracks import Tracks
from widgets.transcript import Transcript


async def _on_beach(pilot) -> FileBrowser:
    app: I2VApp = pilot.app
    await ready(pilot)
    app.browser.focus()
    await until(pilot, lambda: app.browser.root.children, what="tree loaded")
    await pilot.press("down", "down")  # sub/, beach.jpg
    await until(pilot, lambda: cursor_name(app) == "beach.jpg", what="cursor on beach.jpg")
    return app.browser


async def test_typing_after_an_upload_goes_to_the_prompt(tmp_path: Path) -> None:
    """The issue's new user: Enter uploads, then types a sentence with spaces and Enter. Once
    uploaded, no space marks a file and no Enter uploads it again: the sentence is sent."""
    app = I2VApp(pics(tmp_path))
    async with app.run_test(size=(100, 30)) as pilot:
        browser = await _on_beach(pilot)
        await pilot.press("enter")
        prompt = app.query_one(Prompt)
        assert app.focused is prompt
        await pilot.press(*"a 2 second clip")  # spaces included
        assert prompt.value == "a 2 second clip"
        await pilot.press("enter")
        await until(pilot, lambda: "Done:" in lines(app) and not app.busy, what="the answer")
        text = lines(app)
        assert text.count("› /upload beach.jpg") == 1 and text.count("Uploaded beach.jpg") == 1
        assert "› a 2 second clip" in text and browser.marked == []
        # The timeline is its own message, handled after the answer's last words (CI, 3.12).
        tracks = app.query_one(Tracks)
        await until(pilot, lambda: "Video: beach.jpg" in str(tracks.render()), what="the tracks")
        assert "1. Video: beach.jpg (0-2s)" in str(tracks.render())


async def test_a_printable_key_in_a_pane_goes_to_the_prompt_its_own_keys_stay(
    tmp_path: Path,
) -> None:
    app = I2VApp(pics(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        prompt = app.query_one(Prompt)
        transcript = app.query_one(Transcript)
        transcript.focus()
        await pilot.press("h")
        assert app.focused is prompt and prompt.value == "h"
        await pilot.press("i")
        assert prompt.value == "hi"
        # `t` is the transcript's own key: tool lines shown, nothing typed.
        transcript.focus()
        await pilot.press("t")
        assert app.focused is transcript and prompt.value == "hi" and transcript.has_class("-tools")
        # In Tracks a letter it does not take goes on the prompt where it stopped; one it takes
        # (`]`, longer) stays there: with nothing on the timeline it only says so.
        app.query_one(Tracks).focus()
        await pilot.press("]")
        assert isinstance(app.focused, Tracks) and prompt.value == "hi"
        assert any("timeline is empty" in n.message for n in app._notifications)
        await pilot.press("q", "?")
        assert app.focused is prompt and prompt.value == "hiq?"
        # Keys with ctrl, and keys that print nothing, are never typed for the person.
        transcript.focus()
        await pilot.press("ctrl+l", "down", "f9")
        assert app.focused is transcript and prompt.value == "hiq?"


async def test_space_in_files_still_marks_and_a_letter_goes_to_the_prompt(tmp_path: Path) -> None:
    app = I2VApp(pics(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        browser = await _on_beach(pilot)
        await pilot.press("space")
        assert app.focused is browser and [p.name for p in browser.marked] == ["beach.jpg"]
        prompt = app.query_one(Prompt)
        assert prompt.value == "" and "1 marked" in prompt.placeholder
        await pilot.press("w")
        assert app.focused is prompt and prompt.value == "w"
        assert [p.name for p in browser.marked] == ["beach.jpg"]  # still marked


async def test_without_colour_the_focus_still_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NO_COLOR: a focused pane's border is heavy, every other round; the prompt's focus is its
    cursor, lit (reversed) and not blinking, with no heavy border anywhere."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = I2VApp(pics(tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        prompt = app.query_one(Prompt)
        panes = [app.query_one("#files"), app.transcript, app.query_one(Tracks)]
        assert app.focused is prompt and prompt.cursor_blink is False
        assert all(p.styles.border_top[0] == "round" for p in panes)
        await pilot.press("a")
        cursor = prompt.get_component_rich_style("input--cursor")
        assert cursor.reverse or cursor.bgcolor is not None  # the cell under it stands out
        await pilot.press("tab")
        await pilot.pause()
        assert app.focused is not prompt
        assert sorted(p.styles.border_top[0] for p in panes) == ["heavy", "round", "round"]


@pytest.mark.parametrize(
    "env,sent",
    [
        ({"TERM_PROGRAM": "iTerm.app"}, "\x1b]9;Saved a.mp4\x07"),
        ({"TERM_PROGRAM": "WezTerm", "TERM": "xterm-256color"}, "\x1b]9;Saved a.mp4\x07"),
        ({"TERM": "xterm-ghostty"}, "\x1b]9;Saved a.mp4\x07"),
        ({"TERM": "foot"}, "\x1b]777;notify;i2v-flow;Saved a.mp4\x07"),
        ({"TERM": "rxvt-unicode-256color"}, "\x1b]777;notify;i2v-flow;Saved a.mp4\x07"),
        ({"TERM": "xterm-kitty", "KITTY_WINDOW_ID": "1"}, "\x1b]99;;Saved a.mp4\x1b\\"),
        ({"TERM": "xterm-256color"}, "\a"),
        ({"TERM": "tmux-256color", "TMUX": "/tmp/t", "TERM_PROGRAM": "tmux"}, "\a"),
        ({"TERM": "screen", "TERM_PROGRAM": "iTerm.app"}, "\a"),  # screen would swallow it
        ({}, "\a"),
    ],
)
def test_the_terminal_notification_suits_the_terminal(env: dict, sent: str) -> None:
    assert terminal_notification("Saved a.mp4", env) == sent


def test_a_notification_never_carries_control_bytes() -> None:
    sent = terminal_notification("a\x07b\x1b]0;x;y\nz", {"TERM": "foot"})
    assert sent == "\x1b]777;notify;i2v-flow;a b ]0 x y z\x07"


async def _export_seen(pilot, n: int) -> None:
    """/export as the palette sends it: a key would tell Textual the terminal is looked at."""
    app: I2VApp = pilot.app
    app.command_export()
    await until(pilot, lambda: lines(app).count("Saved exports/") >= n, 120, "the export saved")


@pytest.mark.parametrize("notify", [True, False])
async def test_an_export_that_ends_unseen_is_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, notify: bool
) -> None:
    """Looked away (AppBlur): the export's end is a toast and OSC 9 written to the terminal
    driver (WezTerm here); looked at (AppFocus): neither. `notify = false`: never."""
    monkeypatch.setenv("TERM_PROGRAM", "WezTerm")
    app = I2VApp(pics(tmp_path), export_quality="draft", notify=notify)
    async with app.run_test(size=(100, 30)) as pilot:
        written: list[str] = []
        driver = app._driver
        assert driver is not None
        real_write = driver.write
        driver.write = lambda data: (written.append(data), real_write(data))[1]  # type: ignore[method-assign]
        await ready(pilot)
        await say(pilot, "/upload beach.jpg")
        await until(pilot, lambda: "Uploaded beach.jpg" in lines(app), what="uploaded")
        await say(pilot, "a 1 second clip")
        await until(pilot, lambda: "Done:" in lines(app) and not app.busy, what="the turn")

        app.post_message(events.AppBlur())
        await until(pilot, lambda: not app.app_focus, what="blurred")
        await _export_seen(pilot, 1)
        told = [w for w in written if w.startswith("\x1b]9;")]
        toasts = [x.message for x in app._notifications if "Saved" in x.message]
        if notify:
            assert told == ["\x1b]9;Saved exports/beach.mp4\x07"]
            assert toasts == ["Saved exports/beach.mp4"]
        else:
            assert told == [] and toasts == [] and "\a" not in written

        app.post_message(events.AppFocus())
        await until(pilot, lambda: app.app_focus, what="focused")
        await _export_seen(pilot, 2)
        assert "Saved exports/beach-2.mp4" in lines(app)
        assert [w for w in written if w.startswith("\x1b]9;")] == told  # nothing new


async def test_a_watched_image_done_unseen_is_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A watched image made into a clip while the terminal is not looked at: a toast and the
    bell, in tmux (which would swallow OSC 9 and marks the window for a bell instead)."""
    monkeypatch.setenv("TMUX", "/tmp/tmux-0/default,1,0")
    monkeypatch.setenv("TERM_PROGRAM", "WezTerm")  # outside tmux: not what counts
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "prompt.txt").write_text("a 1 second clip\n")
    app = I2VApp(pics(tmp_path), export_quality="draft", watch=inbox, watch_settle=0.3)
    async with app.run_test(size=(100, 30)) as pilot:
        written: list[str] = []
        driver = app._driver
        assert driver is not None
        real_write = driver.write
        driver.write = lambda data: (written.append(data), real_write(data))[1]  # type: ignore[method-assign]
        await ready(pilot)
        await until(pilot, lambda: "Watch: watching" in lines(app), what="watching")
        app.post_message(events.AppBlur())
        await until(pilot, lambda: not app.app_focus, what="blurred")
        photo(inbox / "drop.png", (160, 120))
        await until(pilot, lambda: "Watch: drop.png done → " in lines(app), 60, "done line")
        await until(pilot, lambda: "\a" in written, 5, "the bell")
        assert not [w for w in written if w.startswith("\x1b]9;")]
        assert any(x.message.startswith("Watch: drop.png done") for x in app._notifications)
