"""Errors the renderer raises; their text is shown to people as is."""


class RenderError(Exception):
    """A render that cannot be made; the message names the file and the reason."""


class RenderCancelled(Exception):
    """The job was cancelled while rendering."""
