"""One turn: read the message, apply what it asks for to a copy of the draft, and reply."""

from __future__ import annotations

from dataclasses import dataclass, field

from tui.core.protocol import TRACK_VIDEO
from tui.engine.agent.apply import apply_request
from tui.engine.agent.call import Call
from tui.engine.agent.draft import (
    LAST_LENGTH,
    copy_draft,
    last_length,
    segments,
    will_have_sound,
)
from tui.engine.agent.read import read_request
from tui.engine.agent.read_undo import read_undo
from tui.engine.agent.read_unread import unread_note
from tui.engine.agent.replies import help_text, notes_text, reply_for
from tui.engine.agent.request import Request
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
    req = read_request(msg, media, sound=will_have_sound(new, media), last=last_length(new))
    calls = apply_request(new, req, media)
    turn.calls = calls
    if req.unread and (calls or req.notes):  # nothing at all understood: the help text
        req.notes.append(unread_note(req.unread))
    if calls:
        if said := _length_said(req):
            new["m"][LAST_LENGTH] = said
        turn.draft = new
        # How to export is said once: on the turn that first puts something on the timeline.
        first = not segments(draft, TRACK_VIDEO) and bool(segments(new, TRACK_VIDEO))
        turn.reply = reply_for(calls, zh, req.notes, export_hint=first)
    elif req.notes:  # understood, but nothing to do: say why
        turn.reply = notes_text(req.notes, zh)
    else:
        turn.reply = help_text(zh, has_media=bool(media) or bool(segments(new, TRACK_VIDEO)))
    return turn


def _length_said(req: Request) -> str | None:
    """What a length in this message measured: a text's (its role), else the clip's."""
    for edit in req.texts:
        if not edit.remove and (edit.dur is not None or edit.tail is not None or edit.longer):
            return edit.role if edit.role in ("title", "caption") else None
    if req.duration is not None or req.relative is not None:
        return "clip"
    return None
