"""Periodic work inside every worker, run once per deployment: each job first takes a lease row in the
database (``scheduler_lock``); only the worker holding the lease runs it.

The jobs are handed in by the wiring (``alertsvc.jobs.periodic_jobs``, passed by ``alertsvc worker``): this
module knows how to run a job, not which jobs there are."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Mapping
from datetime import timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from ..log import get_logger
from ..runtime import Runtime
from ..store import leases

log = get_logger("alertsvc.scheduler")


def try_lease(rt: Runtime, name: str, holder: str, ttl: timedelta) -> bool:
    """Take or renew the lease ``name`` for ``holder``; True when this holder has it now."""
    return leases.try_lease(rt.engine, name, holder, rt.clock.now(), ttl)


Job = tuple[int, Callable[[Runtime], int]]  # (interval in seconds, the job; it returns how many things it did)


def run_job(rt: Runtime, name: str, holder: str, jobs: Mapping[str, Job]) -> int | None:
    """Run the job ``name`` of ``jobs`` if this holder has (or takes) its lease; None when another one has it."""
    interval, fn = jobs[name]
    if not try_lease(rt, name, holder, timedelta(seconds=interval * 2)):
        return None
    n = fn(rt)
    log.info("job.ran", extra={"job": name, "count": n})
    return n


def start_scheduler(rt: Runtime, jobs: Mapping[str, Job]) -> BackgroundScheduler:
    holder = f"{socket.gethostname()}:{os.getpid()}"
    scheduler = BackgroundScheduler(timezone="UTC")
    for name, (interval, _) in jobs.items():
        scheduler.add_job(run_job, "interval", seconds=interval, args=(rt, name, holder, jobs), id=name,
                          max_instances=1, coalesce=True)
    scheduler.start()
    return scheduler
