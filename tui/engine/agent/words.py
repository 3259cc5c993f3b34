"""Reading a message's words: normalised text, number words, set-aside quotes, times.

`Message` is what every reader works on: quoted text (and the unquoted text after "change the
title to") is set aside first, so that it is never parsed for keywords; the rest is lower-cased
and its numbers (English words, Chinese numerals, "百分之") become digits. Readers *take* what
they understand, blanking it, so that a later reader cannot read the same words again.
"""

from __future__ import annotations

import bisect
import functools
import re

CN_DIGITS = dict(zip("零〇一二两三四五六七八九", (0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True))
_EN_UNITS = [
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
    *("eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"),
    *("eighteen", "nineteen"),
]
_EN_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60}
# "one" is read only before a unit (see normalise): "the first one" stays words.
EN_NUMBERS = {w: i for i, w in enumerate(_EN_UNITS) if w != "one"} | _EN_TENS
_ORD = "first second third fourth fifth sixth seventh eighth ninth tenth"
ORDINALS = {w: i for i, w in enumerate(_ORD.split(), 1)}
MAX_QUOTES = 20  # set aside per message; any more are dropped, never parsed
# The longest unquoted text after "change the title to": a title, not a page. (Each such
# keyword scans at most this far for the text's end: many of them stay linear.)
MAX_BARE = 200
# Longer runs of digits are nobody's number: normalise makes each one space (and leaves longer
# runs of Chinese numerals as words), so that no `\d+` ever scans more digits than this.
MAX_DIGITS = 15
# How far back a pattern before a keyword may start ("enlarge the <title>", "把<原声>"): a few
# words; looking further back only costs time (each start is one more try).
LOOKBACK = 48
# Filler steps between a keyword and what is said of it ("the title <a little bit> bigger").
MAX_FILLER_STEPS = 16
# Longer runs of white space become one space (or one line break, when they hold one): a `\s*`
# never scans more than this many from any of its starting points.
MAX_SPACES = 3
_SPACES = re.compile(rf"\s{{{MAX_SPACES + 1},}}")

# A number (after normalisation every number is digits); never from the middle of another, so
# that a search tries each run of digits once, not once per digit (linear, not quadratic).
N = r"(?<!\d)(\d+(?:\.\d+)?)"
UNIT = r"\s*-?\s*(ms|milliseconds?|seconds?|secs?|s|秒钟?|minutes?|mins?|分钟)(?![a-z])"
TIME = N + UNIT
ZH_NUM = "零〇一二两三四五六七八九十百"
# Words that say nothing about what follows a text keyword: "the title <a bit> bigger",
# "show the title <for> 2 more seconds", "标题<显示时间>长一点". One of them a match.
FILLER = (
    r"\s+|[,，、]|¤+|§\d+§"
    r"|(?:the|a|an|bit|little|lot|much|slightly|even|on|screen|for|stay|stays|show|shown|display"
    r"|displayed|visible|keep|it|make|be|should|please|last|font|size|in|letters|look|to)\b"
    r"|的|再|更|要|可以|能|稍微|稍|都|请|让它?|得|字体|字号|字|显示|停留|持续|时间|调|变得?"
    r"|改成|改为|换成|设为|设置为|变成|用"
)
CLAUSE_END = re.compile(r"[,;!?\n，。；！？、]|(?<!\d)\.|\.(?!\d)")


# No opening mark inside a quote: an opener that is never closed then costs a scan up to the
# next opener, not to the end of the message (many of them: linear, not quadratic).
_QUOTE_PAIRS = (
    r"(?<![\w])'([^'\n]+?)'(?![\w])",
    r'"([^"\n]+?)"',
    r"“([^“”\n]+?)”",
    r"‘([^‘’\n]+?)’",
    r"「([^「」\n]+?)」",
    r"『([^『』\n]+?)』",
    r"《([^《》\n]+?)》",
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

# Unquoted words after "change the title to" that style the text rather than replace it
# ("标题改成大号", "change the title to yellow"): left to the readers, never the new text.
_STYLE_ONLY = re.compile(
    r"(?:a\s+)?(?:(?:bit|little|lot)\s+)?(?:bigger|larger|smaller|big|large|small|huge|tiny"
    r"|bold(?:er)?|italics?|red|orange|yellow|green|blue|purple|pink|white|black|gr[ae]y"
    r"|gold(?:en)?)(?:\s+(?:font|text|size|colou?r|letters))?"
    r"|(?:更|再)?[大小][一1]?(?:点儿?|些)|[大小]号(?:字体?)?|[大小]字|特大|超大|巨大|特小|超小"
    r"|加粗|粗体|斜体|(?:粉红|金黄|橘|[红橙黄绿蓝紫粉白黑灰金])色的?(?:字体?)?"
    r"|(?:colou?r\s+)?#(?:[0-9a-f]{6}|[0-9a-f]{3})",
    re.I,
)


def squeeze(text: str) -> str:
    """`text` with its runs of over MAX_SPACES white space as one space (or line break)."""
    return _SPACES.sub(lambda m: "\n" if "\n" in m.group(0) else " ", text)


def cn_int(s: str) -> int:
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


def normalise(text: str) -> str:
    """Lower case, half-width, and every number as digits."""
    t = text.lower()
    t = t.translate(str.maketrans("０１２３４５６７８９％：．＃", "0123456789%:.#"))
    t = t.replace("×", "x").replace("–", "-").replace("—", "-").replace("～", "~")
    return _english_numbers(_chinese_numbers(t))


def _chinese_numbers(t: str) -> str:
    """百分之三十五 → 35%, 十五 → 15, 两秒半 → 2.5秒."""
    t = re.sub(
        rf"百分之\s*([{ZH_NUM}]{{1,{MAX_DIGITS}}}|(?<!\d)\d+(?:\.\d+)?)",
        lambda m: (m.group(1) if m.group(1)[0].isdigit() else str(cn_int(m.group(1)))) + "%",
        t,
    )
    t = re.sub(r"[" + ZH_NUM + r"]+", _cn_number, t)
    t = re.sub(rf"\d{{{MAX_DIGITS + 1},}}", " ", t)
    t = re.sub(r"(?<!\d)(\d+)\s*(?:个半\s*秒钟?|秒钟?半)", r"\1.5秒", t)
    # 一分半 (a minute and a half), 两分半钟, 一分钟半; 半分钟 (half a minute)
    t = re.sub(r"(?<!\d)(\d+)\s*(?:分钟?半钟?|个半分钟)", r"\1.5分钟", t)
    return re.sub(r"(?<![\d.])半(?:个)?分钟", "30秒", t)


def _cn_number(m: re.Match) -> str:
    # A long run is no number (and int() refuses a string of over 4,300 digits): left as words.
    return str(cn_int(m.group(0))) if len(m.group(0)) <= MAX_DIGITS else m.group(0)


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
    # "one more second", "an extra second", "a second longer": 1 s (not "a second title").
    t = re.sub(
        r"\b(?:one|an?)(?=\s+(?:more|extra)\s+(?:second|sec)\b)"
        r"|\ba(?=\s+(?:second|sec)\s+(?:longer|shorter|more|less)\b)",
        "1",
        t,
        flags=re.A,
    )
    # "two and a half seconds", "one and a half minutes", "a minute and a half", "half a minute"
    t = re.sub(
        r"\b(\d+|one|an?)\s+and\s+a\s+half\s+(seconds?|secs?|minutes?|mins?)\b",
        lambda m: ("1" if m.group(1)[0] in "oa" else m.group(1)) + ".5 " + m.group(2),
        t,
        flags=re.A,
    )
    t = re.sub(
        r"\b(\d+|an?)\s+(seconds?|secs?|minutes?|mins?)\s+and\s+a\s+half\b",
        lambda m: ("1" if m.group(1)[0] == "a" else m.group(1)) + ".5 " + m.group(2),
        t,
        flags=re.A,
    )
    t = re.sub(r"\bhalf\s+(?:a|an|1)\s+(?:minute|min)\b", "30 s", t, flags=re.A)
    t = re.sub(r"\bhalf a (?:second|sec)\b", "0.5 s", t, flags=re.A)
    return re.sub(r"(\d)\s*(?:percent|per cent)\b", r"\1%", t, flags=re.A)


def mask_quotes(text: str, quotes: list[str]) -> str:
    """Set quoted text (and the unquoted forms of _BARE_TEXT) aside as `§i§` markers."""

    def keep(words: str) -> str:
        if len(quotes) >= MAX_QUOTES:
            return " "  # past any sensible instruction: dropped, never parsed
        quotes.append(words.strip())
        return f" §{len(quotes) - 1}§ "

    for pat in _QUOTE_PAIRS:
        text = re.sub(pat, lambda m: keep(m.group(1)), text, flags=re.A)

    def keep_bare(m: re.Match) -> str:
        if _STYLE_ONLY.fullmatch(m.group(2).strip()):
            return m.group(0)
        return m.group(1) + keep(m.group(2))

    for lead in _BARE_TEXT:
        text = re.sub(
            "(" + lead + rf")(?!§|\s*§)([^,.;!?\n§]{{1,{MAX_BARE}}}?)" + _BARE_END_EN,
            keep_bare,
            text,
            flags=re.I | re.A,
        )
    return re.sub(
        "(" + _BARE_ZH + rf")(?!§|\s*§)([^，。；,;!！?？\n§]{{1,{MAX_BARE}}}?)" + _BARE_END_ZH,
        keep_bare,
        text,
    )


# A run of white space in a pattern (`\s*`, `\s+`, `[\s-]*`), to be made possessive (below).
_SPACE_RUN = re.compile(r"(\\s|\[\\s-\])([*+])(?![*+?])")


@functools.lru_cache(maxsize=512)
def rx(pattern: str) -> re.Pattern:
    """ASCII word rules: `\\b`, `\\w` see Chinese as punctuation (用lofi, 1个720p的).

    Every run of white space the pattern reads is possessive (`\\s*+`): it never gives any
    back, so that two in a row ("video\\s*(?:of)?\\s*" + N) cannot try every way of splitting
    a long run of taken (blanked) words between them: that was cubic, a minute for 2,000
    characters. No pattern here needs one back: white space is never what follows one."""
    return re.compile(_SPACE_RUN.sub(r"\1\2+", pattern), re.A)


class Message:
    """One instruction, ready for the readers: quotes set aside, numbers as digits.

    `work` is the normalised text with every part a reader has already taken blanked out
    (same length, so spans stay valid against `text`).
    """

    def __init__(self, raw: str) -> None:
        self.quotes: list[str] = []
        # "§" marks set-aside quotes below, so none may come from the user. `written` is the
        # text before normalising (quotes set aside), for a reply that quotes the user.
        self.written = squeeze(mask_quotes(squeeze(raw.replace("§", " ")), self.quotes))
        self.text = squeeze(normalise(self.written))
        self.work = self.text
        self._clauses: list[tuple[int, int]] | None = None

    def find(self, pattern: str, start: int = 0, end: int | None = None) -> re.Match | None:
        return rx(pattern).search(self.work, start, len(self.work) if end is None else end)

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

    def find_near(
        self, pattern: str, start: int, end: int, filler: str = FILLER
    ) -> re.Match | None:
        """The match of `pattern` from `start` with only `filler` before it (one filler a
        step, at most MAX_FILLER_STEPS): "the title <for 2 more seconds>", "标题<再>大一点".
        Bounded, so that a keyword costs the same however long the words after it are."""
        pos = start
        for _ in range(MAX_FILLER_STEPS + 1):
            if pos >= end:
                return None
            if m := rx(pattern).match(self.work, pos, end):
                return m
            f = rx(filler).match(self.work, pos, end)
            if not f or f.end() == pos:
                return None
            pos = f.end()
        return None

    def take_near(
        self, pattern: str, start: int, end: int, filler: str = FILLER
    ) -> re.Match | None:
        """`find_near`, and blank the match (not the filler before it)."""
        m = self.find_near(pattern, start, end, filler)
        if m:
            self.blank(*m.span())
        return m

    def keyword_end(self, at: int) -> int:
        """The end of the text keyword at `at` (blanked as "¤" by read_texts), else `at`."""
        m = re.compile("¤+").match(self.work, at)
        return m.end() if m else at

    def find_before(self, pattern: str, start: int, end: int) -> re.Match | None:
        """A match of `pattern` between `start` and `end` that ends at `end` ("<shorten the>
        caption", "<放大>标题"), starting at most LOOKBACK characters before `end`."""
        return rx("(?:" + pattern + r")\Z").search(self.work, max(start, end - LOOKBACK), end)

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
        clauses = self.clauses()
        i = bisect.bisect_right(clauses, (pos, len(self.text) + 1)) - 1  # the last starting <= pos
        for a, b in clauses[max(0, i) : i + 1]:
            if a <= pos <= b:
                return a, b
        return 0, len(self.text)

    def quote_ids(self, a: int, b: int) -> list[int]:
        return [int(i) for i in re.findall(r"§(\d+)§", self.work[a:b])]

    def claim_quote(self, i: int) -> None:
        m = re.search(rf"§{i}§", self.work)
        if m:
            self.blank(*m.span())


def ms_of(value: str, unit: str) -> int:
    v = float(value)
    if unit.startswith("m") and unit not in ("ms",) and not unit.startswith("milli"):
        v *= 60  # minutes
    elif unit.startswith("分"):
        v *= 60
    elif unit == "ms" or unit.startswith("milli"):
        v /= 1000
    return round(v * 1000)


def time_ms(m: re.Match, g: int = 1) -> int:
    """The ms of a TIME match whose number is group `g` and unit group `g + 1`."""
    return ms_of(m.group(g), m.group(g + 1) or "s")


def any_time_ms(m: re.Match) -> int:
    """The ms of the first TIME that matched in a pattern of alternatives, each one TIME."""
    g = next(g for g in range(1, len(m.groups()), 2) if m.group(g) is not None)
    return time_ms(m, g)


def is_chinese(text: str) -> bool:
    """Chinese outside quotes (a Chinese title in an English message stays English)."""
    outside = re.sub(r"§\d+§", "", mask_quotes(squeeze(text.replace("§", " ")), []))
    probe = outside if outside.strip() else text
    return any("\u4e00" <= ch <= "\u9fff" for ch in probe)
