"""The one command table (tui/core/command_table.py) is the single source of the app's commands:
the palette, /help, the slash words, "did you mean" and the app's keys are made from it, and
nothing else declares one."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from tests.test_app import lines, pics, ready, say, until
from tui.app import commands as app_commands
from tui.app.app import I2VApp
from tui.app.commands import help_markdown, unknown_command
from tui.app.palette import COMMANDS as PALETTE
from tui.app.palette import I2VCommands
from tui.core.command_table import BY_NAME, COMMANDS, SLASH_WORDS
from tui.core.intents import Intent, route
from tui.core.tiers import TIERS
from widgets.footer import HelpFooter

ROOT = Path(__file__).resolve().parents[1]
SLASH = [c for c in COMMANDS if c.words]
KEYED = [c for c in COMMANDS if c.key]


def test_the_table_is_whole_and_each_name_word_and_key_is_declared_once() -> None:
    names = [c.name for c in COMMANDS]
    words = [w for c in COMMANDS for w in c.words]
    keys = [c.key for c in KEYED]
    assert len(set(names)) == len(names) and len(set(words)) == len(words), (names, words)
    assert len(set(keys)) == len(keys), keys
    assert list(SLASH_WORDS) == words
    for c in COMMANDS:
        assert callable(getattr(I2VApp, c.run, None)), f"{c.name}: no I2VApp.{c.run}"
        assert c.run.startswith(("command_", "action_")), c.run
        if c.words:  # a slash command's name is its first word: the intent's action
            assert c.name == c.words[0], c
        if c.line:  # said on an earlier slash command's line
            assert BY_NAME[c.line].words and names.index(c.line) < names.index(c.name), c
        if c.key:
            assert c.label, f"{c.name}: a key without a name in the footer"
        # Reachable some way: a slash word, a key or a palette entry.
        assert c.words or c.key or c.title, f"{c.name} cannot be reached"


@pytest.mark.parametrize("command", SLASH, ids=lambda c: c.name)
def test_every_slash_word_routes_to_its_command(command) -> None:
    for word in command.words:
        assert route(f"/{word}") == Intent(command.name)
        assert route(f"/{word.upper()}  ") == Intent(command.name)
        assert route(f"/{word}  x ") == Intent(command.name, "x")  # the argument, if it takes one
        # A near miss (its last letter changed) is guessed as it.
        miss = word[:-1] + ("z" if word[-1] != "z" else "q")
        assert route(f"/{miss}") == Intent("help", miss)
        assert f"did you mean /{word}?" in unknown_command(miss), (miss, unknown_command(miss))


def test_help_says_each_slash_command_its_hidden_key_and_the_tiers_from_tiers_py() -> None:
    text = help_markdown()
    for c in SLASH:
        said = f"`/{c.words[0]}" in text
        assert said == bool(c.help or c.line), (c.name, said)
        if said and c.key and not c.footer:  # a key the footer does not show
            assert f"`/{c.words[0]}`, **{c.key}**" in text, c.name
        if said and c.key and c.footer:  # the footer shows it: not said twice
            assert f"**{c.key}**" not in text, c.name
        if c.help:
            assert c.help in text, c.name
    for c in COMMANDS:  # the key-only commands, in the keys paragraph (last)
        if c.key and c.help and not c.words:
            assert text.endswith(f"**{c.key}** {c.help}."), text[-80:]
    assert f"`/export [{'|'.join(TIERS)}]`" in text  # best first, as tiers.py says them
    assert text.index("`/upload") < text.index("`/export") < text.index("`/reconnect")


def test_nothing_outside_the_table_declares_an_app_command() -> None:
    """The app's BINDINGS are the table's keys, its palette the table's entries, its `command_*`
    and `action_*` methods the table's (and the one dispatcher); no module of tui/ builds a
    Binding but the one that makes them from the table, and none lists the commands' words (half
    of them or more in one tuple or list) but the table."""
    made = {(b.key, b.action, b.description, b.show, b.priority) for b in I2VApp.BINDINGS}
    table = set()
    for c in KEYED:
        action = c.run.removeprefix("action_") if c.run.startswith("action_") else None
        action = action or f"command({c.name!r})"
        table.add((c.key, action, c.label, c.footer, c.priority))
    assert made == table
    assert len(I2VApp.BINDINGS) == len(KEYED)
    assert [(c.title, c.run, c.about) for c in COMMANDS if c.title] == PALETTE
    runs = {c.run for c in COMMANDS}
    ours = [k for k in I2VApp.__mro__ if k.__module__.startswith("tui.")]
    for klass in ours:
        for name, _ in inspect.getmembers(klass, inspect.isfunction):
            if name.startswith(("command_", "action_")) and name in vars(klass):
                assert name in runs or name == "action_command", f"{klass.__name__}.{name}"
    for path in sorted((ROOT / "tui").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Binding":
                assert rel == "tui/app/commands.py", f"{rel}:{node.lineno} declares a key"
            if rel != "tui/core/command_table.py" and isinstance(node, ast.Tuple | ast.List):
                strings = {e.value for e in node.elts if isinstance(e, ast.Constant)}
                many = len(strings & set(SLASH_WORDS)) >= len(SLASH_WORDS) // 2
                assert not many, f"{rel}:{node.lineno} lists the commands"


async def test_the_palette_help_and_keys_of_the_running_app_come_from_the_table(
    tmp_path: Path,
) -> None:
    app = I2VApp(pics(tmp_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        # The palette: the table's entries, in its order, each calling the table's method.
        hits = [h async for h in I2VCommands(app.screen).discover()]
        assert [h.text for h in hits] == [c.title for c in COMMANDS if c.title]
        for hit, c in zip(hits, [c for c in COMMANDS if c.title], strict=True):
            assert hit.command.func == getattr(app, c.run), c.name
        # Every key of the table is bound, and the footer shows the table's (f1 Help first).
        active = app.active_bindings
        for c in KEYED:
            if c.name == "stop_waiting":  # Esc: only while a turn is in flight (its own test)
                continue
            assert c.key in active and active[c.key].binding.description == c.label, c.key
        footer = app.query_one(HelpFooter)
        # The footer recomposes its keys when the bindings change (focus moves at start): read
        # them once they are mounted (CI FLAKY, Python 3.12: read mid-recompose, none there).
        await until(pilot, lambda: footer.query("FooterKey"), 10, "the footer's keys")
        shown = [k.key for k in footer.query("FooterKey")]
        assert shown[0] == "f1", shown
        idle = [c.key for c in FOOTER_ORDER if c.name != "stop_waiting"]  # Esc: in a turn only
        assert [k for k in shown[1:] if k in BY_KEY] == idle, shown
        # A key and its slash word run the same command: ctrl+o and /open both answer.
        await pilot.press("ctrl+o")
        await until(pilot, lambda: lines(app).count("Nothing exported yet") == 1, 10, "ctrl+o")
        await say(pilot, "/open")
        await until(pilot, lambda: lines(app).count("Nothing exported yet") == 2, 10, "/open")
        # /reconnect is a slash word like the others, with words after it too.
        await say(pilot, "/reconnect now")
        await until(pilot, lambda: lines(app).count("Ready") == 2, 60, "reconnected")
        assert "unknown command" not in lines(app)
        # f1 is /help.
        await pilot.press("f1")
        await until(pilot, lambda: "** quits." in "".join(app.transcript.lines()), 10, "f1")
        assert app_commands.INTRO.split("**")[1] in lines(app)


BY_KEY = {c.key: c for c in KEYED}
# f1 Help is put first by HelpFooter; the others in the table's order.
FOOTER_ORDER = [c for c in KEYED if c.footer and c.key != "f1"]
