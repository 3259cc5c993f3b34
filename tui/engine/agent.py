"""The deterministic agent: instructions in English or Chinese become edits of the draft.

No network, no model weights. `plan_turn` reads one message against the session's draft and
media and returns the tool calls it makes (each already applied to a copy of the draft) and the
reply to stream, in the session's language.

How a message is read (`Message`): quoted text (and unquoted text after "change the title to")
is set aside first, so that it is never parsed for keywords; the rest is lower-cased and its
numbers (English words, Chinese numerals, "百分之") become digits. Parsers then run in a fixed
order and *take* what they understand, blanking it, so that a later parser cannot read the same
words again: this is how "title 'X' for 3 s" keeps its 3 s from becoming the clip's length.
Each parser returns a small request; `plan_turn` applies the requests in order to a copy of the
draft, each as one `Call` that says what changed in both languages.

What it writes beyond the protocol's example draft: video segments' `m.motion`, `m.strength`,
`m.easing`, `m.focus` [x, y], `m.fit` and, on every segment but the first, `m.transition`
("crossfade" or "cut") with `m.transition_ms`; text segments' `m.role` (title or caption) and
`m.position`; the draft's `m.fade_in` / `m.fade_out` (ms). Undo and redo are not applied here:
the turn's `step` asks the server to move through its stored history.
"""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass, field
from typing import Any

from tui.protocol import TRACK_AUDIO, TRACK_TEXT, TRACK_VIDEO

ASPECTS = {
    "16:9": (16, 9),
    "9:16": (9, 16),
    "1:1": (1, 1),
    "4:5": (4, 5),
    "4:3": (4, 3),
    "3:4": (3, 4),
}
MUSIC_NAMES = {"lofi": "Lo-fi", "ambient": "Ambient", "upbeat": "Upbeat"}
MUSIC_ZH = {"lofi": "低保真（Lo-fi）", "ambient": "氛围", "upbeat": "欢快"}
MOTION_NAMES = {
    "zoom_in": ("zoom in", "推近"),
    "zoom_out": ("zoom out", "拉远"),
    "pan_left": ("pan left", "向左平移"),
    "pan_right": ("pan right", "向右平移"),
    "pan_up": ("pan up", "向上平移"),
    "pan_down": ("pan down", "向下平移"),
    "ken_burns": ("Ken Burns", "肯·伯恩斯效果"),
    "static": ("static", "静止"),
    "parallax": ("parallax", "视差"),
}
STRENGTH_ZH = {"subtle": "轻微", "medium": "适中", "strong": "强烈"}
POSITION_ZH = {"top": "顶部", "center": "居中", "bottom": "底部"}
ROLE_ZH = {"title": "标题", "caption": "字幕"}
CN_DIGITS = dict(zip("零〇一二两三四五六七八九", (0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True))
_EN_UNITS = [
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
    *("eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"),
    *("eighteen", "nineteen"),
]
_EN_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60}
# "one" is read only before a unit (see _normalise): "the first one" stays words.
EN_NUMBERS = {w: i for i, w in enumerate(_EN_UNITS) if w != "one"} | _EN_TENS
_ORD = "first second third fourth fifth sixth seventh eighth ninth tenth"
ORDINALS = {w: i for i, w in enumerate(_ORD.split(), 1)}
MIN_MS, MAX_MS = 1000, 60000
DEFAULT_VOLUME = 0.5
DEFAULT_FADE_MS = 1000
DEFAULT_CROSSFADE_MS = 500
TRANSITION_KEYS = ("transition", "transition_ms")
VISUAL = ("image", "video")
MAX_CHARS = 4000  # of a message: longer ones are cut (each parser is linear in it)
MAX_QUOTES = 20  # media that go on the video track
PER_IMAGE_MS = 3000  # a slideshow's default time per image
MIN_PER_IMAGE_MS = 2000  # below this the current length is stretched to PER_IMAGE_MS each


@dataclass
class Call:
    name: str
    args: dict
    en: str  # what changed, in English
    zh: str  # and in Chinese


@dataclass
class Turn:
    calls: list[Call] = field(default_factory=list)
    reply: str = ""
    draft: dict | None = None  # the new draft, when something changed
    step: int = 0  # -1 undo, +1 redo


# ---- reading the message ----------------------------------------------------------------------

N = r"(\d+(?:\.\d+)?)"  # a number (after normalisation every number is digits)
UNIT = r"\s*-?\s*(ms|milliseconds?|seconds?|secs?|s|秒钟?|minutes?|mins?|分钟)(?![a-z])"
TIME = N + UNIT
ZH_NUM = "零〇一二两三四五六七八九十百"
CLAUSE_END = re.compile(r"[,;!?\n，。；！？、]|(?<!\d)\.|\.(?!\d)")
TEXT_KW = (
    r"\b(?:titles?|headlines?|captions?|subtitles?|texts?|overlays?|words)\b"
    r"|标题|字幕|文字|文案"
)
# A clause that only goes on about the text before it: "…, from 2s to 4s", "…，放在底部".
TEXT_MORE = (
    r"\s*(?:and\s+)?(?:from|between|for|at\s+the|in\s+the|on\s+the|starting|during|until|shown"
    r"|从|在|前\d|最后|显示|持续|位于|放在|放到|出现|第\d|\d+(?:\.\d+)?\s*(?:秒|s\b|seconds?)\s*(?:到|至|-|to))"
)
_QUOTE_PAIRS = (
    r"(?<![\w])'([^'\n]+?)'(?![\w])",
    r'"([^"\n]+?)"',
    r"“([^”\n]+?)”",
    r"‘([^’\n]+?)’",
    r"「([^」\n]+?)」",
    r"『([^』\n]+?)』",
    r"《([^》\n]+?)》",
)
_BARE_TEXT = (
    # "change the title to Summer Sale", "caption saying hello there", "title: Big Day"
    r"(?:change|rename|set|update|switch|make)\s+(?:the\s+|my\s+)?"
    r"(?:title|caption|subtitle|headline|text)(?:\s+text)?\s+(?:to|into|as)\s+",
    r"\b(?:title|caption|subtitle|headline|text)\s+"
    r"(?:saying|that says|which says|reading|reads)\s+",
    r"\b(?:title|caption|subtitle|headline|text)\s*:\s*",
)
_BARE_END_EN = (
    r"(?=\s+(?:for|at|from|on|in|during|until|till|between|starting|with|and then)\b"
    r"|[,.;!?\n]|$)"
)
_BARE_ZH = (
    r"(?:标题|字幕|文字|文案)(?:改成|改为|换成|设为|设置为|写着|写成|内容是|内容为|是|为|:|：)\s*"
)
_BARE_END_ZH = (
    rf"(?=显示|持续|放在|放到|位于|从第?[\d{ZH_NUM}]|前[\d{ZH_NUM}]|[，。；,;!！?？\n]|$)"
)


def _cn_int(s: str) -> int:
    """Chinese numerals up to the hundreds: 三 → 3, 十五 → 15, 二十 → 20, 一百 → 100, 三五 → 35."""
    if not any(c in s for c in "十百"):
        return int("".join(str(CN_DIGITS[c]) for c in s))
    total, digit = 0, 0
    for c in s:
        if c == "百":
            total += (digit or 1) * 100
            digit = 0
        elif c == "十":
            total += (digit or 1) * 10
            digit = 0
        else:
            digit = CN_DIGITS[c]
    return total + digit


def _normalise(text: str) -> str:
    """Lower case, half-width, and every number as digits."""
    t = text.lower()
    t = t.translate(str.maketrans("０１２３４５６７８９％：．", "0123456789%:."))
    t = t.replace("×", "x").replace("–", "-").replace("—", "-").replace("～", "~")
    return _english_numbers(_chinese_numbers(t))


def _chinese_numbers(t: str) -> str:
    """百分之三十五 → 35%, 十五 → 15, 两秒半 → 2.5秒."""
    t = re.sub(
        r"百分之\s*([" + ZH_NUM + r"]+|\d+(?:\.\d+)?)",
        lambda m: (m.group(1) if m.group(1)[0].isdigit() else str(_cn_int(m.group(1)))) + "%",
        t,
    )
    t = re.sub(r"[" + ZH_NUM + r"]+", lambda m: str(_cn_int(m.group(0))), t)
    return re.sub(r"(\d+)\s*(?:个半\s*秒钟?|秒钟?半)", r"\1.5秒", t)


def _english_numbers(t: str) -> str:
    """thirty-five percent → 35%, ten seconds → 10 seconds, a minute → 1 minute."""
    tens = "|".join(_EN_TENS)
    t = re.sub(
        rf"\b({tens})[\s-](one|two|three|four|five|six|seven|eight|nine)\b",
        lambda m: str(_EN_TENS[m.group(1)] + _EN_UNITS.index(m.group(2))),
        t,
        flags=re.A,
    )
    words = "|".join(EN_NUMBERS)
    t = re.sub(rf"\b({words})\b", lambda m: str(EN_NUMBERS[m.group(1)]), t, flags=re.A)
    t = re.sub(
        r"\b(?:one|a single)(?=[\s-]+(?:seconds?|secs?|minutes?|images?|photos?|pictures?)\b)",
        "1",
        t,
        flags=re.A,
    )
    t = re.sub(r"\b(?:a|one) minute\b", "1 minute", t, flags=re.A)
    t = re.sub(r"\bhalf a (?:second|sec)\b", "0.5 s", t, flags=re.A)
    return re.sub(r"(\d)\s*(?:percent|per cent)\b", r"\1%", t, flags=re.A)


def _mask_quotes(text: str, quotes: list[str]) -> str:
    """Set quoted text (and the unquoted forms of _BARE_TEXT) aside as `§i§` markers."""

    def keep(words: str) -> str:
        if len(quotes) >= MAX_QUOTES:
            return " "  # past any sensible instruction: dropped, never parsed
        quotes.append(words.strip())
        return f" §{len(quotes) - 1}§ "

    for pat in _QUOTE_PAIRS:
        text = re.sub(pat, lambda m: keep(m.group(1)), text, flags=re.A)
    for lead in _BARE_TEXT:
        text = re.sub(
            "(" + lead + r")(?!§|\s*§)([^,.;!?\n§]+?)" + _BARE_END_EN,
            lambda m: m.group(1) + keep(m.group(2)),
            text,
            flags=re.I | re.A,
        )
    return re.sub(
        "(" + _BARE_ZH + r")(?!§|\s*§)([^，。；,;!！?？\n§]+?)" + _BARE_END_ZH,
        lambda m: m.group(1) + keep(m.group(2)),
        text,
    )


@functools.lru_cache(maxsize=512)
def _rx(pattern: str) -> re.Pattern:
    """ASCII word rules: `\\b`, `\\w` see Chinese as punctuation (用lofi, 1个720p的)."""
    return re.compile(pattern, re.A)


class Message:
    """One instruction, ready for the parsers: quotes set aside, numbers as digits.

    `work` is the normalised text with every part a parser has already taken blanked out
    (same length, so spans stay valid against `text`).
    """

    def __init__(self, raw: str) -> None:
        self.quotes: list[str] = []
        # "§" marks set-aside quotes below, so none may come from the user.
        self.text = _normalise(_mask_quotes(raw.replace("§", " "), self.quotes))
        self.work = self.text
        self._clauses: list[tuple[int, int]] | None = None

    def find(self, pattern: str, start: int = 0, end: int | None = None) -> re.Match | None:
        rx = _rx(pattern)
        return rx.search(self.work, start, len(self.work) if end is None else end)

    def has(self, pattern: str) -> bool:
        return self.find(pattern) is not None

    def take(
        self, pattern: str, start: int = 0, end: int | None = None, group: int = 0
    ) -> re.Match | None:
        """Find `pattern` in the untaken text and blank the match (or one group of it)."""
        m = self.find(pattern, start, end)
        if m:
            self.blank(*m.span(group))
        return m

    def blank(self, a: int, b: int, fill: str = " ") -> None:
        self.work = self.work[:a] + fill * (b - a) + self.work[b:]

    def clauses(self) -> list[tuple[int, int]]:
        """The spans between punctuation ("a 5 s clip, title 'X'" is two clauses)."""
        if self._clauses is None:
            spans, a = [], 0
            for m in CLAUSE_END.finditer(self.text):
                spans.append((a, m.start()))
                a = m.end()
            spans.append((a, len(self.text)))
            self._clauses = [(x, y) for x, y in spans if self.text[x:y].strip()]
        return self._clauses

    def clause_at(self, pos: int) -> tuple[int, int]:
        for a, b in self.clauses():
            if a <= pos <= b:
                return a, b
        return 0, len(self.text)

    def quote_ids(self, a: int, b: int) -> list[int]:
        return [int(i) for i in re.findall(r"§(\d+)§", self.work[a:b])]

    def claim_quote(self, i: int) -> None:
        m = re.search(rf"§{i}§", self.work)
        if m:
            self.blank(*m.span())


def _ms(value: str, unit: str) -> int:
    v = float(value)
    if unit.startswith("m") and unit not in ("ms",) and not unit.startswith("milli"):
        v *= 60  # minutes
    elif unit.startswith("分"):
        v *= 60
    elif unit == "ms" or unit.startswith("milli"):
        v /= 1000
    return round(v * 1000)


def _time_ms(m: re.Match, g: int = 1) -> int:
    """The ms of a TIME match whose number is group `g` and unit group `g + 1`."""
    return _ms(m.group(g), m.group(g + 1) or "s")


def _any_time_ms(m: re.Match) -> int:
    """The ms of the first TIME that matched in a pattern of alternatives, each one TIME."""
    g = next(g for g in range(1, len(m.groups()), 2) if m.group(g) is not None)
    return _time_ms(m, g)


# ---- requests: what a message asks for --------------------------------------------------------


@dataclass
class TextEdit:
    role: str  # title | caption | any (removal only)
    remove: bool = False
    text: str | None = None
    start: int | None = None
    dur: int | None = None
    tail: int | None = None  # the last `tail` ms of the clip
    position: str | None = None
    append: bool = False


@dataclass
class Request:
    make: bool = False  # "make a video": enough for the first turn
    duration: int | None = None
    relative: tuple[str, float] | None = None  # ("add", ms) or ("scale", factor)
    per_image: int | None = None
    all_images: bool = False
    add_new: bool = False  # "add the new image": images not on the track go at its end
    moves: list[tuple[str, int, int]] = field(default_factory=list)  # (op, index, target)
    aspect: str | None = None
    short_side: int | None = None
    size: tuple[int, int] | None = None
    fps: int | None = None
    motion: dict[str, Any] = field(default_factory=dict)
    focus: tuple[float, float] | None = None
    fit: str | None = None
    transition: int | None = None  # crossfade ms, 0 = none
    fades: dict[str, int] = field(default_factory=dict)  # fade_in/fade_out ms, 0 = remove
    texts: list[TextEdit] = field(default_factory=list)
    music: dict[str, Any] = field(default_factory=dict)

    def useful(self) -> bool:
        """Whether anything besides "make a video" was understood."""
        blank = Request(make=self.make)
        return self != blank


def read_undo(msg: Message) -> int:
    t = msg.text.strip()
    if re.fullmatch(
        r"(?:please\s+)?(?:undo|revert|go back|take (?:that|it) back)"
        r"(?:\s+(?:that|it|this|the last (?:change|edit|step)|last (?:change|edit|step)))?"
        r"(?:\s+please)?\s*[.!。！]*",
        t,
    ) or re.fullmatch(
        r"(?:请)?(?:撤销|撤回|回退|返回上1步|后退)(?:1下|上1步|刚才的修改|上次的修改|吧)*[。！!]*",
        t,
    ):
        return -1
    if re.fullmatch(
        r"(?:please\s+)?redo(?:\s+(?:that|it|the last (?:change|edit|step)))?\s*[.!。！]*", t
    ) or re.fullmatch(r"(?:请)?(?:重做|恢复|取消撤销)(?:1下|吧)*[。！!]*", t):
        return +1
    return 0


def read_make(msg: Message) -> bool:
    return msg.has(
        r"\b(?:make|create|turn|generate|render|produce|build|animate|convert|clip|video|movie|"
        r"slideshow|go|start|do it)\b|视频|做|生成|制作|动起来|短片|开始|弄"
    )


def read_fps(msg: Message) -> int | None:
    m = msg.take(
        N + r"\s*(?:fps|frames?\s*(?:per|a|/)\s*(?:second|sec|s)\b|帧每秒|帧/秒|帧)"
    ) or msg.take(r"(?:每秒|帧率\s*(?:为|设为|设置为|调到|改成|:)?)\s*" + N + r"\s*帧?")
    if not m:
        return None
    return max(1, min(60, round(float(m.group(1)))))


def read_clip_duration(msg: Message) -> int | None:
    """Lengths that can only be the clip's: "5-second clip", "5秒的视频", "duration 8 s"."""
    m = msg.take(
        TIME + r"\s*(?:long\s+)?(?:clip|video|movie|film|reel|slideshow|animation|mp4)"
    ) or msg.take(N + r"\s*(秒钟?|分钟)\s*(?:长)?的?\s*(?:视频|短片|片子|影片|短视频|动画)")
    if m:
        return _time_ms(m)
    m = msg.take(
        r"(?:\b(?:length|duration|runtime|clip|video)\s*(?:of|to|is|=|:|at)?"
        r"|总时长|时长|总长度?|长度|视频)\s*(?:长|为|设为|改为|改成|调到|调整为|是|:)?\s*" + TIME
    )
    return _time_ms(m) if m else None


def read_per_image(msg: Message) -> int | None:
    m = msg.take(
        TIME
        + r"\s*(?:each|apiece|per\s+(?:image|photo|picture|pic|slide|shot)|an?\s+(?:image|photo))"
    ) or msg.take(
        r"\beach\s+(?:image|photo|picture|pic|slide|shot|one)?\s*(?:for|gets|lasts|of|is|at)?\s*"
        + TIME
    )
    if m:
        return _time_ms(m)
    m = msg.take(
        r"(?:每张|每1张|每个|每幅|各)\s*(?:图片|照片|图)?\s*(?:显示|停留|持续|播放)?\s*"
        + N
        + r"\s*(秒钟?)"
    )
    return _time_ms(m) if m else None


_IMG = r"(?:image|photo|picture|pic|shot|one|slide)"
_ZH_IMG = r"(?:图片|照片|图)?"
_ORDS = "(" + "|".join(ORDINALS) + r"|last|\d+(?:st|nd|rd|th))"
_FRONT = r"(?:first|to\s+the\s+(?:start|beginning|front)|at\s+the\s+(?:start|beginning|front))"
_END = r"(?:last|to\s+the\s+end|at\s+the\s+end)"
_ZH_PUT = r"(?:把|将)?第(\d+)张" + _ZH_IMG + r"(?:放|移|挪|调)?(?:到|在|成|为)"
# (pattern, operation, target): target 1 = the front, -1 = the end, 2 = the pattern's 2nd ordinal
IMAGE_MOVES = (
    (rf"\b(?:the\s+)?{_ORDS}\s+{_IMG}\s+{_FRONT}", "move", 1),
    (rf"\b(?:start|begin|open)\s+with\s+the\s+{_ORDS}\s+{_IMG}", "move", 1),
    (rf"\b(?:the\s+)?{_ORDS}\s+{_IMG}\s+{_END}", "move", -1),
    (rf"\bswap\s+the\s+{_ORDS}(?:\s+{_IMG})?\s+and\s+(?:the\s+)?{_ORDS}", "swap", 2),
    (rf"\b(?:remove|delete|drop|cut)\s+the\s+{_ORDS}\s+{_IMG}", "remove", 0),
    (_ZH_PUT + r"(?:最前面?|开头|前面|第1(?:个|张|位)?)", "move", 1),
    (r"(?:先放|先用|从)第(\d+)张" + _ZH_IMG + "(?:开始)?", "move", 1),
    (_ZH_PUT + r"(?:最后面?|结尾|末尾)", "move", -1),
    (r"(?:交换|调换)第(\d+)张" + _ZH_IMG + r"和第(\d+)张", "swap", 2),
    (r"(?:删除|删掉|去掉|移除|不要)第(\d+)张", "remove", 0),
    (r"(?:把|将)?第(\d+)张" + _ZH_IMG + r"(?:删掉|删除|去掉|移除|拿掉|不要了?)", "remove", 0),
    (rf"\b(?:only|just)\s+(?:use\s+)?the\s+{_ORDS}\s+{_IMG}", "only", 0),
    (rf"\b(?:use\s+)?the\s+{_ORDS}\s+{_IMG}\s+only\b", "only", 0),
    (r"只(?:用|要|保留)第(\d+)张", "only", 0),
)


def read_images(msg: Message, req: Request, n_images: int) -> None:
    """All images, and moves: "put the second image first", "把第3张放到最前面"."""
    if msg.take(
        r"\b(?:all|every|both|each)\s+(?:of\s+)?(?:the\s+|my\s+|these\s+)?(?:\d+\s+)?"
        r"(?:images|photos|pictures|pics|shots)\b|\ball\s+(?:\d+|of them|of these)\b"
        r"|\buse\s+\d+\s+(?:images|photos|pictures)\b"
        r"|(?:所有|全部)的?(?:\d+张)?(?:图片|照片|图)|这\d+张(?:图片|照片|图)?"
        r"|(?<![第每])\d+张(?:图片|照片|图)"
    ):
        req.all_images = True

    if msg.take(
        r"\b(?:add|include|append|put\s+in)\s+(?:the\s+|this\s+|that\s+|my\s+)?"
        r"(?:new|other|last|latest|uploaded|next)\s+(?:images?|photos?|pictures?|pics?|ones?)\b"
        r"|\badd\s+(?:this|that|it)\s+(?:images?|photos?|pictures?|one)?\b"
        r"|(?:加上|加入|添加|放上|用上)(?:这|那|新的?|刚上传的?)\d*张(?:图片|照片|图)?"
        r"|(?:加上|加入|添加)新(?:的)?(?:图片|照片)"
    ):
        req.add_new = True

    def index(word: str) -> int:
        if word == "last":
            return n_images
        return ORDINALS.get(word) or int(re.match(r"\d+", word).group(0))

    found = []
    for pattern, op, target in IMAGE_MOVES:
        while m := msg.take(pattern):
            j = index(m.group(2)) if target == 2 else n_images if target == -1 else target
            found.append((m.start(), (op, index(m.group(1)), j)))
    m = msg.take(r"\breverse\s+(?:the\s+)?order\b|\bin\s+reverse\s+order\b|倒序|顺序反过来")
    if m:
        found.append((m.start(), ("reverse", 0, 0)))
    req.moves = [move for _, move in sorted(found)]


def read_transition(msg: Message) -> int | None:
    cross = r"(?:cross[\s-]?fades?|dissolves?|transitions?)"
    if msg.take(
        r"\b(?:no|without|remove(?:\s+the)?|hard)\s+(?:cross[\s-]?fades?|dissolves?|transitions?|cuts?)\b"
        r"|(?:不要|去掉|删除|取消)(?:转场|过渡|交叉淡化|溶解)|硬切"
    ):
        return 0
    m = msg.take(rf"\b{cross}\s*(?:of|for|lasting)?\s*" + TIME) or msg.take(
        TIME + rf"\s*(?:long\s+)?{cross}"
    )
    if m:
        return _time_ms(m)
    m = msg.take(r"(?:交叉淡化|溶解|转场|过渡)\s*" + N + r"\s*(秒钟?)") or msg.take(
        N + r"\s*(秒钟?)\s*的?\s*(?:交叉淡化|溶解|转场|过渡)"
    )
    if m:
        return _time_ms(m)
    if msg.take(rf"\b{cross}\b|交叉淡化|溶解|淡入淡出转场|转场|过渡"):
        return DEFAULT_CROSSFADE_MS
    return None


def read_fades(msg: Message) -> dict[str, int]:
    fade = r"(?<!cross)(?<!cross-)(?<!cross )fad(?:e|es|ing)"
    out: dict[str, int] = {}
    if msg.take(rf"\b(?:no|without|remove(?:\s+the)?)\s+{fade}s?\b|(?:不要|去掉|取消)淡入淡出"):
        return {"fade_in": 0, "fade_out": 0}
    both = msg.take(
        rf"{fade}\s+in\s+and\s+(?:fade\s+)?out(?:\s*(?:of|over|for)?\s*{TIME})?|淡入淡出(?:\s*{N}\s*(秒钟?))?"
    )
    if both:
        ms = _time_ms(both) if both.group(1) else DEFAULT_FADE_MS
        return {"fade_in": ms, "fade_out": ms}
    for key, en, zh in (
        ("fade_in", r"in|from black", "淡入"),
        ("fade_out", r"out|to black", "淡出"),
    ):
        m = msg.take(rf"{fade}[\s-]*(?:{en})\b(?:\s*(?:of|over|for)?\s*{TIME})?") or msg.take(
            rf"{zh}(?:\s*{N}\s*(秒钟?))?"
        )
        if m:
            out[key] = _time_ms(m) if m.group(1) else DEFAULT_FADE_MS
    if not out and msg.take(rf"\b{fade}\b(?!\s*§)"):
        out = {"fade_in": DEFAULT_FADE_MS, "fade_out": DEFAULT_FADE_MS}
    return out


FOCUS_WORDS = (
    r"((top|upper|bottom|lower|left|right|cent(?:er|re)|middle)"
    r"(?:[\s-]*(?:left|right|top|bottom|side|corner))?)"
)
ZH_FOCUS = (
    r"(左上角?|右上角?|左下角?|右下角?|左边|右边|左侧|右侧|左半边|右半边"
    r"|上方|下方|顶部|底部|中间|中心|正中)"
)


def read_focus(msg: Message) -> tuple[float, float] | None:
    m = msg.take(
        r"\b(?:toward|towards|focus(?:ed|ing)?\s+on|cent(?:er|re)d?\s+on|aim(?:ed)?\s+at|"
        r"(?:zoom(?:ing)?|push(?:ing)?)\s+(?:in\s+)?(?:on|to|into|toward|towards))\s+(?:the\s+)?"
        + FOCUS_WORDS,
        group=1,
    )
    if m:
        return _focus_point(m.group(1))
    m = msg.take(
        r"(?:聚焦(?:在|于)?|对准|焦点(?:在|放在)?|朝着?|推向|推近到|移向|向)\s*(?:画面)?的?"
        + ZH_FOCUS,
        group=1,
    )
    if m:
        return _focus_point(m.group(1))
    return None


def _focus_point(words: str) -> tuple[float, float]:
    x = 0.25 if re.search(r"left|左", words) else 0.75 if re.search(r"right|右", words) else 0.5
    y = (
        0.25
        if re.search(r"top|upper|上|顶", words)
        else 0.75
        if re.search(r"bottom|lower|下|底", words)
        else 0.5
    )
    return x, y


def read_fit(msg: Message) -> str | None:
    if msg.take(
        r"\b(?:fit|show|keep|see)\s+(?:the\s+)?(?:whole|entire|full|complete)\s+(?:image|photo|picture|thing)"
        r"|\b(?:whole|entire)\s+(?:image|photo|picture)\b|\bno\s+crop(?:ping)?\b|\bdon'?t\s+crop\b"
        r"|\bwithout\s+crop(?:ping)?\b|\bletterbox(?:ed|ing)?\b|\bcontain\b|\bfit\s+(?:it\s+)?(?:in|inside|within)\b"
        r"|完整显示|显示完整|显示全部|整张图|完整的?图片?|不要裁剪|不裁剪|别裁剪|留黑边|加黑边|适应画面"
    ):
        return "contain"
    if msg.take(
        r"\bfill(?:s|ing)?\s+(?:the\s+)?(?:frame|screen|canvas|whole frame)\b"
        r"|\bcrop(?:ped)?\s+to\s+fill\b|\bfill\s*/\s*crop\b|\bcrop\s+(?:it|the image)\b"
        r"|\bcover\b|\bfull[\s-]?screen\b|\bfill\b|\bcrop\b"
        r"|填满|铺满|裁剪填充|全屏|裁切"
    ):
        return "cover"
    return None


def read_canvas(msg: Message, req: Request) -> None:
    for aspect, pat in (
        ("4:5", r"\b4\s*[:/]\s*5\b|4比5"),
        ("3:4", r"\b3\s*[:/]\s*4\b|3比4"),
        ("4:3", r"\b4\s*[:/]\s*3\b|4比3"),
        (
            "9:16",
            r"\b9\s*[:/]\s*16\b|9比16|\bvertical\b|\bportrait\b|竖屏|竖版|竖向|竖的|\btiktok\b|抖音|快手|\breels?\b|\bshorts\b|\bstor(?:y|ies)\b",
        ),
        ("1:1", r"\b1\s*[:/]\s*1\b|1比1|\bsquare\b|正方形|方形|方屏"),
        (
            "16:9",
            r"\b16\s*[:/]\s*9\b|16比9|\blandscape\b|\bhorizontal\b|\bwide\s*screen\b|横屏|横版|横向|\byoutube\b",
        ),
    ):
        if msg.take(pat):
            req.aspect = aspect
            break
    m = msg.take(r"\b(\d{3,4})\s*[x*]\s*(\d{3,4})\b")
    if m:
        req.size = (int(m.group(1)), int(m.group(2)))
    m = msg.take(
        r"\b(480|540|720|1080|1440|2160)\s*p\b|\b(4|2)\s*k\b|\buhd\b|\bfull\s*hd\b|\bfhd\b|超高清|全高清"
    )
    if m:
        word = m.group(0)
        if m.group(1):
            req.short_side = int(m.group(1))
        elif m.group(2):
            req.short_side = 2160 if m.group(2) == "4" else 1440
        else:
            req.short_side = 2160 if word in ("uhd", "超高清") else 1080


_PAN = r"pan(?:ning|s)?\s+(?:to\s+the\s+)?{en}|(?:move|slide|drift)\s+{en}"
_ZH_PAN = r"|向{zh}(?:平移|移动?|摇)?|{zh}移|往{zh}(?:平)?移|{zh}摇"
_FROM_TO = r"\bfrom\s+(?:the\s+)?{a}\s+to\s+(?:the\s+)?{b}\b|从{za}(?:到|往|向){zb}"
MOTIONS = (  # the first that matches wins
    ("ken_burns", r"ken\s*-?\s*burns|肯.?伯恩斯"),
    ("parallax", r"parallax|2\.5\s*d\b|\b3d\s+(?:effect|motion|photo)|视差|景深"),
    (
        "zoom_out",
        r"zoom(?:ing|s)?\s*-?\s*out|pull(?:ing)?\s+(?:back|out)|dolly\s+out"
        r"|拉远|缩小|拉出|后退",
    ),
    (
        "zoom_in",
        r"zoom(?:ing|s)?\s*-?\s*in\b|push(?:ing)?\s+in|dolly\s+in|move\s+closer|\bzoom\b"
        r"|推近|拉近|放大|推进|靠近",
    ),
    ("pan_right", _FROM_TO.format(a="left", b="right", za="左", zb="右")),
    ("pan_left", _FROM_TO.format(a="right", b="left", za="右", zb="左")),
    ("pan_down", _FROM_TO.format(a="top", b="bottom", za="上", zb="下")),
    ("pan_up", _FROM_TO.format(a="bottom", b="top", za="下", zb="上")),
    ("pan_left", _PAN.format(en="left") + _ZH_PAN.format(zh="左")),
    ("pan_right", _PAN.format(en="right") + _ZH_PAN.format(zh="右")),
    ("pan_up", _PAN.format(en="up") + r"|tilt\s+up" + _ZH_PAN.format(zh="上")),
    ("pan_down", _PAN.format(en="down") + r"|tilt\s+down" + _ZH_PAN.format(zh="下")),
    (
        "static",
        r"\bstatic\b|\bno\s+(?:motion|movement|camera\s+movement|animation)|\bdon'?t\s+move\b"
        r"|\bwithout\s+(?:motion|movement)|\b(?:keep|hold|stay)\s+(?:it\s+)?still\b"
        r"|静止|不动|固定镜头|不要动|不要运动",
    ),
)
STRENGTHS = (
    ("medium", r"\b(?:medium|moderate|normal)\b|适中|中等"),
    (
        "subtle",
        r"\b(?:slow(?:ly|er)?|gentle|gently|subtle|subtler|slight(?:ly)?|soft(?:er)?|calm(?:er)?"
        r"|less)\b|缓慢|缓缓|轻微|轻柔|慢慢|慢|柔和|微微|幅度小",
    ),
    (
        "strong",
        r"\b(?:fast(?:er)?|quick(?:ly|er)?|strong(?:er)?|dramatic(?:ally)?|intense|bold|big(?:ger)?"
        r"|more)\b|强烈|快速|快|明显|大幅|剧烈|夸张|幅度大",
    ),
)


PLAIN_STRENGTHS = (
    ("subtle", r"\b(?:gentle|gently|subtle|subtler|slight(?:ly)?)\b|缓慢|轻微|轻柔|柔和|微微"),
    ("strong", r"\b(?:dramatic(?:ally)?|intense|stronger)\b|强烈|剧烈|夸张|明显"),
)


def read_motion(msg: Message) -> dict[str, Any]:
    """Motion, and its strength (from the same clause) and easing."""
    out: dict[str, Any] = {}
    where = None
    for name, pat in MOTIONS:
        m = msg.take(pat)
        if m:
            out["motion"] = name
            where = m.start()
            break
    if where is None:
        m = msg.find(
            r"\b(?:motion|movement|camera|zoom|pan|animation)\b|运动|动作|镜头|动效|动画|缩放"
        )
        where = m.start() if m else None
    if where is not None:
        a, b = msg.clause_at(where)
        strength = next((name for name, pat in STRENGTHS if msg.take(pat, a, b)), None)
        # "向上平移，强烈一点": only words that can mean nothing else, from other clauses.
        strength = strength or next((n for n, pat in PLAIN_STRENGTHS if msg.take(pat)), None)
        if strength:
            out["strength"] = strength
    if msg.take(r"\blinear(?:ly)?\b|\bconstant\s+speed\b|\bsteady\b|匀速|线性"):
        out["easing"] = "linear"
    elif msg.take(
        r"\beas(?:e|ed|ing)(?:\s*in\s*(?:and|-)?\s*out)?\b|\bsmooth(?:ly)?\b|缓入缓出|平滑|顺滑"
    ):
        out["easing"] = "ease"
    return out


def read_texts(msg: Message) -> list[TextEdit]:
    """Titles and captions, clause by clause: each text keyword owns the words up to the next."""
    edits: list[TextEdit] = []
    clauses = msg.clauses()
    for n, (a, b) in enumerate(clauses):
        kws = list(_rx(TEXT_KW).finditer(msg.work[a:b]))
        if not kws:
            continue
        for a2, b2 in clauses[n + 1 :]:  # "字幕「X」在底部，从2秒到4秒": the timing goes along
            if _rx(TEXT_KW).search(msg.work[a2:b2]) or not _rx(TEXT_MORE).match(msg.work[a2:b2]):
                break
            b = b2
        starts = [a, *(a + k.start() for k in kws[1:])]
        ends = [*starts[1:], b]
        pieces = []
        for k, s, e in zip(kws, starts, ends, strict=True):
            at, role = a + k.start(), _role_of(k.group(0))
            # Not blanked with spaces: "the title last 2 s" must not read "the last 2 s".
            msg.blank(at, a + k.end(), fill="¤")
            pieces.append((role, _read_text_piece(msg, role, at, s, e)))
        if any(edit and edit.remove for _, edit in pieces):  # "remove the title and caption"
            pieces = [(r, edit or TextEdit(role=r, remove=True)) for r, edit in pieces]
        edits += [edit for _, edit in pieces]
    # A quote that no keyword claimed (and no file name): a title, timed by its clause.
    while ids := msg.quote_ids(0, len(msg.work)):
        at = msg.work.index(f"§{ids[0]}§")
        edits.append(_read_text_piece(msg, "quote", at, *msg.clause_at(at)))
    return [e for e in edits if e]


def _role_of(keyword: str) -> str:
    if re.match(r"caption|subtitle|字幕", keyword):
        return "caption"
    return "any" if re.match(r"text|overlay|words|文字|文案", keyword) else "title"


def _read_text_piece(msg: Message, role: str, at: int, a: int, b: int) -> TextEdit | None:
    """One title or caption: what the words from `a` to `b` say about it (its keyword, or its
    quote for a bare quote, is at `at`)."""
    if role != "quote" and msg.take(
        r"\b(?:remove|delete|drop|clear|get\s+rid\s+of|hide|no|without)\b"
        r"|去掉|删除|删掉|移除|不要|取消|拿掉|隐藏",
        a,
        b,
    ):
        return TextEdit(role=role, remove=True)
    edit = TextEdit(role="caption" if role == "caption" else "title")
    ids = msg.quote_ids(a, b)
    if ids:
        edit.text = msg.quotes[ids[0]]
        msg.claim_quote(ids[0])
    _read_text_timing(msg, edit, at, a, b)
    edit.append = bool(
        msg.take(r"\b(?:another|also|one more|a\s+second|extra)\b|再加|另1个|再添加|再来1个", a, b)
    )
    _read_text_position(msg, edit, a, b)
    nothing = (edit.text, edit.start, edit.dur, edit.tail, edit.position) == (None,) * 5
    return None if nothing else edit


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


def _read_text_timing(msg: Message, edit: TextEdit, at: int, a: int, b: int) -> None:
    """When the text shows: a span, the first or last N s, a start, a length, "at the end"."""
    if m := msg.take(TIME + r"\s*(?:long\s+)?的?\s*¤", a, b):  # "a 3-second title", "3秒的标题"
        edit.dur = _time_ms(m)
    if m := msg.take(TEXT_RANGE, a, b):
        edit.start = _ms(m.group(1), m.group(3))
        edit.dur = max(0, _ms(m.group(2), m.group(3)) - edit.start)
    elif m := msg.take(TEXT_FIRST, a, b):
        edit.start, edit.dur = 0, _any_time_ms(m)
    elif m := msg.take(TEXT_LAST, a, b):
        edit.tail = _any_time_ms(m)
    else:
        if m := msg.take(TEXT_START, a, b):
            edit.start = _any_time_ms(m)
        m = msg.take(r"(?:\b(?:for|lasting|lasts?|during)\s+)?" + TIME, at, b)
        if m and edit.dur is None:
            edit.dur = _time_ms(m)
        elif not m and msg.take(r"\bat\s+the\s+end\b|\bin\s+the\s+end\b|结尾|末尾|最后", a, b):
            edit.tail = 2000
        elif not m and msg.take(r"\bat\s+the\s+(?:start|beginning)\b|开头|开始时", a, b):
            edit.start = 0


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


def _read_text_position(msg: Message, edit: TextEdit, a: int, b: int) -> None:
    edit.position = next((pos for pos, pat in TEXT_POSITIONS if msg.take(pat, a, b)), None)


MUSIC_REMOVE = (
    r"\b(?:remove|delete|drop|no|without|get\s+rid\s+of|mute|turn\s+off|stop)\s+"
    r"(?:the\s+|any\s+)?(?:background\s+)?(?:music|bgm|audio|song|soundtrack|sound)\b|\bmute\b"
    r"|(?:去掉|删除|删掉|移除|不要|取消|关掉|关闭)(?:背景)?(?:音乐|配乐|bgm|歌曲?|声音)"
    r"|(?:音乐|配乐)(?:去掉|删掉|不要了)|静音"
)
MUSIC_MINE = (  # the uploaded song
    r"\b(?:my|our|the\s+uploaded|the\s+audio|uploaded)\s+(?:own\s+)?"
    r"(?:song|music|track|audio|mp3|file|soundtrack)s?\b|\bthe\s+song\b"
    r"|我的(?:歌|音乐|歌曲|配乐|音频)|上传的(?:歌|音乐|歌曲|音频|配乐)|这首歌"
)
MUSIC_STYLES = (
    ("lofi", r"\blo-?\s?fi\b|\bchill(?:hop)?\b|低保真"),
    (
        "ambient",
        r"\bambient\b|\bcalm\s+music\b|\batmospheric\b|\bpeaceful\b|\bsoft\s+music\b"
        r"|氛围|舒缓|安静的?音乐|平静",
    ),
    (
        "upbeat",
        r"\bupbeat\b|\benergetic\b|\bhappy\s+music\b|\blively\b|\bfun\s+music\b"
        r"|欢快|动感|活泼|轻快",
    ),
)
VOLUME = (  # a number with % is always a volume
    N + r"\s*%|\bvolume\s*(?:to|at|of|=|:)?\s*" + N
    + r"|音量\s*(?:调到|设为|设置为|改成|改为|为|是|:)?\s*" + N
)  # fmt: skip
LOUDER = (
    r"\blouder\b|\bturn\s+(?:it\s+|the\s+music\s+)?up\b|\bmore\s+volume\b"
    r"|\b(?:increase|raise|boost)\s+(?:the\s+)?(?:music\s+)?volume\b"
    r"|(?:音量|声音|音乐|配乐)再?调?(?:大|高|响)|调高音量|提高音量|大声"
)
QUIETER = (
    r"\b(?:quieter|softer)\b|\bturn\s+(?:it\s+|the\s+music\s+)?down\b|\bless\s+loud\b"
    r"|\b(?:lower|reduce|decrease)\s+(?:the\s+)?(?:music\s+)?volume\b"
    r"|(?:音量|声音|音乐|配乐)再?调?(?:小|低|轻)|调低音量|降低音量|小声|轻声"
)
VOLUME_STEP = 0.15


def read_music(msg: Message, media: list[dict]) -> dict[str, Any]:
    """Music: remove it, or a source (an uploaded file, or a built-in style), a volume, a step."""
    if msg.take(MUSIC_REMOVE):
        return {"remove": True}
    out: dict[str, Any] = {}
    audio = [m for m in media if m.get("file_type") == "audio"]
    for a in audio:  # named: "use song.mp3", "'song.mp3' at 20%"
        name = str(a.get("filename") or "").lower()
        if name and (name in msg.text or name in (q.lower() for q in msg.quotes)):
            out["src"] = a
            for i, q in enumerate(msg.quotes):
                if q.lower() == name:
                    msg.claim_quote(i)
    if "src" not in out and msg.take(MUSIC_MINE):
        if audio:
            out["src"] = audio[-1]
        else:
            out["style"] = "lofi"  # "my song", but none was uploaded
    out["style"] = next((st for st, pat in MUSIC_STYLES if msg.take(pat)), out.get("style"))
    generic = msg.take(r"\b(?:music|bgm|soundtrack|song)\b|背景音乐|音乐|配乐|bgm")
    if m := msg.take(VOLUME):
        if m.group(1):
            out["volume"] = float(m.group(1)) / 100
        else:
            v = m.group(2) or m.group(3)
            out["volume"] = float(v) if float(v) <= 1 and "." in v else float(v) / 100
    if msg.take(LOUDER):
        out["delta"] = VOLUME_STEP
    elif msg.take(QUIETER):
        out["delta"] = -VOLUME_STEP
    out = {k: v for k, v in out.items() if v is not None}
    if generic and not out:
        out["generic"] = True
    return out


def read_relative_duration(msg: Message) -> tuple[str, float] | None:
    def skip(m: re.Match) -> bool:
        """ "make the music longer", "标题长一点": about something else, just before."""
        a = max(msg.clause_at(m.start())[0], m.start() - 20)
        return bool(_rx(TEXT_KW + r"|music|bgm|song|音乐|配乐|歌").search(msg.text[a : m.start()]))

    for pat, sign in (
        (TIME + r"\s*(?:shorter|less)\b", -1),
        (TIME + r"\s*(?:longer|more)\b", +1),
        (r"\b(?:shorten|trim|cut)\s+(?:it\s+|the\s+clip\s+)?by\s+" + TIME, -1),
        (r"\b(?:lengthen|extend)\s+(?:it\s+|the\s+clip\s+)?by\s+" + TIME, +1),
        (r"\b(?:shorter|longer)\s+by\s+" + TIME, 0),
        (r"(?:缩短|减少|减去|再短|少)\s*" + TIME, -1),
        (r"(?:延长|增加|加长|再长|多加?|加)\s*" + TIME, +1),
    ):
        m = msg.find(pat)
        if m and not skip(m):
            msg.blank(*m.span())
            if sign == 0:
                sign = -1 if "shorter" in m.group(0) else +1
            return ("add", sign * _time_ms(m))
    for pat, rel in (
        (
            r"\btwice\s+as\s+long\b|\bdouble\s+(?:the\s+)?(?:length|duration)\b|长1倍|加倍|翻倍",
            ("scale", 2.0),
        ),
        (r"\bhalf\s+(?:as\s+long|the\s+length)\b|缩短1半|减半", ("scale", 0.5)),
        (r"\b(?:much|way|a\s+lot)\s+shorter\b|短很多|短得多", ("scale", 0.5)),
        (r"\b(?:much|way|a\s+lot)\s+longer\b|长很多|长得多", ("scale", 2.0)),
        (r"\bshorter\b|\bshorten\b|\btrim\s+it\b|短1?点|短1?些|再短|缩短|短1下", ("add", -1000.0)),
        (
            r"\blonger\b|\blengthen\b|\bextend\s+it\b|长1?点|长1?些|再长|延长|加长|长1下",
            ("add", 1000.0),
        ),
    ):
        m = msg.find(pat)
        if m and not skip(m):
            msg.blank(*m.span())
            return rel
    return None


def read_duration(msg: Message) -> int | None:
    m = msg.take(TIME)
    return _time_ms(m) if m else None


def read_request(msg: Message, media: list[dict]) -> Request:
    """Every parser, in the order that resolves their overlaps."""
    req = Request()
    n_images = sum(1 for m in media if m.get("file_type") in VISUAL)
    req.make = read_make(msg)
    req.fps = read_fps(msg)
    req.duration = read_clip_duration(msg)
    req.per_image = read_per_image(msg)
    read_images(msg, req, n_images)
    req.transition = read_transition(msg)
    req.fades = read_fades(msg)
    req.focus = read_focus(msg)
    req.music = read_music(msg, media)
    req.texts = read_texts(msg)
    req.relative = read_relative_duration(msg)
    if req.duration is None:
        req.duration = read_duration(msg)
    read_canvas(msg, req)
    req.fit = read_fit(msg)
    req.motion = read_motion(msg)
    return req


# ---- the draft ----------------------------------------------------------------------------------


def is_chinese(text: str) -> bool:
    """Chinese outside quotes (a Chinese title in an English message stays English)."""
    outside = re.sub(r"§\d+§", "", _mask_quotes(text.replace("§", " "), []))
    probe = outside if outside.strip() else text
    return any("\u4e00" <= ch <= "\u9fff" for ch in probe)


def canvas_size(aspect: str, short: int) -> tuple[int, int]:
    a, b = ASPECTS[aspect]
    if a >= b:
        return round(short * a / b / 2) * 2, short
    return short, round(short * b / a / 2) * 2


def _aspect_of(draft: dict) -> str:
    m = draft["m"]
    w, h = int(m["width"]), int(m["height"])
    return min(ASPECTS, key=lambda k: abs(ASPECTS[k][0] / ASPECTS[k][1] - w / h))


def _short_side(draft: dict) -> int:
    m = draft["m"]
    return min(int(m["width"]), int(m["height"]))


def _track(draft: dict, tt: int, create: bool = True) -> dict | None:
    for t in draft["t"]:
        if t.get("tt") == tt:
            return t
    if not create:
        return None
    t = {"tt": tt, "sg": []}
    draft["t"].append(t)
    draft["t"].sort(key=lambda x: {TRACK_VIDEO: 0, TRACK_AUDIO: 1, TRACK_TEXT: 2}.get(x["tt"], 3))
    return t


def _segments(draft: dict, tt: int) -> list[dict]:
    t = _track(draft, tt, create=False)
    return t["sg"] if t else []


def _next_id(draft: dict) -> str:
    n = 0
    for t in draft["t"]:
        for s in t["sg"]:
            m = re.match(r"s(\d+)$", str(s.get("id", "")))
            if m:
                n = max(n, int(m.group(1)))
    return f"s{n + 1}"


def _secs(ms: int) -> str:
    return f"{ms / 1000:g}"


def _clamp_ms(ms: float) -> int:
    return int(max(MIN_MS, min(MAX_MS, round(ms))))


def _set_duration(draft: dict, ms: int) -> list[dict]:
    """Stretch the timeline to `ms`: video segments share it; music and text that ran to the end
    still do, the rest is clipped. Returns the text segments that no longer fit (removed)."""
    old = int(draft.get("d", 5000))
    draft["d"] = ms
    video = _segments(draft, TRACK_VIDEO)
    for i, s in enumerate(video):
        each = ms // len(video)
        s["st"] = i * each
        s["d"] = each if i < len(video) - 1 else ms - i * each
    dropped = []
    for tt in (TRACK_AUDIO, TRACK_TEXT):
        segs = _segments(draft, tt)
        for s in segs:
            st, end = int(s["st"]), int(s["st"]) + int(s["d"])
            s["d"] = (ms if end >= old else min(end, ms)) - st
        dropped += [s for s in segs if s["d"] <= 0 and tt == TRACK_TEXT]
        segs[:] = [s for s in segs if s["d"] > 0]
    return dropped


def _layout_video(draft: dict, images: list[dict], total_ms: int | None) -> None:
    """Put `images` (media dicts) on the video track in order, keeping the look of what was
    there (motion, focus, fit, transitions), sharing `total_ms` or a sensible length."""
    video = _track(draft, TRACK_VIDEO)
    old = {s["src"]: s for s in video["sg"]}
    template = dict(video["sg"][0]["m"]) if video["sg"] else {}
    joins = next(
        ({k: s["m"][k] for k in TRANSITION_KEYS if k in s["m"]} for s in video["sg"][1:]), {}
    )
    for k in (*TRANSITION_KEYS, "name"):
        template.pop(k, None)
    if total_ms is None:  # keep the length unless the images would get too little of it
        d, n = int(draft.get("d", 5000)), len(images)
        total_ms = d if d // n >= MIN_PER_IMAGE_MS else PER_IMAGE_MS * n
    segs = []
    for i, img in enumerate(images):
        prev = old.get(img["hash"])
        if prev is not None:
            m = dict(prev["m"])
        elif template:
            m = dict(template)
        else:
            m = {"motion": "zoom_in" if i % 2 == 0 else "zoom_out", "strength": "subtle"}
        m["name"] = img.get("filename") or "image"
        for k in TRANSITION_KEYS:
            m.pop(k, None)
        if i > 0:
            m.update(joins)
        segs.append({"id": prev["id"] if prev else "", "src": img["hash"], "st": 0, "d": 0, "m": m})
    video["sg"] = segs
    for s in segs:
        if not s["id"]:
            s["id"] = _next_id(draft)
    _set_duration(draft, _clamp_ms(total_ms))


# ---- applying a request: one function per concept, each returning its calls -----------------


def apply_images(new: dict, req: Request, media: list[dict], first: bool) -> list[Call]:
    images = [m for m in media if m.get("file_type") in VISUAL]
    by_hash = {m["hash"]: m for m in images}
    current = [by_hash[s["src"]] for s in _segments(new, TRACK_VIDEO) if s.get("src") in by_hash]
    order = list(images) if (first or req.all_images) else list(current)
    if req.add_new:
        order += [m for m in images if m not in order]
    if not order:
        return []
    for op, i, j in req.moves:
        if op == "reverse":
            order.reverse()
        elif not 1 <= i <= len(order):
            continue
        elif op == "move":
            order.insert(max(0, min(len(order), j) - 1), order.pop(i - 1))
        elif op == "swap" and 1 <= j <= len(order):
            order[i - 1], order[j - 1] = order[j - 1], order[i - 1]
        elif op == "remove" and len(order) > 1:
            order.pop(i - 1)
        elif op == "only":
            order = [order[i - 1]]
    changed = [m["hash"] for m in order] != [m["hash"] for m in current]
    if not changed and req.per_image is None:
        return []
    total = req.per_image * len(order) if req.per_image else req.duration
    _layout_video(new, order, total)
    names = ", ".join(m.get("filename") or "image" for m in order)
    each_ms = _segments(new, TRACK_VIDEO)[0]["d"]
    each, secs = f"{round(each_ms / 1000, 1):g}", _secs(new["d"])
    if len(order) == 1:
        en = f"put {names} on the video track ({secs} s)"
        zh = f"已将 {names} 放到视频轨道（{secs} 秒）"
    else:
        en = f"put {names} on the video track in that order, {each} s each ({secs} s in all)"
        zh = f"视频轨道依次为 {names}，每张 {each} 秒（共 {secs} 秒）"
    if not current and "motion" not in req.motion:
        en += ", with a gentle zoom"
        zh += "，带轻微的缩放运动"
    name = "arrange_media" if current else "add_media"
    return [Call(name, {"files": [m["hash"] for m in order], "each_ms": each_ms}, en, zh)]


def apply_duration(new: dict, req: Request, laid_out: bool) -> list[Call]:
    old = int(new.get("d", 5000))
    ms: int | None = None
    if req.duration is not None and not (laid_out and (req.per_image or req.duration)):
        ms = _clamp_ms(req.duration)
    elif req.relative is not None:
        kind, value = req.relative
        ms = _clamp_ms(old * value if kind == "scale" else old + value)
    if ms is None:
        return []
    dropped = [s["m"].get("text", "") for s in _set_duration(new, ms)]
    en = f"set the length to {_secs(ms)} s (was {_secs(old)} s)"
    zh = f"时长设为 {_secs(ms)} 秒（原为 {_secs(old)} 秒）"
    if dropped:
        en += ", removing the text that no longer fits: " + ", ".join(f'"{t}"' for t in dropped)
        zh += "，超出时长的文字已删除：" + "、".join(f"「{t}」" for t in dropped)
    return [Call("set_duration", {"duration_ms": ms}, en, zh)]


def apply_canvas(new: dict, req: Request, first_images: list[dict]) -> list[Call]:
    aspect, short = req.aspect, req.short_side
    if req.size:
        w, h = (max(64, min(4096, v)) // 2 * 2 for v in req.size)
        aspect = f"{w}x{h}"
    else:
        if not aspect and not short and first_images:
            img = first_images[0]
            w0, h0 = img.get("width") or 0, img.get("height") or 0
            if w0 and h0 and h0 > w0 * 1.2 and int(new["m"]["width"]) > int(new["m"]["height"]):
                aspect = "9:16"  # a portrait photo on the first turn: a vertical clip
        if not aspect and not short:
            return []
        aspect = aspect or _aspect_of(new)
        w, h = canvas_size(aspect, short or _short_side(new))
    new["m"]["width"], new["m"]["height"] = w, h
    return [
        Call(
            "set_canvas",
            {"aspect": aspect, "width": w, "height": h},
            f"set the canvas to {aspect} at {w}x{h}",
            f"画面设为 {aspect}（{w}x{h}）",
        )
    ]


def apply_fps(new: dict, req: Request) -> list[Call]:
    if req.fps is None:
        return []
    new["m"]["fps"] = req.fps
    return [Call("set_fps", {"fps": req.fps}, f"set {req.fps} fps", f"帧率设为 {req.fps} fps")]


def apply_motion(new: dict, req: Request) -> list[Call]:
    video = _segments(new, TRACK_VIDEO)
    if not req.motion or not video:
        return []
    for s in video:
        s["m"].update(req.motion)
    en, zh = [], []
    if "motion" in req.motion:
        a, b = MOTION_NAMES[req.motion["motion"]]
        en.append(f"the motion to {a}")
        zh.append(f"运动效果设为{b}")
    if "strength" in req.motion:
        en.append(f"its strength to {req.motion['strength']}")
        zh.append(f"幅度{STRENGTH_ZH[req.motion['strength']]}")
    if "easing" in req.motion:
        lin = req.motion["easing"] == "linear"
        en.append("linear (constant-speed) easing" if lin else "eased movement")
        zh.append("匀速运动" if lin else "缓入缓出")
    return [Call("set_motion", dict(req.motion), "set " + ", ".join(en), "，".join(zh))]


def apply_focus(new: dict, req: Request) -> list[Call]:
    video = _segments(new, TRACK_VIDEO)
    if not req.focus or not video:
        return []
    x, y = req.focus
    for s in video:
        s["m"]["focus"] = [x, y]
    return [
        Call(
            "set_focus",
            {"focus": [x, y]},
            f"aimed the camera at {_place_en(x, y)}",
            f"镜头对准画面{_place_zh(x, y)}",
        )
    ]


def apply_fit(new: dict, req: Request) -> list[Call]:
    video = _segments(new, TRACK_VIDEO)
    if not req.fit or not video:
        return []
    for s in video:
        s["m"]["fit"] = req.fit
    if req.fit == "contain":
        return [
            Call(
                "set_fit",
                {"fit": "contain"},
                "showed the whole image (fit, no cropping)",
                "完整显示图片（不裁剪）",
            )
        ]
    return [
        Call(
            "set_fit",
            {"fit": "cover"},
            "filled the frame (cropping the image)",
            "图片铺满画面（裁剪边缘）",
        )
    ]


def apply_transition(new: dict, req: Request) -> list[Call]:
    """Crossfades (or hard cuts) at the joins: on every segment but the first, as the
    renderer reads them (`m.transition` "crossfade" or "cut", `m.transition_ms`)."""
    video = _segments(new, TRACK_VIDEO)
    if req.transition is None or len(video) < 2:
        return []
    for s in video[1:]:
        for k in TRANSITION_KEYS:
            s["m"].pop(k, None)
        s["m"]["transition"] = "crossfade" if req.transition else "cut"
        if req.transition:
            s["m"]["transition_ms"] = req.transition
    if not req.transition:
        return [Call("set_transition", {"transition": "cut"}, "used hard cuts", "改为硬切")]
    ms = req.transition
    return [
        Call(
            "set_transition",
            {"transition": "crossfade", "transition_ms": ms},
            f"set {_secs(ms)} s crossfades between the images",
            f"图片之间使用 {_secs(ms)} 秒的交叉淡化转场",
        )
    ]


def _place_en(x: float, y: float) -> str:
    v = "top" if y < 0.5 else "bottom" if y > 0.5 else ""
    h = "left" if x < 0.5 else "right" if x > 0.5 else ""
    return ("the " + " ".join(p for p in (v, h) if p)) if v or h else "the centre"


def _place_zh(x: float, y: float) -> str:
    v = "上" if y < 0.5 else "下" if y > 0.5 else ""
    h = "左" if x < 0.5 else "右" if x > 0.5 else ""
    if v and h:
        return h + v + "角"
    return {"上": "上方", "下": "下方", "左": "左侧", "右": "右侧"}.get(v or h, "中央")


def apply_fades(new: dict, req: Request) -> list[Call]:
    if not req.fades:
        return []
    en, zh = [], []
    for key, word_en, word_zh in (("fade_in", "fade-in", "淡入"), ("fade_out", "fade-out", "淡出")):
        if key not in req.fades:
            continue
        ms = min(req.fades[key], int(new.get("d", 5000)) // 2)
        if ms:
            new["m"][key] = ms
            en.append(f"a {_secs(ms)} s {word_en}")
            zh.append(f"{_secs(ms)} 秒{word_zh}")
        else:
            new["m"].pop(key, None)
    if not en:
        return [
            Call("set_fades", {"fade_in": 0, "fade_out": 0}, "removed the fades", "已去掉淡入淡出")
        ]
    args = {k: new["m"].get(k, 0) for k in req.fades}
    return [Call("set_fades", args, "added " + " and ".join(en), "加入" + "和".join(zh))]


def apply_texts(new: dict, req: Request) -> list[Call]:
    calls = []
    seen: set[str] = set()
    for edit in req.texts:
        if edit.remove:
            calls += _remove_text(new, edit.role)
            continue
        calls += _set_text(new, edit, append=edit.append or edit.role in seen)
        seen.add(edit.role)
    return calls


def _remove_text(new: dict, role: str) -> list[Call]:
    segs = _segments(new, TRACK_TEXT)
    keep = [s for s in segs if role != "any" and _role(s) != role]
    if len(keep) == len(segs):
        return []
    segs[:] = keep
    en = {"title": "the title", "caption": "the captions", "any": "all text"}[role]
    zh = {"title": "标题", "caption": "字幕", "any": "所有文字"}[role]
    return [Call("remove_title", {"role": role}, f"removed {en}", f"已删除{zh}")]


def _role(seg: dict) -> str:
    return (seg.get("m") or {}).get("role", "title")


def _set_text(new: dict, edit: TextEdit, append: bool) -> list[Call]:
    d = int(new.get("d", 5000))
    track = _track(new, TRACK_TEXT)
    seg = None if append else next((s for s in track["sg"] if _role(s) == edit.role), None)
    if seg is None:
        if edit.text is None:
            return []
        seg = {"id": _next_id(new), "st": 0, "d": d, "m": {"text": edit.text, "role": edit.role}}
        seg["m"]["position"] = "bottom" if edit.role == "caption" else "center"
        track["sg"].append(seg)
    m = seg["m"]
    if edit.text is not None:
        m["text"] = edit.text
    if edit.position:
        m["position"] = edit.position
    st, dur = int(seg["st"]), int(seg["d"])
    if edit.tail is not None:
        dur = min(edit.tail, d)
        st = d - dur
    else:
        if edit.start is not None:
            st = edit.start
            if edit.dur is None:
                dur = d - st
        if edit.dur is not None:
            dur = edit.dur
    st = max(0, min(st, d - 100))
    seg["st"], seg["d"] = st, max(100, min(dur, d - st))
    word_zh = ROLE_ZH[edit.role]
    span = f"{_secs(seg['st'])}-{_secs(seg['st'] + seg['d'])}"
    return [
        Call(
            "set_title",
            {
                "role": edit.role,
                "text": m["text"],
                "start_ms": seg["st"],
                "duration_ms": seg["d"],
                "position": m["position"],
            },
            f'set the {edit.role} "{m["text"]}" at {span} s ({m["position"]})',
            f"{word_zh}「{m['text']}」：{span} 秒，{POSITION_ZH.get(m['position'], m['position'])}",
        )
    ]


def apply_music(new: dict, req: Request, media: list[dict], first: bool) -> list[Call]:
    mu = dict(req.music)
    seg = next(iter(_segments(new, TRACK_AUDIO)), None)
    if mu.get("remove"):
        if not seg:
            return []
        _segments(new, TRACK_AUDIO).clear()
        return [Call("remove_music", {}, "removed the music", "已删除背景音乐")]
    audio = [m for m in media if m.get("file_type") == "audio"]
    if first and not seg and audio and not mu:
        mu = {"src": audio[-1]}  # an uploaded song goes on with the images
    # A new source when one is named, or for "music at 35%" on a clip with none yet.
    if "src" in mu or "style" in mu or (not seg and ("volume" in mu or mu.get("generic"))):
        seg = _put_music(new, seg, mu, audio)
        _set_volume(seg, mu)
        m = seg["m"]
        pct = round(m["volume"] * 100)
        zh_name = MUSIC_ZH.get(str(seg["src"]).removeprefix("builtin:"), m["name"])
        return [
            Call(
                "set_music",
                {"src": seg["src"], "volume": m["volume"]},
                f"added {m['name']} music at {pct}%",
                f"添加{zh_name}背景音乐，音量 {pct}%",
            )
        ]
    if not seg or ("volume" not in mu and "delta" not in mu):
        return []
    old = round(float(seg["m"].get("volume", DEFAULT_VOLUME)) * 100)
    _set_volume(seg, mu)
    pct = round(seg["m"]["volume"] * 100)
    return [
        Call(
            "set_volume",
            {"volume": seg["m"]["volume"]},
            f"set the music volume to {pct}% (was {old}%)",
            f"音乐音量调为 {pct}%（原为 {old}%）",
        )
    ]


def _put_music(new: dict, seg: dict | None, mu: dict, audio: list[dict]) -> dict:
    """The music segment for an uploaded file or a built-in style, over the whole clip,
    keeping the volume of the one it replaces."""
    if "src" not in mu and "style" not in mu and audio:
        mu["src"] = audio[-1]  # "add music" after uploading a song: that song
    if "src" in mu:
        src, name = mu["src"]["hash"], mu["src"].get("filename") or "audio"
    else:
        style = mu.get("style", "lofi")
        src, name = f"builtin:{style}", MUSIC_NAMES[style]
    vol = float(seg["m"].get("volume", DEFAULT_VOLUME)) if seg else DEFAULT_VOLUME
    new_seg = {
        "id": seg["id"] if seg else _next_id(new),
        "src": src,
        "st": 0,
        "d": int(new["d"]),
        "m": {"name": name, "volume": vol},
    }
    _track(new, TRACK_AUDIO)["sg"][:] = [new_seg]
    return new_seg


def _set_volume(seg: dict, mu: dict) -> None:
    m = seg["m"]
    vol = float(m.get("volume", DEFAULT_VOLUME))
    if "volume" in mu:
        vol = max(0.0, min(1.0, mu["volume"]))
    if "delta" in mu:
        vol = max(0.05, min(1.0, vol + mu["delta"]))
    m["volume"] = round(vol, 2)


# ---- the turn -----------------------------------------------------------------------------------


def plan_turn(message: str, draft: dict, media: list[dict], language: str = "en") -> Turn:
    """One turn: the calls `message` makes on a copy of `draft` (the session's `media` is what
    can go on the tracks), and the reply, in Chinese if the message is or `language` starts with
    "zh". Nothing usable: no calls, `draft` None, and a reply that says what works."""
    text = message.strip()[:MAX_CHARS]
    zh = is_chinese(text) or (language or "").startswith("zh")
    msg = Message(text)
    turn = Turn()
    step = read_undo(msg)
    if step:
        turn.step = step
        return turn

    new = _copy_draft(draft)
    images = [m for m in media if m.get("file_type") in VISUAL]
    first = bool(images) and not _segments(new, TRACK_VIDEO)

    req = read_request(msg, media)
    usable = req.make or req.useful()
    calls: list[Call] = []
    laid = apply_images(new, req, media, first=first and usable)
    calls += laid
    calls += apply_duration(new, req, laid_out=bool(laid))
    calls += apply_canvas(new, req, images if first and laid else [])
    calls += apply_fps(new, req)
    calls += apply_motion(new, req)
    calls += apply_focus(new, req)
    calls += apply_fit(new, req)
    calls += apply_transition(new, req)
    calls += apply_fades(new, req)
    calls += apply_texts(new, req)
    calls += apply_music(new, req, media, first=first and bool(laid))

    turn.calls = calls
    if calls:
        turn.draft = new
        turn.reply = _reply(calls, zh)
    else:
        turn.reply = help_text(zh, has_media=bool(media) or bool(_segments(new, TRACK_VIDEO)))
    return turn


def _copy_draft(draft: dict) -> dict:
    new = copy.deepcopy(draft) if isinstance(draft, dict) else {}
    new.setdefault("d", 5000)
    new["m"] = {"width": 1920, "height": 1080, "fps": 30, **(new.get("m") or {})}
    new.setdefault("t", [])
    return new


def _reply(calls: list[Call], zh: bool) -> str:
    if zh:
        return "好的，" + "；".join(c.zh for c in calls) + "。可以说“导出”生成视频。"
    text = "; ".join(c.en for c in calls)
    return "Done: " + text + '. Say "export" to render the video.'


def help_text(zh: bool, has_media: bool) -> str:
    if zh:
        lead = "我没有看懂要改什么。" if has_media else "请先上传一张图片。"
        return (
            lead + "可以这样说：\n"
            "- “做一个5秒的竖屏视频，1080p”\n"
            "- “缓慢推近左上角” / “向左平移” / “视差” / “静止”\n"
            "- “标题「春季促销」前3秒，字幕「立即购买」在底部，2秒到4秒”\n"
            "- “加上低保真音乐，音量35%” / “用我的歌” / “音乐小声一点”\n"
            "- “用全部三张图片，每张2秒” / “把第二张放在最前面”\n"
            "- “淡入淡出” / “完整显示图片” / “短一点” / “去掉标题” / “撤销”"
        )
    lead = "I couldn't find a change to make in that." if has_media else "Upload an image first."
    return (
        lead + " Try, for example:\n"
        '- "make a 5-second vertical clip in 1080p"\n'
        '- "slow zoom in toward the top left", "pan left", "parallax", "static"\n'
        "- \"title 'Spring Sale' for the first 3 seconds, caption 'Shop now' at the bottom "
        'from 2s to 4s"\n'
        '- "lo-fi music at 35%", "use my song", "make the music quieter"\n'
        '- "use all three images, 2 seconds each", "put the second image first"\n'
        '- "fade in and out", "fit the whole image", "a bit shorter", "remove the title", "undo"'
    )
