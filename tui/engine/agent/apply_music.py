"""The music segment: an uploaded song or a built-in style over the whole clip, its volume."""

from __future__ import annotations

from tui.core.protocol import TRACK_AUDIO
from tui.engine.agent.call import Call
from tui.engine.agent.draft import next_id, segments, track_of
from tui.engine.agent.replies import MUSIC_NAMES, MUSIC_ZH
from tui.engine.agent.request import Request

DEFAULT_VOLUME = 0.5


def apply_music(new: dict, req: Request, media: list[dict], first: bool) -> list[Call]:
    mu = dict(req.music)
    seg = next(iter(segments(new, TRACK_AUDIO)), None)
    # A loose "mute" or "make the video quieter" that found no music: apply_video_sound says so.
    loose = bool(req.video_sound.get("loose"))
    if mu.get("remove"):
        if not seg:
            if not loose:
                req.notes.append(("There is no music to remove.", "没有背景音乐可以删除。"))
            return []
        segments(new, TRACK_AUDIO).clear()
        return [Call("remove_music", {}, "removed the music", "已删除背景音乐")]
    audio = [m for m in media if m.get("file_type") == "audio"]
    if first and not seg and audio and not mu:
        mu = {"src": audio[-1]}  # an uploaded song goes on with the images
    # A new source when one is named, or for "music at 35%" on a clip with none yet.
    if mu.get("no_song"):
        req.notes.append(
            (
                "No song has been uploaded, so I used lo-fi music: upload an audio file to use"
                " your own.",
                "还没有上传歌曲，所以先用了低保真音乐；上传音频文件即可换成你的歌。",
            )
        )
    if "src" in mu or "style" in mu or (not seg and ("volume" in mu or mu.get("generic"))):
        seg = _put_music(new, seg, mu, audio)
        _set_volume(seg, mu)
        m = seg["m"]
        pct = round(m["volume"] * 100)
        zh_name = MUSIC_ZH.get(str(seg["src"]).removeprefix("builtin:"), m["name"])
        return [
            Call(
                "set_music",
                {"name": m["name"], "volume": m["volume"], "src": seg["src"]},
                f"added {m['name']} music at {pct}%",
                f"添加{zh_name}背景音乐，音量 {pct}%",
            )
        ]
    if not seg and "delta" in mu and not loose:
        req.notes.append(_no_music_to_step(mu["delta"] > 0))
    if not seg or ("volume" not in mu and "delta" not in mu):
        return []
    old = round(float(seg["m"].get("volume", DEFAULT_VOLUME)) * 100)
    _set_volume(seg, mu)
    pct = round(seg["m"]["volume"] * 100)
    if pct == old and "volume" not in mu:  # a step at either end: nothing changes
        up = mu["delta"] > 0
        req.notes.append(
            (
                f"The music is already as {'loud' if up else 'quiet'} as it goes ({pct}%).",
                f"音乐音量已经是{'最大' if up else '最小'}了（{pct}%）。",
            )
        )
        return []
    return [
        Call(
            "set_volume",
            {"volume": seg["m"]["volume"]},
            f"set the music volume to {pct}% (was {old}%)",
            f"音乐音量调为 {pct}%（原为 {old}%）",
        )
    ]


def _no_music_to_step(up: bool) -> tuple[str, str]:
    how_en, how_zh = ("louder", "调大声") if up else ("quieter", "调小声")
    return (
        f'There is no music to make {how_en}: say "lo-fi music at 35%" to add some.',
        f"没有背景音乐可以{how_zh}；可以说“加上低保真音乐，音量35%”。",
    )


def _put_music(new: dict, seg: dict | None, mu: dict, audio: list[dict]) -> dict:
    """The music segment for an uploaded file or a built-in style, over the whole clip,
    keeping the volume of the one it replaces."""
    if "src" not in mu and "style" not in mu and audio:
        mu["src"] = audio[-1]  # "add music" after uploading a song: that song
    if "src" in mu:
        src, name = mu["src"]["hash"], mu["src"].get("filename") or "audio"
    else:
        style = mu.get("style", "lofi")
        src, name = f"builtin:{style}", MUSIC_NAMES[style]
    vol = float(seg["m"].get("volume", DEFAULT_VOLUME)) if seg else DEFAULT_VOLUME
    new_seg = {
        "id": seg["id"] if seg else next_id(new),
        "src": src,
        "st": 0,
        "d": int(new["d"]),
        "m": {"name": name, "volume": vol},
    }
    track_of(new, TRACK_AUDIO)["sg"][:] = [new_seg]
    return new_seg


def _set_volume(seg: dict, mu: dict) -> None:
    m = seg["m"]
    m["volume"] = new_volume(float(m.get("volume", DEFAULT_VOLUME)), mu)


def new_volume(vol: float, asked: dict, top: float = 1.0) -> float:
    """`vol` set to `asked["volume"]` (within 0..top) and/or moved by `asked["delta"]` (a
    step, within 0.05..top: a step down never silences), to two decimals. The music's rule,
    and a video's own sound's with a higher `top` (read_video_sound)."""
    if "volume" in asked:
        vol = max(0.0, min(top, asked["volume"]))
    if "delta" in asked:
        vol = max(0.05, min(top, vol + asked["delta"]))
    return round(vol, 2)
