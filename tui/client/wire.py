"""Reading answers leniently: a body that may not be JSON, numbers that may be strings,
Retry-After that may be missing or garbage, exceptions as one line."""

from __future__ import annotations

from typing import Any

import httpx


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


def retry_after(resp: httpx.Response | None, default: float) -> float:
    """Seconds to wait per Retry-After (at most 5 minutes), else `default`."""
    if resp is not None:
        value = resp.headers.get("retry-after")
        if value:
            try:
                return max(0.0, min(float(value), 300.0))
            except ValueError:
                pass
    return default


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
