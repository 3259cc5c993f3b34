"""What no reader took: the pieces of a message (clauses, and their parts joined by "and",
"then", "然后") in which nothing was understood, for the reply to name ("I did not understand
'add sparkles'") rather than answer "Done" as if all of it was.

Runs after every reader. A piece counts as read when any of it was taken (a text keyword's
"¤" alone does not count: "make the title sparkle" says nothing the title's reader took), or
when all its words are ones that ask nothing by themselves ("please", "make a video", "谢谢").
"""

from __future__ import annotations

import re

from tui.engine.agent.words import CLAUSE_END, Message

# Where a message splits into pieces, besides the clause ends.
_JOINS = re.compile(
    r"\s+(?:and(?:\s+then)?|then|also|plus|but)\s+|然后|并且|接着|还有|另外|以及|同时|而且", re.I
)
# Words that ask for nothing by themselves (what is left of a piece once they go is unread).
_EMPTY_EN = re.compile(
    r"\b(?:please|pls|can|could|would|will|you|i|i'd|i'm|we|want|need|like|let's|lets|let|the|a"
    r"|an|it|its|it's|this|that|these|those|me|my|our|some|just|also|and|then|now|ok|okay"
    r"|thanks|thank|cheers|hi|hello|hey|make|create|turn|into|video|clip|movie|film|slideshow"
    r"|of|photos?|images?|pictures?|pics?|with|for|to|do|go|start|in|on|at|be|is|are|so|too"
    r"|really|very|nice|cool|great|good|looks?|perfect|yes|yeah|sure|bit|little|from|all|them"
    r"|out|up|by|as|get|how|about|what|there|here|one|show|put|use|using|again|one|something"
    r"|anything|more|both|each|instead|actually|maybe|well|right|fine)\b",
    re.A,
)
_EMPTY_ZH = re.compile(
    r"请|帮我|帮忙|给我|麻烦|一下|吧|呢|啊|呀|哦|嗯|了|的|个|做成|做|生成|制作|弄|视频|短片|这|那"
    r"|张|图片|照片|图|谢谢|好的|好|然后|和|并且|还有|把|它|用|我|要|想|可以|能|吗|你|就|都|也|再"
    r"|一点|点|些|一些|一样|不错|行|对"
)
# "make a video <with sparkles>": the video is made, so only the rest is named.
_MAKE_LEAD = re.compile(
    r"^(?:(?:please|can\s+you|could\s+you)\s+)?(?:make|create|generate|produce)\s+(?:me\s+)?"
    r"(?:an?\s+|the\s+)?(?:video|clip|movie|slideshow)(?:\s+of\s+(?:these|the|my|this)\s+\w+)?"
    r"(?:\s+(?:with|and))?\s*",
    re.A | re.I,
)
_CONTENT = re.compile(r"[a-z]{2,}|\d|[\u4e00-\u9fff]", re.A)
MAX_UNREAD = 3  # pieces named in a reply; more are not worth a longer answer
MAX_PIECE = 60  # characters of a piece quoted in the reply


def read_unread(msg: Message) -> list[str]:
    """The pieces of `msg` that no reader took anything from, as the user wrote them."""
    out: list[str] = []
    spans = _pieces(msg.text, msg.clauses())
    written = _pieces(msg.written, _clauses(msg.written))
    if len(written) != len(spans):  # normalising moved a boundary: quote the normalised text
        written = [(a, b, msg.text) for a, b, _ in spans]
    for (a, b, _), (wa, wb, wtext) in zip(spans, written, strict=True):
        if any(c not in (msg.text[i], "¤") for i, c in enumerate(msg.work[a:b], a)):
            continue  # something in it was read
        words = msg.work[a:b].replace("¤", " ")  # the rest is as written: nothing was taken
        left = _EMPTY_ZH.sub(" ", _EMPTY_EN.sub(" ", re.sub(r"§\d+§", " ", words)))
        if _CONTENT.search(left):
            shown = " ".join(wtext[wa:wb].split())
            piece = _MAKE_LEAD.sub("", shown) or shown
            out.append(piece if len(piece) <= MAX_PIECE else piece[: MAX_PIECE - 1] + "…")
            if len(out) >= MAX_UNREAD:
                break
    return out


def _clauses(text: str) -> list[tuple[int, int]]:
    """As Message.clauses, of any text."""
    spans, a = [], 0
    for m in CLAUSE_END.finditer(text):
        spans.append((a, m.start()))
        a = m.end()
    spans.append((a, len(text)))
    return [(x, y) for x, y in spans if text[x:y].strip()]


def _pieces(text: str, clauses: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []
    for a, b in clauses:
        for m in _JOINS.finditer(text, a, b):
            spans.append((a, m.start(), text))
            a = m.end()
        spans.append((a, b, text))
    return [(a, b, t) for a, b, t in spans if text[a:b].strip()]


def unread_note(pieces: list[str]) -> tuple[str, str]:
    """The reply's sentence for the pieces that were not understood."""
    en = ", ".join(f"“{p}”" for p in pieces)
    zh = "、".join(f"“{p}”" for p in pieces)
    return (
        f"I did not understand {en}, so I left {'it' if len(pieces) == 1 else 'them'} out.",
        f"我没有看懂{zh}，这部分没有做。",
    )
