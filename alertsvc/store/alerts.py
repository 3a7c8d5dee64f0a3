"""Alerts, their fatigue overrides and their updates: reads, locks and the few bulk changes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from ..models import Alert, AlertOverride, AlertStatus, AlertUpdate, UpdateStatus
from . import get

UPDATES: sa.Table = AlertUpdate.__table__  # type: ignore[attr-defined]


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
