"""What every request passes before its endpoint: the Host check on loopback, the bearer token
and its rate, and an envelope for whatever goes wrong (never a bare 500)."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from tui.core.protocol import TOKEN_EXPIRED
from tui.engine.accounts import TokenInfo
from tui.engine.hosts import is_loopback
from tui.engine.server.envelope import ApiFailure, bad, fail

if TYPE_CHECKING:
    from tui.engine.server.engine import Engine

log = logging.getLogger("i2v.engine")

Endpoint = Callable[..., Awaitable[Response]]  # (engine, request[, user]) -> response


def guarded(engine: Engine, fn: Endpoint, auth: bool = True) -> Callable:
    """A Starlette endpoint: `fn(engine, request, user)`, or `fn(engine, request)` without auth."""

    async def handler(request: Request) -> Response:
        try:
            check_host(request, engine.loopback)
            if not auth:
                return await fn(engine, request)
            return await fn(engine, request, authenticate(engine, request))
        except ApiFailure as exc:
            return fail(exc)
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is listening
        except Exception:  # never a bare 500 without an envelope
            log.exception("internal error on %s", request.url.path)
            return fail(ApiFailure(500, 500, "internal error in the local engine"))

    return handler


def check_host(request: Request, loopback: bool) -> None:
    # On loopback, a page in a browser that rebinds its DNS name to 127.0.0.1 must not reach
    # us: only loopback names are accepted in Host.
    if not loopback:
        return
    host = request.headers.get("host", "")
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if host and not is_loopback(name):
        raise bad(f"Host {host!r} is not this machine's loopback address")


def authenticate(engine: Engine, request: Request) -> TokenInfo:
    """The bearer token's owner (1001 when unknown or expired); counts against the rate of
    the account, not of the token: another token of the same account gets no more."""
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    info = engine.store.token(token) if token and len(token) < 200 else None
    if info is None or info.expires_at < time.time():
        raise ApiFailure(401, TOKEN_EXPIRED, "token expired or invalid")
    engine.limiter.hit("user:" + info.user_id)
    return info
