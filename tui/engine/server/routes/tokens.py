"""POST /api/auth/anonymous-token: a new token (with its starting credits) for a client id."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from tui.engine.server.envelope import ApiFailure, iso, ok

if TYPE_CHECKING:
    from tui.engine.server.engine import Engine


async def anonymous_token(engine: Engine, request: Request) -> Response:
    client_id = request.headers.get("x-client-id", "").strip()
    if not client_id or len(client_id) > 100:
        raise ApiFailure(400, 400, "missing X-Client-Id header")
    engine.limiter.hit("client:" + client_id)  # no token yet: the client id is the key
    info, credits = engine.store.new_token(client_id)
    return ok(
        {
            "token": info.token,
            "user_id": info.user_id,
            "expires_at": iso(info.expires_at),
            "credits": credits,
        }
    )
