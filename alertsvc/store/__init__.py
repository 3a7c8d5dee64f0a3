"""Queries, one module per aggregate: the only place that opens a session or writes SQL.

Services open their unit of work here (``with store.write(rt) as s:`` commits on success and rolls back on any
exception; ``with store.read(rt) as s:`` reads and writes nothing) and hand the session to the aggregate
modules (``store.cases``, ``store.alerts``, ``store.subscriptions``, ``store.staff``, ``store.audit``, and
``store.deliveries``), whose functions take the session first. This package imports models and db only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from ..db import transaction

M = TypeVar("M", bound=SQLModel)


class HasEngine(Protocol):
    @property
    def engine(self) -> Engine: ...


@contextmanager
def read(rt: HasEngine) -> Iterator[Session]:
    """A session for reading (nothing is committed; objects stay usable after it closes)."""
    with Session(rt.engine, expire_on_commit=False) as s:
        yield s


@contextmanager
def write(rt: HasEngine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception."""
    with transaction(rt.engine) as s:
        yield s


def get(s: Session, model: type[M], key: object, *, lock: bool = False) -> M | None:
    """The row with primary key ``key``, or None. ``lock`` takes the row lock (``FOR UPDATE`` on PostgreSQL)
    and reloads the row: what this session read before the lock may be stale."""
    if not lock:
        return s.get(model, key)
    return s.exec(select(model).where(model.id == key).with_for_update()  # type: ignore[attr-defined]
                  .execution_options(populate_existing=True)).first()


def keyset(q: sa.Select[Any], at: sa.ColumnElement[Any], key: sa.ColumnElement[Any],
           after: tuple[datetime, str] | None, *, oldest_first: bool) -> sa.Select[Any]:
    """``q`` ordered by (``at``, ``key``), newest first unless ``oldest_first``, from strictly after the position
    ``after`` (the last row of the previous page): rows written meanwhile never shift, repeat or skip a page."""
    if after is not None:
        at0, key0 = after
        if oldest_first:
            q = q.where(sa.or_(at > at0, sa.and_(at == at0, key > key0)))
        else:
            q = q.where(sa.or_(at < at0, sa.and_(at == at0, key < key0)))
    return q.order_by(at.asc(), key.asc()) if oldest_first else q.order_by(at.desc(), key.desc())
