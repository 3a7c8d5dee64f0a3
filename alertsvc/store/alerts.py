"""Alerts, their fatigue overrides and their updates: reads, locks and the few bulk changes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Session, col, select

from ..models import Alert, AlertOverride, AlertStatus, AlertUpdate, Case, UpdateStatus
from . import get, keyset

ALERTS: sa.Table = Alert.__table__  # type: ignore[attr-defined]
UPDATES: sa.Table = AlertUpdate.__table__  # type: ignore[attr-defined]
CASES: sa.Table = Case.__table__  # type: ignore[attr-defined]


def get_alert(s: Session, alert_id: str, *, lock: bool = False) -> Alert | None:
    return get(s, Alert, alert_id, lock=lock)


def get_update(s: Session, update_id: int) -> AlertUpdate | None:
    return s.get(AlertUpdate, update_id)


def add(s: Session, row: Alert | AlertUpdate | AlertOverride) -> None:
    s.add(row)
    s.flush()


def of_case(s: Session, case_id: str) -> list[Alert]:
    """Every alert of a case, oldest request first."""
    return list(s.exec(select(Alert).where(Alert.case_id == case_id).order_by(col(Alert.requested_at))).all())


def active_ids_of_case(s: Session, case_id: str) -> list[str]:
    return list(s.exec(select(Alert.id).where(Alert.case_id == case_id, Alert.status == AlertStatus.ACTIVE)))


def lock_open_of_case(s: Session, case_id: str) -> list[Alert]:
    """The case's active and pending alerts, row-locked, oldest request first."""
    return list(s.exec(select(Alert).where(Alert.case_id == case_id,
                                           col(Alert.status).in_([AlertStatus.ACTIVE, AlertStatus.PENDING_APPROVAL]))
                       .order_by(col(Alert.requested_at)).with_for_update()).all())


def due_to_expire(s: Session, now: datetime) -> list[str]:
    return list(s.exec(select(Alert.id).where(Alert.status == AlertStatus.ACTIVE,
                                              col(Alert.expires_at) <= now)).all())


def activated_since(s: Session, statuses: Sequence[str], since: datetime) -> list[tuple[list[str], datetime]]:
    """``(territories, activated_at)`` of the alerts in ``statuses`` activated after ``since``."""
    rows = s.exec(select(Alert.territories, Alert.activated_at).where(
        col(Alert.status).in_(statuses), col(Alert.activated_at) > since)).all()
    return [(list(terrs or []), at) for terrs, at in rows if at is not None]


def active(s: Session) -> list[Alert]:
    """Active alerts, the most recently activated first."""
    return list(s.exec(select(Alert).where(Alert.status == AlertStatus.ACTIVE)
                       .order_by(col(Alert.activated_at).desc())).all())


def active_with_last_published(s: Session) -> list[tuple[Alert, datetime | None]]:
    """Active alerts (the most recently activated first), each with when its last sent update went out
    (None without one): one query."""
    u = UPDATES
    published_at = sa.func.coalesce(u.c.decided_at, u.c.created_at)
    last_id = (sa.select(sa.func.max(u.c.id).label("id"), u.c.alert_id)
               .where(u.c.status == UpdateStatus.SENT).group_by(u.c.alert_id).subquery())
    last = (sa.select(u.c.alert_id, published_at.label("published_at"))
            .join(last_id, last_id.c.id == u.c.id).subquery())
    rows = s.exec(select(Alert, last.c.published_at)
                  .outerjoin(last, last.c.alert_id == Alert.id)
                  .where(Alert.status == AlertStatus.ACTIVE)
                  .order_by(col(Alert.activated_at).desc())).all()
    return [(a, at) for a, at in rows]


def in_states(s: Session, alert_id: str, statuses: Sequence[str]) -> Alert | None:
    return s.exec(select(Alert).where(Alert.id == alert_id, col(Alert.status).in_(statuses))).first()


def overrides(s: Session, alert_id: str) -> list[AlertOverride]:
    return list(s.exec(select(AlertOverride).where(AlertOverride.alert_id == alert_id)
                       .order_by(col(AlertOverride.id))))


def updates(s: Session, alert_id: str) -> list[AlertUpdate]:
    return list(s.exec(select(AlertUpdate).where(AlertUpdate.alert_id == alert_id)
                       .order_by(col(AlertUpdate.id))))


def sent_updates(s: Session, alert_id: str) -> list[AlertUpdate]:
    return list(s.exec(select(AlertUpdate).where(AlertUpdate.alert_id == alert_id,
                                                 AlertUpdate.status == UpdateStatus.SENT)
                       .order_by(col(AlertUpdate.id))).all())


def withdraw_pending_updates(s: Session, alert_id: str, now: datetime) -> int:
    t = UPDATES
    res = s.connection().execute(
        sa.update(t).where(t.c.alert_id == alert_id, t.c.status == UpdateStatus.PENDING_APPROVAL)
        .values(status=UpdateStatus.WITHDRAWN, decided_at=now))
    return res.rowcount or 0


# --- lists ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AlertListRow:
    """What a list of alerts shows of one, with its case's reference."""
    id: str
    case_id: str
    case_reference: str
    status: str
    requested_at: datetime
    requested_by: int
    decided_at: datetime | None
    decided_by: int | None
    activated_at: datetime | None
    expires_at: datetime | None
    resolved_at: datetime | None
    territories: list[str]
    estimated_recipients: dict[str, Any]


def _has_territory(s: Session, code: str) -> sa.ColumnElement[bool]:
    """``alert.territories`` (a JSON list of region codes) holds ``code``."""
    t = ALERTS
    if s.get_bind().dialect.name == "postgresql":
        return sa.type_coerce(t.c.territories, postgresql.JSONB).contains([code])
    each = sa.func.json_each(t.c.territories).table_valued("value")
    return sa.exists(sa.select(1).select_from(each).where(each.c.value == code))


def page(s: Session, *, statuses: Sequence[str], district: str | None, case_id: str | None,
         after: tuple[datetime, str] | None, oldest_first: bool, limit: int) -> list[AlertListRow]:
    """Up to ``limit`` alerts in ``statuses`` (all when empty), of one case, touching one territory, ordered by
    (``requested_at``, ``id``) (newest first unless ``oldest_first``) from after the position ``after``."""
    t, c = ALERTS, CASES
    q = sa.select(t.c.id, t.c.case_id, c.c.reference, t.c.status, t.c.requested_at, t.c.requested_by,
                  t.c.decided_at, t.c.decided_by, t.c.activated_at, t.c.expires_at, t.c.resolved_at,
                  t.c.territories, t.c.estimated_recipients).join(c, c.c.id == t.c.case_id)
    if statuses:
        q = q.where(t.c.status.in_(list(statuses)))
    if case_id is not None:
        q = q.where(t.c.case_id == case_id)
    if district is not None:
        q = q.where(_has_territory(s, district))
    q = keyset(q, t.c.requested_at, t.c.id, after, oldest_first=oldest_first).limit(limit)
    return [AlertListRow(id=r.id, case_id=r.case_id, case_reference=r.reference, status=r.status,
                         requested_at=r.requested_at, requested_by=r.requested_by, decided_at=r.decided_at,
                         decided_by=r.decided_by, activated_at=r.activated_at, expires_at=r.expires_at,
                         resolved_at=r.resolved_at, territories=list(r.territories or []),
                         estimated_recipients=dict(r.estimated_recipients or {}))
            for r in s.connection().execute(q)]


def status_counts_by_case(s: Session, case_ids: Sequence[str]) -> dict[str, dict[str, int]]:
    """How many alerts each case has in each status (statuses without one left out): one grouped query."""
    if not case_ids:
        return {}
    t = ALERTS
    out: dict[str, dict[str, int]] = {}
    for case_id, status, n in s.connection().execute(
            sa.select(t.c.case_id, t.c.status, sa.func.count()).where(t.c.case_id.in_(list(case_ids)))
            .group_by(t.c.case_id, t.c.status)):
        out.setdefault(case_id, {})[str(status)] = int(n)
    return out


def pending_update_counts(s: Session, alert_ids: Sequence[str]) -> dict[str, int]:
    """How many updates of each alert wait for approval (alerts without one left out): one grouped query."""
    if not alert_ids:
        return {}
    u = UPDATES
    rows = s.connection().execute(
        sa.select(u.c.alert_id, sa.func.count()).where(u.c.alert_id.in_(list(alert_ids)),
                                                        u.c.status == UpdateStatus.PENDING_APPROVAL)
        .group_by(u.c.alert_id))
    return {alert_id: int(n) for alert_id, n in rows}
