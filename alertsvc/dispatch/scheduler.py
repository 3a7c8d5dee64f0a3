"""Periodic work inside every worker, run once per deployment: each job first takes a lease row in the
database (``scheduler_lock``); only the worker holding the lease runs it."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler

from ..log import get_logger
from ..models import SchedulerLock
from ..runtime import Runtime

log = get_logger("alertsvc.scheduler")


def try_lease(rt: Runtime, name: str, holder: str, ttl: timedelta) -> bool:
    """Take or renew the lease ``name`` for ``holder``; True when this holder has it now."""
    t = SchedulerLock.__table__
    now = rt.clock.now()
    with rt.engine.begin() as conn:
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


def jobs() -> dict[str, tuple[int, Callable[[Runtime], int]]]:
    from ..services import alerts, privacy
    from .worker import sweep_stuck

    return {"sweep_stuck": (60, sweep_stuck), "expire_alerts": (60, alerts.expire_due),
            "purge_personal_data": (3600, privacy.purge_due)}


def run_job(rt: Runtime, name: str, holder: str) -> int | None:
    interval, fn = jobs()[name]
    if not try_lease(rt, name, holder, timedelta(seconds=interval * 2)):
        return None
    n = fn(rt)
    log.info("job.ran", extra={"job": name, "count": n})
    return n


def start_scheduler(rt: Runtime) -> BackgroundScheduler:
    holder = f"{socket.gethostname()}:{os.getpid()}"
    scheduler = BackgroundScheduler(timezone="UTC")
    for name, (interval, _) in jobs().items():
        scheduler.add_job(run_job, "interval", seconds=interval, args=(rt, name, holder), id=name,
                          max_instances=1, coalesce=True)
    scheduler.start()
    return scheduler
