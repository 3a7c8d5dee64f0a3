"""Engine, sessions and column types shared by both databases (SQLite embedded, PostgreSQL production)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine
from sqlmodel import Session


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Aware UTC datetimes in and out: ``timestamptz`` on PostgreSQL, naive UTC text on SQLite."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use aware UTC datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def make_engine(url: str, *, echo: bool = False, pool_size: int = 5) -> Engine:
    """Create an engine; SQLite files get WAL, foreign keys and a busy timeout."""
    kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True, "future": True}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
    engine = sa.create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy own transactions (pysqlite's implicit BEGIN is off) so BEGIN IMMEDIATE works.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _sqlite_begin(conn: sa.Connection) -> None:
            # Writers serialise at BEGIN instead of failing on lock upgrade mid-transaction.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
    return engine


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


def next_subscription_numbers(conn: sa.Connection, n: int) -> list[int]:
    """``n`` new ``subscription.seq`` values: a sequence on PostgreSQL; on SQLite (one writer at a time, every
    transaction is ``BEGIN IMMEDIATE``) the numbers after the largest one in use."""
    if n <= 0:
        return []
    if conn.dialect.name == "postgresql":
        return list(conn.execute(sa.text("SELECT nextval('subscription_seq') FROM generate_series(1, :n)"),
                                 {"n": n}).scalars())
    top = conn.execute(sa.text("SELECT coalesce(max(seq), 0) FROM subscription")).scalar_one()
    return list(range(top + 1, top + n + 1))


def is_postgres(session_or_engine: Session | Engine) -> bool:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "postgresql"
