"""Music: removal, a source (an uploaded song or a built-in style), a volume or a step."""

from __future__ import annotations

import re
from typing import Any

from tui.engine.agent.words import Message, N

_OFF_EN = r"\b(?:remove|delete|drop|no|without|get\s+rid\s+of|mute|turn\s+off|stop)\s+"
_OFF_ZH = r"(?:去掉|删除|删掉|移除|不要|取消|关掉|关闭)"
MUSIC_OFF = (  # the music by name
    _OFF_EN + r"(?:the\s+|any\s+)?(?:background\s+(?:music|bgm|audio|song|soundtrack|sound)"
    r"|music|bgm|song|soundtrack)\b"
    + "|" + _OFF_ZH + r"(?:背景)?(?:音乐|配乐|bgm|歌曲?)|" + _OFF_ZH + "背景声音"
    + r"|(?:音乐|配乐)(?:去掉|删掉|不要了)"
)  # fmt: skip
SOUND_OFF = (  # any sound: the music, and a video's own sound too (read_video_sound)
    _OFF_EN + r"(?:the\s+|any\s+)?(?:audio|sound)\b|\bmute\b|" + _OFF_ZH + "声音|静音"
)
MUSIC_REMOVE = MUSIC_OFF + "|" + SOUND_OFF
MUSIC_MINE = (  # the uploaded song
    r"\b(?:my|our|the\s+uploaded|the\s+audio|uploaded)\s+(?:own\s+)?"
    r"(?:song|music|track|audio|mp3|file|soundtrack)s?\b|\bthe\s+song\b"
    r"|我的(?:歌|音乐|歌曲|配乐|音频)|上传的(?:歌|音乐|歌曲|音频|配乐)|这首歌"
)
MUSIC_STYLES = (
    ("lofi", r"\blo-?\s?fi\b|\bchill(?:hop)?\b|低保真"),
    (
        "ambient",
        r"\bambient\b|\bcalm\s+music\b|\batmospheric\b|\bpeaceful\b|\bsoft\s+music\b"
        r"|氛围|舒缓|安静的?音乐|平静",
    ),
    (
        "upbeat",
        r"\bupbeat\b|\benergetic\b|\bhappy\s+music\b|\blively\b|\bfun\s+music\b"
        r"|欢快|动感|活泼|轻快",
    ),
)
VOLUME = (  # a number with % is always a volume
    N + r"\s*%|\bvolume\s*(?:to|at|of|=|:)?\s*" + N
    + r"|音量\s*(?:调到|设为|设置为|改成|改为|为|是|:)?\s*" + N
)  # fmt: skip
LOUDER = (
    r"\blouder\b|\bturn\s+(?:it\s+|the\s+music\s+)?up\b|\bmore\s+volume\b"
    r"|\b(?:increase|raise|boost)\s+(?:the\s+)?(?:music\s+)?volume\b"
    r"|(?:音量|声音|音乐|配乐)再?调?(?:大|高|响)|调高音量|提高音量|大声"
)
QUIETER = (
    r"\b(?:quieter|softer)\b|\bturn\s+(?:it\s+|the\s+music\s+)?down\b|\bless\s+loud\b"
    r"|\b(?:lower|reduce|decrease)\s+(?:the\s+)?(?:music\s+)?volume\b"
    r"|(?:音量|声音|音乐|配乐)再?调?(?:小|低|轻)|调低音量|降低音量|小声|轻声"
)
VOLUME_STEP = 0.15
# A step by an amount: "10% louder", "turn the music down by 20%", "音量调大10%" (points of
# volume, not the last step's 15: "10%" here is never the volume itself).
BY_UP = (
    N + r"\s*%\s*(?:louder|higher|up)\b"
    + r"|\bturn\s+(?:it\s+|the\s+music\s+)?up\s+(?:by\s+)?" + N + r"\s*%"
    + r"|(?:音量|声音|音乐|配乐)再?调?(?:大|高)\s*" + N + r"\s*%"
)  # fmt: skip
BY_DOWN = (
    N + r"\s*%\s*(?:quieter|softer|lower|down)\b"
    + r"|\bturn\s+(?:it\s+|the\s+music\s+)?down\s+(?:by\s+)?" + N + r"\s*%"
    + r"|(?:音量|声音|音乐|配乐)再?调?(?:小|低)\s*" + N + r"\s*%"
)  # fmt: skip


def read_music(msg: Message, media: list[dict]) -> dict[str, Any]:
    """Music: remove it, or a source (an uploaded file, or a built-in style), a volume, a step."""
    if msg.take(MUSIC_REMOVE):
        return {"remove": True}
    out: dict[str, Any] = {}
    audio = [m for m in media if m.get("file_type") == "audio"]
    for a in audio:  # named: "use song.mp3", "'song.mp3' at 20%"
        name = str(a.get("filename") or "").lower()
        if name and (name in msg.text or name in (q.lower() for q in msg.quotes)):
            out["src"] = a
            for i, q in enumerate(msg.quotes):
                if q.lower() == name:
                    msg.claim_quote(i)
    if "src" not in out and msg.take(MUSIC_MINE):
        if audio:
            out["src"] = audio[-1]
        else:
            out["style"] = "lofi"  # "my song", but none was uploaded: the reply says so
            out["no_song"] = True
    out["style"] = next((st for st, pat in MUSIC_STYLES if msg.take(pat)), out.get("style"))
    for pattern, sign in ((BY_UP, 1), (BY_DOWN, -1)):  # before "music" is taken from them
        if m := msg.take(pattern):
            out["delta"] = sign * float(next(g for g in m.groups() if g)) / 100
    generic = msg.take(r"\b(?:music|bgm|soundtrack|song)\b|背景音乐|音乐|配乐|bgm")
    if m := msg.take(VOLUME):
        out["volume"] = volume_value(m)
    if "delta" in out:
        pass
    elif msg.take(LOUDER):
        out["delta"] = VOLUME_STEP
    elif msg.take(QUIETER):
        out["delta"] = -VOLUME_STEP
    out = {k: v for k, v in out.items() if v is not None}
    if generic and not out:
        out["generic"] = True
    return out


def volume_value(m: re.Match) -> float:
    """The volume (1 = 100 %) a VOLUME match says: "35%", "volume 35", "volume 0.35"."""
    if m.group(1):
        return float(m.group(1)) / 100
    v = m.group(2) or m.group(3)
    return float(v) if float(v) <= 1 and "." in v else float(v) / 100
