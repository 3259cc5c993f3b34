"""The CPU renderer: a draft (timeline) and its media to an H.264/AAC MP4 (or a still PNG)."""

from tui.engine.render.errors import RenderCancelled, RenderError
from tui.engine.render.pipeline import RenderResult, render_draft, render_still

__all__ = ["RenderCancelled", "RenderError", "RenderResult", "render_draft", "render_still"]
