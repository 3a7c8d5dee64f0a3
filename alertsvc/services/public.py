"""The public face of alerts: only what helps find the child, as a supervisor approved it, and nothing once
the alert has ended."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from ..models import Alert, AlertStatus
from ..runtime import Runtime

PUBLIC_STATES = (AlertStatus.ACTIVE, AlertStatus.RESOLVED, AlertStatus.EXPIRED)


def public_view(rt: Runtime, alert: Alert) -> dict[str, Any]:
    """The approved snapshot (``alert.facts``), never the live case."""
    base = rt.settings.server.base_url
    out: dict[str, Any] = {"id": alert.id, "status": alert.status, "cap_url": f"{base}/cap/{alert.id}.xml",
                           "page_url": f"{base}/alerts/{alert.id}", "resolved_at": alert.resolved_at}
    if alert.status != AlertStatus.ACTIVE or not alert.facts:
        return out  # a stub: no name, description or place of the child
    f = alert.facts
    out.update(
        reference=f.get("reference"), child=dict(f.get("child") or {}), last_seen=dict(f.get("last_seen") or {}),
        vehicle=f.get("vehicle"), plate=f.get("plate"), suspect=f.get("suspect"),
        area=alert.area, territories=alert.territories, activated_at=alert.activated_at,
        expires_at=alert.expires_at)
    return out


def active_alerts(rt: Runtime, s: Session) -> list[dict[str, Any]]:
    rows = s.exec(select(Alert).where(Alert.status == AlertStatus.ACTIVE)
                  .order_by(col(Alert.activated_at).desc())).all()
    return [public_view(rt, a) for a in rows]


def public_alert(s: Session, alert_id: str) -> Alert | None:
    return s.exec(select(Alert).where(Alert.id == alert_id, col(Alert.status).in_(PUBLIC_STATES))).first()
