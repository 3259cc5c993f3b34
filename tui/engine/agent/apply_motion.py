"""Motion, focus and fit, set on every video segment."""

from __future__ import annotations

from tui.core.protocol import TRACK_VIDEO
from tui.engine.agent.call import Call
from tui.engine.agent.draft import segments
from tui.engine.agent.replies import MOTION_NAMES, STRENGTH_ZH, place_en, place_zh
from tui.engine.agent.request import Request


def apply_motion(new: dict, req: Request) -> list[Call]:
    video = segments(new, TRACK_VIDEO)
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
    video = segments(new, TRACK_VIDEO)
    if not req.focus or not video:
        return []
    x, y = req.focus
    for s in video:
        s["m"]["focus"] = [x, y]
    return [
        Call(
            "set_focus",
            {"focus": [x, y]},
            f"aimed the camera at {place_en(x, y)}",
            f"镜头对准画面{place_zh(x, y)}",
        )
    ]


def apply_fit(new: dict, req: Request) -> list[Call]:
    video = segments(new, TRACK_VIDEO)
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
