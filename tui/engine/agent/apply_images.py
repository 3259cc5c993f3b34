"""Putting the session's images (and videos) on the video track, in the order asked for."""

from __future__ import annotations

from tui.core.protocol import TRACK_VIDEO
from tui.engine.agent.call import Call
from tui.engine.agent.draft import VISUAL, layout_video, segments
from tui.engine.agent.replies import secs
from tui.engine.agent.request import Request


def apply_images(new: dict, req: Request, media: list[dict], first: bool) -> list[Call]:
    images = [m for m in media if m.get("file_type") in VISUAL]
    by_hash = {m["hash"]: m for m in images}
    current = [by_hash[s["src"]] for s in segments(new, TRACK_VIDEO) if s.get("src") in by_hash]
    order = list(images) if (first or req.all_images) else list(current)
    if req.add_new:
        order += [m for m in images if m not in order]
    if not order:
        return []
    for op, i, j in req.moves:
        if op == "reverse":
            order.reverse()
        elif not 1 <= i <= len(order) or (op == "swap" and not 1 <= j <= len(order)):
            k = i if not 1 <= i <= len(order) else j
            req.notes.append(
                (
                    f"There is no image {k} (the video track has {len(order)}).",
                    f"没有第{k}张图片（视频轨道上有 {len(order)} 张）。",
                )
            )
            continue
        elif op == "move":
            order.insert(max(0, min(len(order), j) - 1), order.pop(i - 1))
        elif op == "swap" and 1 <= j <= len(order):
            order[i - 1], order[j - 1] = order[j - 1], order[i - 1]
        elif op == "remove" and len(order) > 1:
            order.pop(i - 1)
        elif op == "only":
            order = [order[i - 1]]
    changed = [m["hash"] for m in order] != [m["hash"] for m in current]
    if not changed and req.per_image is None:
        return []
    total = req.per_image * len(order) if req.per_image else req.duration
    layout_video(new, order, total)
    names = ", ".join(m.get("filename") or "image" for m in order)
    each_ms = segments(new, TRACK_VIDEO)[0]["d"]
    each, length = f"{round(each_ms / 1000, 1):g}", secs(new["d"])
    if len(order) == 1:
        en = f"put {names} on the video track ({length} s)"
        zh = f"已将 {names} 放到视频轨道（{length} 秒）"
    else:
        en = f"put {names} on the video track in that order, {each} s each ({length} s in all)"
        zh = f"视频轨道依次为 {names}，每张 {each} 秒（共 {length} 秒）"
    if not current and "motion" not in req.motion:
        en += ", with a gentle zoom"
        zh += "，带轻微的缩放运动"
    name = "arrange_media" if current else "add_media"
    # Names first: the transcript's one-line form of the call is what a person reads.
    args = {
        "files": [m.get("filename") or "image" for m in order],
        "each_ms": each_ms,
        "media": [m["hash"] for m in order],
    }
    return [Call(name, args, en, zh)]
