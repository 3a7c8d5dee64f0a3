"""Subscriptions: reads and locks, address numbers shared by one address's subscriptions, the import's bulk insert."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from ..db import next_subscription_numbers
from ..models import Subscription, SubscriptionStatus
from . import get

SUBSCRIPTIONS: sa.Table = Subscription.__table__  # type: ignore[attr-defined]
LIVE_STATUSES = (SubscriptionStatus.PENDING, SubscriptionStatus.ACTIVE)
ADDRESS_LOCK = 7261536  # PostgreSQL advisory lock: shared by each new subscription, exclusive for an import


def get_subscription(s: Session, sub_id: str, *, lock: bool = False) -> Subscription | None:
    if lock:  # not reloaded: nothing of this row was read before in the transactions that lock it
        return s.exec(select(Subscription).where(Subscription.id == sub_id).with_for_update()).first()
    return get(s, Subscription, sub_id)


def add(s: Session, row: Subscription) -> None:
    s.add(row)
    s.flush()


def lock_sms_of_address(s: Session, address_key: str) -> list[Subscription]:
    return list(s.exec(select(Subscription).where(Subscription.address_key == address_key,
                                                  Subscription.channel == "sms").with_for_update()).all())


def active_with_dedupe_key(s: Session, dedupe_key: str | None) -> str | None:
    """The id of an active subscription with this address and area, if any."""
    return s.exec(select(Subscription.id).where(Subscription.dedupe_key == dedupe_key,
                                                Subscription.status == SubscriptionStatus.ACTIVE)).first()


def active_dedupe_keys(s: Session, keys: Sequence[str]) -> set[str]:
    if not keys:
        return set()
    return {k for k in s.exec(select(Subscription.dedupe_key).where(
        Subscription.status == SubscriptionStatus.ACTIVE, col(Subscription.dedupe_key).in_(list(keys)))).all()
        if k is not None}


def next_numbers(s: Session, n: int) -> list[int]:
    """``n`` new ``subscription.seq`` values."""
    return next_subscription_numbers(s.connection(), n)


def address_numbers(s: Session, keys: list[tuple[str, str]], *, bulk: bool = False) -> dict[tuple[str, str], int]:
    """The ``address_no`` already used by live subscriptions of these (channel, address_key) pairs.

    On PostgreSQL, locks held to the end of the transaction make sure that two subscriptions of one address
    created at the same moment still share a number (one message per address and alert): a single subscription
    locks its address (and the import lock, shared); an import batch takes the import lock exclusively."""
    if not keys:
        return {}
    conn = s.connection()
    if conn.dialect.name == "postgresql":
        if bulk:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADDRESS_LOCK})
        else:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": ADDRESS_LOCK})
            for channel, key in sorted(set(keys)):
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 7))"),
                             {"k": f"{channel}|{key}"})
    t = SUBSCRIPTIONS
    found: dict[tuple[str, str], int] = {}
    wanted = {k for _, k in keys}
    for channel, key, number in conn.execute(
            sa.select(t.c.channel, t.c.address_key, sa.func.min(t.c.address_no))
            .where(t.c.address_key.in_(wanted), t.c.status.in_([str(x) for x in LIVE_STATUSES]),
                   t.c.address_no.is_not(None))
            .group_by(t.c.channel, t.c.address_key)):
        found[(channel, key)] = number
    return found


def insert_many(s: Session, values: list[dict[str, Any]]) -> None:
    """Rows as column dicts, in one statement (the import)."""
    if values:
        s.connection().execute(sa.insert(SUBSCRIPTIONS), values)
