"""Alerts: request (operator), approve or reject (another person, a supervisor), update, resolve, expire.

Approval re-evaluates the case against the active profile, enforces the territory fatigue budget and, in the
same transaction as the status change, writes one delivery row per recipient (the outbox).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

import criteria
import geo

from .. import audit
from ..db import transaction
from ..dispatch import fanout
from ..errors import (
    Conflict,
    CriteriaNotMet,
    FatigueLimitReached,
    FourEyesViolation,
    ValidationFailed,
)
from ..models import (
    Alert,
    AlertStatus,
    AlertUpdate,
    Case,
    CaseStatus,
    Delivery,
    DeliveryBatch,
    DeliveryStatus,
)
from ..runtime import Runtime
from . import cases, fatigue
from .common import get_or_404, parse_area


def parse_alert_area(rt: Runtime, data: dict[str, Any]) -> geo.Area:
    return parse_area(rt.regions, data)


def _lock_alert(s: Session, alert_id: str) -> Alert:
    return get_or_404(s, Alert, alert_id, "alert", lock=True)


def get_alert(s: Session, alert_id: str) -> Alert:
    return get_or_404(s, Alert, alert_id, "alert")


def request_alert(rt: Runtime, actor: audit.Actor, case_id: str, area_data: dict[str, Any],
                  text: str | None) -> str:
    area = parse_alert_area(rt, area_data)
    now = rt.clock.now()
    with transaction(rt.engine) as s:
        case = cases.get_case(s, case_id)
        if case.status != CaseStatus.OPEN:
            raise Conflict(f"case {case.reference} is {case.status}; alerts need an open case")
        rec = fanout.recipients(s, rt.regions, area)
        alert = Alert(case_id=case.id, area=area.to_json(), territories=area.territories(rt.regions),
                      message_text=text, estimated_recipients=rec.per_channel(), requested_by=actor.id or 0,
                      requested_at=now)
        s.add(alert)
        s.flush()
        audit.record(s, actor, "alert.requested", object_type="alert", object_id=alert.id, case_id=case.id, now=now,
                     details={"area_kind": area.kind, "territories": alert.territories,
                              "estimated_recipients": alert.estimated_recipients, "custom_text": text is not None})
        return alert.id


def _check_four_eyes(alert: Alert, actor: audit.Actor) -> None:
    if actor.id == alert.requested_by:
        raise FourEyesViolation("The person who requested an alert cannot approve it; another supervisor must.")


def approve_alert(rt: Runtime, actor: audit.Actor, alert_id: str, reason: str,
                  checklist: dict[str, bool]) -> dict[str, int]:
    """Four eyes, the active profile, the territory budget; then active + delivery rows, atomically.
    A refusal is audited in its own transaction, then raised."""
    result = _approve(rt, actor, alert_id, reason, checklist)
    if isinstance(result, _Refused):
        with transaction(rt.engine) as s:
            audit.record(s, actor, "alert.approval_refused", object_type="alert", object_id=alert_id,
                         case_id=result.case_id, now=rt.clock.now(), details=result.details)
        raise result.error
    return result


def _approve(rt: Runtime, actor: audit.Actor, alert_id: str, reason: str,
             checklist: dict[str, bool]) -> dict[str, int] | _Refused:
    now = rt.clock.now()
    profile = rt.active_profile
    missing = [item.id for item in profile.approval_checklist if checklist.get(item.id) is not True]
    unknown = sorted(set(checklist) - {item.id for item in profile.approval_checklist})
    if missing or unknown:
        raise ValidationFailed([{"field": f"checklist.{i}", "message": "must be answered true to approve"}
                                for i in missing] +
                               [{"field": f"checklist.{i}", "message": "is not in the active profile's checklist"}
                                for i in unknown])
    with transaction(rt.engine) as s:
        alert = _lock_alert(s, alert_id)
        _check_four_eyes(alert, actor)
        if alert.status != AlertStatus.PENDING_APPROVAL:
            raise Conflict(f"alert is {alert.status}, not pending_approval")
        case = s.get(Case, alert.case_id)
        assert case is not None
        if case.status != CaseStatus.OPEN:
            raise Conflict(f"case {case.reference} is {case.status}")
        evaluation = criteria.evaluate(profile, cases.facts_of(case), now=now)
        if not evaluation.met:
            unmet = [r.to_dict() for r in evaluation.unmet()]
            return _Refused(CriteriaNotMet(
                f"The case does not meet the active profile {profile.id!r}: "
                + ", ".join(u["criterion"] for u in unmet) + ".",
                extra={"profile": profile.id, "version": profile.version, "unmet": unmet}),
                case.id, {"why": "criteria", "profile": profile.id, "version": profile.version,
                          "unmet": [u["criterion"] for u in unmet]})
        uses = fatigue.territory_use(s, rt.settings.fatigue, now, alert.territories)
        over = fatigue.blocked(uses)
        if over and alert.override_by == actor.id:
            raise FourEyesViolation("The supervisor who granted the fatigue override cannot also approve.")
        if over and alert.override_by is None:
            worst = max(over, key=lambda u: u.retry_after(now))
            return _Refused(FatigueLimitReached(
                f"Territory {worst.territory} already had {worst.used} alert(s) in the last {worst.window_hours} h "
                f"(limit territory_max_alerts = {worst.limit}).", retry_after=worst.retry_after(now),
                extra={"limit": "territory_max_alerts", "territory": worst.territory, "used": worst.used,
                       "max": worst.limit, "window_hours": worst.window_hours,
                       "territories": [u.to_dict() for u in over]}),
                case.id, {"why": "fatigue", "territories": [u.territory for u in over]})
        suppressed = fanout.over_budget(s, rt.settings.fatigue, now)
        chunks = fanout.alert_recipients(s, rt.engine, rt.regions, parse_alert_area(rt, alert.area))
        alert.status = AlertStatus.ACTIVE
        alert.decided_by, alert.decided_at, alert.decision_reason = actor.id, now, reason
        alert.checklist = dict(checklist)
        alert.activated_at = now
        alert.expires_at = now + timedelta(hours=rt.settings.alerts.expiry_hours)
        s.add(alert)
        s.flush()
        counts = fanout.write_deliveries(s, alert.id, "alert", 0, chunks, suppressed, now)
        audit.record(s, actor, "alert.approved", object_type="alert", object_id=alert.id, case_id=case.id, now=now,
                     details={"profile": profile.id, "version": profile.version, "checklist": sorted(checklist),
                              "territories": alert.territories, "deliveries": counts,
                              "fatigue_override": [u.territory for u in over] if over else []})
        if counts.get("suppressed"):
            audit.record(s, audit.SYSTEM, "deliveries.suppressed", object_type="alert", object_id=alert.id,
                         case_id=case.id, now=now, details={"count": counts["suppressed"],
                                                            "limit": "subscriber_max_messages"})
        return counts


@dataclass(frozen=True)
class _Refused:
    """A refusal carried out of the (rolled back) transaction, to be audited and raised."""
    error: Exception
    case_id: str
    details: dict[str, Any]




def grant_override(rt: Runtime, actor: audit.Actor, alert_id: str, reason: str) -> None:
    """A supervisor (not the requester, and not the one who will approve) lifts the territory budget for
    this one alert. Audited as such; the approval still needs another supervisor."""
    now = rt.clock.now()
    with transaction(rt.engine) as s:
        alert = _lock_alert(s, alert_id)
        _check_four_eyes(alert, actor)
        if alert.status != AlertStatus.PENDING_APPROVAL:
            raise Conflict(f"alert is {alert.status}, not pending_approval")
        uses = fatigue.territory_use(s, rt.settings.fatigue, now, alert.territories)
        alert.override_by, alert.override_reason = actor.id, reason
        s.add(alert)
        audit.record(s, actor, "alert.fatigue_override", object_type="alert", object_id=alert.id,
                     case_id=alert.case_id, now=now,
                     details={"territories": {t: u.used for t, u in uses.items()},
                              "limit": rt.settings.fatigue.territory_max_alerts})


def reject_alert(rt: Runtime, actor: audit.Actor, alert_id: str, reason: str) -> None:
    now = rt.clock.now()
    with transaction(rt.engine) as s:
        alert = _lock_alert(s, alert_id)
        if alert.status != AlertStatus.PENDING_APPROVAL:
            raise Conflict(f"alert is {alert.status}, not pending_approval")
        alert.status = AlertStatus.REJECTED
        alert.decided_by, alert.decided_at, alert.decision_reason = actor.id, now, reason
        s.add(alert)
        audit.record(s, actor, "alert.rejected", object_type="alert", object_id=alert.id, case_id=alert.case_id,
                     now=now, details={"reason_given": True})


def post_update(rt: Runtime, actor: audit.Actor, alert_id: str, text: str) -> dict[str, int]:
    now = rt.clock.now()
    with transaction(rt.engine) as s:
        alert = _lock_alert(s, alert_id)
        if alert.status != AlertStatus.ACTIVE:
            raise Conflict(f"alert is {alert.status}; updates go to active alerts")
        upd = AlertUpdate(alert_id=alert.id, kind="update", text=text, created_by=actor.id, created_at=now)
        s.add(upd)
        s.flush()
        counts = fanout.follow_up(s, alert.id, "update", upd.id or 0, now,
                                  fanout.over_budget(s, rt.settings.fatigue, now))
        audit.record(s, actor, "alert.updated", object_type="alert", object_id=alert.id, case_id=alert.case_id,
                     now=now, details={"update_id": upd.id, "deliveries": counts})
        return counts


def _cancel_queued(s: Session, alert_id: str, now: datetime) -> int:
    """Cancel what has not been sent, and close the alert's batches so workers stop scanning them (a row of
    another alert inside one of these ranges stays claimable through its own batch)."""
    t, b = Delivery.__table__, DeliveryBatch.__table__
    conn = s.connection()
    res = conn.execute(sa.update(t).where(fanout.alert_filter(s, alert_id), t.c.status == DeliveryStatus.QUEUED)
                       .values(status=DeliveryStatus.CANCELLED, updated_at=now))
    conn.execute(sa.update(b).where(b.c.alert_id == alert_id).values(next_id=b.c.last_id + 1))
    return res.rowcount or 0


def end_alert(rt: Runtime, actor: audit.Actor, alert_id: str, outcome: str, note: str | None,
              status: AlertStatus = AlertStatus.RESOLVED) -> dict[str, int]:
    """Resolve (or expire): cancel undelivered messages, send one closing message to everyone reached."""
    now = rt.clock.now()
    with transaction(rt.engine) as s:
        alert = _lock_alert(s, alert_id)
        if alert.status != AlertStatus.ACTIVE:
            raise Conflict(f"alert is {alert.status}; only active alerts can be resolved")
        cancelled = _cancel_queued(s, alert.id, now)
        upd = AlertUpdate(alert_id=alert.id, kind="closing", text=note, created_by=actor.id, created_at=now)
        s.add(upd)
        s.flush()
        counts = fanout.follow_up(s, alert.id, "closing", upd.id or 0, now)
        alert.status = status
        alert.outcome = outcome
        alert.resolved_at, alert.resolved_by = now, actor.id
        s.add(alert)
        action = "alert.resolved" if status == AlertStatus.RESOLVED else "alert.expired"
        audit.record(s, actor, action, object_type="alert", object_id=alert.id, case_id=alert.case_id, now=now,
                     details={"outcome": outcome, "cancelled": cancelled, "closing_messages": counts})
        return {"cancelled": cancelled, **{f"closing_{k}": v for k, v in counts.items()}}


def renew_alert(rt: Runtime, actor: audit.Actor, alert_id: str) -> datetime:
    now = rt.clock.now()
    with transaction(rt.engine) as s:
        alert = _lock_alert(s, alert_id)
        if alert.status != AlertStatus.ACTIVE:
            raise Conflict(f"alert is {alert.status}; only active alerts can be renewed")
        alert.expires_at = now + timedelta(hours=rt.settings.alerts.expiry_hours)
        s.add(alert)
        audit.record(s, actor, "alert.renewed", object_type="alert", object_id=alert.id, case_id=alert.case_id,
                     now=now, details={"expires_at": alert.expires_at.isoformat()})
        return alert.expires_at


def expire_due(rt: Runtime) -> int:
    """Periodic: end every active alert past its expiry (closing messages go out as on resolve)."""
    now = rt.clock.now()
    with Session(rt.engine) as s:
        due = s.exec(select(Alert.id).where(Alert.status == AlertStatus.ACTIVE,
                                            col(Alert.expires_at) <= now)).all()
    for alert_id in due:
        try:
            end_alert(rt, audit.SYSTEM, alert_id, "expired", None, AlertStatus.EXPIRED)
        except Conflict:
            pass  # resolved meanwhile
    return len(due)


def delivery_counts(s: Session, alert_id: str, kind: str | None = "alert") -> dict[str, int]:
    t = Delivery.__table__
    q = sa.select(t.c.status, sa.func.count()).where(fanout.alert_filter(s, alert_id))
    if kind:
        q = q.where(t.c.kind == kind)
    got = dict(s.connection().execute(q.group_by(t.c.status)).all())
    return {str(st): int(got.get(str(st), 0)) for st in ("queued", "sent", "delivered", "failed", "suppressed",
                                                           "cancelled", "sending")}
