"""The deterministic agent: instructions in English or Chinese become edits of the draft.

No network, no model weights. `plan_turn` reads one message against the session's draft and
media and returns the tool calls it makes (each already applied to a copy of the draft) and the
reply to stream, in the session's language.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from tui.protocol import TRACK_AUDIO, TRACK_TEXT, TRACK_VIDEO

ASPECTS = {
    "16:9": (16, 9),
    "9:16": (9, 16),
    "1:1": (1, 1),
    "4:5": (4, 5),
}
RESOLUTIONS = {"720p": 720, "1080p": 1080, "2160p": 2160}
MUSIC_NAMES = {"lofi": "Lo-fi", "ambient": "Ambient", "upbeat": "Upbeat"}
MOTION_NAMES = {
    "zoom_in": ("zoom in", "推近"),
    "zoom_out": ("zoom out", "拉远"),
    "pan_left": ("pan left", "左移"),
    "pan_right": ("pan right", "右移"),
    "pan_up": ("pan up", "上移"),
    "pan_down": ("pan down", "下移"),
    "ken_burns": ("Ken Burns", "肯·伯恩斯效果"),
    "static": ("static", "静止"),
    "parallax": ("parallax", "视差"),
}
CN_DIGITS = {
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
}


@dataclass
class Call:
    name: str
    args: dict
    en: str  # what changed, in English
    zh: str  # and in Chinese


@dataclass
class Turn:
    calls: list[Call] = field(default_factory=list)
    reply: str = ""
    draft: dict | None = None  # the new draft, when something changed
    step: int = 0  # -1 undo, +1 redo


def is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _num(s: str) -> float:
    if s in CN_DIGITS:
        return float(CN_DIGITS[s])
    return float(s)


def canvas_size(aspect: str, short: int) -> tuple[int, int]:
    a, b = ASPECTS[aspect]
    if a >= b:
        return round(short * a / b / 2) * 2, short
    return short, round(short * b / a / 2) * 2


def _aspect_of(draft: dict) -> str:
    m = draft["m"]
    w, h = int(m["width"]), int(m["height"])
    best = min(ASPECTS, key=lambda k: abs(ASPECTS[k][0] / ASPECTS[k][1] - w / h))
    return best


def _short_side(draft: dict) -> int:
    m = draft["m"]
    return min(int(m["width"]), int(m["height"]))


def _track(draft: dict, tt: int, create: bool = True) -> dict | None:
    for t in draft["t"]:
        if t.get("tt") == tt:
            return t
    if not create:
        return None
    t = {"tt": tt, "sg": []}
    draft["t"].append(t)
    draft["t"].sort(key=lambda x: {TRACK_VIDEO: 0, TRACK_AUDIO: 1, TRACK_TEXT: 2}.get(x["tt"], 3))
    return t


def _next_id(draft: dict) -> str:
    n = 0
    for t in draft["t"]:
        for s in t["sg"]:
            m = re.match(r"s(\d+)$", str(s.get("id", "")))
            if m:
                n = max(n, int(m.group(1)))
    return f"s{n + 1}"


def _set_duration(draft: dict, ms: int) -> None:
    """Stretch the timeline to `ms`: video segments share it, audio follows, text is clipped."""
    old = int(draft.get("d", 5000))
    draft["d"] = ms
    video = _track(draft, TRACK_VIDEO, create=False)
    if video and video["sg"]:
        each = ms // len(video["sg"])
        for i, s in enumerate(video["sg"]):
            s["st"] = i * each
            s["d"] = each if i < len(video["sg"]) - 1 else ms - i * each
    audio = _track(draft, TRACK_AUDIO, create=False)
    if audio:
        for s in audio["sg"]:
            if int(s["st"]) + int(s["d"]) >= old:
                s["d"] = max(0, ms - int(s["st"]))
    text = _track(draft, TRACK_TEXT, create=False)
    if text:
        for s in text["sg"]:
            s["d"] = max(0, min(int(s["d"]), ms - int(s["st"])))


# ---- reading the message -------------------------------------------------------------------

_DUR = re.compile(
    r"(\d+(?:\.\d+)?|[一二两三四五六七八九十])\s*(?:-|\s)?\s*(?:seconds?|secs?|s\b|秒)", re.I
)
_QUOTED = re.compile(r"[\"'“”‘’「『《]([^\"'“”‘’」』》]+)[\"'“”‘’」』》]")
_PCT = re.compile(r"(\d{1,3})\s*%")


def _duration_ms(text: str, exclude: list[tuple[int, int]]) -> int | None:
    for m in _DUR.finditer(text):
        if any(a <= m.start() < b for a, b in exclude):
            continue
        return round(_num(m.group(1)) * 1000)
    return None


def _title_spans(text: str) -> list[tuple[int, int]]:
    """Spans describing the title's timing ("for 3 s", "前3秒"), not the clip's length."""
    spans = []
    for m in re.finditer(
        r"(?:title|caption|text|标题|字幕)[^.;,，。；]*?"
        r"(?:for|during|前)\s*(?:the\s+first\s+)?(\d+(?:\.\d+)?|[一二两三四五六七八九十])\s*"
        r"(?:seconds?|secs?|s\b|秒)",
        text,
        re.I,
    ):
        spans.append((m.start(1), m.end()))
    return spans


def _motion(text: str) -> dict | None:
    t = text.lower()
    found = None
    for pat, name in (
        (r"ken\s*burns|肯.?伯恩斯", "ken_burns"),
        (r"parallax|视差|2\.5d", "parallax"),
        (r"zoom(?:ing)?\s*out|pull\s*back|拉远|缩小", "zoom_out"),
        (r"zoom(?:ing)?\s*in|push\s*in|推近|放大", "zoom_in"),
        (r"pan(?:ning)?\s*left|向左|左移", "pan_left"),
        (r"pan(?:ning)?\s*right|向右|右移", "pan_right"),
        (r"pan(?:ning)?\s*up|向上|上移", "pan_up"),
        (r"pan(?:ning)?\s*down|向下|下移", "pan_down"),
        (r"\bstatic\b|no motion|still image|静止|不动", "static"),
    ):
        if re.search(pat, t):
            found = name
            break
    if not found:
        return None
    out: dict[str, Any] = {"motion": found}
    if re.search(r"slow|gentle|subtle|slight|缓慢|轻微|慢", t):
        out["strength"] = "subtle"
    elif re.search(r"fast|strong|dramatic|quick|强烈|快速|快", t):
        out["strength"] = "strong"
    if re.search(r"linear|constant speed|匀速", t):
        out["easing"] = "linear"
    return out


def _music(text: str) -> dict | None:
    t = text.lower()
    style = None
    if re.search(r"lo-?fi|chill|低保真", t):
        style = "lofi"
    elif re.search(r"ambient|calm|atmospheric|氛围|舒缓", t):
        style = "ambient"
    elif re.search(r"upbeat|energetic|happy|欢快|动感", t):
        style = "upbeat"
    elif re.search(r"\bmusic\b|\bbgm\b|音乐|配乐", t) and not re.search(
        r"(remove|no|without|delete|去掉|删除|不要)\s*(the\s+)?(music|bgm|音乐|配乐)", t
    ):
        style = "lofi"
    if style is None:
        return None
    out: dict[str, Any] = {"style": style}
    pct = _PCT.search(text)
    if pct:
        out["volume"] = max(0, min(100, int(pct.group(1)))) / 100
    return out


def plan_turn(message: str, draft: dict, media: list[dict], language: str = "en") -> Turn:
    text = message.strip()
    zh = is_chinese(text) or language.startswith("zh")
    low = text.lower()
    turn = Turn()

    if re.fullmatch(r"\s*(undo|撤销|撤回)\s*[.!。！]?\s*", low):
        turn.step = -1
        return turn
    if re.fullmatch(r"\s*(redo|重做)\s*[.!。！]?\s*", low):
        turn.step = +1
        return turn

    new = copy.deepcopy(draft)
    calls: list[Call] = []
    images = [m for m in media if m.get("file_type") == "image"]
    video = _track(new, TRACK_VIDEO, create=False)

    # The first turn after an upload: put the images on the video track.
    if (not video or not video["sg"]) and images:
        video = _track(new, TRACK_VIDEO)
        d = int(new.get("d", 5000))
        each = d // len(images)
        for i, m in enumerate(images):
            video["sg"].append(
                {
                    "id": _next_id(new),
                    "src": m["hash"],
                    "st": i * each,
                    "d": each if i < len(images) - 1 else d - i * each,
                    "m": {"name": m.get("filename") or "image", "motion": "zoom_in"},
                }
            )
        names = ", ".join(m.get("filename") or "image" for m in images)
        calls.append(
            Call(
                "add_media",
                {"files": [m["hash"] for m in images]},
                f"put {names} on the video track",
                f"已将 {names} 放到视频轨道",
            )
        )

    title_spans = _title_spans(text)
    quoted = [(m.group(1), m.start(), m.end()) for m in _QUOTED.finditer(text)]
    exclude = title_spans + [(a, b) for _, a, b in quoted]
    ms = _duration_ms(text, exclude)
    if ms is not None:
        ms = max(1000, min(60000, ms))
        _set_duration(new, ms)
        calls.append(
            Call(
                "set_duration",
                {"duration_ms": ms},
                f"set the length to {ms / 1000:g} s",
                f"时长设为 {ms / 1000:g} 秒",
            )
        )

    aspect = None
    if re.search(r"vertical|portrait|9:16|竖屏|竖版|tiktok|reels?|shorts", low):
        aspect = "9:16"
    elif re.search(r"square|1:1|方形|正方形", low):
        aspect = "1:1"
    elif re.search(r"4:5", low):
        aspect = "4:5"
    elif re.search(r"landscape|horizontal|16:9|横屏|横版|widescreen", low):
        aspect = "16:9"
    res = None
    rm = re.search(r"(720|1080|2160)\s*p|\b4k\b", low)
    if rm:
        res = 2160 if rm.group(0) == "4k" else int(rm.group(1))
    if aspect or res:
        a = aspect or _aspect_of(new)
        short = res or _short_side(new)
        w, h = canvas_size(a, short)
        new["m"]["width"], new["m"]["height"] = w, h
        calls.append(
            Call(
                "set_canvas",
                {"aspect": a, "width": w, "height": h},
                f"set the canvas to {a} at {w}x{h}",
                f"画面设为 {a}（{w}x{h}）",
            )
        )
    fm = re.search(r"(24|25|30|60)\s*(?:fps|帧)", low)
    if fm:
        new["m"]["fps"] = int(fm.group(1))
        calls.append(
            Call(
                "set_fps",
                {"fps": int(fm.group(1))},
                f"set {fm.group(1)} fps",
                f"帧率设为 {fm.group(1)}",
            )
        )

    mo = _motion(text)
    if mo and video and video["sg"]:
        for s in video["sg"]:
            s["m"].update(mo)
        en, cn = MOTION_NAMES[mo["motion"]]
        calls.append(Call("set_motion", mo, f"set the motion to {en}", f"运动效果设为{cn}"))

    # Titles.
    if re.search(
        r"(remove|delete|no|without|drop)\s+(the\s+)?(title|caption|text)|去掉标题|删除标题|不要标题",
        low,
    ):
        tt = _track(new, TRACK_TEXT, create=False)
        if tt and tt["sg"]:
            tt["sg"].clear()
            calls.append(Call("remove_title", {}, "removed the title", "已删除标题"))
    elif quoted and re.search(r"title|caption|text|标题|字幕|文字", low):
        words, _, _ = quoted[0]
        d = int(new.get("d", 5000))
        dur = d
        for a, _b in title_spans:
            m2 = re.match(r"(\d+(?:\.\d+)?|[一二两三四五六七八九十])", text[a:])
            if m2:
                dur = min(d, int(_num(m2.group(1)) * 1000))
        pos = "center"
        if re.search(r"\btop\b|顶部|上方", low):
            pos = "top"
        elif re.search(r"\bbottom\b|底部|下方", low):
            pos = "bottom"
        role = "caption" if re.search(r"caption|字幕", low) else "title"
        tt = _track(new, TRACK_TEXT)
        tt["sg"] = [s for s in tt["sg"] if (s.get("m") or {}).get("role", "title") != role]
        tt["sg"].append(
            {
                "id": _next_id(new),
                "st": 0,
                "d": dur,
                "m": {"text": words, "position": pos, "role": role},
            }
        )
        calls.append(
            Call(
                "set_title",
                {"text": words, "duration_ms": dur, "position": pos, "role": role},
                f'added the {role} "{words}" for {dur / 1000:g} s ({pos})',
                f"添加{'字幕' if role == 'caption' else '标题'}「{words}」，{dur / 1000:g} 秒",
            )
        )

    # Music.
    if re.search(
        r"(remove|delete|no|without|drop|mute)\s+(the\s+)?(music|bgm|audio)|去掉音乐|删除音乐|不要音乐|静音",
        low,
    ):
        at = _track(new, TRACK_AUDIO, create=False)
        if at and at["sg"]:
            at["sg"].clear()
            calls.append(Call("remove_music", {}, "removed the music", "已删除背景音乐"))
    else:
        mu = _music(text)
        if mu:
            at = _track(new, TRACK_AUDIO)
            vol = mu.get("volume", 0.5)
            at["sg"] = [
                {
                    "id": _next_id(new),
                    "src": f"builtin:{mu['style']}",
                    "st": 0,
                    "d": int(new.get("d", 5000)),
                    "m": {"name": MUSIC_NAMES[mu["style"]], "volume": vol},
                }
            ]
            calls.append(
                Call(
                    "set_music",
                    {"style": mu["style"], "volume": vol},
                    f"added {MUSIC_NAMES[mu['style']]} music at {round(vol * 100)}%",
                    f"添加{MUSIC_NAMES[mu['style']]}背景音乐，音量 {round(vol * 100)}%",
                )
            )

    turn.calls = calls
    if calls:
        turn.draft = new
        if zh:
            turn.reply = "好的，" + "；".join(c.zh for c in calls) + "。可以说“导出”生成视频。"
        else:
            parts = [c.en for c in calls]
            turn.reply = "Done: " + "; ".join(parts) + '. Say "export" to render the video.'
    else:
        turn.reply = help_text(zh, has_media=bool(images))
    return turn


def help_text(zh: bool, has_media: bool) -> str:
    if zh:
        lead = "我没有看懂要改什么。" if has_media else "请先上传一张图片。"
        return (
            lead + "可以这样说：\n- “做一个5秒的竖屏视频”\n- “标题「春季促销」前3秒”\n"
            "- “加上低保真音乐，音量35%”\n- “缓慢推近” / “向左平移” / “静止”\n- “撤销”"
        )
    lead = "I couldn't find a change to make in that." if has_media else "Upload an image first."
    return (
        lead + ' Try, for example:\n- "make a 5-second vertical clip"\n'
        '- "title \'Spring Sale\' for the first 3 seconds"\n- "lo-fi music at 35%"\n'
        '- "slow zoom in", "pan left", "static"\n- "undo"'
    )
