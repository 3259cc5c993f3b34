"""The deterministic agent: a table of instructions (half in Chinese) and the draft each makes.

Each row: a starting draft, the session's media, one message, and the draft fields the turn
must produce. Field paths: `d`, `m.<key>` (the draft's metadata), and `<T><i>.<key>` for a
segment of the video (V), audio (A) or text (T) track, where `<i>` is an index or `*` (all, as a
list) and `<key>` is `src`, `st`, `d` or a metadata key. `V`, `A`, `T` alone list the sources
(video, audio) or the (role, text, start, length, position) of each text segment.
"""

from __future__ import annotations

import copy
import re
import time
from typing import Any

import pytest

from tui.core.protocol import summarize_draft
from tui.core.text_colours import TEXT_COLOURS
from tui.engine import agent

EMPTY: dict = {
    "d": 5000,
    "m": {"title": "project", "width": 1920, "height": 1080, "fps": 30},
    "t": [],
}


def _img(i: int, w: int = 800, h: int = 600) -> dict:
    return {
        "hash": f"h{i}",
        "file_type": "image",
        "filename": f"p{i}.jpg",
        "width": w,
        "height": h,
        "duration": None,
    }


IMG1 = [_img(1)]
IMG3 = [_img(1), _img(2), _img(3)]
SONG = {
    "hash": "a1",
    "file_type": "audio",
    "filename": "song.mp3",
    "width": None,
    "height": None,
    "duration": 30.0,
}
IMG1_SONG = [*IMG1, SONG]


def _video(i: int, st: int, d: int, sid: str) -> dict:
    return {
        "id": sid,
        "src": f"h{i}",
        "st": st,
        "d": d,
        "m": {"name": f"p{i}.jpg", "motion": "zoom_in"},
    }


# One image, 5 s, lo-fi at 50 %, a title over the whole clip.
ONE: dict = {
    "d": 5000,
    "m": {"title": "project", "width": 1920, "height": 1080, "fps": 30},
    "t": [
        {"tt": 0, "sg": [_video(1, 0, 5000, "s1")]},
        {
            "tt": 1,
            "sg": [
                {
                    "id": "s2",
                    "src": "builtin:lofi",
                    "st": 0,
                    "d": 5000,
                    "m": {"name": "Lo-fi", "volume": 0.5},
                }
            ],
        },
        {
            "tt": 7,
            "sg": [
                {
                    "id": "s3",
                    "st": 0,
                    "d": 5000,
                    "m": {"text": "Hi", "position": "center", "role": "title"},
                }
            ],
        },
    ],
}
# Three images, 3 s each, nothing else.
THREE: dict = {
    "d": 9000,
    "m": {"title": "project", "width": 1920, "height": 1080, "fps": 30},
    "t": [
        {
            "tt": 0,
            "sg": [
                _video(1, 0, 3000, "s1"),
                _video(2, 3000, 3000, "s2"),
                _video(3, 6000, 3000, "s3"),
            ],
        }
    ],
}
# The first two of the three images, 3 s each.
TWO: dict = copy.deepcopy(THREE)
TWO["d"] = 6000
del TWO["t"][0]["sg"][2]
# ONE with a caption too.
CAPTIONED: dict = copy.deepcopy(ONE)
CAPTIONED["t"][2]["sg"].append(
    {"id": "s4", "st": 0, "d": 5000, "m": {"text": "Buy", "position": "bottom", "role": "caption"}}
)
# ONE with a short title (0-2 s) and a caption after it (2-4 s): room to grow both ways.
BRIEF: dict = copy.deepcopy(ONE)
BRIEF["t"][2]["sg"] = [
    {"id": "s3", "st": 0, "d": 2000, "m": {"text": "Hi", "position": "center", "role": "title"}},
    {
        "id": "s4",
        "st": 2000,
        "d": 2000,
        "m": {"text": "Buy", "position": "bottom", "role": "caption"},
    },
]
BRIEF_TITLE = ("title", "Hi", 0, 2000, "center")  # its title, as the `T` field reads it
# A video file (its own sound plays in the clip), as the engine types uploads.
VID = {
    "hash": "v1",
    "file_type": "video",
    "filename": "walk.mp4",
    "width": 1920,
    "height": 1080,
    "duration": 4.0,
}
# ONE with the video in place of the image: its own sound, and lo-fi at 50 % over it.
CLIP: dict = copy.deepcopy(ONE)
CLIP["t"][0]["sg"][0].update(src="v1", m={"name": "walk.mp4", "motion": "static"})
del CLIP["t"][2]
MUTED: dict = copy.deepcopy(CLIP)  # its sound muted
MUTED["t"][0]["sg"][0]["m"]["mute"] = True
# The image, then the video (2.5 s each), no music.
MIXED: dict = copy.deepcopy(TWO)
MIXED["d"] = 5000
MIXED["t"][0]["sg"][0]["d"] = 2500
MIXED["t"][0]["sg"][1].update(src="v1", st=2500, d=2500, m={"name": "walk.mp4", "motion": "static"})
DRAFTS = {
    "empty": EMPTY,
    "one": ONE,
    "two": TWO,
    "three": THREE,
    "captioned": CAPTIONED,
    "brief": BRIEF,
    "clip": CLIP,
    "muted": MUTED,
    "mixed": MIXED,
}
MEDIA = {
    "img1": IMG1,
    "img3": IMG3,
    "img1+song": IMG1_SONG,
    "vid": [VID],
    "img1+vid": [*IMG1, VID],
}
TRACKS = {"V": 0, "A": 1, "T": 7}


def field(draft: dict, path: str) -> Any:
    if path == "d":
        return draft["d"]
    if path.startswith("m."):
        return draft["m"].get(path[2:])
    segs = next((t["sg"] for t in draft["t"] if t["tt"] == TRACKS[path[0]]), [])
    if path in ("V", "A"):
        return [s["src"] for s in segs]
    if path == "T":
        return [
            (s["m"].get("role", "title"), s["m"]["text"], s["st"], s["d"], s["m"]["position"])
            for s in segs
        ]
    which, key = path[1:].split(".", 1)

    def one(s: dict) -> Any:
        return s[key] if key in ("src", "st", "d", "id") else s["m"].get(key)

    return [one(s) for s in segs] if which == "*" else one(segs[int(which)])


YELLOW, RED, BLUE = TEXT_COLOURS["yellow"], TEXT_COLOURS["red"], TEXT_COLOURS["blue"]
GREEN, ORANGE = TEXT_COLOURS["green"], TEXT_COLOURS["orange"]
HI_BUY = ["Hi", "Buy"]  # BRIEF's texts, unchanged


def lofi(vol: float) -> dict:
    return {"A": ["builtin:lofi"], "A0.volume": vol}


CASES: list[tuple[str, str, str, dict]] = [
    # ---- English ------------------------------------------------------------------------------
    (
        "empty",
        "img1",
        "make a video",
        {"d": 5000, "V": ["h1"], "V*.d": [5000], "V0.strength": "subtle"},
    ),
    (
        "empty",
        "img3",
        "make a video",
        {"d": 9000, "V": ["h1", "h2", "h3"], "V*.st": [0, 3000, 6000]},
    ),
    (
        "empty",
        "img1",
        "turn this into a 5-second 1080p clip, vertical, title 'Spring Sale' for 3 s, "
        "lo-fi music at 35%",
        {
            "d": 5000,
            "m.width": 1080,
            "m.height": 1920,
            "T": [("title", "Spring Sale", 0, 3000, "center")],
            **lofi(0.35),
        },
    ),
    (
        "empty",
        "img1",
        "a 3-second 720p vertical clip, title 'Spring Sale' for 2 s, lo-fi music at 35%",
        {"d": 3000, "m.width": 720, "m.height": 1280, "T*.d": [2000], "A0.d": 3000, **lofi(0.35)},
    ),
    ("one", "img1", "ten seconds", {"d": 10000, "V*.d": [10000], "A0.d": 10000, "T*.d": [10000]}),
    ("one", "img1", "make it 8 s long", {"d": 8000, "V*.d": [8000]}),
    ("one", "img1", "fifteen-second clip please", {"d": 15000}),
    ("one", "img1", "square, 4K", {"m.width": 2160, "m.height": 2160}),
    ("one", "img1", "landscape 720p", {"m.width": 1280, "m.height": 720}),
    ("one", "img1", "4:5 for instagram", {"m.width": 1080, "m.height": 1350}),
    ("one", "img1", "60 fps", {"m.fps": 60, "d": 5000}),
    (
        "one",
        "img1",
        "slow zoom in toward the top left",
        {"V0.motion": "zoom_in", "V0.strength": "subtle", "V0.focus": [0.25, 0.25]},
    ),
    ("one", "img1", "pan left, linear", {"V0.motion": "pan_left", "V0.easing": "linear"}),
    ("one", "img1", "a dramatic ken burns", {"V0.motion": "ken_burns", "V0.strength": "strong"}),
    ("one", "img1", "parallax please", {"V0.motion": "parallax"}),
    ("one", "img1", "keep it static", {"V0.motion": "static"}),
    ("one", "img1", "focus on the right", {"V0.focus": [0.75, 0.5], "V0.motion": "zoom_in"}),
    ("one", "img1", "fit the whole image", {"V0.fit": "contain"}),
    ("one", "img1", "fill the frame", {"V0.fit": "cover"}),
    ("one", "img1", "remove the title", {"T": [], "A": ["builtin:lofi"]}),
    ("one", "img1", "remove all text", {"T": []}),
    ("one", "img1", "make the music louder", {"A0.volume": 0.65}),
    ("one", "img1", "make the music quieter", {"A0.volume": 0.35}),
    ("one", "img1", "30% volume", {"A0.volume": 0.3, "d": 5000}),
    ("one", "img1", "a bit shorter", {"d": 4000, "V*.d": [4000]}),
    ("one", "img1", "two seconds longer", {"d": 7000}),
    (
        "one",
        "img1",
        "change the title to Summer Sale",
        {"T": [("title", "Summer Sale", 0, 5000, "center")]},
    ),
    ("one", "img1", "move the title to the bottom", {"T": [("title", "Hi", 0, 5000, "bottom")]}),
    (
        "one",
        "img1",
        "caption 'Shop now' at the bottom from 2s to 4s",
        {
            "d": 5000,
            "T": [
                ("title", "Hi", 0, 5000, "center"),
                ("caption", "Shop now", 2000, 2000, "bottom"),
            ],
        },
    ),
    (
        "one",
        "img1",
        "title 'Spring Sale' for the first 3 seconds",
        {"d": 5000, "T": [("title", "Spring Sale", 0, 3000, "center")]},
    ),
    (
        "one",
        "img1",
        "make it 6 seconds with the title 'Big Day' for 2 s",
        {"d": 6000, "T": [("title", "Big Day", 0, 2000, "center")]},
    ),
    (
        "one",
        "img1",
        "8 seconds, title 'The End' for the last 2 seconds",
        {"d": 8000, "T": [("title", "The End", 6000, 2000, "center")]},
    ),
    (
        "one",
        "img1",
        "title 'Ten seconds of fame, 50% off' at the top",
        {
            "d": 5000,
            "A0.volume": 0.5,
            "T": [("title", "Ten seconds of fame, 50% off", 0, 5000, "top")],
        },
    ),
    ("one", "img1", "fade in and fade out", {"m.fade_in": 1000, "m.fade_out": 1000}),
    ("one", "img1", "fade out at the end", {"m.fade_out": 1000, "m.fade_in": None}),
    ("one", "img1", "remove the music", {"A": [], "T*.text": ["Hi"]}),
    # A length right after "title" or "music" is theirs, not the clip's.
    ("one", "img1", "title duration 3 s", {"d": 5000, "T": [("title", "Hi", 0, 3000, "center")]}),
    ("one", "img1", "标题时长3秒", {"d": 5000, "T": [("title", "Hi", 0, 3000, "center")]}),
    (
        "empty",
        "img1",
        "title 'A' duration 2 s, clip duration 6 s",
        {"d": 6000, "T": [("title", "A", 0, 2000, "center")]},
    ),
    (
        "one",
        "img1",
        "视频时长8秒，标题显示3秒",
        {"d": 8000, "T": [("title", "Hi", 0, 3000, "center")]},
    ),
    ("one", "img1", "ambient music at 20%", {"A": ["builtin:ambient"], "A0.volume": 0.2}),
    (
        "one",
        "img1+song",
        "use my song at 40%",
        {"A": ["a1"], "A0.volume": 0.4, "A0.name": "song.mp3"},
    ),
    ("three", "img3", "put the second image first", {"V": ["h2", "h1", "h3"], "d": 9000}),
    ("three", "img3", "swap the first and last images", {"V": ["h3", "h2", "h1"]}),
    ("three", "img3", "reverse the order", {"V": ["h3", "h2", "h1"]}),
    ("three", "img3", "remove the second image", {"V": ["h1", "h3"], "d": 9000}),
    (
        "three",
        "img3",
        "crossfade between the images",
        {"V0.transition": None, "V1.transition": "crossfade", "V2.transition_ms": 500},
    ),
    (
        "one",
        "img3",
        "use all three images, 2 seconds each",
        {"V": ["h1", "h2", "h3"], "d": 6000, "V*.d": [2000] * 3, "A0.d": 6000},
    ),
    (
        "empty",
        "img3",
        "a 12 second slideshow of all three images with upbeat music",
        {"d": 12000, "V*.d": [4000] * 3, "A": ["builtin:upbeat"]},
    ),
    (
        "empty",
        "img3",
        "use all 3 photos with a 1 second crossfade, 2 s each",
        {
            "d": 6000,
            "V*.transition_ms": [None, 1000, 1000],
        },
    ),
    ("one", "img1", "make the title last 2 seconds", {"T": [("title", "Hi", 0, 2000, "center")]}),
    ("one", "img1", "mute", {"A": [], "V": ["h1"]}),
    ("three", "img3", "no transitions, hard cuts", {"V*.transition": [None, "cut", "cut"]}),
    ("empty", "img1", "vertical please", {"V": ["h1"], "m.width": 1080, "m.height": 1920}),
    ("one", "img1", "a 5 s clip at 1280x720", {"d": 5000, "m.width": 1280, "m.height": 720}),
    (
        "one",
        "img1",
        "zoom out with medium strength, eased",
        {"V0.motion": "zoom_out", "V0.strength": "medium", "V0.easing": "ease"},
    ),
    (
        "one",
        "img1",
        "a 3-second title 'Hey'",
        {"d": 5000, "T": [("title", "Hey", 0, 3000, "center")]},
    ),
    (
        "one",
        "img1",
        "put 'Grand Opening' at the top for 2 seconds",
        {"d": 5000, "T": [("title", "Grand Opening", 0, 2000, "top")]},
    ),
    ("one", "img1", "move the title up", {"T": [("title", "Hi", 0, 5000, "top")]}),
    ("one", "img1", "pan from left to right", {"V0.motion": "pan_right"}),
    ("three", "img3", "only use the second image", {"V": ["h2"], "d": 9000}),
    (
        "empty",
        "img3",
        "Make a 10 second video of these photos",
        {"d": 10000, "V*.d": [3333, 3333, 3334], "V*.st": [0, 3333, 6666]},
    ),
    ("two", "img3", "add the new image", {"V": ["h1", "h2", "h3"], "d": 6000, "V*.d": [2000] * 3}),
    ("captioned", "img1", "remove the title and the caption", {"T": []}),
    ("captioned", "img1", "get rid of the caption", {"T": [("title", "Hi", 0, 5000, "center")]}),
    (
        "empty",
        "img1",
        "Can you make it a bit longer and add some chill music?",
        {"d": 6000, "V*.d": [6000], **lofi(0.5), "A0.d": 6000},
    ),
    # how long a title or caption shows, relative to now (the clip keeps its length)
    ("brief", "img1", "make the title longer", {"d": 5000, "T*.d": [3000, 2000]}),
    ("brief", "img1", "show the title for 2 more seconds", {"d": 5000, "T*.d": [4000, 2000]}),
    (
        "brief",
        "img1",
        "shorten the caption by 1 s",
        {"T": [BRIEF_TITLE, ("caption", "Buy", 2000, 1000, "bottom")]},
    ),
    # past the clip's end it starts earlier instead
    (
        "brief",
        "img1",
        "show the caption for 5 more seconds",
        {"d": 5000, "T*.st": [0, 0], "T*.d": [2000, 5000]},
    ),
    (
        "brief",
        "img1",
        "make the video longer with the title 'X'",
        {"d": 6000, "T*.text": ["X", "Buy"], "T*.d": [2000, 2000]},
    ),
    # text sizes: named sizes as the renderer reads them, or a factor
    ("brief", "img1", "make the title bigger", {"T*.size": ["large", None], "T*.d": [2000, 2000]}),
    ("brief", "img1", "make the caption smaller", {"T*.size": [None, "small"]}),
    ("brief", "img1", "a huge title", {"T*.size": [2.0, None], "T*.text": ["Hi", "Buy"]}),
    (
        "brief",
        "img1",
        "make the title small and the caption large",
        {"T*.size": ["small", "large"]},
    ),
    # text colours: m.color as "#RRGGBB", next to the text's keyword (after it or before it)
    ("brief", "img1", "make the title yellow", {"T*.color": [YELLOW, None], "T*.text": HI_BUY}),
    ("brief", "img1", "a yellow title", {"T*.color": [YELLOW, None], "T*.text": HI_BUY}),
    ("brief", "img1", "title in red", {"T*.color": [RED, None]}),
    ("brief", "img1", "red caption", {"T*.color": [None, RED]}),
    ("brief", "img1", "change the title colour to blue", {"T*.color": [BLUE, None]}),
    ("brief", "img1", "white text", {"T*.color": ["#FFFFFF", None]}),
    (
        "brief",
        "img1",
        "change the title to yellow",
        {"T*.color": [YELLOW, None], "T*.text": HI_BUY},
    ),
    ("brief", "img1", "title colour #FC0", {"T*.color": ["#FFCC00", None]}),
    (
        "brief",
        "img1",
        "set the title to #ffcc00",
        {"T*.color": ["#FFCC00", None], "T*.text": HI_BUY},
    ),
    ("brief", "img1", "make the caption gray", {"T*.color": [None, "#9E9E9E"]}),
    ("brief", "img1", "make the title and caption yellow", {"T*.color": [YELLOW, YELLOW]}),
    ("brief", "img1", "make the title red and the caption blue", {"T*.color": [RED, BLUE]}),
    (
        "brief",
        "img1",
        "a big yellow title",
        {"T*.color": [YELLOW, None], "T*.size": ["large", None]},
    ),
    ("brief", "img1", "make the title yellow and bigger", {"T*.size": ["large", None]}),
    (
        "empty",
        "img1",
        "title 'Sale' in red at the top for 3 s",
        {"d": 5000, "T": [("title", "Sale", 0, 3000, "top")], "T0.color": RED},
    ),
    (
        "brief",
        "img1",
        "title 'X' and a red caption 'Y'",
        {"T*.text": ["X", "Y"], "T*.color": [None, RED]},
    ),
    # ... and colour words that are not the text's colour stay what they were
    (
        "one",
        "img1",
        "title 'Red Car'",
        {"T": [("title", "Red Car", 0, 5000, "center")], "T0.color": None},
    ),
    ("one", "img1", "change the title to Red Car", {"T*.text": ["Red Car"], "T0.color": None}),
    ("one", "img1", "zoom in on the red car", {"V0.motion": "zoom_in", "T0.color": None}),
    (
        "one",
        "img1",
        "ambient music at 20%, title 'Blue Hour'",
        {"A": ["builtin:ambient"], "A0.volume": 0.2, "T*.text": ["Blue Hour"], "T0.color": None},
    ),
    # a video's own sound: m.mute and m.volume on the video's segment (the music stays)
    ("clip", "vid", "mute the video", {"V0.mute": True, "A0.volume": 0.5}),
    ("clip", "vid", "turn off the video's sound", {"V0.mute": True, "A": ["builtin:lofi"]}),
    ("clip", "vid", "no original audio", {"V0.mute": True, "A0.volume": 0.5}),
    ("clip", "vid", "keep only the music", {"V0.mute": True, "A": ["builtin:lofi"]}),
    ("muted", "vid", "unmute the video", {"V0.mute": None, "V0.volume": None}),
    ("muted", "vid", "keep the original sound", {"V0.mute": None, "A0.volume": 0.5}),
    ("clip", "vid", "video sound at 50%", {"V0.volume": 0.5, "A0.volume": 0.5}),
    ("clip", "vid", "original audio 30%", {"V0.volume": 0.3, "A0.volume": 0.5, "d": 5000}),
    ("clip", "vid", "make the video quieter", {"V0.volume": 0.85, "A0.volume": 0.5}),
    ("clip", "vid", "make the video louder", {"V0.volume": 1.15, "A0.volume": 0.5}),
    ("muted", "vid", "make the video louder", {"V0.mute": None, "V0.volume": 1.15}),
    ("clip", "vid", "original audio 30%, music at 20%", {"V0.volume": 0.3, "A0.volume": 0.2}),
    ("mixed", "img1+vid", "mute the video", {"V*.mute": [None, True], "V": ["h1", "v1"]}),
    ("empty", "vid", "make a video without the original sound", {"V": ["v1"], "V0.mute": True}),
    # ... and all sound: "mute" alone silences the music too
    ("clip", "vid", "mute", {"V0.mute": True, "A": []}),
    # the music's words stay the music's, with a video or without one
    ("clip", "vid", "music at 35%", {"A0.volume": 0.35, "V0.volume": None, "V0.mute": None}),
    ("clip", "vid", "make the music quieter", {"A0.volume": 0.35, "V0.volume": None}),
    ("clip", "vid", "quieter music", {"A0.volume": 0.35, "V0.volume": None}),
    ("clip", "vid", "mute the music", {"A": [], "V0.mute": None}),
    ("one", "img1", "make the video quieter", {"A0.volume": 0.35, "V0.volume": None}),
    ("one", "img1", "mute the video", {"A": [], "V0.mute": None}),
    # lengths in words and fractions, and follow-ups that change the last number said
    ("one", "img1", "half a minute", {"d": 30000, "V*.d": [30000]}),
    ("one", "img1", "one and a half seconds", {"d": 1500}),
    ("one", "img1", "make it two and a half seconds", {"d": 2500}),
    ("three", "img3", "make it ten seconds", {"d": 10000}),
    ("one", "img1", "make it 6", {"d": 6000, "V*.d": [6000]}),
    ("one", "img1", "actually 8", {"d": 8000}),
    ("one", "img1", "how about 7?", {"d": 7000}),
    # "caption" or "it" for the only text on screen
    ("one", "img1", "make the caption bigger", {"T*.size": ["large"], "T*.text": ["Hi"]}),
    ("one", "img1", "move it to the top", {"T": [("title", "Hi", 0, 5000, "top")]}),
    ("brief", "img1", "make the text bigger", {"T*.size": ["large", None]}),
    # ---- Chinese ------------------------------------------------------------------------------
    ("empty", "img1", "做个视频", {"d": 5000, "V": ["h1"], "V0.motion": "zoom_in"}),
    ("empty", "img3", "做个视频", {"d": 9000, "V": ["h1", "h2", "h3"]}),
    (
        "empty",
        "img1",
        "做一个5秒的竖屏视频，标题「春季促销」前3秒，低保真音乐，音量35%",
        {
            "d": 5000,
            "m.width": 1080,
            "m.height": 1920,
            "T": [("title", "春季促销", 0, 3000, "center")],
            **lofi(0.35),
        },
    ),
    ("empty", "img1", "做一个十五秒的视频", {"d": 15000, "V*.d": [15000]}),
    ("one", "img1", "改成8秒", {"d": 8000}),
    ("one", "img1", "时长十秒", {"d": 10000}),
    ("one", "img1", "两秒半", {"d": 2500}),
    ("one", "img1", "方形", {"m.width": 1080, "m.height": 1080}),
    ("one", "img1", "竖屏，720p", {"m.width": 720, "m.height": 1280}),
    ("one", "img1", "横屏4K", {"m.width": 3840, "m.height": 2160}),
    ("one", "img1", "帧率24", {"m.fps": 24}),
    ("one", "img1", "拉远", {"V0.motion": "zoom_out"}),
    ("one", "img1", "缓慢推近", {"V0.motion": "zoom_in", "V0.strength": "subtle"}),
    ("one", "img1", "向右平移，匀速", {"V0.motion": "pan_right", "V0.easing": "linear"}),
    ("one", "img1", "视差效果", {"V0.motion": "parallax"}),
    ("one", "img1", "静止不动", {"V0.motion": "static"}),
    ("one", "img1", "推近到右下角", {"V0.motion": "zoom_in", "V0.focus": [0.75, 0.75]}),
    ("one", "img1", "完整显示图片，不要裁剪", {"V0.fit": "contain"}),
    ("one", "img1", "铺满画面", {"V0.fit": "cover"}),
    ("one", "img1", "去掉标题", {"T": []}),
    ("one", "img1", "删除所有文字", {"T": [], "V": ["h1"]}),
    ("one", "img1", "音乐大声一点", {"A0.volume": 0.65}),
    ("one", "img1", "音乐小声点", {"A0.volume": 0.35}),
    ("one", "img1", "音量30%", {"A0.volume": 0.3}),
    ("one", "img1", "短一点", {"d": 4000}),
    ("one", "img1", "再长两秒", {"d": 7000}),
    ("one", "img1", "标题改成夏日特卖", {"T": [("title", "夏日特卖", 0, 5000, "center")]}),
    ("one", "img1", "标题放到底部", {"T": [("title", "Hi", 0, 5000, "bottom")]}),
    (
        "one",
        "img1",
        "字幕「立即购买」在底部，从2秒到4秒",
        {
            "d": 5000,
            "T": [
                ("title", "Hi", 0, 5000, "center"),
                ("caption", "立即购买", 2000, 2000, "bottom"),
            ],
        },
    ),
    (
        "one",
        "img1",
        "标题《春天》显示三秒",
        {"d": 5000, "T": [("title", "春天", 0, 3000, "center")]},
    ),
    (
        "one",
        "img1",
        "标题“十秒钟”放在顶部",
        {"d": 5000, "T": [("title", "十秒钟", 0, 5000, "top")]},
    ),
    ("one", "img1", "淡入淡出", {"m.fade_in": 1000, "m.fade_out": 1000}),
    ("one", "img1", "结尾淡出", {"m.fade_out": 1000, "m.fade_in": None}),
    ("one", "img1", "去掉音乐", {"A": []}),
    ("one", "img1+song", "用我的歌，音量百分之四十", {"A": ["a1"], "A0.volume": 0.4}),
    ("one", "img1", "换成欢快的音乐", {"A": ["builtin:upbeat"], "A0.volume": 0.5}),
    ("one", "img1", "慢一点的肯伯恩斯效果", {"V0.motion": "ken_burns", "V0.strength": "subtle"}),
    ("three", "img3", "把第二张图片放在最前面", {"V": ["h2", "h1", "h3"]}),
    ("three", "img3", "交换第一张和第三张", {"V": ["h3", "h2", "h1"]}),
    ("three", "img3", "删除第二张图片", {"V": ["h1", "h3"]}),
    (
        "three",
        "img3",
        "图片之间加交叉淡化",
        {"V2.transition": "crossfade", "V2.transition_ms": 500},
    ),
    ("empty", "img3", "用全部三张图片，每张两秒", {"d": 6000, "V*.d": [2000] * 3}),
    ("three", "img3", "倒序", {"V": ["h3", "h2", "h1"]}),
    ("captioned", "img1", "标题和字幕都去掉", {"T": []}),
    ("captioned", "img1", "字幕放到顶部", {"T*.position": ["center", "top"]}),
    ("three", "img3", "把第一张图片删掉", {"V": ["h2", "h3"], "d": 9000}),
    ("one", "img1", "整体时长缩短到8秒", {"d": 8000}),
    ("two", "img3", "加上这张图片", {"V": ["h1", "h2", "h3"]}),
    ("one", "img1", "3秒的标题「你好」", {"d": 5000, "T": [("title", "你好", 0, 3000, "center")]}),
    ("one", "img1", "标题：春季大促，前3秒", {"T": [("title", "春季大促", 0, 3000, "center")]}),
    ("one", "img1", "标题往上移", {"T": [("title", "Hi", 0, 5000, "top")], "V0.motion": "zoom_in"}),
    ("one", "img1", "从左到右平移", {"V0.motion": "pan_right"}),
    ("three", "img3", "只用第三张", {"V": ["h3"]}),
    ("one", "img1", "淡入2秒", {"m.fade_in": 2000, "m.fade_out": None}),
    ("one", "img1", "把音乐音量调到百分之二十五", {"A0.volume": 0.25}),
    (
        "empty",
        "img1",
        "帮我把这张照片做成一个竖屏短视频，配上轻快的音乐",
        {"V": ["h1"], "m.width": 1080, "m.height": 1920, "A": ["builtin:upbeat"]},
    ),
    ("one", "img1", "做一个720p的视频", {"m.width": 1280, "m.height": 720, "d": 5000}),
    ("one", "img1", "背景音乐用lofi，音量百分之二十", {"A": ["builtin:lofi"], "A0.volume": 0.2}),
    ("one", "img1", "视频长8秒", {"d": 8000}),
    ("three", "img3", "不要转场", {"V*.transition": [None, "cut", "cut"]}),
    ("empty", "img1", "竖屏", {"V": ["h1"], "m.width": 1080, "m.height": 1920}),
    ("one", "img1", "标题「早安」从第1秒开始", {"T": [("title", "早安", 1000, 4000, "center")]}),
    ("one", "img1", "向上平移，强烈一点", {"V0.motion": "pan_up", "V0.strength": "strong"}),
    (
        "one",
        "img1",
        "字幕写着欢迎光临，放在底部",
        {"T": [("title", "Hi", 0, 5000, "center"), ("caption", "欢迎光临", 0, 5000, "bottom")]},
    ),
    ("one", "img1", "一比一的画面", {"m.width": 1080, "m.height": 1080}),
    ("one", "img1", "每秒二十五帧", {"m.fps": 25}),
    ("one", "img1", "聚焦在左边", {"V0.focus": [0.25, 0.5]}),
    (
        "one",
        "img1",
        "标题改成「新品上市」，放在顶部，从1秒到3秒",
        {"d": 5000, "T": [("title", "新品上市", 1000, 2000, "top")]},
    ),
    (
        "empty",
        "img1",
        "做一个十秒的方形视频，配上氛围音乐",
        {"d": 10000, "m.width": 1080, "m.height": 1080, "A": ["builtin:ambient"], "A0.d": 10000},
    ),
    # how long a title or caption shows, relative to now; text sizes
    ("brief", "img1", "标题再长一点", {"d": 5000, "T*.d": [3000, 2000]}),
    ("brief", "img1", "标题多显示2秒", {"d": 5000, "T*.d": [4000, 2000]}),
    (
        "brief",
        "img1",
        "字幕缩短一秒",
        {"T": [BRIEF_TITLE, ("caption", "Buy", 2000, 1000, "bottom")]},
    ),
    ("brief", "img1", "字幕多显示十秒", {"d": 5000, "T*.st": [0, 0], "T*.d": [2000, 5000]}),
    (
        "brief",
        "img1",
        "标题「好」，视频再长一秒",
        {"d": 6000, "T*.text": ["好", "Buy"], "T*.d": [2000, 2000]},
    ),
    ("brief", "img1", "标题大一点", {"T*.size": ["large", None], "T*.d": [2000, 2000]}),
    ("brief", "img1", "字幕小一点", {"T*.size": [None, "small"]}),
    ("brief", "img1", "标题用特大号字", {"T*.size": [2.0, None]}),
    ("brief", "img1", "标题改成大号", {"T*.size": ["large", None], "T*.text": ["Hi", "Buy"]}),
    # text colours
    ("brief", "img1", "标题改成黄色", {"T*.color": [YELLOW, None], "T*.text": HI_BUY}),
    ("brief", "img1", "黄色的标题", {"T*.color": [YELLOW, None], "T*.text": HI_BUY}),
    ("brief", "img1", "字幕用白色", {"T*.color": [None, "#FFFFFF"]}),
    ("brief", "img1", "标题颜色改为红色", {"T*.color": [RED, None]}),
    ("brief", "img1", "把字幕变成蓝色", {"T*.color": [None, BLUE]}),
    ("brief", "img1", "标题用金色", {"T*.color": [TEXT_COLOURS["gold"], None]}),
    (
        "brief",
        "img1",
        "字幕是紫色的",
        {"T*.color": [None, TEXT_COLOURS["purple"]], "T*.text": HI_BUY},
    ),
    ("brief", "img1", "黑色的字幕", {"T*.color": [None, TEXT_COLOURS["black"]]}),
    ("brief", "img1", "用粉红色字体", {"T*.color": [TEXT_COLOURS["pink"], None]}),
    ("brief", "img1", "标题颜色#ffcc00", {"T*.color": ["#FFCC00", None]}),
    ("brief", "img1", "标题和字幕都改成黄色", {"T*.color": [YELLOW, YELLOW]}),
    ("brief", "img1", "标题红色，字幕蓝色", {"T*.color": [RED, BLUE]}),
    (
        "brief",
        "img1",
        "标题大一点，改成绿色",
        {"T*.size": ["large", None], "T*.color": [GREEN, None]},
    ),
    (
        "one",
        "img1",
        "标题「促销」用红色，放在顶部，前3秒",
        {"T": [("title", "促销", 0, 3000, "top")], "T0.color": RED},
    ),
    # ... and colour words that are not the text's colour
    ("one", "img1", "标题「红色警报」", {"T*.text": ["红色警报"], "T0.color": None}),
    ("one", "img1", "标题改成黑色星期五", {"T*.text": ["黑色星期五"], "T0.color": None}),
    ("one", "img1", "换成欢快的音乐，标题改成橙色", {"A": ["builtin:upbeat"], "T0.color": ORANGE}),
    ("one", "img1", "推近到红色的门", {"V0.motion": "zoom_in", "T0.color": None}),
    # a video's own sound
    ("clip", "vid", "静音原视频", {"V0.mute": True, "A0.volume": 0.5}),
    ("clip", "vid", "关掉视频原声", {"V0.mute": True, "A": ["builtin:lofi"]}),
    ("clip", "vid", "去掉原声", {"V0.mute": True, "A0.volume": 0.5}),
    ("clip", "vid", "视频静音", {"V0.mute": True, "A0.volume": 0.5}),
    ("clip", "vid", "只保留背景音乐", {"V0.mute": True, "A": ["builtin:lofi"]}),
    ("muted", "vid", "保留原声", {"V0.mute": None, "A0.volume": 0.5}),
    ("muted", "vid", "取消静音", {"V0.mute": None, "A": ["builtin:lofi"]}),
    ("clip", "vid", "原声调到50%", {"V0.volume": 0.5, "A0.volume": 0.5, "d": 5000}),
    ("clip", "vid", "原声小一点", {"V0.volume": 0.85, "A0.volume": 0.5}),
    ("clip", "vid", "视频声音大一点", {"V0.volume": 1.15, "A0.volume": 0.5}),
    ("clip", "vid", "把视频原声调低一点", {"V0.volume": 0.85}),
    ("clip", "vid", "原声百分之三十，音乐百分之二十", {"V0.volume": 0.3, "A0.volume": 0.2}),
    ("mixed", "img1+vid", "把原视频静音", {"V*.mute": [None, True]}),
    ("empty", "vid", "做个视频，去掉原声", {"V": ["v1"], "V0.mute": True}),
    ("clip", "vid", "静音", {"V0.mute": True, "A": []}),
    # the music's words stay the music's
    ("clip", "vid", "音乐小声点", {"A0.volume": 0.35, "V0.volume": None}),
    ("clip", "vid", "音量30%", {"A0.volume": 0.3, "V0.volume": None, "V0.mute": None}),
    ("clip", "vid", "去掉音乐", {"A": [], "V0.mute": None}),
    ("clip", "vid", "音乐大声一点", {"A0.volume": 0.65, "V0.volume": None}),
    ("one", "img1", "静音", {"A": [], "V0.mute": None}),
    ("one", "img1", "视频小声一点", {"A0.volume": 0.35, "V0.volume": None}),
    # lengths in words and fractions, and follow-ups
    ("one", "img1", "半分钟", {"d": 30000}),
    ("one", "img1", "两秒半", {"d": 2500}),
    ("one", "img1", "三十秒", {"d": 30000, "A0.d": 30000}),
    ("one", "img1", "改成6秒", {"d": 6000}),
    ("one", "img1", "改成6", {"d": 6000}),
    ("one", "img1", "还是8吧", {"d": 8000}),
    ("one", "img1", "那就改成七秒吧。", {"d": 7000}),
    # "字" (the text), a caption word, or "它" for the only text on screen
    ("brief", "img1", "字大一点", {"T*.size": ["large", None], "T*.text": HI_BUY}),
    ("one", "img1", "字幕大一点", {"T*.size": ["large"], "T*.text": ["Hi"]}),
    ("one", "img1", "把它移到顶部", {"T": [("title", "Hi", 0, 5000, "top")]}),
]


def _id(case: tuple) -> str:
    return re.sub(r"\s+", "_", case[2])[:40]


def test_the_table_is_big_enough_and_half_chinese() -> None:
    zh = sum(agent.is_chinese(c[2]) for c in CASES)
    assert len(CASES) >= 60 and zh * 2 >= len(CASES)


@pytest.mark.parametrize("start,media,message,want", CASES, ids=[_id(c) for c in CASES])
def test_instruction_makes_the_draft(start: str, media: str, message: str, want: dict) -> None:
    draft = copy.deepcopy(DRAFTS[start])
    turn = agent.plan_turn(message, draft, MEDIA[media], "en")
    assert draft == DRAFTS[start], "the session's draft must not be edited in place"
    assert turn.draft is not None and turn.calls and turn.step == 0, turn.reply
    got = {path: field(turn.draft, path) for path in want}
    assert got == want, turn.reply
    zh = agent.is_chinese(message)
    assert turn.reply.startswith("好的" if zh else "Done:")
    for c in turn.calls:
        assert c.en and c.zh and c.name
        assert (c.zh if zh else c.en) in turn.reply  # the reply says exactly what changed


@pytest.mark.parametrize(
    "message,step",
    [
        ("undo", -1),
        ("Undo that.", -1),
        ("undo the last change", -1),
        ("撤销", -1),
        ("撤销上一步", -1),
        ("redo", 1),
        ("redo it", 1),
        ("重做", 1),
    ],
)
def test_undo_and_redo_are_steps(message: str, step: int) -> None:
    turn = agent.plan_turn(message, ONE, IMG1, "en")
    assert (turn.step, turn.draft, turn.calls) == (step, None, [])


# "Undo and …": the step, and the rest of the message as written, which the server plans on
# the draft the step restores. The rest must ask for something ("撤销音乐" is not an undo).
UNDO_THEN = [
    ("undo and make it 8 s", "make it 8 s", {"d": 8000}),
    ("undo, then make the title bigger", "make the title bigger", {"T*.size": ["large", None]}),
    (
        "Undo that and change the title to 'Hello World'",
        "change the title to 'Hello World'",
        {"T*.text": ["Hello World", "Buy"]},
    ),
    ("撤销然后改成8秒", "改成8秒", {"d": 8000}),
    ("撤销，标题改成夏日特卖", "标题改成夏日特卖", {"T*.text": ["夏日特卖", "Buy"]}),
    ("撤销一下然后做成竖屏", "做成竖屏", {"m.width": 1080, "m.height": 1920}),
]


@pytest.mark.parametrize("message,then,want", UNDO_THEN)
def test_undo_and_more_is_a_step_then_a_turn(message: str, then: str, want: dict) -> None:
    before, after = BRIEF, copy.deepcopy(ONE)  # the session's last two drafts
    turn = agent.plan_turn(message, after, IMG1, "en")
    assert (turn.step, turn.then, turn.draft, turn.calls) == (-1, then, None, [])
    rest = agent.plan_turn(turn.then, before, IMG1, "en")  # as the server does, after the step
    assert rest.draft is not None and rest.step == 0
    assert {path: field(rest.draft, path) for path in want} == want


@pytest.mark.parametrize(
    "message", ["撤销音乐", "undo and export", "go back to the start", "undo it and thanks"]
)
def test_undo_with_nothing_usable_after_is_not_a_compound_undo(message: str) -> None:
    turn = agent.plan_turn(message, ONE, IMG1, "en")
    assert (turn.step, turn.then) == (0, "")


@pytest.mark.parametrize(
    "start,message,zh",
    [
        ("one", "hello there", False),
        ("one", "what's the weather like?", False),
        ("empty", "asdf qwerty", False),
        ("one", "你好", True),
        ("empty", "今天天气怎么样", True),
    ],
)
def test_an_unusable_message_changes_nothing_and_says_what_works(
    start: str, message: str, zh: bool
) -> None:
    turn = agent.plan_turn(message, DRAFTS[start], IMG1, "en")
    assert turn.draft is None and turn.calls == [] and turn.step == 0
    if zh:
        assert "可以这样说" in turn.reply and "「春季促销」" in turn.reply and "撤销" in turn.reply
    else:
        assert "Try, for example" in turn.reply and "'Spring Sale'" in turn.reply
        assert "undo" in turn.reply


def test_without_media_it_asks_for_an_image() -> None:
    assert agent.plan_turn("hello", EMPTY, [], "en").reply.startswith("Upload an image first")
    assert agent.plan_turn("你好", EMPTY, [], "zh").reply.startswith("请先上传一张图片")


@pytest.mark.parametrize(
    "message,lang,zh",
    [
        ("make it 8 seconds", "en", False),
        ("make it 8 seconds", "zh-CN", True),  # a Chinese session answers in Chinese
        ("改成8秒", "en", True),
        ("title '春季促销'", "en", False),  # Chinese only inside quotes: still English
    ],
)
def test_the_reply_is_in_the_sessions_language(message: str, lang: str, zh: bool) -> None:
    turn = agent.plan_turn(message, ONE, IMG1, lang)
    assert turn.reply.startswith("好的" if zh else "Done:")
    outside = turn.reply.replace("春季促销", "")
    assert agent.is_chinese(outside) == zh


def test_a_portrait_photo_makes_a_vertical_first_clip() -> None:
    turn = agent.plan_turn("make a video", EMPTY, [_img(1, 600, 1000)], "en")
    assert turn.draft and (turn.draft["m"]["width"], turn.draft["m"]["height"]) == (1080, 1920)


def test_a_number_with_percent_is_volume_not_length() -> None:
    turn = agent.plan_turn("lo-fi at 35", ONE, IMG1, "en")
    assert turn.draft and turn.draft["d"] == 5000
    turn = agent.plan_turn("music at 35%", EMPTY, IMG1, "en")
    assert turn.draft and turn.draft["d"] == 5000 and field(turn.draft, "A0.volume") == 0.35


def test_removing_what_is_not_there_changes_nothing() -> None:
    turn = agent.plan_turn("remove the music", THREE, IMG3, "en")
    assert turn.draft is None and turn.calls == []


def test_chinese_numerals() -> None:
    assert agent._cn_int("十五") == 15
    assert agent._cn_int("二十") == 20
    assert agent._cn_int("三十五") == 35
    assert agent._cn_int("一百") == 100
    assert agent._cn_int("两") == 2


def test_a_shorter_clip_says_which_text_no_longer_fits() -> None:
    draft = copy.deepcopy(ONE)
    draft["t"][2]["sg"].append(
        {
            "id": "s4",
            "st": 4000,
            "d": 1000,
            "m": {"text": "Bye", "position": "bottom", "role": "caption"},
        }
    )
    turn = agent.plan_turn("make it 3 seconds", draft, IMG1, "en")
    assert turn.draft and field(turn.draft, "T") == [("title", "Hi", 0, 3000, "center")]
    assert '"Bye"' in turn.reply


def test_uploaded_videos_go_on_the_track_with_the_images() -> None:
    clip = {**_img(9), "file_type": "video", "filename": "walk.mp4", "duration": 4.0}
    turn = agent.plan_turn("做个视频", EMPTY, [*IMG1, clip], "zh")
    assert turn.draft and field(turn.draft, "V") == ["h1", "h9"]
    assert turn.reply.startswith("好的") and "walk.mp4" in turn.reply


@pytest.mark.parametrize(
    "start,message,zh,music",
    [
        ("one", "turn off the video's sound", False, True),
        ("one", "no original audio", False, True),
        ("one", "keep the original sound", False, True),
        ("one", "original audio 30%", False, True),
        ("one", "unmute the video", False, True),
        ("three", "mute the video", False, False),
        ("three", "make the video louder", False, False),
        ("three", "mute", False, False),
        ("one", "静音原视频", True, True),
        ("one", "原声调到50%", True, True),
        ("one", "视频声音小一点", True, True),
        ("one", "取消静音", True, True),
        ("three", "去掉原声", True, False),
        ("three", "静音", True, False),
    ],
)
def test_without_a_video_the_sound_of_one_gets_an_answer(
    start: str, message: str, zh: bool, music: bool
) -> None:
    """Images have no sound: asked for a video's own, the agent says so (and what the clip's
    sound is instead), and leaves the music alone."""
    turn = agent.plan_turn(message, DRAFTS[start], MEDIA["img1" if start == "one" else "img3"])
    assert turn.draft is None and turn.calls == [] and turn.step == 0
    if zh:
        assert turn.reply.startswith("时间线上没有带原声的视频")
        assert ("唯一的声音是背景音乐" in turn.reply) == music
    else:
        assert turn.reply.startswith("There is no video with its own sound on the timeline")
        assert ("the only sound is the music" in turn.reply) == music


def test_the_answer_comes_with_what_else_was_done() -> None:
    turn = agent.plan_turn("make it 8 seconds and mute the original audio", THREE, IMG3, "en")
    assert turn.draft and turn.draft["d"] == 8000
    assert turn.reply.startswith("Done: set the length to 8 s")
    assert "There is no video with its own sound" in turn.reply
    # How to export was said when the clip was first laid out: not again on each change.
    assert turn.reply.endswith("the clip is silent already."), turn.reply
    turn = agent.plan_turn("改成8秒，去掉原声", THREE, IMG3, "zh")
    assert turn.draft and turn.draft["d"] == 8000
    assert turn.reply.startswith("好的，") and "没有带原声的视频" in turn.reply


@pytest.mark.parametrize(
    "start,message,said",
    [
        ("muted", "mute the video", "The sound of walk.mp4 is already muted."),
        ("muted", "静音原视频", "walk.mp4 的原声已经是静音。"),
        ("clip", "keep the original sound", "The sound of walk.mp4 is already on (100%)."),
        ("clip", "保留原声", "walk.mp4 的原声本来就是开着的（音量 100%）。"),
        ("muted", "make the video quieter", 'say "unmute the video" to hear it again'),
    ],
)
def test_a_video_sound_already_so_is_said(start: str, message: str, said: str) -> None:
    turn = agent.plan_turn(message, DRAFTS[start], [VID], "en")
    assert turn.draft is None and turn.calls == [] and said in turn.reply


def test_a_video_is_known_by_its_media_type_else_by_its_name() -> None:
    # The media say the first segment is an image, whatever its name; a source not among
    # the media is read by its extension.
    draft = copy.deepcopy(MIXED)
    draft["t"][0]["sg"][0]["m"]["name"] = "odd.mp4"
    draft["t"][0]["sg"][1]["src"] = "gone"
    turn = agent.plan_turn("mute the video", draft, IMG1, "en")
    assert turn.draft and field(turn.draft, "V*.mute") == [None, True]
    assert turn.calls[0].args == {"segments": ["s2"]}


def test_the_video_sound_shows_in_the_track_summary_and_undo_note() -> None:
    turn = agent.plan_turn("original audio 30%", CLIP, [VID], "en")
    assert turn.draft and summarize_draft(turn.draft)[0] == "1. Video: walk.mp4 (0-5s, sound 30%)"
    assert turn.calls[0].en == "set the sound of walk.mp4 to 30% (was 100%)"
    assert turn.calls[0].zh == "walk.mp4 的原声音量调为 30%（原为 100%）"
    turn = agent.plan_turn("mute the video", turn.draft, [VID], "en")
    assert turn.draft and summarize_draft(turn.draft)[0] == "1. Video: walk.mp4 (0-5s, muted)"
    turn = agent.plan_turn("unmute", turn.draft, [VID], "en")
    assert turn.draft and summarize_draft(turn.draft)[0] == "1. Video: walk.mp4 (0-5s, sound 30%)"
    turn = agent.plan_turn("original audio 100%", turn.draft, [VID], "en")
    assert turn.draft and summarize_draft(turn.draft)[0] == "1. Video: walk.mp4 (0-5s)"


def test_a_video_sound_steps_like_the_music_and_may_boost() -> None:
    draft = copy.deepcopy(CLIP)
    for want in (0.85, 0.7, 0.55):
        turn = agent.plan_turn("make the video quieter", draft, [VID], "en")
        assert turn.draft and field(turn.draft, "V0.volume") == want
        draft = turn.draft
    turn = agent.plan_turn("original audio 250%", CLIP, [VID], "en")
    assert turn.draft and field(turn.draft, "V0.volume") == 2.5
    turn = agent.plan_turn("original audio 900%", CLIP, [VID], "en")
    assert turn.draft and field(turn.draft, "V0.volume") == 4.0  # the renderer's limit


def test_undo_and_mute_the_video_is_a_step_then_the_mute() -> None:
    turn = agent.plan_turn("undo and mute the original audio", CLIP, [VID], "en")
    assert (turn.step, turn.then) == (-1, "mute the original audio")


@pytest.mark.parametrize(
    "message", ["'a' " * 5000, "title " * 5000, "标题「十秒」前3秒，" * 2000, "x" * 100_000]
)
def test_a_huge_message_is_answered_quickly(message: str) -> None:
    start = time.perf_counter()
    agent.plan_turn(message, THREE, IMG3, "en")
    assert time.perf_counter() - start < 2.0


def test_no_reply_of_ours_reads_as_a_button_to_press() -> None:
    """The client acts on a cloud answer's GUI words ("click Export"); the engine's own replies
    (which say "say export" / 可以说“导出”) must never read as one, or every turn would act."""
    from tui.core.gui_words import translate_gui

    for start, media, message, _ in CASES:
        turn = agent.plan_turn(message, copy.deepcopy(DRAFTS[start]), MEDIA[media], "en")
        assert translate_gui(turn.reply).actions == [], (message, turn.reply)
