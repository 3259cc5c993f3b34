"""How a title or caption looks: where on the frame, and how big. (The renderer draws every
text white and bold, so colour and weight words are not read.)"""

from __future__ import annotations

from tui.engine.agent.request import TextEdit
from tui.engine.agent.words import Message

TEXT_POSITIONS = (
    (
        "top",
        r"\b(?:top|upper|higher)\b|(?<!pan )(?<!tilt )\bup\b"
        r"|顶部|上方|顶端|上面|上部|顶上|[往向]?上移",
    ),
    (
        "bottom",
        r"\b(?:bottom|lower)\b|(?<!pan )(?<!tilt )\bdown\b"
        r"|底部|下方|底端|下面|下部|底下|[往向]?下移",
    ),
    ("center", r"\b(?:cent(?:er|re|red)|middle)\b|中间|居中|中央|正中"),
)


def read_text_position(msg: Message, edit: TextEdit, a: int, b: int) -> None:
    edit.position = next((pos for pos, pat in TEXT_POSITIONS if msg.take(pat, a, b)), None)


_BIT = r"(?:1?点儿?|1?些|1下)"
SIZE_WORDS = (  # after the keyword ("make the title a bit bigger", "标题大一点"): (size, pattern)
    ("huge", r"\b(?:huge|giant|enormous|massive)\b|\bvery\s+(?:big|large)\b|特大|超大|巨大|最大"),
    ("tiny", r"\btiny\b|\bvery\s+small\b|特小|超小|最小"),
    ("bigger", r"\b(?:bigger|larger|enlarged?)\b|(?:放|加|调|变|再|更)大" + _BIT + "?|大" + _BIT),
    ("smaller", r"\b(?:smaller|shrink|shrunk)\b|(?:缩|减|调|变|再|更)小" + _BIT + "?|小" + _BIT),
    ("large", r"\b(?:big|large)\b|大号|大字"),
    ("small", r"\bsmall\b|小号|小字"),
    ("medium", r"\b(?:medium|normal|regular|default)(?:[\s-]sized?)?\b|中号|正常大小|默认大小"),
)
SIZE_BEFORE = (  # just before the keyword ("a bigger title", "enlarge the title", "大号的标题")
    ("huge", r"\b(?:huge|giant|enormous|massive)\s+|(?:特大|超大|巨大)的?"),
    ("tiny", r"\btiny\s+|(?:特小|超小)的?"),
    (
        "bigger",
        r"\b(?:bigger|larger)\s+|\benlarge\s+(?:the\s+|my\s+)?|放大|加大|(?:大1?点|更大)的?",
    ),
    ("smaller", r"\bsmaller\s+|\bshrink\s+(?:the\s+|my\s+)?|缩小|减小|(?:小1?点|更小)的?"),
    ("large", r"\b(?:big|large)\s+|大号的?"),
    ("small", r"\bsmall\s+|小号的?"),
)


def read_text_size(msg: Message, edit: TextEdit, at: int, a: int, b: int) -> None:
    """A size ("large", "huge") or a step ("bigger", "缩小") for the text whose keyword is at
    `at`: only next to it, so "a big zoom with the title 'X'" leaves the title's size alone."""
    after = msg.keyword_end(at)
    for size, pat in SIZE_WORDS:
        if msg.take_near(pat, after, b):
            edit.size = size
            return
    for size, pat in SIZE_BEFORE:
        if m := msg.find_before(pat, a, at):
            msg.blank(*m.span())
            edit.size = size
            return
