"""Every command of the app, declared once: its slash words, its key, its /help line, its palette
entry and the App method it runs. Made from this table: the slash words the prompt routes
(tui/core/intents.py) and their "did you mean", /help, the app's key bindings and so its footer
(tui/app/commands.py) and the command palette (tui/app/palette.py).

It is plain data in the core, not the app, because the intents router (core) reads its slash
words; the app turns it into Textual's bindings and palette hits.

Pane-local keys stay in their pane's BINDINGS, since they act on what that pane shows: Files'
Enter and space (widgets/files.py), the transcript's t, the Tracks pane's edit keys
(widgets/tracks.py, said by its own Tracks.HELP), the preview's, the prompt's history, the watch
queue's Enter and the confirm dialog's y/n. /help says them in words (PANE_KEYS and Tracks.HELP).
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.core.tiers import tier_list


@dataclass(frozen=True)
class Command:
    name: str  # its first slash word when it has one (the Intent's action), else a name
    # The App method it runs: a `command_*` (given what follows the slash word when `usage` says
    # it takes something), or a Textual `action_*`, which its key is bound to as it is.
    run: str
    words: tuple[str, ...] = ()  # the slash words; /help shows the first
    usage: str = ""  # what the slash word takes ("PATH"); a command with one is given it
    help: str = ""  # its words on its /help line (a key-only command's: after its key)
    line: str = ""  # said on this other command's /help line (its words, then ours)
    key: str = ""  # an app-wide key
    label: str = ""  # the key's name in the footer
    footer: bool = True  # shown in the footer; when not, /help names the key
    priority: bool = False  # the key wins over the focused pane's
    title: str = ""  # the command palette's entry ("" not in the palette)
    about: str = ""  # the palette entry's help


# One order for every list made from it: the footer's keys (after f1 Help, which HelpFooter puts
# first; then ^q Quit), /help's slash commands, the palette's entries, "did you mean"'s ties.
COMMANDS: tuple[Command, ...] = (
    Command("quit", "action_quit", help="quits", key="ctrl+q", label="Quit", priority=True),
    Command(
        "upload",
        "command_upload",
        words=("upload",),
        usage="PATH",
        help="upload a file (or **Enter** on it in Files)",
        title="Upload the highlighted file",
        about="the file under the cursor in Files",
    ),
    Command(
        "upload_marked",
        "command_upload_marked",
        title="Upload the marked files",
        about="every file marked with space",
    ),
    Command(
        "clear_marks",
        "command_clear_marks",
        title="Clear the marks",
        about="unmark every file in Files",
    ),
    Command(
        "export",
        "command_export",
        words=("export",),
        usage=f"[{tier_list('|', '|')}]",  # the tiers as tiers.py says them
        help="render and save to the exports folder",
        key="ctrl+s",
        label="Export",
        priority=True,
        title="Export the timeline to MP4",
        about="render and download to the exports folder",
    ),
    Command(
        "credits",
        "command_credits",
        words=("credits",),
        help="the balance",
        key="ctrl+r",
        label="Credits",
        priority=True,
        title="Refresh credits",
        about="available, frozen and total",
    ),
    Command(
        "status",
        "command_status",
        words=("status",),
        help="the timeline",
        line="credits",
        title="Show the timeline",
        about="the tracks, read from the backend",
    ),
    Command(
        "undo",
        "command_undo",
        words=("undo",),
        help="step back, and forward again",
        title="Undo the last change",
        about="step the timeline back",
    ),
    Command(
        "redo",
        "command_redo",
        words=("redo",),
        line="undo",
        title="Redo",
        about="step forward again after an undo",
    ),
    Command(
        "new",
        "command_new_session",
        words=("new",),
        help="start a new session",
        line="undo",
        key="ctrl+n",
        label="New",
        priority=True,
        title="New session",
        about="start an empty timeline",
    ),
    Command(
        "open",
        "command_open",
        words=("open",),
        help="open the last export (over SSH: where it is)",
        key="ctrl+o",
        label="Open",
        footer=False,
        priority=True,
        title="Open the last export",
        about="with the desktop's opener, else show its path",
    ),
    Command(
        "save",
        "command_save",
        words=("save",),
        help="fetch what the cloud's own tools made (a generated clip) into the exports folder",
        title="Save what the cloud made",
        about="the session's generated media, into the exports folder",
    ),
    Command(
        "preview",
        "command_preview",
        words=("preview",),
        help="show or hide the preview of the clip",
        key="f2",
        label="Preview",
        footer=False,  # the footer is full: /help names it
        title="Preview the clip",
        about="play the timeline here (f2 shows or hides it)",
    ),
    Command(
        "watch",
        "command_watch",
        words=("watch",),
        usage="DIR",
        help="a clip from every image dropped into DIR (to DIR/out); `/watch off` stops",
    ),
    Command(
        "watch_off",
        "command_watch_off",
        title="Stop watching",
        about="stop the watch folder (/watch DIR starts one)",
    ),
    Command(
        "reconnect",
        "command_reconnect",
        words=("reconnect",),
        help="restart the local engine, or reconnect",
        title="Reconnect",
        about="restart the local engine or reconnect to the backend",
    ),
    Command(
        "help",
        "command_help",
        words=("help",),
        key="f1",
        label="Help",
        title="Help",
        about="commands, keys and examples",
    ),
    Command(  # only while a turn is in flight (the app's check_action)
        "stop_waiting", "action_stop_waiting", key="escape", label="Stop waiting"
    ),
)

# The keys no app command has, in words for /help: the panes' own (see the docstring) and
# Textual's palette. The key-only commands' ("**ctrl+q** quits") follow.
PANE_KEYS = """\
**Space** marks files: the next instruction goes to each, one clip each. **Tab** moves between
panes, **t** in the transcript shows the tool calls, **ctrl+p** lists every action and the
themes (the one picked is kept)"""

BY_NAME: dict[str, Command] = {c.name: c for c in COMMANDS}
BY_WORD: dict[str, Command] = {w: c for c in COMMANDS for w in c.words}
SLASH_WORDS: tuple[str, ...] = tuple(BY_WORD)  # in table order ("did you mean" prefers earlier)


__all__ = ["BY_NAME", "BY_WORD", "COMMANDS", "PANE_KEYS", "SLASH_WORDS", "Command"]
