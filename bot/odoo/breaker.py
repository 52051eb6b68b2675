"""A circuit breaker for Odoo: when Odoo stops answering, say so at once instead of making every
user wait for a timeout.

Closed: calls go through. After `threshold` calls in a row fail with OdooUnavailable it opens:
calls fail at once for `cooldown` seconds. Then the next calls go through again (half-open); the
first failure opens it again, the first answer closes it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.odoo.errors import OdooUnavailable


class CircuitBreaker:
    def __init__(self, *, threshold: int = 3, cooldown: float = 15.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._threshold = threshold
        self._cooldown = cooldown
        self._clock = clock
        self._failures = 0
        self._open_until = 0.0

    @property
    def is_open(self) -> bool:
        return self._clock() < self._open_until

    def check(self) -> None:
        """Raise OdooUnavailable at once while open."""
        if self.is_open:
            raise OdooUnavailable(f"Odoo is not answering (no new attempt for "
                                  f"{self._open_until - self._clock():.0f}s)")

    def succeeded(self) -> None:
        self._failures = 0
        self._open_until = 0.0

    def failed(self) -> None:
        self._failures += 1
        if self._failures >= self._threshold:
            self._open_until = self._clock() + self._cooldown
