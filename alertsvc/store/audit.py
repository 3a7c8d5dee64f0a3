"""The audit chain's rows: the append lock, the last hash, the append, and reading in order."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col, select

from ..db import is_postgres
from ..models import AuditEvent

_LOCK_KEY = 0x616C657274  # "alert"


def lock_chain(s: Session) -> None:
    """Serialise appends: a transaction advisory lock on PostgreSQL (SQLite writers serialise at BEGIN)."""
    if is_postgres(s):
        s.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})


def last_hash(s: Session) -> str | None:
    return s.exec(select(AuditEvent.hash).order_by(col(AuditEvent.id).desc()).limit(1)).first()


def append(s: Session, event: AuditEvent) -> None:
    s.add(event)
    s.flush()


def events(s: Session, *, case_id: str | None = None, after_id: int = 0, limit: int = 1000) -> list[AuditEvent]:
    query = select(AuditEvent).where(col(AuditEvent.id) > after_id)
    if case_id is not None:
        query = query.where(AuditEvent.case_id == case_id)
    return list(s.exec(query.order_by(col(AuditEvent.id)).limit(limit)))
