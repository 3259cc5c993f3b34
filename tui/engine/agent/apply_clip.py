"""The clip as a whole: its length, canvas and frame rate."""

from __future__ import annotations

from tui.engine.agent.call import Call
from tui.engine.agent.draft import (
    MAX_MS,
    MIN_MS,
    aspect_of,
    canvas_size,
    clamp_ms,
    set_duration,
    short_side,
)
from tui.engine.agent.replies import secs
from tui.engine.agent.request import Request


def apply_duration(new: dict, req: Request, laid_out: bool) -> list[Call]:
    old = int(new.get("d", 5000))
    ms: int | None = None
    if req.duration is not None and not (laid_out and (req.per_image or req.duration)):
        ms = clamp_ms(req.duration)
    elif req.relative is not None:
        kind, value = req.relative
        ms = clamp_ms(old * value if kind == "scale" else old + value)
    if ms is None:
        return []
    if req.duration is not None and ms == clamp_ms(req.duration) and ms != req.duration:
        req.notes.append(_clamped(req.duration, ms))
    dropped = [s["m"].get("text", "") for s in set_duration(new, ms)]
    en = f"set the length to {secs(ms)} s (was {secs(old)} s)"
    zh = f"时长设为 {secs(ms)} 秒（原为 {secs(old)} 秒）"
    if dropped:
        en += ", removing the text that no longer fits: " + ", ".join(f'"{t}"' for t in dropped)
        zh += "，超出时长的文字已删除：" + "、".join(f"「{t}」" for t in dropped)
    return [Call("set_duration", {"duration_ms": ms}, en, zh)]


def _clamped(asked: int, ms: int) -> tuple[str, str]:
    if ms == MAX_MS:
        return (
            f"The longest clip is {secs(MAX_MS)} s, so it is {secs(ms)} s"
            f" (you asked for {secs(asked)} s).",
            f"视频最长 {secs(MAX_MS)} 秒，已设为 {secs(ms)} 秒（你要的是 {secs(asked)} 秒）。",
        )
    return (
        f"The shortest clip is {secs(MIN_MS)} s, so it is {secs(ms)} s"
        f" (you asked for {secs(asked)} s).",
        f"视频最短 {secs(MIN_MS)} 秒，已设为 {secs(ms)} 秒（你要的是 {secs(asked)} 秒）。",
    )


def apply_canvas(new: dict, req: Request, first_images: list[dict]) -> list[Call]:
    aspect, short = req.aspect, req.short_side
    if req.size:
        w, h = (max(64, min(4096, v)) // 2 * 2 for v in req.size)
        aspect = f"{w}x{h}"
    else:
        if not aspect and not short and first_images:
            img = first_images[0]
            w0, h0 = img.get("width") or 0, img.get("height") or 0
            if w0 and h0 and h0 > w0 * 1.2 and int(new["m"]["width"]) > int(new["m"]["height"]):
                aspect = "9:16"  # a portrait photo on the first turn: a vertical clip
        if not aspect and not short:
            return []
        aspect = aspect or aspect_of(new)
        w, h = canvas_size(aspect, short or short_side(new))
    new["m"]["width"], new["m"]["height"] = w, h
    return [
        Call(
            "set_canvas",
            {"aspect": aspect, "width": w, "height": h},
            f"set the canvas to {aspect} at {w}x{h}",
            f"画面设为 {aspect}（{w}x{h}）",
        )
    ]


def apply_fps(new: dict, req: Request) -> list[Call]:
    if req.fps is None:
        return []
    new["m"]["fps"] = req.fps
    return [Call("set_fps", {"fps": req.fps}, f"set {req.fps} fps", f"帧率设为 {req.fps} fps")]
