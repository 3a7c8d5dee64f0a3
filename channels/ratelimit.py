"""A small thread-safe token bucket: at most ``rate`` sends per second, bursts up to ``burst``.

Callers that must wait reserve their token first (the balance may go negative) and
sleep outside the lock, so concurrent callers queue up fairly instead of all waking
at once. The clock and the sleep function are constructor arguments, so tests can
drive the bucket with a fake clock instead of waiting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["TokenBucket"]


class TokenBucket:
    """Token bucket refilled at ``rate`` tokens per second, holding at most ``burst``.

    >>> bucket = TokenBucket(rate=10)      # 10 messages per second, burst of 10
    >>> bucket.acquire()                   # returns the seconds it waited
    0.0
    """

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not rate > 0:
            raise ValueError("rate must be greater than 0")
        capacity = max(1.0, rate) if burst is None else burst
        if capacity < 1:
            raise ValueError("burst must be at least 1")
        self.rate = float(rate)
        self.burst = float(capacity)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = self.burst
        self._updated = clock()

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
        self._updated = now

    def try_acquire(self, tokens: float = 1.0) -> bool:
        """Take ``tokens`` if they are available now; never waits."""
        with self._lock:
            self._refill()
            if self._tokens >= tokens:
                self._tokens -= tokens
                return True
            return False

    def acquire(self, tokens: float = 1.0) -> float:
        """Take ``tokens``, sleeping until they are due; return the seconds slept for."""
        if tokens > self.burst:
            raise ValueError("cannot acquire more tokens than the burst size")
        with self._lock:
            self._refill()
            self._tokens -= tokens  # reserve now; a negative balance is a queue
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
        if wait > 0:
            self._sleep(wait)
        return wait
