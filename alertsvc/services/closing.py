"""Closing a case: it builds on cases and alerts (its alerts end with it), so it sits above both."""

from __future__ import annotations

from .. import audit, store
from ..errors import Conflict
from ..models import CaseStatus
from ..runtime import Runtime
from ..store import cases as case_rows
from .alerts import end_case_alerts
from .cases import lock_case


def close_case(rt: Runtime, actor: audit.Actor, case_id: str, outcome: str, note: str | None = None) -> str:
    """Close an open case (found, withdrawn...). Its active alerts are resolved with the same outcome (closing
    messages go out), alerts waiting for a decision are withdrawn, all in the same transaction. Its personal
    data is purged ``privacy.purge_after_days`` later."""
    now = rt.clock.now()
    with store.write(rt) as s:
        case = lock_case(s, case_id)
        if case.status != CaseStatus.OPEN:
            raise Conflict(f"case {case.reference} is already {case.status}")
        ended = end_case_alerts(s, actor, case, outcome, now)
        case.status = CaseStatus.CLOSED
        case.closed_at = now
        case.updated_at = now
        case_rows.add(s, case)
        audit.record(s, actor, "case.closed", object_type="case", object_id=case.id, case_id=case.id, now=now,
                     details={"outcome": outcome, "note_given": bool(note), "alerts": ended})
        return case.id
