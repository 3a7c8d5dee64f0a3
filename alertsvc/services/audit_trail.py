"""Reading the audit chain (supervisors and admins, through the API)."""

from __future__ import annotations

from .. import audit, store
from ..models import AuditEvent
from ..runtime import Runtime


def events(rt: Runtime, *, case_id: str | None = None, after_id: int = 0, limit: int = 1000) -> list[AuditEvent]:
    """Events in chain order after ``after_id``, optionally of one case."""
    with store.read(rt) as s:
        return audit.events(s, case_id=case_id, after_id=after_id, limit=limit)



def verify(rt: Runtime) -> audit.ChainReport:
    """Recompute the hash chain from the first event (``alertsvc audit verify``)."""
    with store.read(rt) as s:
        return audit.verify(s)
