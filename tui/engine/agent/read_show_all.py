""" "Show it all": phrasings of the whole picture fitted in the frame (`m.fit` = "contain") that
read_fit's table does not know, read before it ("show it all", "keep everything in", a bare
"fit", 全部显示, 不要裁掉)."""

from __future__ import annotations

from tui.engine.agent.words import Message

SHOW_ALL = (
    r"\bshow\s+(?:it\s+|them\s+)?(?:all|everything)\b|\bshow\s+all\s+of\s+(?:it|them)\b"
    r"|\bkeep\s+(?:everything|it\s+all|all\s+of\s+it)\s+in(?:side)?\b(?:\s+(?:the\s+)?frame\b)?"
    r"|\bkeep\s+(?:the\s+)?(?:whole|entire|full)\s+(?:image|photo|picture|pic|thing)\s+in\b"
    r"|\b(?:make\s+it\s+)?fit(?:ted)?\s*+(?:\bto\s+(?:the\s+)?(?:frame|screen|canvas))?\s*+"
    r"(?:\bplease\b)?\s*+\Z|\bfit\s+(?:it|the\s+(?:image|photo|picture|pic))\b(?!\s+(?:in|into)\b)"
    r"|\bnothing\s+cut\s+off\b|\bdon'?t\s+cut\s+(?:anything|it)\s+off\b"
    r"|全部显示|全都显示|显示全部|不要裁掉|别裁掉|不要切掉|别切掉|保留完整画面|完整画面|完整呈现"
)


def read_show_all(msg: Message) -> str | None:
    """ "contain" when the message asks for the whole picture in one of these words, else None
    (read_fit then reads its own table)."""
    if m := msg.take(SHOW_ALL):
        while m := msg.take(SHOW_ALL, m.end()):  # said twice, one ask
            pass
        return "contain"
    return None
