"""Every reader over one message, in the order that resolves their overlaps: a reader that runs
first takes its words ("title 'X' for 3 s" keeps its 3 s from becoming the clip's length)."""

from __future__ import annotations

from tui.engine.agent.draft import VISUAL
from tui.engine.agent.read_clip import (
    read_canvas,
    read_clip_duration,
    read_duration,
    read_follow_up,
    read_fps,
    read_per_image,
    read_relative_duration,
)
from tui.engine.agent.read_fades import read_fades, read_transition
from tui.engine.agent.read_images import read_images, read_make
from tui.engine.agent.read_motion import read_fit, read_focus, read_motion
from tui.engine.agent.read_music import read_music
from tui.engine.agent.read_show_all import read_show_all
from tui.engine.agent.read_text import read_bare_position, read_texts
from tui.engine.agent.read_unread import read_unread
from tui.engine.agent.read_video_sound import read_video_sound
from tui.engine.agent.request import Request
from tui.engine.agent.words import Message


def read_request(msg: Message, media: list[dict], sound: bool = False) -> Request:
    """A `Request` from every reader, in the order that resolves their overlaps. `sound`: the
    timeline has (or a first turn will lay out) a video with its own sound."""
    req = Request()
    n_images = sum(1 for m in media if m.get("file_type") in VISUAL)
    req.make = read_make(msg)
    req.fps = read_fps(msg)
    req.duration = read_clip_duration(msg)
    req.per_image = read_per_image(msg)
    read_images(msg, req, n_images)
    req.transition = read_transition(msg)
    req.fades = read_fades(msg)
    req.focus = read_focus(msg)
    req.video_sound = read_video_sound(msg, sound)
    req.music = read_music(msg, media)
    req.texts = read_texts(msg)
    if bare := read_bare_position(msg):
        req.texts.append(bare)
    req.relative = read_relative_duration(msg)
    if req.duration is None:
        req.duration = read_duration(msg)
    if req.duration is None and req.relative is None:
        req.duration = read_follow_up(msg)
    read_canvas(msg, req)
    req.fit = read_show_all(msg) or read_fit(msg)
    req.motion = read_motion(msg)
    req.unread = read_unread(msg)
    return req
