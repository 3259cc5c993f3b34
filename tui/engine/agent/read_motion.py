"""How the images move and sit in the frame: the motion, its strength and easing, the point the
camera aims at, and fit (whole image) or fill (cropped)."""

from __future__ import annotations

import re
from typing import Any

from tui.engine.agent.words import Message

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
    for fit, pat in FITS:
        if m := msg.take(pat):
            while m := msg.take(pat, m.end()):  # "完整显示图片，不要裁剪": said twice, one ask
                pass
            return fit
    return None


FITS = (
    (
        "contain",
        r"\b(?:fit|show|keep|see)\s+(?:the\s+)?(?:whole|entire|full|complete)\s+(?:image|photo|picture|thing)"
        r"|\b(?:whole|entire)\s+(?:image|photo|picture)\b|\bno\s+crop(?:ping)?\b|\bdon'?t\s+crop\b"
        r"|\bwithout\s+crop(?:ping)?\b|\bletterbox(?:ed|ing)?\b|\bcontain\b|\bfit\s+(?:it\s+)?(?:in|inside|within)\s+(?:the\s+)?(?:frame|screen|canvas|view)\b"
        r"|完整显示|显示完整|显示全部|整张图|完整的?图片?|不要裁剪|不裁剪|别裁剪|留黑边|加黑边|适应画面",
    ),
    (
        "cover",
        r"\bfill(?:s|ing)?\s+(?:the\s+)?(?:frame|screen|canvas|whole frame)\b"
        r"|\bcrop(?:ped)?\s+to\s+fill\b|\bfill\s*/\s*crop\b|\bcrop\s+(?:it|the image)\b"
        r"|\bcover\b|\bfull[\s-]?screen\b|\bfill\b|\bcrop\b"
        r"|填满|铺满|裁剪填充|全屏|裁切",
    ),
)
