"""A video's own sound: `m.mute` and `m.volume` on the video track's video segments (images have
no sound), as the renderer reads them (render/soundtrack.py); a note when there is none."""

from __future__ import annotations

from tui.core.protocol import TRACK_AUDIO, TRACK_VIDEO
from tui.engine.agent.apply_music import new_volume
from tui.engine.agent.call import Call
from tui.engine.agent.draft import segments, sound_segments
from tui.engine.agent.request import Request

# The renderer's limit (render.soundtrack.MAX_VOLUME; not imported: that loads av and numpy).
MAX_VOLUME = 4.0
MUSIC_CALLS = ("set_music", "set_volume", "remove_music")


def apply_video_sound(new: dict, req: Request, media: list[dict], done: list[Call]) -> list[Call]:
    """Mute, unmute, set or step the sound of every video on the track. `done`: the turn's
    calls so far; a loose "mute" or "make the video quieter" that the music took needs no note."""
    asked = req.video_sound
    if not asked:
        return []
    targets = sound_segments(new, media)
    if not targets:
        took = asked.get("loose") and any(c.name in MUSIC_CALLS for c in done)
        if segments(new, TRACK_VIDEO) and not took:
            req.notes.append(_no_sound(new, asked))
        return []
    names = ", ".join(dict.fromkeys(str(s["m"].get("name") or "video") for s in targets))
    ids = [s["id"] for s in targets]
    if asked.get("mute") is True:
        changed = [s for s in targets if not _muted(s)]
        if not changed:
            req.notes.append(
                (f"The sound of {names} is already muted.", f"{names} 的原声已经是静音。")
            )
            return []
        for s in changed:
            s["m"]["mute"] = True
        return [
            Call(
                "mute_video_sound",
                {"segments": ids},
                f"muted the sound of {names}",
                f"已将 {names} 的原声静音",
            )
        ]
    if "volume" in asked or "delta" in asked:
        return _set_volumes(targets, asked, names, ids, req)
    if asked.get("mute") is False:
        changed = [s for s in targets if _muted(s) or _volume(s) <= 0]
        for s in changed:
            s["m"].pop("mute", None)
            if _volume(s) <= 0:
                s["m"].pop("volume", None)
        pct = round(_volume(targets[0]) * 100)
        if not changed:
            en = f"The sound of {names} is already on ({pct}%)."
            req.notes.append((en, f"{names} 的原声本来就是开着的（音量 {pct}%）。"))
            return []
        en = f"turned the sound of {names} back on ({pct}%)"
        zh = f"已恢复 {names} 的原声（音量 {pct}%）"
        return [Call("unmute_video_sound", {"segments": ids}, en, zh)]
    return []


def _set_volumes(
    targets: list[dict], asked: dict, names: str, ids: list[str], req: Request
) -> list[Call]:
    """A volume, or a step from each one's own (the music's rule, up to MAX_VOLUME): a muted
    video is turned back on by a volume or a step up, and stays muted by a step down (unless
    also asked to turn it on: "keep the original sound, but quieter")."""
    before: tuple[bool, int] | None = None
    vol = 1.0
    for s in targets:
        down = "volume" not in asked and asked.get("delta", 0) < 0
        if _muted(s) and down and asked.get("mute") is not False:
            continue
        m = s["m"]
        if before is None:
            before = (_muted(s), round(_volume(s) * 100))
        vol = new_volume(_volume(s), asked, top=MAX_VOLUME)
        m.pop("mute", None)
        if vol == 1.0:
            m.pop("volume", None)
        else:
            m["volume"] = vol
    if before is None:
        en = f'The sound of {names} is muted: say "unmute the video" to hear it again.'
        req.notes.append((en, f"{names} 的原声是静音的，可以说“取消静音”恢复。"))
        return []
    pct = round(vol * 100)
    was_en = "was muted" if before[0] else f"was {before[1]}%"
    was_zh = "原为静音" if before[0] else f"原为 {before[1]}%"
    return [
        Call(
            "set_video_volume",
            {"volume": vol, "segments": ids},
            f"set the sound of {names} to {pct}% ({was_en})",
            f"{names} 的原声音量调为 {pct}%（{was_zh}）",
        )
    ]


def _muted(seg: dict) -> bool:
    """As the renderer reads `m.mute` (render.soundtrack.volume_of)."""
    mute = (seg.get("m") or {}).get("mute")
    return mute is True or str(mute or "").lower() in ("1", "true", "yes")


def _volume(seg: dict) -> float:
    try:
        v = float((seg.get("m") or {}).get("volume", 1.0))
    except (TypeError, ValueError):
        return 1.0
    return 1.0 if v != v else min(max(v, 0.0), MAX_VOLUME)


def _no_sound(new: dict, asked: dict) -> tuple[str, str]:
    """There is no video with its own sound: what the clip's sound is instead, and what to say."""
    en = "There is no video with its own sound on the timeline (images have none)"
    zh = "时间线上没有带原声的视频（图片没有声音）"
    if segments(new, TRACK_AUDIO):
        en += '; the only sound is the music: say "make the music quieter" or "remove the music".'
        zh += "；唯一的声音是背景音乐，可以说“音乐小声一点”或“去掉音乐”。"
    elif asked.get("mute") is True:
        en += ", and no music: the clip is silent already."
        zh += "，也没有背景音乐：视频本来就是无声的。"
    else:
        en += ', and no music: say "lo-fi music at 35%" to add some.'
        zh += "，也没有背景音乐；可以说“加上低保真音乐，音量35%”。"
    return en, zh
