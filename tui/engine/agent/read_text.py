"""Titles and captions: which keyword owns which words, the text itself, and removal (when
the text shows is read by `read_text_timing`, where, how big and in which colour by
`read_text_style`)."""

from __future__ import annotations

import re

from tui.engine.agent.read_text_style import (
    COLOUR_OF_TEXT,
    TEXT_POSITIONS,
    read_text_look,
    read_text_position,
)
from tui.engine.agent.read_text_timing import (
    read_text_longer,
    read_text_shift,
    read_text_timing,
)
from tui.engine.agent.request import TextEdit
from tui.engine.agent.words import Message, rx

TEXT_KW = (  # "title font", "caption text" and "标题的字体" are one keyword each; "font" alone
    # is the title's
    r"\b(?:titles?|headlines?|captions?|subtitles?|texts?|overlays?|words)"
    r"(?:\s+(?:fonts?|texts?))?\b"
    r"|\bfonts?\b|(?:标题|字幕|文字|文案)(?:的?(?:字体|字号))?|字体|字号"
    r"|(?<![数名大小文汉打])字(?![幕母])"  # "字大一点": the text, not 数字 or 大字
)
# A clause that only goes on about the text before it: "…, from 2s to 4s", "…，放在底部".
TEXT_MORE = (
    r"\s*(?:and\s+)?(?:from|between|for|at\s+the|in\s+the|on\s+the|starting|during|until|shown"
    r"|从|在|前\d|最后|显示|持续|位于|放在|放到|出现|第\d|\d+(?:\.\d+)?\s*(?:秒|s\b|seconds?)\s*(?:到|至|-|to)"
    r"|bigger|larger|smaller|(?:再|更)?[大小](?:1?点|1?些)"  # "标题「X」，大一点"
    # "title 'X', in red", "…，改成黄色"
    r"|(?:in\s+|改成|改为|换成|变成|用)?" + COLOUR_OF_TEXT + ")"
)


def read_texts(msg: Message) -> list[TextEdit]:
    """Titles and captions, clause by clause: each text keyword owns the words up to the next."""
    edits: list[TextEdit] = []
    clauses = msg.clauses()
    for n, (a, b) in enumerate(clauses):
        kws = list(rx(TEXT_KW).finditer(msg.work[a:b]))
        if not kws:
            continue
        for a2, b2 in clauses[n + 1 :]:  # "字幕「X」在底部，从2秒到4秒": the timing goes along
            if rx(TEXT_KW).search(msg.work[a2:b2]) or not rx(TEXT_MORE).match(msg.work[a2:b2]):
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
        # "make the title and caption yellow", "标题和字幕都大一点": a keyword that says nothing
        # itself looks as the next one is said to.
        for i in range(len(pieces) - 2, -1, -1):
            role, edit = pieces[i]
            nxt = pieces[i + 1][1]
            if edit is None and nxt and not nxt.remove and (nxt.position or nxt.size or nxt.color):
                look = {"position": nxt.position, "size": nxt.size, "color": nxt.color}
                pieces[i] = (role, TextEdit(role=_edit_role(role), **look))
        edits += [edit for _, edit in pieces]
    # A quote that no keyword claimed (and no file name): a title, timed by its clause.
    while ids := msg.quote_ids(0, len(msg.work)):
        at = msg.work.index(f"§{ids[0]}§")
        edits.append(_read_text_piece(msg, "quote", at, *msg.clause_at(at)))
    return [e for e in edits if e]


# "move it to the top", "把它移到顶部": a place with no keyword, for the only text on screen.
BARE_POSITION = (
    r"\b(?:move|put|place|set|shift)\s+(?:it|this|that)\s+(?:up\s+|down\s+)?(?:to|at|on|in)"
    r"\s+the\s+(?:very\s+)?(top|bottom|middle|cent(?:er|re))\b"
    r"|(?:把它|将它)?(?:移|放|挪)(?:到|在)(?:最)?(顶部|上方|上面|底部|下方|下面|中间|正中|居中)"
)


def read_bare_position(msg: Message) -> TextEdit | None:
    if not (m := msg.take(BARE_POSITION)):
        return None
    word = m.group(1) or m.group(2)
    pos = next(p for p, pat in TEXT_POSITIONS if rx(pat).search(word))
    return TextEdit(role="title", position=pos, loose=True)


def _role_of(keyword: str) -> str:
    if re.match(r"caption|subtitle|字幕", keyword):
        return "caption"
    return "any" if re.match(r"text|overlay|words|文字|文案|字(?![体号])", keyword) else "title"


def _edit_role(role: str) -> str:
    """The segment a keyword edits: a caption's, else the title's ("text", a bare quote)."""
    return "caption" if role == "caption" else "title"


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
    edit = TextEdit(role=_edit_role(role), loose=role == "any")
    ids = msg.quote_ids(a, b)
    if ids:
        edit.text = msg.quotes[ids[0]]
        msg.claim_quote(ids[0])
    read_text_shift(msg, edit, at, a, b)  # first: "2 s later" is neither a length nor a start
    read_text_longer(msg, edit, at, a, b)  # before: "2 more seconds" is not a length of 2 s
    read_text_timing(msg, edit, at, a, b)
    edit.append = bool(
        msg.take(r"\b(?:another|also|one more|a\s+second|extra)\b|再加|另1个|再添加|再来1个", a, b)
    )
    read_text_position(msg, edit, a, b)
    read_text_look(msg, edit, at, a, b)
    said = (edit.text, edit.start, edit.dur, edit.tail, edit.position, edit.longer, edit.size)
    said += (edit.color, edit.shift)
    return None if said == (None,) * len(said) else edit
