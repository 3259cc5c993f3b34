"""How a title or caption looks: where on the frame, how big, and in which colour. (The
renderer draws every text bold, so weight words are not read.)"""

from __future__ import annotations

from tui.core.text_colours import colour_hex
from tui.engine.agent.request import TextEdit
from tui.engine.agent.words import CLAUSE_END, FILLER, Message, rx

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


def read_text_look(msg: Message, edit: TextEdit, at: int, a: int, b: int) -> None:
    """Size and colour, said in either order: "a big yellow title", "make the title yellow
    and bigger", "标题大一点，改成黄色" (each reading blanks its words, letting the other
    through)."""
    for _ in range(2):
        if edit.size is None:
            read_text_size(msg, edit, at, a, b)
        if edit.color is None:
            read_text_colour(msg, edit, at, a, b)


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


# Colour words: the names of text_colours (English, or Chinese with 色), or a hex "#ffcc00"/"#fc0".
COLOUR_EN = r"\b(?:white|black|gr[ae]y|red|orange|yellow|gold(?:en)?|green|blue|purple|pink)\b"
COLOUR_ZH = r"(?:粉红|金黄|橘|[红橙黄绿蓝紫粉白黑灰金])色"
COLOUR_HEX = r"#(?:[0-9a-f]{6}|[0-9a-f]{3})\b"
COLOUR = f"(?:{COLOUR_EN}|{COLOUR_ZH}|{COLOUR_HEX})"
# Not the text's own colour: "a title on a green background", "标题加红色描边".
_NOT_FILL = (
    r"(?!\s*(?:-\s*)?(?:background|backdrop|box|bar|banner|outline|shadow|stroke|border"
    r"|highlight|glow)s?\b|的?(?:背景|底色|底|描边|阴影|边框|外框))"
)
# After the colour, only words that go on about the text (or nothing): "the title in red at the
# top", not "the title in the blue sky".
_THEN = (
    r"(?=\s*(?:$|[^\sa-z]|(?:text|font|colou?r(?:ed|s)?|letters?|lettering|words|and|please"
    r"|with|at|for|from|on|in|to|then|instead|too|now|as)\b))"
)
# Between the keyword and its colour: "the title <colour> to blue", "标题<颜色>改为红色".
_COLOUR_FILLER = FILLER + r"|(?:and|with|colou?rs?|colou?red|is|are)\b|[:：]|颜色|是|为|成"
COLOUR_OF_TEXT = COLOUR + _NOT_FILL + _THEN  # a colour word that is the text's
COLOUR_AFTER = COLOUR_OF_TEXT + r"(?:\s+and\b)?"  # "… yellow and bigger": "and" goes too
COLOUR_BEFORE = (  # "a yellow title", "red-coloured caption", "#fc0 title", "黄色的标题"
    rf"(?:{COLOUR_EN}|{COLOUR_HEX})(?:[\s-]+colou?red)?\s+|{COLOUR_ZH}的?"
)


def read_text_colour(msg: Message, edit: TextEdit, at: int, a: int, b: int) -> None:
    """A colour for the text whose keyword is at `at`, only next to it (as sizes are), so that
    "a red car, title 'Sale'" leaves the title white: `edit.color` as "#RRGGBB"."""
    m = msg.find_near(COLOUR_AFTER, msg.keyword_end(at), b, _COLOUR_FILLER)
    word = m and rx(COLOUR).match(msg.work, m.start())
    if word and _next_keywords(msg, word.end(), b):  # "title 'X' and a red caption": the caption's
        m = None
    # Before the keyword, back into the words of the keyword before it in its clause, which
    # left it alone ("title 'X' and a red caption").
    if m is None and (m := msg.find_before(COLOUR_BEFORE, msg.clause_at(at)[0], at)):
        word = rx(COLOUR).search(msg.work, *m.span())
    if m is None:
        return
    msg.blank(*m.span())
    edit.color = colour_hex(word.group(0)) if word else None


def _next_keywords(msg: Message, end: int, b: int) -> bool:
    """Whether a colour ending at `end` stands just before the next text keyword, at `b` (the
    end of a keyword's words is the next keyword, or the end of its clause)."""
    next_kw = b < len(msg.text) and not CLAUSE_END.match(msg.text, b)
    return next_kw and not msg.work[end:b].strip()
