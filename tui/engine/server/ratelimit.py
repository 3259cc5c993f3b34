"""Rate limits: requests a second per account (a token bucket), and the minting of tokens.
Each refusal is a 429 with Retry-After and Retry-After-Ms (see too_many).

Minting is limited three ways, each a token bucket (a burst of `n`, then `n` a window):
- per caller address: MINT_PER_MINUTE tokens a minute (env `I2V_ENGINE_MINT_RATE`);
- per client id: MINT_PER_CLIENT tokens a minute;
- per caller address: ACCOUNTS_PER_HOUR *new accounts* an hour (env `I2V_ENGINE_ACCOUNT_RATE`),
  so that credits cannot be farmed by minting account after account.
A real client mints one token a week (its renewal, see routes/tokens.py) and one account per
client id ever: it never meets these. The test suite, which makes an account per test against
one shared engine, raises both through the environment (tests/conftest.py).
"""

from __future__ import annotations

import ipaddress
import math
import os
import time
from collections.abc import Mapping

from tui.core.protocol import RATE_LIMITED
from tui.engine.hosts import is_loopback
from tui.engine.server.envelope import ApiFailure

# An account's requests a second (a burst of as many, then as many a second). An edit key in
# the Tracks pane is an agent turn, 3-4 requests with the state read around it: at 20 in any one
# second, 30 edits sent one after the other took 6.3 s, 6 of them waiting to be let in. A flood
# from one account stays bounded.
RATE_PER_SECOND = 60
RETRY_ROOM = 10  # a refused request is told to wait until this many may go again
MINT_PER_MINUTE = 10
MINT_PER_CLIENT = 5
ACCOUNTS_PER_HOUR = 10
MAX_KEYS = 10_000  # past this, keys at rest are forgotten


def _env_rate(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


def too_many(message: str, wait: float) -> ApiFailure:
    """A 429 saying how long to wait: in whole seconds (Retry-After, as HTTP has it) and in
    milliseconds (Retry-After-Ms, as some services send it, and our client reads first), so
    that a burst over the rate waits what it must, not a whole second."""
    headers = {
        "Retry-After": str(max(1, math.ceil(wait))),
        "Retry-After-Ms": str(max(1, math.ceil(wait * 1000))),
    }
    return ApiFailure(429, RATE_LIMITED, message, headers)


class Buckets:
    """Token buckets by key: `size` at most, refilled at `size` every `window` seconds."""

    def __init__(self, size: int, window: float):
        self.size, self.rate = size, size / window
        self._state: dict[str, tuple[float, float]] = {}  # key -> (tokens, when)

    def take(self, key: str, now: float | None = None, room: int = 1) -> float:
        """Take one token of `key`'s: 0.0 when there was one, else the seconds until there are
        `room` of them."""
        now = time.monotonic() if now is None else now
        if len(self._state) > MAX_KEYS:
            self._forget_full(now)
        tokens, when = self._state.get(key, (float(self.size), now))
        tokens = min(float(self.size), tokens + (now - when) * self.rate)
        if tokens < 1.0:
            self._state[key] = (tokens, now)
            return (max(1, min(room, self.size)) - tokens) / self.rate
        self._state[key] = (tokens - 1.0, now)
        return 0.0

    def _forget_full(self, now: float) -> None:
        full = [k for k, (t, w) in self._state.items() if t + (now - w) * self.rate >= self.size]
        for k in full:
            del self._state[k]


def caller_key(host: str | None, headers: Mapping[str, str]) -> str:
    """Whom the mint limits count: the caller's address, where every loopback address is one
    (any 127.x.y.z is this machine: rotating them gains nothing), a Unix-socket peer (no
    address) is one, and IPv6 counts by its /64 (what one host is given). A request that says
    it was forwarded shares one key with every other that says so: uvicorn takes
    X-Forwarded-For from loopback as the caller, and anyone on this machine can send it."""
    if headers.get("x-forwarded-for") or headers.get("forwarded"):
        return "forwarded"
    if not host:
        return "unix"
    if is_loopback(host):
        return "loopback"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return "host:" + host[:100]
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class RateLimiter:
    def __init__(self, per_second: int = RATE_PER_SECOND):
        self.per_second = per_second
        # A bucket, not a sliding window: past a burst of `per_second`, requests go at that
        # pace with short waits (a window would refuse them all until the burst has aged a
        # second: after 60 quick requests, a wait of ~0.9 s).
        self._requests = Buckets(per_second, 1.0)
        self.mint_per_minute = _env_rate("I2V_ENGINE_MINT_RATE", MINT_PER_MINUTE)
        self.accounts_per_hour = _env_rate("I2V_ENGINE_ACCOUNT_RATE", ACCOUNTS_PER_HOUR)
        self._mints = Buckets(self.mint_per_minute, 60.0)
        self._client_mints = Buckets(MINT_PER_CLIENT, 60.0)
        self._accounts = Buckets(self.accounts_per_hour, 3600.0)

    def hit(self, key: str) -> None:
        """Count one request; a 429 with Retry-After when `key` already had its share."""
        # The wait is until RETRY_ROOM requests may go: the retry, and the client's other
        # requests in flight, then find room (told the time until one may go, one of those
        # would take its place and the retry be refused again).
        if wait := self._requests.take(key, room=RETRY_ROOM):
            raise too_many(f"too many requests: at most {self.per_second} a second", wait)

    def mint(self, caller: str, client_id: str) -> None:
        """Count one token request from `caller` (see caller_key) for `client_id`; a 429 with
        Retry-After past either's share."""
        if wait := self._mints.take(caller):
            raise too_many(
                f"too many token requests from this address: at most {self.mint_per_minute}"
                " a minute",
                wait,
            )
        if wait := self._client_mints.take(client_id):
            raise too_many(
                f"too many token requests for this client id: at most {MINT_PER_CLIENT} a minute",
                wait,
            )

    def new_account(self, caller: str) -> None:
        """Count one new account for `caller`; a 429 with Retry-After past its share."""
        if wait := self._accounts.take(caller):
            raise too_many(
                f"too many new accounts from this address: at most {self.accounts_per_hour}"
                " an hour",
                wait,
            )
