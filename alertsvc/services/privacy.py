"""Data minimisation: a configured time after a case closes, the child's and reporter's personal data go.

What stays is what statistics and the audit need: age, sex, when last seen, the circumstance flags and the
police's confirmation. The audit chain still verifies: it never held personal data.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from .. import audit, store
from ..facts import purged
from ..models import Case
from ..runtime import Runtime
from ..store import alerts as alert_rows
from ..store import cases as case_rows

FLAGS = ("abduction_suspected", "abduction_witnessed", "imminent_danger", "medical_or_disability")


def purge_case(s: Session, case: Case, now: datetime) -> None:
    child = case.child or {}
    case.child = {k: child[k] for k in ("age", "sex") if k in child}
    case.last_seen = {k: v for k, v in (case.last_seen or {}).items() if k == "at"}
    case.circumstances = {k: v for k, v in (case.circumstances or {}).items() if k in FLAGS}
    case.police = {k: v for k, v in (case.police or {}).items() if k == "confirmed"}
    case.reporter = {}
    case.purged_at = now
    s.add(case)
    # What was published goes too: the approved snapshots and the free texts (alert text, updates, notes).
    for alert in alert_rows.of_case(s, case.id):
        alert.facts = purged(alert.facts)
        alert.message_text = None
        if alert.decision_brief is not None:  # the facts the supervisor was shown
            alert.decision_brief = {**alert.decision_brief, "facts": purged(alert.decision_brief.get("facts"))}
        s.add(alert)
        for upd in alert_rows.updates(s, alert.id):
            upd.facts = purged(upd.facts)
            upd.text = None
            s.add(upd)
    audit.record(s, audit.SYSTEM, "case.purged", object_type="case", object_id=case.id, case_id=case.id, now=now)


def purge_due(rt: Runtime) -> int:
    now = rt.clock.now()
    cutoff = now - timedelta(days=rt.settings.privacy.purge_after_days)
    with store.write(rt) as s:
        due = case_rows.due_for_purge(s, cutoff)
        for case in due:
            purge_case(s, case, now)
        return len(due)
