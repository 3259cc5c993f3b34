"""What goes on the video track: "make a video", all the images, new ones, and their order
("put the second image first", "把第3张放到最前面", "reverse the order")."""

from __future__ import annotations

import re

from tui.engine.agent.request import Request
from tui.engine.agent.words import ORDINALS, Message


def read_make(msg: Message) -> bool:
    return msg.has(
        r"\b(?:make|create|turn|generate|render|produce|build|animate|convert|clip|video|movie|"
        r"slideshow|go|start|do it)\b|视频|做|生成|制作|动起来|短片|开始|弄"
    )


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
