"""One turn: read the message, apply what it asks for to a copy of the draft, and reply."""

from __future__ import annotations

from dataclasses import dataclass, field

from tui.core.protocol import TRACK_VIDEO
from tui.engine.agent.apply import apply_request
from tui.engine.agent.call import Call
from tui.engine.agent.draft import copy_draft, segments, will_have_sound
from tui.engine.agent.read import read_request
from tui.engine.agent.read_undo import read_undo
from tui.engine.agent.read_unread import unread_note
from tui.engine.agent.replies import help_text, notes_text, reply_for
from tui.engine.agent.words import Message, is_chinese

MAX_CHARS = 2000  # of a message (the server's limit too): longer ones are cut


@dataclass
class Turn:
    calls: list[Call] = field(default_factory=list)
    reply: str = ""
    draft: dict | None = None  # the new draft, when something changed
    step: int = 0  # -1 undo, +1 redo
    # With a step, the rest of the message ("undo and make it 5 s"): the server plans it as a
    # turn of its own on the draft the step restores.
    then: str = ""


def plan_turn(message: str, draft: dict, media: list[dict], language: str = "en") -> Turn:
    """One turn: the calls `message` makes on a copy of `draft` (the session's `media` is what
    can go on the tracks), and the reply, in Chinese if the message is or `language` starts with
    "zh". Nothing usable: no calls, `draft` None, and a reply that says what works."""
    text = message.strip()[:MAX_CHARS]
    zh = is_chinese(text) or (language or "").startswith("zh")
    msg = Message(text)
    turn = Turn()
    turn.step, turn.then = read_undo(msg, text, media)
    if turn.step:
        return turn

    new = copy_draft(draft)
    req = read_request(msg, media, sound=will_have_sound(new, media))
    calls = apply_request(new, req, media)
    turn.calls = calls
    if req.unread and (calls or req.notes):  # nothing at all understood: the help text
        req.notes.append(unread_note(req.unread))
    if calls:
        turn.draft = new
        turn.reply = reply_for(calls, zh, req.notes)
    elif req.notes:  # understood, but nothing to do: say why
        turn.reply = notes_text(req.notes, zh)
    else:
        turn.reply = help_text(zh, has_media=bool(media) or bool(segments(new, TRACK_VIDEO)))
    return turn
