"""Failed authentication, throttled per source address, so tokens cannot be guessed at speed.

An address with `limit` failures within `window` seconds is refused (429, Retry-After) until
its oldest counted failure leaves the window. Successes are not counted. Memory is bounded:
at most `addresses` addresses are remembered, the least recently failing forgotten first.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class AuthThrottle:
    limit: int = 10
    window: float = 60.0
    addresses: int = 10_000
    now: Callable[[], float] = time.monotonic
    _failures: OrderedDict[str, deque[float]] = field(default_factory=OrderedDict)

    def _recent(self, address: str) -> deque[float] | None:
        failures = self._failures.get(address)
        if failures is None:
            return None
        horizon = self.now() - self.window
        while failures and failures[0] <= horizon:
            failures.popleft()
        if not failures:
            del self._failures[address]
            return None
        return failures

    def retry_after(self, address: str) -> int:
        """Seconds until `address` may try again; 0 when it may now."""
        failures = self._recent(address)
        if failures is None or len(failures) < self.limit:
            return 0
        return max(1, math.ceil(failures[-self.limit] + self.window - self.now()))

    def failed(self, address: str) -> None:
        failures = self._recent(address)
        if failures is None:
            failures = self._failures[address] = deque(maxlen=self.limit)
        failures.append(self.now())
        self._failures.move_to_end(address)
        while len(self._failures) > self.addresses:
            self._failures.popitem(last=False)

    @property
    def tracked(self) -> int:
        return len(self._failures)
