"""Reading answers leniently: a body that may not be JSON, numbers that may be strings,
Retry-After that may be missing or garbage, exceptions as one line."""

from __future__ import annotations

from typing import Any, TypeVar

import httpx

from tui.core.clean_text import clean

MAX_RETRY_AFTER = 300.0  # seconds: the longest wait a backend's Retry-After can ask of us

D = TypeVar("D", float, None)


def json_body(resp: httpx.Response) -> Any:
    """The body as JSON, or None (a proxy's HTML error page is not an envelope)."""
    try:
        return resp.json()
    except ValueError:
        return None


def to_int(value: Any) -> int:
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return 0


def retry_after(resp: httpx.Response | None, default: D) -> float | D:
    """Seconds to wait per Retry-After-Ms (the precise wait some backends send, our engine
    among them), else per Retry-After, at most MAX_RETRY_AFTER (`inf` or 1e12 too); `default`
    when neither says a number of them (an HTTP date does not), NaN or negative included."""
    if resp is None:
        return default
    for name, unit in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = resp.headers.get(name)
        if not value:
            continue
        try:
            seconds = float(value) / unit
        except ValueError:
            continue
        if seconds >= 0:  # False for NaN
            return min(seconds, MAX_RETRY_AFTER)
    return default


def one_line(exc: BaseException) -> str:
    """An exception as one line of words, cleaned of terminal controls (it may quote the
    backend)."""
    text = " ".join(clean(exc).split())
    return text or type(exc).__name__
