"""In-memory per-key token bucket (docs/notifications.md).

Used by the SMS channels to cap messages per phone number before the provider does
(providers throttle at e.g. 1/30 s, 5/hour, 10/day per number). In-process only: with
several workers each holds its own buckets, so set the limit at or below the
provider's per-number limit divided by the worker count, or rely on the provider's
throttling answer (which is classified transient).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    """``capacity`` tokens per key, refilled at ``capacity / per_seconds`` per second."""

    capacity: float
    per_seconds: float
    clock: Callable[[], float] = time.monotonic
    _state: dict[str, tuple[float, float]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def try_acquire(self, key: str) -> float | None:
        """Take one token for ``key``. Returns None on success, else seconds to wait."""

        rate = self.capacity / self.per_seconds
        with self._lock:
            now = self.clock()
            tokens, last = self._state.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._state[key] = (tokens - 1.0, now)
                return None
            self._state[key] = (tokens, now)
            return (1.0 - tokens) / rate
