"""Fixed-window counters that stop one socket or address from flooding the service, and counts
of the websockets open now, within a cap.

In memory, per replica: with N replicas the effective limit is up to N times higher, which is
still a hard ceiling on abuse; the database stays the source of truth for everything else.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable


class RateLimiter:
    def __init__(
        self, limit: int, window_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self._clock = clock
        self._counts: dict[str, tuple[float, int]] = {}

    def allow(self, key: str) -> bool:
        """Count one event for `key`; False once `limit` events fell in the current window."""
        now = self._clock()
        started, count = self._counts.get(key, (now, 0))
        if now - started >= self.window:
            started, count = now, 0
        if count >= self.limit:
            return False
        self._counts[key] = (started, count + 1)
        if len(self._counts) > 10_000:
            self._forget_old(now)
        return True

    def retry_after(self, key: str) -> int:
        started, _ = self._counts.get(key, (self._clock(), 0))
        return max(1, int(self.window - (self._clock() - started)) + 1)

    def _forget_old(self, now: float) -> None:
        self._counts = {k: v for k, v in self._counts.items() if now - v[0] < self.window}


class OpenSockets:
    """How many websockets are open per key (an address, a conversation), at most `cap`."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self._open: Counter[str] = Counter()

    def enter(self, key: str) -> bool:
        """Count one more open socket for `key`; False (and not counted) when `cap` are open."""
        if self._open[key] >= self.cap:
            return False
        self._open[key] += 1
        return True

    def leave(self, key: str) -> None:
        self._open[key] -= 1
        if self._open[key] <= 0:
            del self._open[key]
