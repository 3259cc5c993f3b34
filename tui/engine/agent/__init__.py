"""The deterministic agent: instructions in English or Chinese become edits of the draft.

No network, no model weights. `plan_turn` reads one message against the session's draft and
media and returns the tool calls it makes (each already applied to a copy of the draft) and the
reply to stream, in the session's language.

How a message is read (`words.Message`): quoted text (and unquoted text after "change the title
to") is set aside first, so that it is never parsed for keywords; the rest is lower-cased and its
numbers (English words, Chinese numerals, "百分之") become digits. Readers (`read_*.py`) then run
in a fixed order (`read.py`) and *take* what they understand, blanking it, so that a later reader
cannot read the same words again: this is how "title 'X' for 3 s" keeps its 3 s from becoming
the clip's length. Together they fill one `Request`; the appliers (`apply_*.py`, in the order of
`apply.py`) carry it out on a copy of the draft, each change as one `Call` that says what changed
in both languages (`replies.py` holds the words).

What it writes beyond the protocol's example draft: video segments' `m.motion`, `m.strength`,
`m.easing`, `m.focus` [x, y], `m.fit` and, on every segment but the first, `m.transition`
("crossfade" or "cut") with `m.transition_ms`; text segments' `m.role` (title or caption),
`m.position`, `m.size` (small, medium, large, or a factor) and `m.color` ("#RRGGBB", the names
in `tui.core.text_colours`); the draft's `m.fade_in` /
`m.fade_out` (ms); on segments that play a video file (not images: `draft.sound_segments`), its
own sound's `m.mute` (true) and `m.volume` (1 = 100 %, the default, up to 4). What a message asks
but the timeline cannot do (a video's sound when there are only images, a title's size when
there is no title, the music's volume when there is no music, a sixth image of three, a length
past 60 s) is said in the reply (`Request.notes`, each applier adding why it could not act),
with the changes or, when there are none, instead of the help text; so is a piece of the
message no reader took anything from (`read_unread`: "I did not understand 'add sparkles'"),
so that a reply never says a plain "Done" when part of the message was not done.

Undo and redo are not applied here: the turn's `step` asks the server to move through its stored
history, and its `then` is the rest of "undo and make it 5 s", for the server to plan on the
draft the step restores.
"""

from tui.engine.agent.apply import apply_request
from tui.engine.agent.call import Call
from tui.engine.agent.draft import canvas_size
from tui.engine.agent.read import read_request
from tui.engine.agent.replies import help_text
from tui.engine.agent.request import Request, TextEdit
from tui.engine.agent.turn import Turn, plan_turn
from tui.engine.agent.words import Message, is_chinese
from tui.engine.agent.words import cn_int as _cn_int  # the old private name, which tests use

__all__ = [
    "Call",
    "Message",
    "Request",
    "TextEdit",
    "Turn",
    "_cn_int",
    "apply_request",
    "canvas_size",
    "help_text",
    "is_chinese",
    "plan_turn",
    "read_request",
]
