"""What the agent says: names in English and Chinese, seconds and places as words, the reply
that lists a turn's changes, and the help text for a message it could not use."""

from __future__ import annotations

from collections.abc import Sequence

from tui.core.text_colours import COLOUR_ZH, colour_label
from tui.engine.agent.call import Call

MUSIC_NAMES = {"lofi": "Lo-fi", "ambient": "Ambient", "upbeat": "Upbeat"}
MUSIC_ZH = {"lofi": "低保真（Lo-fi）", "ambient": "氛围", "upbeat": "欢快"}
MOTION_NAMES = {
    "zoom_in": ("zoom in", "推近"),
    "zoom_out": ("zoom out", "拉远"),
    "pan_left": ("pan left", "向左平移"),
    "pan_right": ("pan right", "向右平移"),
    "pan_up": ("pan up", "向上平移"),
    "pan_down": ("pan down", "向下平移"),
    "ken_burns": ("Ken Burns", "肯·伯恩斯效果"),
    "static": ("static", "静止"),
    "parallax": ("parallax", "视差"),
}
STRENGTH_ZH = {"subtle": "轻微", "medium": "适中", "strong": "强烈"}
POSITION_ZH = {"top": "顶部", "center": "居中", "bottom": "底部"}
ROLE_ZH = {"title": "标题", "caption": "字幕"}
SIZE_ZH = {
    "tiny": "特小号",
    "small": "小号",
    "medium": "标准大小",
    "large": "大号",
    "huge": "特大号",
}


def colour_words(value: str) -> tuple[str, str]:
    """A text colour in words: ("yellow", "黄色"), or its hex in both when it has no name."""
    label = colour_label(value) or value
    return label, (COLOUR_ZH[label] + "色" if label in COLOUR_ZH else label)


def secs(ms: int) -> str:
    return f"{ms / 1000:g}"


def place_en(x: float, y: float) -> str:
    v = "top" if y < 0.5 else "bottom" if y > 0.5 else ""
    h = "left" if x < 0.5 else "right" if x > 0.5 else ""
    return ("the " + " ".join(p for p in (v, h) if p)) if v or h else "the centre"


def place_zh(x: float, y: float) -> str:
    v = "上" if y < 0.5 else "下" if y > 0.5 else ""
    h = "左" if x < 0.5 else "右" if x > 0.5 else ""
    if v and h:
        return h + v + "角"
    return {"上": "上方", "下": "下方", "左": "左侧", "右": "右侧"}.get(v or h, "中央")


EXPORT_HINT = 'Say "export" to render the video.'


EXPORT_HINT_ZH = "可以说“导出”生成视频。"


def reply_for(
    calls: list[Call], zh: bool, notes: Sequence[tuple[str, str]] = (), export_hint: bool = True
) -> str:
    """What a turn changed (and, after it, what it could not do: `notes`, each a sentence),
    then, with `export_hint`, how to export: not on every reply, where it is only noise."""
    said = notes_text(notes, zh)
    if zh:
        hint = EXPORT_HINT_ZH if export_hint else ""
        return "好的，" + "；".join(c.zh for c in calls) + "。" + said + hint
    text = "Done: " + "; ".join(c.en for c in calls) + "." + (" " + said if said else "")
    return text + (" " + EXPORT_HINT if export_hint else "")


def notes_text(notes: Sequence[tuple[str, str]], zh: bool) -> str:
    """What was asked but cannot be done, as sentences (the whole reply when nothing changed)."""
    return ("" if zh else " ").join(n[1] if zh else n[0] for n in notes)


def help_text(zh: bool, has_media: bool) -> str:
    if zh:
        lead = "我没有看懂要改什么。" if has_media else "请先上传一张图片。"
        return (
            lead + "可以这样说：\n"
            "- “做一个5秒的竖屏视频，1080p”\n"
            "- “缓慢推近左上角” / “向左平移” / “视差” / “静止”\n"
            "- “标题「春季促销」前3秒，字幕「立即购买」在底部，2秒到4秒”\n"
            "- “标题改成黄色，大一点” / “标题多显示2秒”\n"
            "- “加上低保真音乐，音量35%” / “用我的歌” / “音乐小声一点” / “静音原视频”\n"
            "- “用全部三张图片，每张2秒” / “把第二张放在最前面”\n"
            "- “淡入淡出” / “完整显示图片” / “短一点” / “去掉标题” / “撤销”"
        )
    lead = "I couldn't find a change to make in that." if has_media else "Upload an image first."
    return (
        lead + " Try, for example:\n"
        '- "make a 5-second vertical clip in 1080p"\n'
        '- "slow zoom in toward the top left", "pan left", "parallax", "static"\n'
        "- \"title 'Spring Sale' for the first 3 seconds, caption 'Shop now' at the bottom "
        'from 2s to 4s"\n'
        '- "make the title yellow and bigger", "show the title 2 more seconds"\n'
        '- "lo-fi music at 35%", "use my song", "make the music quieter", '
        '"mute the original audio"\n'
        '- "use all three images, 2 seconds each", "put the second image first"\n'
        '- "fade in and out", "fit the whole image", "a bit shorter", "remove the title", "undo"'
    )
