"""Requests per second per key (a token, or a client id asking for a token): a sliding window."""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque

from tui.engine.server.envelope import ApiFailure
from tui.protocol import RATE_LIMITED

RATE_PER_SECOND = 20


class RateLimiter:
    def __init__(self, per_second: int = RATE_PER_SECOND):
        self.per_second = per_second
        self._hits: dict[str, deque[float]] = defaultdict(deque)

    def hit(self, key: str) -> None:
        """Count one request; a 429 with Retry-After when `key` already had its share."""
        now = time.monotonic()
        if len(self._hits) > 10_000:  # forget idle keys
            for k in [k for k, v in self._hits.items() if not v or now - v[-1] > 1.0]:
                del self._hits[k]
        hits = self._hits[key]
        while hits and now - hits[0] > 1.0:
            hits.popleft()
        if len(hits) >= self.per_second:
            retry = max(1, math.ceil(1.0 - (now - hits[0])))
            raise ApiFailure(
                429,
                RATE_LIMITED,
                f"too many requests: at most {self.per_second} a second",
                {"Retry-After": str(retry)},
            )
        hits.append(now)
