"""A video's own sound: mute it, turn it back on, a volume or a step ("mute the video", "keep
the original sound", "original audio 30%", "原声小一点").

Runs before read_music, which would otherwise read "mute", "静音" or "30%" as the music's. Two
kinds of words:

- *named*: the video's own sound by name ("original audio", "the video's sound", "原声",
  "视频声音", "原视频"). Always taken: they never mean the music, even on a timeline of images
  only, which then gets a note that there is no video sound (apply_video_sound).
- *loose*: "mute the video", "make the video quieter", "静音视频", a bare "mute" / "静音" /
  "no sound", "keep only the music", "unmute". With a video on the timeline (`sound`) they are
  about its sound; a bare "mute" or "no sound" silences the music as well, so read_music still
  reads it. Without one they are left to read_music as before ("mute" removes the music, "make
  the video quieter" turns the music down), and only noted when nothing else came of them.
"""

from __future__ import annotations

from typing import Any

from tui.engine.agent.read_music import (
    LOUDER,
    MUSIC_OFF,
    QUIETER,
    SOUND_OFF,
    VOLUME,
    VOLUME_STEP,
    volume_value,
)
from tui.engine.agent.words import Message, rx

# ---- what: the video's own sound by name, or the video itself (loose) ---------------------------
_SND = r"(?:audio|sound|sounds|voice|voices)\b"
_POS = r"(?:['’]s|s['’])?"  # video's, clips'
_OWN = r"(?:(?:own|original|source|native|camera|recorded|built-in)\s+)+"
NAMED_EN = (
    r"(?:the\s+|its\s+|their\s+)?(?:(?:videos?|clips?|footage)" + _POS + r"\s+)?" + _OWN + _SND
    + r"|(?:the\s+)?" + _SND + r"\s+(?:of|from|in)\s+(?:the\s+)?(?:videos?|footage)\b"
    + r"|(?:the\s+)?(?:videos?|footage)" + _POS + r"\s+(?:audio|sound|volume)\b"
    + r"|(?:the\s+)?volume\s+of\s+the\s+(?:videos?|footage)\b"
)  # fmt: skip
NAMED_ZH = (
    r"(?:视频|原视频|片段|素材)?的?(?:原声|原音|原始(?:声音|音频|音轨)|自带的?(?:声音|音频)"
    r"|本身的?(?:声音|音频))"
    r"|原视频的?(?:声音|音频|音量)?|(?:视频|片段|素材)的?(?:声音|音频|音量|音轨)"
)
NAMED = NAMED_EN + "|" + NAMED_ZH
LOOSE_EN = r"(?:the\s+|this\s+|that\s+|my\s+|these\s+)?(?:videos?|clips?|footage|movie)\b"
LOOSE_ZH = r"(?:视频|片段|素材)"

# ---- how: words before or after it -----------------------------------------------------------
OFF_BEFORE = (
    r"\b(?:mute|silence|turn\s+off|switch\s+off|cut|kill|remove|delete|drop|lose|get\s+rid\s+of"
    r"|no|without|disable|strip(?:\s+out)?|don['’]?t\s+(?:want|need)|do\s+not\s+(?:want|need))"
    r"\s+(?:the\s+|any\s+|all\s+)?"
    r"|(?:把|将)?(?:静音|关掉|关闭|关了|去掉|去除|删掉|删除|移除|消除|不要|取消|屏蔽|拿掉)了?"
)
OFF_AFTER = (
    r"\s*(?:off|muted|silenced)\b"
    r"|(?:静音|关掉|关闭|关了|去掉|去除|删掉|删除|移除|消除|不要了?|拿掉)了?"
)
ON_BEFORE = (
    r"\b(?:unmute|keep|restore|bring\s+back|turn\s+on|switch\s+on|turn\s+back\s+on|enable|use"
    r"|leave|with|want)\s+(?:the\s+)?"
    r"|(?:把|将)?(?:保留|恢复|打开|开启|保持|用上?|带上?|加回|留着?|要)"
)
ON_AFTER = r"\s*(?:back\s+)?on\b|\s*back\b|(?:打开|恢复|开启|保留|留着|加回来|回来)"
UP_BEFORE = (
    r"\b(?:turn\s+up|raise|increase|boost|amplify)\s+(?:the\s+)?"
    r"|(?:把|将)?(?:调大|调高|提高|增大|加大|放大|增强)"
)
DOWN_BEFORE = (
    r"\b(?:turn\s+down|lower|reduce|decrease|soften|quiet(?:en)?)\s+(?:the\s+)?"
    r"|(?:把|将)?(?:调小|调低|降低|减小|压低|减弱)"
)
UP_AFTER = LOUDER + r"|\b(?:higher|up|boosted)\b|调?(?:大|高|响)(?:声|点|些|一点儿?)?"
DOWN_AFTER = QUIETER + r"|\b(?:lower|down)\b|调?(?:小|低|轻)(?:声|点|些|一点儿?)?"
# What may stand between the sound's name and what it asks ("video sound <at> 50%",
# "原声<再调到>50%", "make the video <a bit> quieter"): one at a time.
GAP = (
    r"\s+|[:=]|(?:up|down)\s+to\b|(?:at|to|of|is|be|set|volume|level|around|about|just|only"
    r"|please|a|an|the|bit|little|lot|much|slightly|even|way|more)\b"
    r"|的|再|稍微|稍|更|一点|调到|调成|调为|设为|设置为|改成|改为|变成|为|到|在|音量|声音|要"
)
ONLY_MUSIC = (
    r"\b(?:keep|use|leave|want)\s+(?:only|just)\s+(?:the\s+)?(?:background\s+)?music\b"
    r"|\b(?:only|just)\s+(?:the\s+)?(?:background\s+)?music\b|\bmusic\s+only\b"
    r"|只(?:要|保留|留|用|有|放|听)(?:背景)?(?:音乐|配乐)"
)
UNMUTE = (
    r"\bunmute(?:\s+(?:" + LOOSE_EN + "))?"
    r"|\b(?:turn|switch)\s+(?:the\s+)?(?:sound|audio)\s+(?:back\s+)?on\b"
    r"|\bturn\s+(?:the\s+)?(?:sound|audio)\s+back\b"
    r"|(?:取消|解除)(?:视频|原视频|原声)?的?静音|(?:视频|原视频|原声)?(?:取消|解除)静音"
    r"|(?:恢复|打开|开启)声音|声音(?:打开|恢复)"
)
LOOSE_OFF = (
    r"\b(?:mute|silence)\s+(?:" + LOOSE_EN + ")"
    r"|\b(?:make|keep|leave|have)\s+(?:" + LOOSE_EN + r")\s+(?:muted|silent)\b"
    r"|静音(?:的)?" + LOOSE_ZH + "|(?:把|将)?" + LOOSE_ZH + "(?:调成|设为|设置为|改为|改成)?静音"
)
LOOSE_UP = LOOSE_EN + r"\s+(?:(?:a\s+)?(?:bit|little|lot|much)\s+|even\s+)?louder\b"
LOOSE_DOWN = (
    LOOSE_EN + r"\s+(?:(?:a\s+)?(?:bit|little|lot|much)\s+|even\s+)?(?:quieter|softer)\b"
    r"|(?:" + LOOSE_ZH + r")(?:再|稍微)?(?:小声|轻声)"
)
LOOSE_UP_ZH = "(?:" + LOOSE_ZH + r")(?:再|稍微)?(?:大声|响)"
_TAIL = r"(?:一?点儿?|一些|些)?"  # what may follow a step ("原声小声<一点>"): taken with it


def read_video_sound(msg: Message, sound: bool) -> dict[str, Any]:
    """{"mute": True | False, "volume": v, "delta": ±step, "loose": True} for a video's own
    sound; `sound`: whether the timeline has (or is about to have) a video. Empty: not asked."""
    out = _named(msg)
    if out:
        return out
    take = msg.take if sound else msg.find
    if msg.take(UNMUTE):  # always taken: read_music would read its "mute" / "静音" as the music
        return {"mute": False, "loose": True}
    if take(LOOSE_OFF) or take(ONLY_MUSIC):
        return {"mute": True, "loose": True}
    if m := take(LOOSE_UP + "|" + LOOSE_UP_ZH):
        _take_tail(msg, m.end(), sound)
        return {"delta": VOLUME_STEP, "loose": True}
    if m := take(LOOSE_DOWN):
        _take_tail(msg, m.end(), sound)
        return {"delta": -VOLUME_STEP, "loose": True}
    # "mute", "no sound", "关掉声音": all sound, so the music's reader reads it too; "mute the
    # music" is the music's alone.
    if sound:
        work = rx(MUSIC_OFF).sub(lambda m: " " * len(m.group(0)), msg.work)
        if rx(SOUND_OFF).search(work):
            return {"mute": True, "loose": True}
    elif msg.has(SOUND_OFF):
        return {"mute": True, "loose": True}
    return {}


def _named(msg: Message) -> dict[str, Any]:
    """The sound by name with what is said of it, before ("mute the original audio", "保留原声")
    or after ("original audio 30%", "原声小一点"). Named with nothing said of it: left alone."""
    out: dict[str, Any] = {}
    pos = 0
    while m := rx("(?:" + NAMED + ")").search(msg.work, pos):
        a, b = m.span()
        pos = b
        ca, cb = msg.clause_at(a)
        before = _before(msg, ca, a)
        after = _after(msg, b, cb)
        kinds = {before[0] if before else None, after}
        if kinds == {None}:
            continue
        msg.blank(before[1] if before else a, b)
        if isinstance(after, float):
            out["volume"] = after
        if "off" in kinds:
            out["mute"] = True
        elif "on" in kinds:
            out["mute"] = False
        if "up" in kinds or "down" in kinds:
            out["delta"] = VOLUME_STEP if "up" in kinds else -VOLUME_STEP
    return out


def _before(msg: Message, start: int, at: int) -> tuple[str, int] | None:
    """What comes just before the sound's name, and where it starts (not taken)."""
    for kind, pat in (("off", OFF_BEFORE), ("on", ON_BEFORE), ("up", UP_BEFORE)):
        if m := msg.find_before(pat, start, at):
            return kind, m.start()
    if m := msg.find_before(DOWN_BEFORE, start, at):
        return "down", m.start()
    return None


def _after(msg: Message, at: int, end: int) -> str | float | None:
    """What follows the sound's name (taken): a volume, off, on, or a step."""
    if m := msg.take_near(VOLUME, at, end, GAP):
        return volume_value(m)
    for kind, pat in (
        ("off", OFF_AFTER),
        ("on", ON_AFTER),
        ("up", UP_AFTER),
        ("down", DOWN_AFTER),
    ):
        if m := msg.take_near(pat, at, end, GAP):
            if kind in ("up", "down"):
                _take_tail(msg, m.end(), True)
            return kind
    return None


def _take_tail(msg: Message, at: int, take: bool) -> None:
    if take and (m := rx(_TAIL).match(msg.work, at)) and m.end() > at:
        msg.blank(*m.span())
