"""The public face of alerts: only what helps find the child, and nothing once the alert has ended."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from ..models import Alert, AlertStatus, Case
from ..runtime import Runtime

PUBLIC_STATES = (AlertStatus.ACTIVE, AlertStatus.RESOLVED, AlertStatus.EXPIRED)


def public_view(rt: Runtime, alert: Alert, case: Case) -> dict[str, Any]:
    base = rt.settings.server.base_url
    out: dict[str, Any] = {"id": alert.id, "status": alert.status, "cap_url": f"{base}/cap/{alert.id}.xml",
                           "page_url": f"{base}/alerts/{alert.id}", "resolved_at": alert.resolved_at}
    if alert.status != AlertStatus.ACTIVE:
        return out  # a stub: no name, description or place of the child
    child, seen, circ = case.child or {}, case.last_seen or {}, case.circumstances or {}
    out.update(
        reference=case.reference,
        child={k: child.get(k) for k in ("name", "age", "sex", "description")},
        last_seen={"place": seen.get("place"), "at": seen.get("at")},
        vehicle=circ.get("vehicle"), plate=circ.get("plate"), suspect=circ.get("suspect"),
        area=alert.area, territories=alert.territories, activated_at=alert.activated_at,
        expires_at=alert.expires_at)
    return out


def active_alerts(rt: Runtime, s: Session) -> list[dict[str, Any]]:
    rows = s.exec(select(Alert, Case).join(Case, Case.id == Alert.case_id)
                  .where(Alert.status == AlertStatus.ACTIVE).order_by(col(Alert.activated_at).desc())).all()
    return [public_view(rt, a, c) for a, c in rows]


def public_alert(rt: Runtime, s: Session, alert_id: str) -> tuple[Alert, Case] | None:
    row = s.exec(select(Alert, Case).join(Case, Case.id == Alert.case_id)
                 .where(Alert.id == alert_id, col(Alert.status).in_(PUBLIC_STATES))).first()
    return (row[0], row[1]) if row else None
