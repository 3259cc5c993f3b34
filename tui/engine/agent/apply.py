"""Every applier over one request, in order, on a copy of the draft: each returns its calls."""

from __future__ import annotations

from tui.core.protocol import TRACK_VIDEO
from tui.engine.agent.apply_clip import apply_canvas, apply_duration, apply_fps
from tui.engine.agent.apply_fades import apply_fades, apply_transition
from tui.engine.agent.apply_images import apply_images
from tui.engine.agent.apply_motion import apply_fit, apply_focus, apply_motion
from tui.engine.agent.apply_music import apply_music
from tui.engine.agent.apply_text import apply_texts
from tui.engine.agent.apply_video_sound import apply_video_sound
from tui.engine.agent.call import Call
from tui.engine.agent.draft import VISUAL, segments
from tui.engine.agent.request import Request


def apply_request(new: dict, req: Request, media: list[dict]) -> list[Call]:
    """Apply `req` to the draft `new` in place. On a first turn (images but an empty video
    track) a usable request lays the images out, and the canvas and music follow them. What
    cannot be done goes to `req.notes`."""
    images = [m for m in media if m.get("file_type") in VISUAL]
    first = bool(images) and not segments(new, TRACK_VIDEO)
    usable = req.make or req.useful()
    calls: list[Call] = []
    laid = apply_images(new, req, media, first=first and usable)
    calls += laid
    calls += apply_duration(new, req, laid_out=bool(laid))
    calls += apply_canvas(new, req, images if first and laid else [])
    calls += apply_fps(new, req)
    calls += apply_motion(new, req)
    calls += apply_focus(new, req)
    calls += apply_fit(new, req)
    calls += apply_transition(new, req)
    calls += apply_fades(new, req)
    calls += apply_texts(new, req)
    calls += apply_music(new, req, media, first=first and bool(laid))
    calls += apply_video_sound(new, req, media, calls)
    return calls
