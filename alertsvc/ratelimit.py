"""Rate-limit counters in the service's own database, shared by every process and machine of a deployment.

``ratelimit.storage_uri`` empty (the default) selects this storage: a ``limits`` storage class registered under
the scheme ``alertsvc-db`` over the table ``rate_limit_counter`` (key, count, expires_at as epoch seconds).
An increment is one atomic upsert (``alertsvc/store/ratelimits.py``), which starts a new window when the stored
one has expired. Expired rows are deleted now and then by the process that increments. Only the fixed-window
strategy is supported (the one ``create_app`` uses).

``redis://...`` keeps using Redis; ``memory://`` counts per process and is refused by ``alertsvc serve`` with
more than one HTTP worker.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any

import sqlalchemy as sa
from limits.errors import ConfigurationError
from limits.storage import Storage
from sqlalchemy.engine import Engine

from .store import ratelimits as counters

SCHEME = "alertsvc-db"
KEY_MAX = 255
PURGE_EVERY = 200  # increments per process between two deletions of expired rows

def limiter_storage(rt: Any) -> tuple[str, dict[str, Any]]:
    """``(storage_uri, storage_options)`` for flask-limiter from the settings."""
    uri = rt.settings.ratelimit.storage_uri
    if uri:
        return uri, {}
    return f"{SCHEME}://", {"engine": rt.engine}


def is_per_process(storage_uri: str) -> bool:
    """Counters that each process keeps for itself (wrong with several HTTP workers)."""
    return storage_uri.startswith("memory://")


def _key(key: str) -> str:
    if len(key) <= KEY_MAX:
        return key
    return key[: KEY_MAX - 65] + "#" + hashlib.sha256(key.encode()).hexdigest()


class DatabaseStorage(Storage):
    """``limits`` storage over ``rate_limit_counter``; construct with ``storage_options={"engine": engine}``."""

    STORAGE_SCHEME = [SCHEME]  # noqa: RUF012  (the limits package reads this class attribute as a list)

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, engine: Engine | None = None,
                 **options: Any) -> None:
        if engine is None:
            raise ConfigurationError(f"{SCHEME}:// needs storage_options={{'engine': <sqlalchemy Engine>}}")
        self.engine = engine
        self._increments = 0
        self._lock = threading.Lock()
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return sa.exc.SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        count = counters.incr(self.engine, _key(key), expiry, amount, now)
        with self._lock:
            self._increments += 1
            purge = self._increments % PURGE_EVERY == 1
        if purge:
            counters.purge(self.engine, now)
        return count

    def get(self, key: str) -> int:
        return counters.count(self.engine, _key(key), time.time())

    def get_expiry(self, key: str) -> float:
        now = time.time()
        expires = counters.expires_at(self.engine, _key(key), now)
        return expires if expires is not None else now

    def check(self) -> bool:
        return counters.reachable(self.engine)

    def reset(self) -> int | None:
        return counters.delete(self.engine)

    def clear(self, key: str) -> None:
        counters.delete(self.engine, _key(key))
