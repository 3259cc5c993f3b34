"""The engine envelope `{"code", "message", "data"}`, the failures that become one, and the
small readers every endpoint shares (a JSON body, a field under either spelling, a time)."""

from __future__ import annotations

import json
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tui.core.protocol import FILE_TOO_LARGE, UNSUPPORTED_TYPE, envelope

BAD = 400  # the envelope code of a request the engine cannot use
JSON_LIMIT = 1 << 20  # a JSON body (a draft is a few kB)


class ApiFailure(Exception):
    def __init__(self, http: int, code: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.http, self.code, self.message, self.headers = http, code, message, headers or {}


def bad(message: str, http: int = 400) -> ApiFailure:
    return ApiFailure(http, BAD, message)


def ok(data: Any) -> JSONResponse:
    return JSONResponse(envelope(data))


def fail(exc: ApiFailure) -> JSONResponse:
    # A message may quote the request, lone surrogates (JSON's \ud800 escapes) and all:
    # always send what UTF-8 can carry.
    message = exc.message.encode("utf-8", "replace").decode("utf-8")
    return JSONResponse(envelope(None, exc.code, message), exc.http, headers=exc.headers)


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 (no such route or method), in the envelope too."""
    status = getattr(exc, "status_code", 500)
    words = {404: "no such endpoint", 405: "method not allowed on this endpoint"}
    return fail(ApiFailure(status, status, words.get(status, str(exc))))


def unsupported(name: str, exc: Exception) -> ApiFailure:
    """4001 for `name` (a base name: never a path), with the sniffer's reason if it gave one."""
    why = f" ({exc})" if str(exc) else ""
    return ApiFailure(
        415,
        UNSUPPORTED_TYPE,
        f"{name}: not a supported image, video or audio file{why}; accepted: jpg, png, gif, webp,"
        " mp4, mov, avi, webm, mkv, mp3, wav, m4a, aac",
    )


def too_large(name: str, exc: Exception) -> ApiFailure:
    """4002 for `name`: over the byte limit, or (with a reason) more pixels than render."""
    why = str(exc) or "the limit is 200 MB"
    return ApiFailure(413, FILE_TOO_LARGE, f"{name}: file too large, {why}")


async def read_json(request: Request) -> dict:
    """The body as a JSON object ({} when empty); read in chunks so a huge one stops early."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > JSON_LIMIT:
            raise bad("the JSON body is over 1 MB", 413)
    if not body.strip():
        return {}
    try:
        data = json.loads(bytes(body), parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise bad(f"the body is not valid JSON: {exc}"[:300]) from None
    if not isinstance(data, dict):
        raise bad("the body must be a JSON object")
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def pick(body: dict, *keys: str) -> Any:
    """The first of `keys` that is set (the protocol spells some fields two ways)."""
    for k in keys:
        if body.get(k) is not None:
            return body[k]
    return None


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
