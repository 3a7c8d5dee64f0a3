"""Fan-out: who gets an alert, and the delivery rows written in the approving transaction (outbox pattern).

Matching is vectorised (``geo.match_areas``); rows are written in bulk: ``COPY`` on PostgreSQL, one
``executemany`` on SQLite. One message per address and channel, however many of its subscriptions match.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session

import geo

from ..models import Delivery, DeliveryStatus
from ..settings import FatigueSettings

COUNTED_KINDS = ("alert", "update")  # closing messages do not count against a subscriber's budget
LIVE = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING, DeliveryStatus.SENT, DeliveryStatus.DELIVERED)


@dataclass(frozen=True)
class Recipients:
    ids: np.ndarray            # subscription ids (object array)
    channels: np.ndarray       # "sms" | "email"
    address_keys: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def per_channel(self) -> dict[str, int]:
        counts = Counter(self.channels.tolist())
        return {"sms": counts.get("sms", 0), "email": counts.get("email", 0), "total": len(self)}


def _fetch(s: Session, sql: str) -> list[tuple]:
    """Plain tuples straight from the driver: a million rows without building Row objects."""
    cur = s.connection().connection.driver_connection.cursor()
    try:
        cur.execute(sql)
        return cur.fetchall()
    finally:
        cur.close()


def recipients(s: Session, catalogue: geo.RegionCatalogue, area: geo.Area) -> Recipients:
    """Active subscriptions whose area intersects ``area``, one per (channel, address)."""
    circles = _fetch(s, "SELECT id, channel, address_key, lat, lon, radius_km FROM subscription "
                        "WHERE status = 'active' AND lat IS NOT NULL")
    regions = _fetch(s, "SELECT id, channel, address_key, regions FROM subscription "
                        "WHERE status = 'active' AND lat IS NULL AND regions IS NOT NULL")
    n = len(circles)
    if not n and not regions:
        empty = np.array([], dtype=object)
        return Recipients(empty, empty, empty)
    c_ids, c_channels, c_keys, lat, lon, radius = (list(col) for col in zip(*circles)) if n else ([],) * 6
    r_ids, r_channels, r_keys, r_codes = (list(col) for col in zip(*regions)) if regions else ([],) * 4
    r_codes = [tuple(json.loads(c) if isinstance(c, str) else c) for c in r_codes]
    subs = geo.SubscriptionAreas.build(
        catalogue, circle_ids=np.arange(n), lat=np.asarray(lat, float), lon=np.asarray(lon, float),
        radius_km=np.asarray(radius, float), region_ids=np.arange(n, n + len(regions)), region_codes=r_codes)
    ids, channels, keys = c_ids + r_ids, c_channels + r_channels, c_keys + r_keys
    picked = np.flatnonzero(geo.match_areas(area, subs)).tolist()
    # one message per (channel, address): keep the first matching subscription of each
    first: dict[tuple[str, str], int] = {}
    for i in picked:
        first.setdefault((channels[i], keys[i] or ids[i]), i)
    keep = list(first.values())
    return Recipients(np.array([ids[i] for i in keep], dtype=object),
                      np.array([channels[i] for i in keep], dtype=object),
                      np.array([keys[i] or ids[i] for i in keep], dtype=object))


def over_budget(s: Session, cfg: FatigueSettings, now: datetime) -> set[str]:
    """Address keys that already had ``subscriber_max_messages`` alert/update messages in the window."""
    t = Delivery.__table__
    since = now - timedelta(hours=cfg.subscriber_window_hours)
    q = (sa.select(t.c.address_key).where(t.c.created_at > since, t.c.kind.in_(COUNTED_KINDS),
                                          t.c.status.in_([str(x) for x in LIVE]), t.c.address_key.is_not(None))
         .group_by(t.c.address_key).having(sa.func.count() >= cfg.subscriber_max_messages))
    return set(s.connection().execute(q).scalars())


COLUMNS = ("alert_id", "subscription_id", "address_key", "channel", "kind", "update_id", "status", "attempts",
           "created_at", "updated_at")


def write_deliveries(s: Session, alert_id: str, kind: str, update_id: int, rec: Recipients,
                     suppressed_keys: set[str], now: datetime) -> dict[str, int]:
    """Bulk-insert one delivery row per recipient; returns counts by status."""
    statuses = [DeliveryStatus.SUPPRESSED if k in suppressed_keys else DeliveryStatus.QUEUED
                for k in rec.address_keys.tolist()]
    counts = Counter(str(x) for x in statuses)
    if not len(rec):
        return dict(counts)
    conn = s.connection()
    if conn.dialect.name == "postgresql":
        ts = now.isoformat()
        buf = io.StringIO()
        for sub_id, key, channel, status in zip(rec.ids.tolist(), rec.address_keys.tolist(), rec.channels.tolist(),
                                                statuses, strict=True):
            buf.write(f"{alert_id}\t{sub_id}\t{key if key else chr(92) + 'N'}\t{channel}\t{kind}\t{update_id}\t"
                      f"{status}\t0\t{ts}\t{ts}\n")
        raw = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY delivery ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            copy.write(buf.getvalue())
    else:
        ts = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's SQLite format
        rows = [(alert_id, sub_id, key, channel, kind, update_id, str(status), 0, ts, ts)
                for sub_id, key, channel, status in zip(rec.ids.tolist(), rec.address_keys.tolist(),
                                                        rec.channels.tolist(), statuses, strict=True)]
        conn.exec_driver_sql(f"INSERT INTO delivery ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                             rows)
    return dict(counts)


def follow_up(s: Session, alert_id: str, kind: str, update_id: int, now: datetime,
              budget: tuple[FatigueSettings, set[str]] | None = None) -> dict[str, int]:
    """Update/closing rows for everyone the alert reached (or, for updates, is about to reach), in SQL."""
    t = Delivery.__table__
    reached = (DeliveryStatus.SENDING, DeliveryStatus.SENT, DeliveryStatus.DELIVERED)
    if kind == "update":
        reached = (DeliveryStatus.QUEUED, *reached)
    src = sa.select(t.c.subscription_id, t.c.address_key, t.c.channel).where(
        t.c.alert_id == alert_id, t.c.kind == "alert", t.c.status.in_([str(x) for x in reached]))
    rows = s.connection().execute(src).all()
    suppressed = budget[1] if budget else set()
    rec = Recipients(np.array([r.subscription_id for r in rows], dtype=object),
                     np.array([r.channel for r in rows], dtype=object),
                     np.array([r.address_key for r in rows], dtype=object))
    return write_deliveries(s, alert_id, kind, update_id, rec, suppressed, now)
