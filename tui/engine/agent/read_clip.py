"""The clip as a whole: its length (absolute, per image, or relative), canvas and frame rate."""

from __future__ import annotations

import re

from tui.engine.agent.read_text import TEXT_KW
from tui.engine.agent.request import Request
from tui.engine.agent.words import TIME, Message, N, rx, time_ms


def read_clip_duration(msg: Message) -> int | None:
    """Lengths that can only be the clip's: "5-second clip", "5秒的视频", "duration 8 s"."""
    m = msg.take(
        TIME + r"\s*(?:long\s+)?(?:clip|video|movie|film|reel|slideshow|animation|mp4)"
    ) or msg.take(N + r"\s*(秒钟?|分钟)\s*(?:长)?的?\s*(?:视频|短片|片子|影片|短视频|动画)")
    if m:
        return time_ms(m)
    pattern = (
        r"(?:\b(?:length|duration|runtime|clip|video)\s*(?:of|to|is|=|:|at)?"
        r"|总时长|时长|总长度?|长度|视频)\s*(?:长|为|设为|改为|改成|调到|调整为|是|:)?\s*"
        + TIME
        # "make the clip 1 second longer" is a change of its length (read_relative_duration)
        + r"(?!\s*(?:longer|shorter|more|less)\b)"
    )
    start = 0
    while m := msg.find(pattern, start):
        if not _owned_by_other(msg, m.start()):
            msg.blank(*m.span())
            return time_ms(m)
        start = m.end()  # the title's or the music's: the clip's may come later
    return None


def _owned_by_other(msg: Message, at: int) -> bool:
    """ "title duration 3 s", "标题时长3秒", "the music's length": a length, but not the clip's."""
    before = msg.text[max(msg.clause_at(at)[0], at - 12) : at]
    return bool(re.search(TEXT_KW + r"|music|bgm|song|音乐|配乐|歌", before))


def read_per_image(msg: Message) -> int | None:
    m = msg.take(
        TIME
        + r"\s*(?:each|apiece|per\s+(?:image|photo|picture|pic|slide|shot)|an?\s+(?:image|photo))"
    ) or msg.take(
        r"\beach\s+(?:image|photo|picture|pic|slide|shot|one)?\s*(?:for|gets|lasts|of|is|at)?\s*"
        + TIME
    )
    if m:
        return time_ms(m)
    m = msg.take(
        r"(?:每张|每1张|每个|每幅|各)\s*(?:图片|照片|图)?\s*(?:显示|停留|持续|播放)?\s*"
        + N
        + r"\s*(秒钟?)"
    )
    return time_ms(m) if m else None


def read_relative_duration(msg: Message) -> tuple[str, float] | None:
    def skip(m: re.Match) -> bool:
        """ "make the music longer", "标题长一点": about something else, just before."""
        a = max(msg.clause_at(m.start())[0], m.start() - 20)
        return bool(rx(TEXT_KW + r"|music|bgm|song|音乐|配乐|歌").search(msg.text[a : m.start()]))

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
            return ("add", sign * time_ms(m))
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
    return time_ms(m) if m else None


# A short follow-up that changes the last number without naming what it measures: "make it 6"
# (after "a 5-second clip"), "actually 8", "改成6", "还是8吧". The only length a draft keeps is
# the clip's, so the number is its seconds. The whole message, or it is not one.
_SOFT = r"(?:no|ok(?:ay)?|actually|hmm+|um+|wait|sorry|maybe|then|instead|please|now|just)\b"
FOLLOW_UP = (
    r"\s*(?:(?:" + _SOFT + r"|[,.!?]|\s+)*)"
    r"(?:(?:make|change|set|switch)\s+it\s+(?:to\s+)?|let'?s\s+(?:do|go\s+with)\s+"
    r"|(?:how|what)\s+about\s+|try\s+|go\s+with\s+)?"
    + N
    + r"(?:\s*(?:"
    + _SOFT
    + r"|[,.!?]))*\s*"
    + r"|\s*(?:那|那就|还是|要不|其实|嗯|不|不对)?[，,]?\s*(?:就|还是)?"
    r"(?:改成|改为|换成|设为|调到|弄成|变成|做成)?\s*"
    + N
    + r"\s*(?:吧|好了|就行|就好|呢|了)?[。！!？?]?\s*"
)
MAX_FOLLOW_UP_S = 60  # a bare number above this is nobody's length in seconds


def read_follow_up(msg: Message) -> int | None:
    """The clip's length in ms for a bare number said as a follow-up ("make it 6")."""
    m = rx(FOLLOW_UP).fullmatch(msg.work)
    if not m:
        return None
    value = float(m.group(1) or m.group(2))
    if not 0 < value <= MAX_FOLLOW_UP_S:
        return None
    msg.blank(*m.span())
    return round(value * 1000)


def read_fps(msg: Message) -> int | None:
    m = msg.take(
        N + r"\s*(?:fps|frames?\s*(?:per|a|/)\s*(?:second|sec|s)\b|帧每秒|帧/秒|帧)"
    ) or msg.take(r"(?:每秒|帧率\s*(?:为|设为|设置为|调到|改成|:)?)\s*" + N + r"\s*帧?")
    if not m:
        return None
    return max(1, min(60, round(float(m.group(1)))))


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
