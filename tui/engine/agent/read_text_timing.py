"""When a title or caption shows: a span, the first or last N s, a start, a length, a change
to its length ("2 more seconds", "标题再长一点") or a move in time ("0.5 seconds later")."""

from __future__ import annotations

from tui.engine.agent.request import TextEdit
from tui.engine.agent.words import TIME, UNIT, Message, N, any_time_ms, ms_of, time_ms

_SEC = r"\s*(?:s|secs?|seconds?|秒钟?)?"
TEXT_RANGE = (  # "from 2s to 4s", "2-4 s", "从2秒到4秒"
    r"(?:\bfrom\s+|\bbetween\s+|从第?\s*|第)?" + N + _SEC
    + r"\s*(?:to|until|till|and|-|~|到|至)\s*第?\s*" + TIME
)  # fmt: skip
TEXT_FIRST = r"(?:\b(?:for|in|during)\s+)?(?:the\s+)?\bfirst\s+" + TIME + "|前" + TIME
TEXT_LAST = r"(?:\b(?:for|in|during)\s+)?the\s+(?:last|final)\s+" + TIME + "|最后" + TIME
TEXT_START = (
    r"\b(?:start(?:ing|s)?\s+)?(?:at|from|after)\s+" + TIME
    + r"|(?:从|在)第?\s*" + TIME + r"\s*(?:开始|后|起|出现)?"
    + "|" + TIME + r"\s*(?:后|开始|起)"
)  # fmt: skip


def read_text_timing(msg: Message, edit: TextEdit, at: int, a: int, b: int) -> None:
    """When the text shows: a span, the first or last N s, a start, a length, "at the end"."""
    if m := msg.take(TIME + r"\s*(?:long\s+)?的?\s*¤", a, b):  # "a 3-second title", "3秒的标题"
        edit.dur = time_ms(m)
    if m := msg.take(TEXT_RANGE, a, b):
        edit.start = ms_of(m.group(1), m.group(3))
        edit.dur = max(0, ms_of(m.group(2), m.group(3)) - edit.start)
    elif m := msg.take(TEXT_FIRST, a, b):
        edit.start, edit.dur = 0, any_time_ms(m)
    elif m := msg.take(TEXT_LAST, a, b):
        edit.tail = any_time_ms(m)
    else:
        if m := msg.take(TEXT_START, a, b):
            edit.start = any_time_ms(m)
        m = msg.take(r"(?:\b(?:for|lasting|lasts?|during)\s+)?" + TIME, at, b)
        if m and edit.dur is None:
            edit.dur = time_ms(m)
        elif not m and msg.take(r"\bat\s+the\s+end\b|\bin\s+the\s+end\b|结尾|末尾|最后", a, b):
            edit.tail = 2000
        elif not m and msg.take(r"\bat\s+the\s+(?:start|beginning)\b|开头|开始时", a, b):
            edit.start = 0


TEXT_STEP_MS = 1000  # "make the title longer", with no amount
_SHOWN = r"(?:显示|停留|持续|出现|展示)"
_A_BIT = r"(?:1?点儿?|1?些|1下|1?会儿?)"
LONGER_BY = (  # after the keyword, with the amount: (pattern, sign)
    (N + r"\s*(?:more|extra)" + UNIT, +1),  # "2 more seconds"
    (TIME + r"\s*(?:longer|more|extra)\b", +1),  # "2 s longer"
    (N + r"\s*(?:fewer|less)" + UNIT, -1),
    (TIME + r"\s*(?:shorter|less)\b", -1),
    (r"\blonger\s+by\s+" + TIME, +1),
    (r"\bshorter\s+by\s+" + TIME, -1),
    (r"(?:多|再多|延长|加长|增加|多加|再长|加)" + _SHOWN + r"?\s*" + TIME, +1),  # "多显示2秒"
    (r"(?:少|再短|缩短|减少|减去|减|短)" + _SHOWN + r"?\s*" + TIME, -1),
)
LONGER_VERBS = (  # before the keyword: (pattern, sign, whether it needs an amount)
    (r"\b(?:lengthen|extend)\s+(?:the\s+|my\s+)?|延长|加长", +1, False),
    (r"\bshorten\s+(?:the\s+|my\s+)?|缩短|减少", -1, False),
    (r"\b(?:trim|cut|reduce)\s+(?:the\s+|my\s+)?", -1, True),  # "cut the title" alone: no
)
LONGER_WORDS = (  # after the keyword, no amount: (pattern, sign)
    (
        r"\b(?:longer|lengthen(?:ed)?|extend(?:ed)?)\b|\bfor\s+longer\b|\bmore\s+time\b"
        r"|(?:再|更)?[长久]" + _A_BIT + r"|延长|加长|再长|更长|更久|多" + _SHOWN + _A_BIT + "?",
        +1,
    ),
    (
        r"\b(?:shorter|shorten(?:ed)?)\b|\bless\s+time\b"
        r"|(?:再|更)?短" + _A_BIT + r"|缩短|再短|更短|少" + _SHOWN + _A_BIT + "?",
        -1,
    ),
)


def read_text_longer(msg: Message, edit: TextEdit, at: int, a: int, b: int) -> None:
    """A change to how long the text shows, by an amount or by `TEXT_STEP_MS`: "show the title
    for 2 more seconds", "shorten the caption by 1 s", "make the title longer", "标题多显示2秒",
    "字幕短一点". Only words next to the keyword (or with filler between) count, so "make the
    video longer with the title 'X'" still lengthens the clip."""
    after = msg.keyword_end(at)
    for pat, sign in LONGER_BY:
        if m := msg.take_near(pat, after, b):
            edit.longer = sign * time_ms(m)
            return
    for pat, sign, needs_amount in LONGER_VERBS:
        verb = msg.find_before(pat, a, at)
        if not verb:
            continue
        amount = msg.find_near(r"(?:\bby\s+)?" + TIME, after, b)
        if needs_amount and not amount:
            continue
        msg.blank(*verb.span())
        if amount:
            msg.blank(*amount.span())
        edit.longer = sign * (time_ms(amount) if amount else TEXT_STEP_MS)
        return
    for pat, sign in LONGER_WORDS:
        if msg.take_near(pat, after, b):
            edit.longer = sign * TEXT_STEP_MS
            return


SHIFT_VERB = r"\b(?:move|shift|push|slide|nudge)\s+(?:the\s+|my\s+)?"
SHIFT_BY = (  # after the keyword, in English after SHIFT_VERB: (pattern, sign, english)
    (r"(?:\bby\s+)?" + TIME + r"\s*later\b|\blater\s+by\s+" + TIME, +1, True),
    (r"(?:\bby\s+)?" + TIME + r"\s*earlier\b|\bearlier\s+by\s+" + TIME, -1, True),
    (r"\blater\b", +1, True),
    (r"\bearlier\b", -1, True),
    (r"(?:往后|向后|推迟|延后)(?:移|挪|推)?了?\s*" + TIME, +1, False),
    (r"(?:往前|向前|提前)(?:移|挪)?了?\s*" + TIME, -1, False),
    (r"(?:往后|向后)(?:移|挪|推)|推迟|延后", +1, False),
    (r"(?:往前|向前)(?:移|挪)|提前", -1, False),
)


def read_text_shift(msg: Message, edit: TextEdit, at: int, a: int, b: int) -> None:
    """A move in time, its length kept: "move the title 0.5 seconds later", "shift the caption
    1 s earlier", "标题往后移1秒", "字幕提前0.5秒" (by `TEXT_STEP_MS` with no amount). In English
    the verb before the keyword is needed: "the title 2 s later" alone moves nothing."""
    after = msg.keyword_end(at)
    verb = msg.find_before(SHIFT_VERB, a, at)
    for pat, sign, english in SHIFT_BY:
        if english and verb is None:
            continue
        if m := msg.take_near(pat, after, b):
            if verb is not None:
                msg.blank(*verb.span())
            timed = any(g is not None for g in m.groups())
            edit.shift = sign * (any_time_ms(m) if timed else TEXT_STEP_MS)
            return
