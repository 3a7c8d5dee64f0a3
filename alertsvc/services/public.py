"""The public face of alerts: only what helps find the child, as a supervisor approved it, and nothing once
the alert has ended."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

import geo

from .. import store
from ..models import Alert, AlertStatus
from ..runtime import Runtime
from ..store import alerts as alert_rows

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


def active_alerts(rt: Runtime) -> list[dict[str, Any]]:
    with store.read(rt) as s:
        return [public_view(rt, a) for a in alert_rows.active(s)]


def public_alert(s: Session, alert_id: str) -> Alert | None:
    return alert_rows.in_states(s, alert_id, PUBLIC_STATES)


def published_alert(rt: Runtime, alert_id: str) -> Alert | None:
    """A published alert (active or ended), or None."""
    with store.read(rt) as s:
        return public_alert(s, alert_id)


def alert_area(rt: Runtime, view: dict[str, Any]) -> geo.Area | None:
    """The area of a public view (for its map): None for a stub, or an area the catalogue no longer reads."""
    data = view.get("area")
    if not data:
        return None
    try:
        return geo.parse_area(data, rt.regions)
    except geo.AreaError:
        return None
