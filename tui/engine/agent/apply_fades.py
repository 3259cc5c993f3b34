"""Transitions at the joins between video segments, and the clip's fades from and to black."""

from __future__ import annotations

from tui.core.protocol import TRACK_VIDEO
from tui.engine.agent.call import Call
from tui.engine.agent.draft import TRANSITION_KEYS, segments
from tui.engine.agent.replies import secs
from tui.engine.agent.request import Request


def apply_transition(new: dict, req: Request) -> list[Call]:
    """Crossfades (or hard cuts) at the joins: on every segment but the first, as the
    renderer reads them (`m.transition` "crossfade" or "cut", `m.transition_ms`)."""
    video = segments(new, TRACK_VIDEO)
    if req.transition is not None and len(video) == 1:
        req.notes.append(
            (
                "Transitions go between images, and the clip has only one.",
                "转场用在图片之间，而视频里只有一张图片。",
            )
        )
    if req.transition is None or len(video) < 2:
        return []
    # No longer than the clip (the renderer shortens it to the images' own time anyway).
    ms = min(req.transition, int(new.get("d", 5000)))
    for s in video[1:]:
        for k in TRANSITION_KEYS:
            s["m"].pop(k, None)
        s["m"]["transition"] = "crossfade" if ms else "cut"
        if ms:
            s["m"]["transition_ms"] = ms
    if not ms:
        return [Call("set_transition", {"transition": "cut"}, "used hard cuts", "改为硬切")]
    return [
        Call(
            "set_transition",
            {"transition": "crossfade", "transition_ms": ms},
            f"set {secs(ms)} s crossfades between the images",
            f"图片之间使用 {secs(ms)} 秒的交叉淡化转场",
        )
    ]


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
            en.append(f"a {secs(ms)} s {word_en}")
            zh.append(f"{secs(ms)} 秒{word_zh}")
        else:
            new["m"].pop(key, None)
    if not en:
        return [
            Call("set_fades", {"fade_in": 0, "fade_out": 0}, "removed the fades", "已去掉淡入淡出")
        ]
    args = {k: new["m"].get(k, 0) for k in req.fades}
    return [Call("set_fades", args, "added " + " and ".join(en), "加入" + "和".join(zh))]
