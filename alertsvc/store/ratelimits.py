"""Rate-limit counters (``rate_limit_counter``): one row per key and window, shared by every process.

An increment is one atomic ``INSERT ... ON CONFLICT (key) DO UPDATE ... RETURNING count`` (SQLite >= 3.35 and
PostgreSQL) that starts a new window when the stored one has expired. Times are epoch seconds."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from ..models import RateLimitCounter

_table: sa.Table = RateLimitCounter.__table__  # type: ignore[attr-defined]  # SQLModel sets it on table classes


def _insert(engine: Engine) -> Any:
    return (postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert)(_table)


def incr(engine: Engine, key: str, expiry: int, amount: int, now: float) -> int:
    """Add ``amount`` to ``key``'s window (a new one of ``expiry`` seconds if it has expired); the new count."""
    t = _table
    expired = t.c.expires_at <= now
    stmt = _insert(engine).values(key=key, count=amount, expires_at=now + expiry)
    stmt = stmt.on_conflict_do_update(index_elements=[t.c.key], set_={
        "count": sa.case((expired, amount), else_=t.c.count + amount),
        "expires_at": sa.case((expired, now + expiry), else_=t.c.expires_at),
    }).returning(t.c.count)
    with engine.begin() as conn:
        return int(conn.execute(stmt).scalar_one())


def purge(engine: Engine, now: float) -> None:
    """Delete the windows that have expired."""
    with engine.begin() as conn:
        conn.execute(sa.delete(_table).where(_table.c.expires_at <= now))


def count(engine: Engine, key: str, now: float) -> int:
    with engine.connect() as conn:
        value = conn.execute(sa.select(_table.c.count).where(
            _table.c.key == key, _table.c.expires_at > now)).scalar()
    return int(value or 0)


def expires_at(engine: Engine, key: str, now: float) -> float | None:
    with engine.connect() as conn:
        value = conn.execute(sa.select(_table.c.expires_at).where(
            _table.c.key == key, _table.c.expires_at > now)).scalar()
    return float(value) if value is not None else None


def reachable(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            conn.execute(sa.select(sa.func.count()).select_from(_table).where(sa.false()))
        return True
    except sa.exc.SQLAlchemyError:
        return False


def delete(engine: Engine, key: str | None = None) -> int:
    """Delete one key's window, or every window (``key`` None); how many rows went."""
    stmt = sa.delete(_table) if key is None else sa.delete(_table).where(_table.c.key == key)
    with engine.begin() as conn:
        return conn.execute(stmt).rowcount or 0
