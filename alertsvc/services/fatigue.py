"""Fatigue budgets: at most N alerts per territory per window; at most M messages per subscriber per window.

The approval gate (``services.alerts``) enforces the territory budget with ``territory_use`` and ``blocked``; the
fan-out enforces the subscriber budget, marking the excess ``suppressed`` (counted and audited, never dropped
silently).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from .. import store
from ..models import AlertStatus
from ..runtime import Runtime
from ..settings import FatigueSettings
from ..store import alerts as alert_rows

COUNTED = (AlertStatus.ACTIVE, AlertStatus.RESOLVED, AlertStatus.EXPIRED)


@dataclass(frozen=True)
class TerritoryUse:
    territory: str
    used: int
    limit: int
    window_hours: int
    oldest_in_window: datetime | None

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    def retry_after(self, now: datetime) -> timedelta:
        if self.oldest_in_window is None:
            return timedelta(0)
        return max(timedelta(seconds=1), self.oldest_in_window + timedelta(hours=self.window_hours) - now)

    def to_dict(self) -> dict[str, object]:
        return {"territory": self.territory, "used": self.used, "limit": self.limit, "remaining": self.remaining,
                "window_hours": self.window_hours}


def territory_use(s: Session, cfg: FatigueSettings, now: datetime,
                  territories: list[str] | None = None) -> dict[str, TerritoryUse]:
    """Alerts activated within the window, per territory (all territories seen, or the ones asked for)."""
    since = now - timedelta(hours=cfg.territory_window_hours)
    rows = alert_rows.activated_since(s, COUNTED, since)
    counts: dict[str, list[datetime]] = {t: [] for t in (territories or [])}
    for terrs, at in rows:
        for t in terrs or []:
            if territories is None or t in counts:
                counts.setdefault(t, []).append(at)
    return {t: TerritoryUse(t, len(ats), cfg.territory_max_alerts, cfg.territory_window_hours,
                            min(ats) if ats else None) for t, ats in sorted(counts.items())}


def blocked(uses: dict[str, TerritoryUse]) -> list[TerritoryUse]:
    return [u for u in uses.values() if u.remaining <= 0]


def current_use(rt: Runtime) -> dict[str, TerritoryUse]:
    """Every territory of the catalogue now."""
    with store.read(rt) as s:
        return territory_use(s, rt.settings.fatigue, rt.clock.now(), list(rt.regions.codes()))
