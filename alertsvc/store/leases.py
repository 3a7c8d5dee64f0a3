"""Leases of the periodic jobs (``scheduler_lock``): one row per job, held by one worker until it expires."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from ..models import SchedulerLock

LEASES: sa.Table = SchedulerLock.__table__  # type: ignore[attr-defined]


def try_lease(engine: sa.Engine, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the lease ``name`` for ``holder`` until ``now + ttl``; True when this holder has it now."""
    t = LEASES
    with engine.begin() as conn:
        res = conn.execute(sa.update(t).where(t.c.name == name, sa.or_(t.c.holder == holder, t.c.expires_at < now))
                           .values(holder=holder, expires_at=now + ttl))
        if res.rowcount:
            return True
        exists = conn.execute(sa.select(t.c.name).where(t.c.name == name)).first()
        if exists is None:
            try:
                with conn.begin_nested():
                    conn.execute(sa.insert(t).values(name=name, holder=holder, expires_at=now + ttl))
                return True
            except sa.exc.IntegrityError:
                return False
    return False
