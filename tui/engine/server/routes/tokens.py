"""POST /api/auth/anonymous-token: a token (with its account's credits) for a client id.

A client id names a client; it is no secret (it goes with every request and into the
registration link), so it never opens an account by itself:

- A request that proves it holds the account, with a token of it in `Authorization: Bearer`
  (expired or not: the client sends the one the engine just refused with 1001), gets a new
  token of that account, sessions and credits kept, provided the account was made for this
  client id.
- Any other request gets a new account of its own, with fresh credits: the first one for a
  client id, and anyone else's who knows the id (who thus gains nothing of the first one's).

Minting is rate-limited per caller address and per client id, and new accounts per caller
address (ratelimit.py), so that tokens and credits cannot be farmed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from tui.engine.server.envelope import ApiFailure, iso, ok
from tui.engine.server.ratelimit import caller_key

if TYPE_CHECKING:
    from tui.engine.server.engine import Engine


async def anonymous_token(engine: Engine, request: Request) -> Response:
    client_id = request.headers.get("x-client-id", "").strip()
    if not client_id or len(client_id) > 100:
        raise ApiFailure(400, 400, "missing X-Client-Id header")
    caller = caller_key(request.client.host if request.client else None, request.headers)
    engine.limiter.mint(caller, client_id)
    header = request.headers.get("authorization", "")
    proof = header[7:].strip() if header.lower().startswith("bearer ") else ""
    user_id = engine.store.account_for(client_id, proof)
    if user_id is None:
        engine.limiter.new_account(caller)
    info, credits = engine.store.new_token(client_id, user_id)
    return ok(
        {
            "token": info.token,
            "user_id": info.user_id,
            "expires_at": iso(info.expires_at),
            "credits": credits,
        }
    )
