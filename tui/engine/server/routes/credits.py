"""GET /api/credits/balance/simple: the token owner's credits."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from tui.engine.accounts import TokenInfo
from tui.engine.server.envelope import ok

if TYPE_CHECKING:
    from tui.engine.server.engine import Engine


async def balance(engine: Engine, request: Request, user: TokenInfo) -> Response:
    available, frozen = engine.store.credits(user.user_id)
    return ok({"available": available, "frozen": frozen, "total": available + frozen})
