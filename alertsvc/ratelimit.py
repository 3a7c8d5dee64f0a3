"""Rate-limit counters in the service's own database, shared by every process and machine of a deployment.

``ratelimit.storage_uri`` empty (the default) selects this storage: a ``limits`` storage class registered under
the scheme ``alertsvc-db`` over the table ``rate_limit_counter`` (key, count, expires_at as epoch seconds).
An increment is one atomic ``INSERT ... ON CONFLICT (key) DO UPDATE ... RETURNING count`` (SQLite >= 3.35 and
PostgreSQL), which starts a new window when the stored one has expired. Expired rows are deleted now and then by
the process that increments. Only the fixed-window strategy is supported (the one ``create_app`` uses).

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
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from .models import RateLimitCounter

SCHEME = "alertsvc-db"
KEY_MAX = 255
PURGE_EVERY = 200  # increments per process between two deletions of expired rows

_table: sa.Table = RateLimitCounter.__table__  # type: ignore[attr-defined]  # SQLModel sets it on table classes


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

    def _insert(self) -> Any:
        return (postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert)(_table)

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        t = _table
        expired = t.c.expires_at <= now
        stmt = self._insert().values(key=_key(key), count=amount, expires_at=now + expiry)
        stmt = stmt.on_conflict_do_update(index_elements=[t.c.key], set_={
            "count": sa.case((expired, amount), else_=t.c.count + amount),
            "expires_at": sa.case((expired, now + expiry), else_=t.c.expires_at),
        }).returning(t.c.count)
        with self.engine.begin() as conn:
            count = int(conn.execute(stmt).scalar_one())
        with self._lock:
            self._increments += 1
            purge = self._increments % PURGE_EVERY == 1
        if purge:
            self._purge(now)
        return count

    def _purge(self, now: float) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.delete(_table).where(_table.c.expires_at <= now))

    def get(self, key: str) -> int:
        with self.engine.connect() as conn:
            count = conn.execute(sa.select(_table.c.count).where(
                _table.c.key == _key(key), _table.c.expires_at > time.time())).scalar()
        return int(count or 0)

    def get_expiry(self, key: str) -> float:
        now = time.time()
        with self.engine.connect() as conn:
            expires = conn.execute(sa.select(_table.c.expires_at).where(
                _table.c.key == _key(key), _table.c.expires_at > now)).scalar()
        return float(expires) if expires is not None else now

    def check(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.select(sa.func.count()).select_from(_table).where(sa.false()))
            return True
        except sa.exc.SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with self.engine.begin() as conn:
            return conn.execute(sa.delete(_table)).rowcount

    def clear(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.delete(_table).where(_table.c.key == _key(key)))
