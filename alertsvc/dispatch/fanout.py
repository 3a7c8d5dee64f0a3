"""Fan-out: who gets an alert, and the delivery rows written in the approving transaction (outbox pattern).

The hot path is one approval reaching a million subscribers, so everything here works on numpy columns of
integers:

* **who**: the circle subscriptions' ``(seq, address_no, channel, lat, lon, radius_km)`` are read in one binary
  ``COPY`` on PostgreSQL and matched by ``geo.match_areas`` (vectorised); region subscriptions are selected by the
  database (their code is one of the alert's territories, the same rule ``geo`` applies). One message per
  address: the first matching subscription of each ``address_no`` is kept.
* **budget**: the addresses that already had ``subscriber_max_messages`` alert/update messages in the window are
  found from the batches of that window, and their rows are written ``suppressed``.
* **write**: one binary ``COPY`` on PostgreSQL (one ``executemany`` on SQLite), then one ``DeliveryBatch`` row
  that brackets the new ids, from which the workers claim.

This module decides (who matches, who is over budget, who a follow-up reaches); every query, the bulk reads and
the ``COPY`` included, is in ``alertsvc.store.recipients`` (subscriptions) and ``alertsvc.store.deliveries``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session

import geo

from ..models import DeliveryKind, DeliveryStatus
from ..settings import FatigueSettings
from ..store import deliveries
from ..store import recipients as subscribers
from ..store.recipients import Recipients, read_ahead

COUNTED_KINDS = (DeliveryKind.ALERT, DeliveryKind.UPDATE)  # closing messages do not count against a budget
LIVE = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING, DeliveryStatus.SENT, DeliveryStatus.DELIVERED)
CHUNK = 200_000  # subscriptions (by seq) read and matched at a time


# --- who --------------------------------------------------------------------------------------------------
def _matching(conn: sa.Connection, catalogue: geo.RegionCatalogue, area: geo.Area, lo: int, hi: int,
              codes: Sequence[str]) -> Recipients:
    """Active subscriptions with ``lo <= seq < hi`` whose area intersects ``area`` (any number per address)."""
    circles = subscribers.circle_columns(conn, lo, hi)
    parts = []
    if len(circles["seq"]):
        n = len(circles["seq"])
        subs = geo.SubscriptionAreas.build(catalogue, circle_ids=np.arange(n), lat=circles["lat"],
                                           lon=circles["lon"], radius_km=circles["radius_km"])
        parts.append(Recipients.of(circles, np.flatnonzero(geo.match_areas(area, subs))))
    if codes:  # a region subscription matches when its code is one of the area's territories (as in geo)
        parts.append(subscribers.region_recipients(conn, lo, hi, codes))
    return Recipients.concat(parts)


def recipient_chunks(conn: sa.Connection, catalogue: geo.RegionCatalogue, area: geo.Area, *,
                     chunk: int = CHUNK) -> Iterator[Recipients]:
    """The recipients of ``area``, one message per (channel, address), a range of ``seq`` at a time.

    An address with several matching subscriptions is sent to once, through its oldest one (lowest ``seq``,
    which also gives the message's language): chunks go in ``seq`` order and remember the addresses taken."""
    bounds = subscribers.seq_bounds(conn)
    if bounds is None:
        return
    lo, hi = bounds
    codes = area.territories(catalogue)
    taken = np.empty(0, np.int64)
    for start in range(lo, hi + 1, chunk):
        found = _matching(conn, catalogue, area, start, start + chunk, codes)
        found = found.take(np.argsort(found.seq, kind="stable"))
        _, first = np.unique(found.address_no, return_index=True)
        found = found.take(np.sort(first))
        found = found.take(~np.isin(found.address_no, taken))
        if len(found):
            taken = np.concatenate([taken, found.address_no])
            yield found


def alert_recipients(s: Session, engine: sa.Engine, catalogue: geo.RegionCatalogue, area: geo.Area
                     ) -> Iterator[Recipients]:
    """The recipients for an approval, chunk by chunk: read ahead on a second connection on PostgreSQL (so
    reading and matching overlap with writing), in the approving transaction on SQLite."""
    if s.connection().dialect.name == "postgresql":
        return read_ahead(engine, lambda conn: recipient_chunks(conn, catalogue, area))
    return recipient_chunks(s.connection(), catalogue, area)


def recipients(s: Session, catalogue: geo.RegionCatalogue, area: geo.Area) -> Recipients:
    """Every recipient of ``area`` at once (the estimate shown before approval)."""
    return Recipients.concat(list(recipient_chunks(s.connection(), catalogue, area)))


# --- budget -----------------------------------------------------------------------------------------------
def over_budget(s: Session, cfg: FatigueSettings, now: datetime) -> np.ndarray:
    """``address_no`` of the addresses that already had ``subscriber_max_messages`` alert/update messages in the
    window. An address gets at most one message per batch, so with fewer batches than the budget in the window
    nobody can be over it and nothing is read."""
    ranges = deliveries.batch_ranges(s, kinds=COUNTED_KINDS, since=now - timedelta(hours=cfg.subscriber_window_hours))
    if len(ranges) < cfg.subscriber_max_messages:
        return np.empty(0, np.int64)
    return deliveries.addresses_with_messages(s, ranges, COUNTED_KINDS, LIVE, cfg.subscriber_max_messages)


# --- write ------------------------------------------------------------------------------------------------
def follow_up(s: Session, alert_id: str, kind: str, update_id: int, now: datetime,
              suppressed: np.ndarray | None = None) -> dict[str, int]:
    """Update/closing rows for everyone the alert reached (or, for updates, is about to reach)."""
    reached: tuple[DeliveryStatus, ...] = (DeliveryStatus.SENDING, DeliveryStatus.SENT, DeliveryStatus.DELIVERED)
    if kind == DeliveryKind.UPDATE:
        reached = (DeliveryStatus.QUEUED, *reached)
    rec = deliveries.reached(s, alert_id, reached)
    return deliveries.write_batch(s, alert_id, kind, update_id, [rec],
                                  suppressed if suppressed is not None else np.empty(0, np.int64), now)
