"""The periodic jobs of a deployment (wiring): what runs, and how often, in the workers' scheduler.

Wiring, like ``app.py`` and ``cli.py``: it names jobs from the services and from dispatch, so that the scheduler
(``alertsvc.dispatch.scheduler``) is handed its jobs and imports no service itself.
"""

from __future__ import annotations

from .dispatch.scheduler import Job
from .dispatch.worker import sweep_stuck
from .services import alerts, privacy


def periodic_jobs() -> dict[str, Job]:
    """Each job by name: (interval in seconds, the function; it returns how many things it did)."""
    return {"sweep_stuck": (60, sweep_stuck), "expire_alerts": (60, alerts.expire_due),
            "purge_personal_data": (3600, privacy.purge_due)}
