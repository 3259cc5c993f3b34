"""Titles and captions on the text track: added, changed, timed, placed, sized, coloured or
removed."""

from __future__ import annotations

from typing import Any

from tui.core.protocol import TRACK_TEXT
from tui.core.text_sizes import TEXT_SIZES, text_scale
from tui.engine.agent.call import Call
from tui.engine.agent.draft import next_id, segments, text_role, track_of
from tui.engine.agent.replies import POSITION_ZH, ROLE_ZH, SIZE_ZH, colour_words, secs
from tui.engine.agent.request import Request, TextEdit

# Text sizes as factors of the default. The renderer knows small, medium and large by name;
# tiny and huge are written as factors, which it also reads.
RENDERER_SIZES = TEXT_SIZES
SIZES = {"tiny": 0.5, **RENDERER_SIZES, "huge": 2.0}
# The engine's limits on a draft's text (server/drafts.py; not imported: the agent does not load
# the server). A text past them is not written, and the reply says why.
MAX_TEXT, MAX_TEXT_TOTAL, MAX_TEXT_SEGMENTS = 500, 2000, 10


def apply_texts(new: dict, req: Request) -> list[Call]:
    calls = []
    seen: set[str] = set()
    for edit in req.texts:
        if edit.remove:
            removed = _remove_text(new, edit.role)
            if not removed:
                req.notes.append(_none_to_remove(edit.role))
            calls += removed
            continue
        calls += _set_text(new, edit, edit.append or edit.role in seen, req.notes)
        seen.add(edit.role)
    return calls


def _remove_text(new: dict, role: str) -> list[Call]:
    segs = segments(new, TRACK_TEXT)
    keep = [s for s in segs if role != "any" and text_role(s) != role]
    if len(keep) == len(segs):
        return []
    segs[:] = keep
    en = {"title": "the title", "caption": "the captions", "any": "all text"}[role]
    zh = {"title": "标题", "caption": "字幕", "any": "所有文字"}[role]
    return [Call("remove_title", {"role": role}, f"removed {en}", f"已删除{zh}")]


def _set_text(new: dict, edit: TextEdit, append: bool, notes: list[tuple[str, str]]) -> list[Call]:
    d = int(new.get("d", 5000))
    segs = segments(new, TRACK_TEXT)
    seg = None if append else next((s for s in segs if text_role(s) == edit.role), None)
    if seg is None and edit.text is None and not append and len(segs) == 1:
        # "make the caption bigger" when the only text is a title: that text.
        seg = segs[0]
        edit.role = text_role(seg)
    if edit.text is not None and (note := _over_limits(segs, seg, edit.text)):
        notes.append(note)
        return []
    if seg is None:
        if edit.text is None:
            notes.append(_nothing_to_edit(edit, bool(segs)))
            return []
        seg = {"id": next_id(new), "st": 0, "d": d, "m": {"text": edit.text, "role": edit.role}}
        seg["m"]["position"] = "bottom" if edit.role == "caption" else "center"
        track_of(new, TRACK_TEXT)["sg"].append(seg)
    m = seg["m"]
    if edit.text is not None:
        m["text"] = edit.text
    if edit.position:
        m["position"] = edit.position
    if edit.size:
        old_size = m.get("size")
        m["size"] = _new_size(old_size, edit.size, edit.role, new)
        if edit.size in ("bigger", "smaller") and m["size"] == old_size:
            notes.append(_size_at_end(edit.size, edit.role))
            others = (edit.text, edit.position, edit.color, edit.start, edit.dur, edit.tail)
            if others == (None,) * len(others) and not edit.longer:
                return []  # nothing else asked: no change to report
    if edit.color:
        m["color"] = edit.color
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
    if edit.longer:
        dur = max(100, dur + edit.longer)
        st = min(st, d - dur)  # past the clip's end it grows earlier: still that much longer
    if edit.shift:  # its length kept, within the clip
        st = max(0, min(st + edit.shift, d - dur))
        if st == int(seg["st"]):
            notes.append(_cannot_move(edit.role, edit.shift > 0))
            others = (edit.text, edit.position, edit.size, edit.color, edit.start, edit.dur)
            if others == (None,) * len(others) and not edit.longer and edit.tail is None:
                return []  # nothing else asked: no change to report
    st = max(0, min(st, d - 100))
    seg["st"], seg["d"] = st, max(100, min(dur, d - st))
    span = f"{secs(seg['st'])}-{secs(seg['st'] + seg['d'])}"
    args = {
        "role": edit.role,
        "text": m["text"],
        "start_ms": seg["st"],
        "duration_ms": seg["d"],
        "position": m["position"],
    }
    look_en, look_zh = [m["position"]], [POSITION_ZH.get(m["position"], m["position"])]
    if edit.size:
        args["size"] = m["size"]
        name = _size_name(text_scale(m["size"], edit.role, new))
        look_en.append(f"{name} size" if name != "medium" else "normal size")
        look_zh.append(SIZE_ZH[name])
    if edit.color:
        args["color"] = m["color"]
        en, zh = colour_words(m["color"])
        look_en.append(f"in {en}")
        look_zh.append(zh)
    return [
        Call(
            "set_title",
            args,
            f'set the {edit.role} "{m["text"]}" at {span} s ({", ".join(look_en)})',
            f"{ROLE_ZH[edit.role]}「{m['text']}」：{span} 秒，{'，'.join(look_zh)}",
        )
    ]


def _size_at_end(step: str, role: str) -> tuple[str, str]:
    word_en, word_zh = ("as big", "最大") if step == "bigger" else ("as small", "最小")
    return (
        f"The {role} is already {word_en} as it goes.",
        f"{ROLE_ZH[role]}已经是{word_zh}的字号了。",
    )


def _cannot_move(role: str, later: bool) -> tuple[str, str]:
    en, zh = ("ends with the clip", "已经在结尾了") if later else ("starts at 0 s", "已经在开头了")
    return f"The {role} already {en}.", f"{ROLE_ZH[role]}{zh}。"


def _none_to_remove(role: str) -> tuple[str, str]:
    en = {"title": "title", "caption": "caption", "any": "title or caption"}[role]
    zh = {"title": "标题", "caption": "字幕", "any": "文字"}[role]
    return f"There is no {en} to remove.", f"没有{zh}可以删除。"


def _nothing_to_edit(edit: TextEdit, others: bool) -> tuple[str, str]:
    """What was asked of a title or caption the clip does not have, and how to add one."""
    looks_en, asked_en, asked_zh = [], [], []
    if edit.size:
        looks_en.append(edit.size if edit.size in ("bigger", "smaller") else f"{edit.size} size")
        asked_zh.append(
            {"bigger": "调大", "smaller": "调小"}.get(edit.size) or "改成" + SIZE_ZH[edit.size]
        )
    if edit.color:
        en, zh = colour_words(edit.color)
        looks_en.append(en)
        asked_zh.append(f"改成{zh}")
    if looks_en:
        asked_en.append("make " + " and ".join(looks_en))
    if edit.position:
        asked_en.append(f"move to the {edit.position}".replace("the center", "the centre"))
        asked_zh.append("移到" + POSITION_ZH[edit.position])
    if edit.longer:
        asked_en.append("show for longer" if edit.longer > 0 else "show for less time")
        asked_zh.append("延长显示" if edit.longer > 0 else "缩短显示")
    if edit.start is not None or edit.dur is not None or edit.tail is not None:
        asked_en.append("time")
        asked_zh.append("设定显示时间")
    what_en = " and ".join(asked_en) or "change"
    what_zh = "、".join(asked_zh) or "修改"
    if edit.loose and not others:
        role_en, role_zh, eg_en, eg_zh = "title or caption", "标题或字幕", "title", "标题"
    else:
        role_en, role_zh = edit.role, ROLE_ZH[edit.role]
        eg_en, eg_zh = edit.role, role_zh
    sample_en = "'Shop now'" if eg_en == "caption" else "'Spring Sale'"
    sample_zh = "「立即购买」" if eg_en == "caption" else "「春季促销」"
    return (
        f"There is no {role_en} to {what_en}: say the {eg_en}'s words, e.g. {eg_en} {sample_en}.",
        f"没有{role_zh}可以{what_zh}：请说出{eg_zh}的文字，例如：{eg_zh}{sample_zh}。",
    )


def _over_limits(segs: list[dict], seg: dict | None, text: str) -> tuple[str, str] | None:
    """Why `text` cannot go in `seg` (None: a new segment), if it cannot: (English, Chinese)."""
    if len(text) > MAX_TEXT:
        return (
            f"That text is {len(text)} characters long; a title or caption takes at most"
            f" {MAX_TEXT}.",
            f"这段文字有 {len(text)} 个字符，标题或字幕最多 {MAX_TEXT} 个字符。",
        )
    if seg is None and len(segs) >= MAX_TEXT_SEGMENTS:
        return (
            f"The clip already has {len(segs)} titles and captions, the most it takes.",
            f"视频已有 {len(segs)} 条标题和字幕，已达上限。",
        )
    total = len(text) + sum(
        len(str((s.get("m") or {}).get("text", ""))) for s in segs if s is not seg
    )
    if total > MAX_TEXT_TOTAL:
        return (
            f"All titles and captions together take at most {MAX_TEXT_TOTAL} characters;"
            f" this one would make {total}.",
            f"所有标题和字幕合计最多 {MAX_TEXT_TOTAL} 个字符，加上这条会有 {total} 个。",
        )
    return None


def _size_name(scale: float) -> str:
    return min(SIZES, key=lambda k: abs(SIZES[k] - scale))


def _new_size(old: Any, said: str, role: str, draft: dict) -> Any:
    """The `m.size` to write: a named size, or one step along SIZES from the current one (at
    either end, or past it in px, the size stays as it is). Written as the renderer's own name
    where it has one, else as a factor."""
    if said in SIZES:
        scale = SIZES[said]
    else:
        now = text_scale(old, role, draft)
        if said == "bigger":
            step = next((v for v in sorted(SIZES.values()) if v > now + 0.01), None)
        else:
            step = next((v for v in sorted(SIZES.values(), reverse=True) if v < now - 0.01), None)
        if step is None:
            return old
        scale = step
    name = _size_name(scale)
    return name if name in RENDERER_SIZES else scale
