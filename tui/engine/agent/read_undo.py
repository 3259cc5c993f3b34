"""Undo and redo: not edits here, but a step the server takes through its stored history; and
"undo and make it 5 s", a step and then the rest of the message, read on the restored draft."""

from __future__ import annotations

import re

from tui.engine.agent.read import read_request
from tui.engine.agent.words import Message

UNDO_EN = (
    r"(?:please\s+)?(?:undo|revert|go back|take (?:that|it) back)"
    r"(?:\s+(?:that|it|this|the last (?:change|edit|step)|last (?:change|edit|step)))?"
    r"(?:\s+please)?"
)
UNDO_ZH = (  # 一 as well as 1: the rest of a compound undo is matched as written
    r"(?:请)?(?:撤销|撤回|回退|返回上[1一]步|后退)(?:[1一]下|上[1一]步|刚才的修改|上次的修改|吧)*"
)
REDO_EN = r"(?:please\s+)?redo(?:\s+(?:that|it|the last (?:change|edit|step)))?"
REDO_ZH = r"(?:请)?(?:重做|恢复|取消撤销)(?:[1一]下|吧)*"
# What joins an undo to the rest: "undo, then …", "undo and …"; "撤销，…", "撤销然后…", and
# "撤销再…" (the 再 belongs to the rest: "撤销再长两秒").
THEN_EN = r"(?:\s*[,;]\s*(?:and\s+)?(?:then\s+)?|\s+(?:and\s+then|and|then)\s+)"
THEN_ZH = r"(?:\s*[，,；;。]\s*(?:然后|接着|并且|之后)?|然后|接着|并且|之后|(?=再))"


def read_undo(msg: Message, raw: str, media: list[dict]) -> tuple[int, str]:
    """The step a message asks for (-1 undo, +1 redo, 0 neither) and, for "undo and make it
    5 s" / "撤销然后改成5秒", the rest of the message as written, to plan once the step is
    taken. The rest must ask for something, so that "撤销音乐" is not an undo."""
    t = msg.text.strip()
    if re.fullmatch(UNDO_EN + r"\s*[.!。！]*", t) or re.fullmatch(UNDO_ZH + r"[。！!]*", t):
        return -1, ""
    if re.fullmatch(REDO_EN + r"\s*[.!。！]*", t) or re.fullmatch(REDO_ZH + r"[。！!]*", t):
        return +1, ""
    m = re.fullmatch(UNDO_EN + THEN_EN + r"(\S.*)", raw.strip(), re.I | re.S) or re.fullmatch(
        UNDO_ZH + THEN_ZH + r"\s*(\S.*)", raw.strip(), re.S
    )
    if m:
        req = read_request(Message(m.group(1)), media)
        if req.make or req.useful():
            return -1, m.group(1).strip()
    return 0, ""
