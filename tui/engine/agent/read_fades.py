"""Crossfades (or hard cuts) between the images, and the clip's fade in from and out to black."""

from __future__ import annotations

from tui.engine.agent.words import TIME, Message, N, time_ms

DEFAULT_FADE_MS = 1000
DEFAULT_CROSSFADE_MS = 500


def read_transition(msg: Message) -> int | None:
    cross = r"(?:cross[\s-]?fades?|dissolves?|transitions?)"
    off = (
        r"\b(?:no|without|remove(?:\s+the)?|hard)\s+(?:cross[\s-]?fades?|dissolves?|transitions?|cuts?)\b"
        r"|(?:不要|去掉|删除|取消)(?:转场|过渡|交叉淡化|溶解)|硬切"
    )
    if m := msg.take(off):
        while m := msg.take(off, m.end()):  # "no transitions, hard cuts": said twice, one ask
            pass
        return 0
    m = msg.take(rf"\b{cross}\s*(?:of|for|lasting)?\s*" + TIME) or msg.take(
        TIME + rf"\s*(?:long\s+)?{cross}"
    )
    if m:
        return time_ms(m)
    m = msg.take(r"(?:交叉淡化|溶解|转场|过渡)\s*" + N + r"\s*(秒钟?)") or msg.take(
        N + r"\s*(秒钟?)\s*的?\s*(?:交叉淡化|溶解|转场|过渡)"
    )
    if m:
        return time_ms(m)
    if msg.take(rf"\b{cross}\b|交叉淡化|溶解|淡入淡出转场|转场|过渡"):
        return DEFAULT_CROSSFADE_MS
    return None


def read_fades(msg: Message) -> dict[str, int]:
    fade = r"(?<!cross)(?<!cross-)(?<!cross )fad(?:e|es|ing)"
    out: dict[str, int] = {}
    if msg.take(rf"\b(?:no|without|remove(?:\s+the)?)\s+{fade}s?\b|(?:不要|去掉|取消)淡入淡出"):
        return {"fade_in": 0, "fade_out": 0}
    both = msg.take(
        rf"{fade}\s+in\s+and\s+(?:fade\s+)?out(?:\s*(?:of|over|for)?\s*{TIME})?|淡入淡出(?:\s*{N}\s*(秒钟?))?"
    )
    if both:
        ms = time_ms(both) if both.group(1) else DEFAULT_FADE_MS
        return {"fade_in": ms, "fade_out": ms}
    for key, en, zh in (
        ("fade_in", r"in|from black", "淡入"),
        ("fade_out", r"out|to black", "淡出"),
    ):
        m = msg.take(rf"{fade}[\s-]*(?:{en})\b(?:\s*(?:of|over|for)?\s*{TIME})?") or msg.take(
            rf"{zh}(?:\s*{N}\s*(秒钟?))?"
        )
        if m:
            out[key] = time_ms(m) if m.group(1) else DEFAULT_FADE_MS
    if not out and msg.take(rf"\b{fade}\b(?!\s*§)"):
        out = {"fade_in": DEFAULT_FADE_MS, "fade_out": DEFAULT_FADE_MS}
    return out
